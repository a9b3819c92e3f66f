"""`python -m bench.scale_load`: the analyst's own load into a kept store, resumable, figures added up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.harness import ROOT
from graph_service.neo4j_local.server import free_port


def run(tmp_path: Path, port: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.scale_load", "--reports", "300",
                           "--home", str(tmp_path / "store"), "--data", str(tmp_path / "synth"), "--port", str(port),
                           "--heap", "512m",
                           "--pagecache", "256m", "--sample-every", "1"],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_second_attempt_resumes_adds_its_time_and_creates_nothing(tmp_path: Path) -> None:
    port = free_port()
    first = run(tmp_path, port)
    truth = json.loads((tmp_path / "synth" / "truth.json").read_text())
    assert first["reports"] == 300 and first["attempts"] == 1 and first["exit"] == 0
    assert first["elements"] > truth["params"]["reports"]  # reports plus what they name
    assert first["peak_rss_mb"] > 0 and first["store_mb"] > 0
    second = run(tmp_path, port)
    assert second["attempts"] == 2
    # Every file skipped: nothing new but the second attempt's own LoadRun record.
    assert second["elements"] == first["elements"] + 1
    assert second["seconds"] > first["seconds"]
    attempts = json.loads((tmp_path / "store" / "attempts.json").read_text())["attempts"]
    assert [a["exit"] for a in attempts] == [0, 0]

"""SIGKILL in the middle of a load, of the loader or of Neo4j, then `load --resume`: the graph equals
a clean load's (counts, and a checksum of every key and `sources`), and the resumed run skips the
files the killed one finished.

300 reports in 20 files with 1,000-element batches, so the kill lands mid-load and the test stays
within a few minutes on a busy 2-core machine; `python -m bench.crash_resume` runs the issue's
50,000-report scenario (docs/benchmarks.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from bench.crash_resume import clean_load, loader_killed, neo4j_killed, server
from graph_service.settings import Settings
from loaders.synthetic import generate
from tests.conftest import clear_graph

REPORTS = 300
BATCH = 1000
KILL_AT = REPORTS // 3


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crash-referrals")
    generate(out, reports=REPORTS, seed=12, bundle_size=REPORTS // 20)
    (out / "truth.json").unlink()
    return out


@pytest.fixture(scope="module")
def clean(folder: Path, driver: Driver, neo4j_settings: Settings) -> dict:
    clear_graph(driver, neo4j_settings.neo4j_database)
    graph = clean_load(folder, neo4j_settings, BATCH)
    assert graph["nodes"]["Report"] >= REPORTS  # and the prior reports they name
    clear_graph(driver, neo4j_settings.neo4j_database)
    return graph


def resumed_files(output: str) -> int:
    return sum(1 for line in output.splitlines() if line.startswith("skipped:") and "earlier run" in line)


def test_loader_killed_mid_load_then_resumed_equals_a_clean_load(folder: Path, clean: dict, driver: Driver,
                                                                 neo4j_settings: Settings) -> None:
    result = loader_killed(folder, neo4j_settings, BATCH, KILL_AT)
    assert KILL_AT <= result["killed_at_reports"] < REPORTS
    assert result["orphans_alive"] == []  # the forked parser died with its loader
    assert result["resume_exit"] == 0, result["resume_output"]
    assert resumed_files(result["resume_output"]) >= 1, result["resume_output"]
    assert result["graph"] == clean
    records, _, _ = driver.execute_query(
        "MATCH (r:LoadRun) RETURN r.status AS status, size(r.finished_hashes) AS done, size(r.hashes) AS given "
        "ORDER BY r.started_at", database_=neo4j_settings.neo4j_database)
    (killed, resumed) = [(r["status"], r["done"], r["given"]) for r in records]
    assert killed[0] == "running" and 1 <= killed[1] < 20 and killed[2] == 20
    assert resumed == ("finished", 20 - killed[1], 20 - killed[1])


def test_neo4j_killed_mid_load_then_restarted_and_resumed_equals_a_clean_load(
        folder: Path, clean: dict, tmp_path: Path) -> None:
    with server(tmp_path / "neo4j") as neo:
        result = neo4j_killed(folder, neo, BATCH, KILL_AT)
    assert result["loader_exit_after_kill"] != 0
    assert "Traceback" not in result["loader_output"], result["loader_output"]
    assert "rerun with --resume" in result["loader_output"], result["loader_output"]
    assert result["resume_exit"] == 0, result["resume_output"]
    assert result["graph"] == clean

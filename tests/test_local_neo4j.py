"""`gracegraph db start|stop|status` through the CLI, on a server of the test's own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.neo4j_local.server import free_port
from graph_service.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Our own home (sharing the project's jar cache) and port; settings re-read for each test."""
    (tmp_path / "neo4j").mkdir()
    (tmp_path / "neo4j" / "lib").symlink_to(ROOT / ".gracegraph" / "neo4j" / "lib")
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("GRACEGRAPH_HOME", str(tmp_path))
    monkeypatch.setenv("GRACEGRAPH_NEO4J_PORT", str(free_port()))
    monkeypatch.setenv("GRACEGRAPH_NEO4J_HEAP", "1g")
    monkeypatch.setenv("GRACEGRAPH_NEO4J_PAGECACHE", "256m")
    get_settings.cache_clear()
    yield tmp_path
    runner.invoke(app, ["db", "stop"])
    get_settings.cache_clear()


@pytest.mark.skipif(bool(os.environ.get("NEO4J_URI")), reason="an external server is configured")
def test_start_is_idempotent_and_stop_waits_for_the_process(env: Path) -> None:
    started = runner.invoke(app, ["db", "start"])
    assert started.exit_code == 0, started.output
    assert "running (pid" in started.output
    pid = int((env / "neo4j" / "run" / "neo4j.pid").read_text().split()[0])
    again = runner.invoke(app, ["db", "start"])
    assert again.exit_code == 0 and "already running" in again.output
    assert runner.invoke(app, ["db", "status"]).exit_code == 0
    stopped = runner.invoke(app, ["db", "stop"])
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    assert not Path(f"/proc/{pid}").exists()
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 3 and "stopped" in status.output


def test_with_neo4j_uri_nothing_is_started(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    get_settings.cache_clear()
    result = runner.invoke(app, ["db", "start"])
    assert result.exit_code == 0
    assert "no local server is managed" in result.output
    assert not (env / "neo4j" / "run").exists()


def test_missing_java_is_one_line_naming_the_package(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(env))  # no java, javac or mvn on it
    (env / "neo4j" / "classes").mkdir()
    result = runner.invoke(app, ["db", "start"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "apt-get install openjdk-17" in lines[0]

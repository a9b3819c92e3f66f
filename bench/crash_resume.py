"""Crash safety: a load cut short by SIGKILL (of the loader, or of Neo4j) and then resumed gives
the graph a clean load gives, element for element.

    python -m bench.crash_resume                 # 50,000 reports (the issue's size)
    python -m bench.crash_resume --quick         # 1,000 reports

Three stores: a clean load; a load whose loader process is SIGKILLed once a third of the reports are
in, then rerun with `--resume`; a load whose Neo4j server is SIGKILLed at the same point, restarted
(recovering from its transaction log), then rerun with `--resume`. The graphs are compared by
`fingerprint`: counts per label and type, and a SHA-256 over every node's label, key and sorted
`sources` and every relationship's type, end keys and sorted `sources`. tests/test_crash_resume.py
runs the same scenario at a size CI can afford.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neo4j import Driver

from bench.harness import ROOT, emit, machine
from graph_service.database import open_driver
from graph_service.neo4j_local import LocalNeo4j
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings
from loaders.synthetic import generate

#: Nodes that record the loads themselves, not the referrals: a resumed load has more of them.
BOOKKEEPING = ("LoadRun", "GracegraphSchema")

_NODES = ("MATCH (n) WHERE NOT any(l IN labels(n) WHERE l IN $skip) "
          "RETURN labels(n)[0] AS label, n.key AS key, n.sources AS sources")
_RELS = ("MATCH (a)-[r]->(b) WHERE NOT any(l IN labels(a) + labels(b) WHERE l IN $skip) "
         "RETURN type(r) AS type, labels(a)[0] + ':' + a.key AS a, "
         "labels(b)[0] + ':' + b.key AS b, r.sources AS sources")


def fingerprint(driver: Driver, database: str, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """Counts and a checksum of keys and `sources`: equal fingerprints, equal graphs for our purpose.

    `without`: labels left out, with every relationship touching them.
    """
    digest = hashlib.sha256()
    nodes: Counter[str] = Counter()
    rels: Counter[str] = Counter()
    lines: list[str] = []
    with driver.session(database=database) as session:
        for row in session.run(_NODES, skip=[*BOOKKEEPING, *without]):
            nodes[row["label"]] += 1
            lines.append(f"N|{row['label']}|{row['key']}|{','.join(sorted(row['sources'] or []))}")
        for row in session.run(_RELS, skip=list(without)):
            rels[row["type"]] += 1
            lines.append(f"R|{row['type']}|{row['a']}|{row['b']}|{','.join(sorted(row['sources'] or []))}")
    for line in sorted(lines):
        digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
    return {"nodes": dict(sorted(nodes.items())), "relationships": dict(sorted(rels.items())),
            "checksum": digest.hexdigest()}


def report_count(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query("MATCH (r:Report) RETURN count(r) AS c", database_=database)
    return int(records[0]["c"])


def loader_env(settings: Settings, batch_size: int) -> dict[str, str]:
    return {**os.environ, "NEO4J_URI": settings.bolt_uri, "NEO4J_DATABASE": settings.neo4j_database,
            "GRACEGRAPH_BATCH_SIZE": str(batch_size)}


def start_loader(folder: Path, env: dict[str, str], resume: bool = False) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "graph_service.cli", "load", "cybertip", str(folder)]
    return subprocess.Popen([*args, "--resume"] if resume else args, cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(process: subprocess.Popen[str], timeout: float = 3600) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def wait_for_reports(driver: Driver, database: str, at_least: int, process: subprocess.Popen[str],
                     timeout: float = 1800) -> int:
    """Poll until `at_least` reports are committed; fails if the loader ends first (the load was too small)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = report_count(driver, database)
        if count >= at_least:
            return count
        if process.poll() is not None:
            raise AssertionError(f"the load ended before {at_least} reports were in: {process.communicate()[0]}")
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} reports after {timeout} s")


def kill_loader(process: subprocess.Popen[str]) -> list[int]:
    """SIGKILL the loader alone (not its group); returns its children's pids, which must die with it."""
    import psutil

    children = [c.pid for c in psutil.Process(process.pid).children(recursive=True)]
    process.send_signal(signal.SIGKILL)
    process.communicate()
    return children


@contextmanager
def server(home: Path) -> Iterator[LocalNeo4j]:
    neo = LocalNeo4j(home=home, port=free_port(), heap="1g", pagecache="512m",
                     lib=ROOT / ".gracegraph" / "neo4j" / "lib")
    neo.start(timeout=600)
    try:
        yield neo
    finally:
        neo.stop()


def settings_of(neo: LocalNeo4j) -> Settings:
    return Settings(neo4j_uri=neo.uri, home=neo.home)


def clean_load(folder: Path, settings: Settings, batch_size: int) -> dict[str, Any]:
    code, output = finish(start_loader(folder, loader_env(settings, batch_size)))
    if code != 0:
        raise AssertionError(output)
    driver = open_driver(settings, start=False)
    try:
        return fingerprint(driver, settings.neo4j_database)
    finally:
        driver.close()


def loader_killed(folder: Path, settings: Settings, batch_size: int, at: int) -> dict[str, Any]:
    env = loader_env(settings, batch_size)
    driver = open_driver(settings, start=False)
    try:
        process = start_loader(folder, env)
        seen = wait_for_reports(driver, settings.neo4j_database, at, process)
        orphans = kill_loader(process)
        deadline = time.monotonic() + 30  # the kernel's SIGKILL to the parser may take a moment to land
        while (alive := [pid for pid in orphans if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.2)
        started = time.monotonic()
        code, output = finish(start_loader(folder, env, resume=True))
        resumed_s = time.monotonic() - started
        return {"killed_at_reports": seen, "orphans_alive": alive, "resume_exit": code, "resume_output": output,
                "resume_s": round(resumed_s, 1), "graph": fingerprint(driver, settings.neo4j_database)}
    finally:
        driver.close()


def neo4j_killed(folder: Path, neo: LocalNeo4j, batch_size: int, at: int) -> dict[str, Any]:
    settings = settings_of(neo)
    env = loader_env(settings, batch_size)
    driver = open_driver(settings, start=False)
    process = start_loader(folder, env)
    try:
        seen = wait_for_reports(driver, settings.neo4j_database, at, process)
    finally:
        driver.close()
    neo.kill()
    failed_code, failed_output = finish(process, timeout=600)
    neo.start(timeout=600)
    started = time.monotonic()
    code, output = finish(start_loader(folder, env, resume=True))
    resumed_s = time.monotonic() - started
    driver = open_driver(settings, start=False)
    try:
        return {"killed_at_reports": seen, "loader_exit_after_kill": failed_code, "loader_output": failed_output,
                "resume_exit": code, "resume_output": output, "resume_s": round(resumed_s, 1),
                "graph": fingerprint(driver, settings.neo4j_database)}
    finally:
        driver.close()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that a container may not have is not running)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="1,000 reports")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args()
    reports = 1000 if args.quick else args.reports
    batch = 2000 if args.quick else args.batch_size
    work = ROOT / ".gracegraph" / "bench" / f"crash-{os.getpid()}"
    folder = work / "referrals"
    generate(folder, reports=reports, seed=args.seed, bundle_size=max(reports // 20, 1))
    (folder / "truth.json").unlink()  # not a referral: keep the folder to referrals only
    at = reports // 3
    with server(work / "clean") as neo:
        started = time.monotonic()
        clean = clean_load(folder, settings_of(neo), batch)
        clean_s = time.monotonic() - started
    with server(work / "loader") as neo:
        by_loader = loader_killed(folder, settings_of(neo), batch, at)
    with server(work / "neo4j") as neo:
        by_neo4j = neo4j_killed(folder, neo, batch, at)
    emit({"benchmark": "crash_resume", "reports": reports, **machine(),
          "clean_load_s": round(clean_s, 1), "clean_elements": sum(clean["nodes"].values())
          + sum(clean["relationships"].values()),
          "loader_killed": {"at_reports": by_loader["killed_at_reports"], "resume_s": by_loader["resume_s"],
                            "equal_to_clean": by_loader["graph"] == clean,
                            "orphans_alive": len(by_loader["orphans_alive"])},
          "neo4j_killed": {"at_reports": by_neo4j["killed_at_reports"], "resume_s": by_neo4j["resume_s"],
                           "equal_to_clean": by_neo4j["graph"] == clean}})


if __name__ == "__main__":
    main()

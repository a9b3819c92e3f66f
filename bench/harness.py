"""What every benchmark shares: its own Neo4j, a clean graph, the machine, the closing JSON line.

Benchmarks clear the database they use, so by default they run a server of their own under
`.gracegraph/bench/neo4j` on a free port and never touch the demo's data. With NEO4J_URI set they
use that server instead (and clear it: point it at a scratch database).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph_service.database import open_driver
from graph_service.neo4j_local import LocalNeo4j
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_database(heap: str = "4g", pagecache: str = "4g") -> Iterator[tuple[Driver, Settings, Path | None]]:
    """A driver to an empty, schema-less database; yields the data directory when it is ours."""
    if os.environ.get("NEO4J_URI"):
        settings = Settings()
        driver = open_driver(settings, start=False)
        try:
            clear(driver, settings.neo4j_database)
            yield driver, settings, None
        finally:
            driver.close()
        return
    # A new store for every run (a store that earlier runs filled and emptied is slower, and the
    # process id keeps two benchmarks running at once apart).
    home = ROOT / ".gracegraph" / "bench" / f"neo4j-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    server = LocalNeo4j(home=home, port=free_port(), heap=heap, pagecache=pagecache,
                        lib=ROOT / ".gracegraph" / "neo4j" / "lib")
    server.start()
    settings = Settings(neo4j_uri=server.uri, home=home)
    driver = open_driver(settings, start=False)
    try:
        clear(driver, settings.neo4j_database)
        yield driver, settings, home / "data"
    finally:
        driver.close()
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def clear(driver: Driver, database: str, schema: bool = True) -> None:
    """Empty the graph, constraints and indexes too unless `schema` is False.

    Dropping the schema also empties the server's query plan cache; keeping it lets a benchmark
    measure a warm server, as a long national load sees it.
    """
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
        if not schema:
            return
        for record in list(session.run("SHOW CONSTRAINTS YIELD name")):
            session.run("DROP CONSTRAINT $name", name=record["name"]).consume()
        for record in list(session.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP'")):
            session.run("DROP INDEX $name", name=record["name"]).consume()


def element_count(driver: Driver, database: str) -> int:
    records, _, _ = driver.execute_query(
        "CALL () { MATCH (n) RETURN count(n) AS c UNION ALL MATCH ()-[r]->() RETURN count(r) AS c } "
        "RETURN sum(c) AS total", database_=database)
    return int(records[0]["total"])


def dir_size_mb(path: Path | None) -> float | None:
    if path is None or not path.exists():
        return None
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def peak_rss_mb() -> float:
    """Peak resident memory of this process (the loader), from the kernel's own count."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                capture_output=True, check=False).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "commit": commit}


def median(values: list[float]) -> float:
    return statistics.median(values)


def emit(result: dict[str, Any]) -> None:
    """The closing line every benchmark prints: one JSON object, so anyone can re-check a figure."""
    print(json.dumps(result, sort_keys=True, default=str))

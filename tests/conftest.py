"""A real Neo4j for the whole test session: started through the same code as `gracegraph db start`.

With NEO4J_URI set, that server is used and nothing is started. Otherwise a server with its own
data directory (a temp dir) and a free port runs for the session, sharing the project's jar cache,
so tests never touch the demo's data. Each test module that needs the graph starts from an empty
database (Neo4j Community has one user database: we clear it, we never assume it empty).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import Driver

from graph_service.database import open_driver
from graph_service.neo4j_local import LocalNeo4j
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings
from loaders.schema import ensure_schema
from loaders.writer import GraphWriter

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    if os.environ.get("NEO4J_URI"):
        yield Settings()
        return
    home = tmp_path_factory.mktemp("neo4j")
    server = LocalNeo4j(home=home, port=free_port(), heap="2g", pagecache="1g",
                        lib=ROOT / ".gracegraph" / "neo4j" / "lib")
    server.start(timeout=300)
    try:
        yield Settings(neo4j_uri=server.uri, home=home)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def driver(neo4j_settings: Settings) -> Iterator[Driver]:
    drv = open_driver(neo4j_settings, start=False)
    try:
        yield drv
    finally:
        drv.close()


def clear_graph(driver: Driver, database: str) -> None:
    with driver.session(database=database) as session:  # CALL IN TRANSACTIONS needs auto-commit
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


@pytest.fixture(scope="module")
def graph(driver: Driver, neo4j_settings: Settings) -> GraphWriter:
    """An empty, schema-ready database for this test module, and the writer to fill it."""
    clear_graph(driver, neo4j_settings.neo4j_database)
    ensure_schema(driver, neo4j_settings.neo4j_database)
    return GraphWriter(driver, neo4j_settings.neo4j_database)

"""Which Neo4j to talk to, and the driver for it.

With `NEO4J_URI` set, that server is used as it is and nothing is started. Otherwise the local
server under `<home>/neo4j` is started on first need, so `gracegraph load` works on a fresh clone.
"""

from __future__ import annotations

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import ServiceUnavailable

from graph_service.neo4j_local import LocalNeo4j
from graph_service.settings import Settings
from loaders.errors import Neo4jUnavailable


def local_server(settings: Settings, *, gds: bool = False) -> LocalNeo4j:
    """The local server the settings describe; `gds` adds Graph Data Science as the setting does."""
    return LocalNeo4j(home=settings.home / "neo4j", port=settings.neo4j_port,
                      heap=settings.neo4j_heap, pagecache=settings.neo4j_pagecache,
                      gds=gds or settings.neo4j_gds)


def ensure_running(settings: Settings) -> str:
    """The Bolt URI to use, starting the local server if that is the one in use."""
    if settings.uses_local_neo4j:
        local_server(settings).start(timeout=settings.neo4j_start_timeout_s)
    return settings.bolt_uri


def open_driver(settings: Settings, *, start: bool = True) -> Driver:
    """A driver that has proved it can reach the server; one per process, closed by the caller."""
    uri = ensure_running(settings) if start else settings.bolt_uri
    auth = (settings.neo4j_user, settings.neo4j_password) if settings.neo4j_password else None
    # Server notifications (unknown label on an empty graph…) are for query authors, not users.
    driver = GraphDatabase.driver(uri, auth=auth, notifications_min_severity="OFF")
    try:
        driver.verify_connectivity()
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        raise Neo4jUnavailable(f"cannot reach Neo4j at {uri}: {exc}") from exc
    return driver

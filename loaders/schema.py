"""Schema bootstrap: constraints and indexes, applied at the start of every load, versioned.

Each migration is a list of idempotent statements (`IF NOT EXISTS`); the version reached is kept on
a `(:GracegraphSchema {key: 'schema'})` node so a later change to the model adds a migration rather
than editing history, and `gracegraph` refuses to write to a graph made by a newer version.
"""

from __future__ import annotations

from neo4j import Driver, RoutingControl

from loaders.errors import GracegraphError
from loaders.model import LOADED_LABELS, Label, cypher

_UNIQUE_KEY = "CREATE CONSTRAINT {label}_key IF NOT EXISTS FOR (n:{label}) REQUIRE n.key IS UNIQUE"


def _v1() -> list[str]:
    labels = (*LOADED_LABELS, Label.IDENTITY)
    statements = [cypher(_UNIQUE_KEY, label=label) for label in labels]
    statements += [
        # A file arriving with fewer hashes must find the node that has any of them (formats.md).
        "CREATE INDEX File_md5 IF NOT EXISTS FOR (n:File) ON (n.md5)",
        "CREATE INDEX File_sha1 IF NOT EXISTS FOR (n:File) ON (n.sha1)",
        "CREATE INDEX File_sha256 IF NOT EXISTS FOR (n:File) ON (n.sha256)",
        "CREATE INDEX Report_incident_at IF NOT EXISTS FOR (n:Report) ON (n.incident_at)",
        "CREATE INDEX Email_canonical IF NOT EXISTS FOR (n:Email) ON (n.canonical)",
    ]
    return statements


#: What `search` finds entities by: keys, names and handles (list properties are indexed element by
#: element), file hashes. `standard-folding` splits text as Lucene's standard analyzer does and
#: folds accents, so "Öpecimane" is found by "opecimane".
SEARCH_INDEX = "entity_search"
SEARCH_PROPERTIES = ("key", "name", "screen_names", "display_names", "first_name", "last_name", "canonical",
                     "md5", "sha1", "sha256")


def _v2() -> list[str]:
    labels = "|".join(label.value for label in LOADED_LABELS)
    properties = ", ".join(f"n.{name}" for name in SEARCH_PROPERTIES)
    # Labels from the model and property names from the constant above: no input reaches this text.
    return ["CREATE FULLTEXT INDEX " + SEARCH_INDEX + " IF NOT EXISTS FOR (n:" + labels + ") ON EACH ["
            + properties + "] OPTIONS {indexConfig: {`fulltext.analyzer`: 'standard-folding'}}"]


def _v3() -> list[str]:
    """Community runs: each run and community by key; a run's communities by their run id."""
    return [cypher(_UNIQUE_KEY, label=Label.COMMUNITY), cypher(_UNIQUE_KEY, label=Label.COMMUNITY_RUN),
            "CREATE INDEX Community_run IF NOT EXISTS FOR (n:Community) ON (n.run)"]


def _v4() -> list[str]:
    """Saved charts: one node per version, keyed `<case>/<name>@<version>`, found by series."""
    return [cypher(_UNIQUE_KEY, label=Label.CHART),
            "CREATE INDEX Chart_series IF NOT EXISTS FOR (n:Chart) ON (n.series)"]


def _v5() -> list[str]:
    """Entity resolution: runs are looked up by id, proposals by status (the review queue)."""
    return [cypher(_UNIQUE_KEY, label=Label.RESOLUTION_RUN),
            "CREATE INDEX SAME_AS_status IF NOT EXISTS FOR ()-[r:SAME_AS]-() ON (r.status)"]


def _v6() -> list[str]:
    """Deconfliction: reported persons by birth date (then compared by name)."""
    return ["CREATE INDEX Person_date_of_birth IF NOT EXISTS FOR (n:Person) ON (n.date_of_birth)"]


def _v7() -> list[str]:
    """Load runs: each by key; `--resume` asks which file hashes a finished file left behind."""
    return [cypher(_UNIQUE_KEY, label=Label.LOAD_RUN)]


MIGRATIONS: tuple[tuple[int, list[str]], ...] = (
    (1, _v1()), (2, _v2()), (3, _v3()), (4, _v4()), (5, _v5()), (6, _v6()), (7, _v7()))
CURRENT_VERSION = MIGRATIONS[-1][0]

_READ_VERSION = "MATCH (s:GracegraphSchema {key: 'schema'}) RETURN s.version AS version"
_WRITE_VERSION = "MERGE (s:GracegraphSchema {key: 'schema'}) SET s.version = $version"


class SchemaTooNew(GracegraphError):
    """The graph was migrated by a newer gracegraph; writing with this one could damage it."""


def ensure_schema(driver: Driver, database: str) -> int:
    """Bring the graph's schema to CURRENT_VERSION; cheap when already there. Returns the version."""
    # A read (a follower on a cluster may answer): a stale answer only re-runs idempotent statements.
    records, _, _ = driver.execute_query(_READ_VERSION, database_=database, routing_=RoutingControl.READ)
    found = records[0]["version"] if records else 0
    if found > CURRENT_VERSION:
        raise SchemaTooNew(f"graph schema is version {found}, this gracegraph knows "
                           f"{CURRENT_VERSION}: upgrade gracegraph")
    for version, statements in MIGRATIONS:
        # Statements are idempotent, so the current version's are re-run too: a crash between a
        # statement and the version write must not leave a constraint missing.
        if version >= found:
            for statement in statements:
                driver.execute_query(statement, database_=database)
    # Not a read to route away: it waits for the indexes of the server the load is about to write to.
    driver.execute_query("CALL db.awaitIndexes(300)", database_=database)
    if found != CURRENT_VERSION:
        driver.execute_query(_WRITE_VERSION, version=CURRENT_VERSION, database_=database)
    return CURRENT_VERSION

"""Community runs in the graph: written beside the source data, kept until deleted, by run id.

A run is `(:CommunityRun {key: run, algorithm, engine, parameters, projection, …})` (parameters and
projection as JSON text: Neo4j properties cannot be maps), its communities
`(:Community {key: "<run>:<number>", run, number, size, edges, weight, density, reports, providers,
known_files})` and their members `(:Account)-[:MEMBER_OF {run, rank}]->(:Community)`. Nothing else is
touched, so deleting a run gives back the graph as it was.

Writes go in batches, one transaction each, and MERGE on keys: a retried batch writes nothing twice.
The run is `status: "writing"` until its last batch, then `"done"`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from queries.community_detection import Shape
from queries.community_results import CommunityRun
from queries.context import GraphContext
from queries.errors import NotFound

BATCH = 5000

_CREATE_RUN = """
CREATE (r:CommunityRun {key: $run, algorithm: $algorithm, engine: $engine, parameters: $parameters,
                        projection: $projection, created_at: datetime($created_at), accounts: $accounts,
                        edges: $edges, communities: $communities, placed: $placed, min_size: $min_size,
                        status: 'writing'})
"""
_COMMUNITIES = """
UNWIND $rows AS row
MERGE (c:Community {key: row.key})
SET c.run = $run, c.number = row.number, c.size = row.size, c.edges = row.edges, c.weight = row.weight,
    c.density = row.density
"""
_MEMBERS = """
UNWIND $rows AS row
MATCH (a:Account {key: row.account})
MATCH (c:Community {key: row.community})
MERGE (a)-[m:MEMBER_OF {run: $run}]->(c)
SET m.rank = row.rank
"""
# What each community touches, counted once at write time so lists can be ordered by it.
_COUNTS = """
UNWIND $keys AS key
MATCH (c:Community {key: key})
CALL (c) {
  MATCH (c)<-[:MEMBER_OF]-(:Account)<-[:REPORTS]-(r:Report)
  WITH DISTINCT r
  OPTIONAL MATCH (r)-[:SUBMITTED_BY]->(p:Provider)
  RETURN count(DISTINCT r) AS reports, count(DISTINCT p) AS providers
}
CALL (c) {
  MATCH (c)<-[:MEMBER_OF]-(a:Account)
  CALL (a) {
    MATCH (a)<-[:REPORTS]-(:Report)-[:INCLUDES]->(f:File) RETURN f
    UNION
    MATCH (a)-[:SHARED]->(f:File) RETURN f
  }
  WITH DISTINCT f WHERE f.known
  RETURN count(f) AS known_files
}
SET c.reports = reports, c.providers = providers, c.known_files = known_files
"""
_FINISH = "MATCH (r:CommunityRun {key: $run}) SET r.status = 'done', r.seconds = $seconds"


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time and unique: `20261125T201502-3fa9c1`."""
    import uuid

    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _batches(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start:start + BATCH]


def write_run(ctx: GraphContext, record: CommunityRun, keys: list[str], membership: list[int],
              shape: Shape) -> None:
    """Store `record` and the communities of at least `record.min_size` members."""
    run = record.run
    kept = [n for n, size in enumerate(shape.size) if size >= record.min_size]
    ctx.write(_CREATE_RUN, run=run, algorithm=record.algorithm, engine=record.engine,
              parameters=json.dumps(record.parameters, sort_keys=True),
              projection=json.dumps(record.projection, sort_keys=True), created_at=record.created_at,
              accounts=record.accounts, edges=record.edges, communities=record.communities,
              placed=record.placed, min_size=record.min_size)
    community_rows = [{"key": f"{run}:{n}", "number": n, "size": shape.size[n], "edges": shape.edges[n],
                       "weight": round(shape.weight[n], 6), "density": round(shape.density[n], 6)}
                      for n in kept]
    for rows in _batches(community_rows):
        ctx.write(_COMMUNITIES, rows=rows, run=run)
    member_rows = [{"account": key, "community": f"{run}:{n}", "rank": round(rank, 6)}
                   for key, n, rank in zip(keys, membership, shape.rank, strict=True)
                   if shape.size[n] >= record.min_size]
    for rows in _batches(member_rows):
        ctx.write(_MEMBERS, rows=rows, run=run)
    for rows in _batches([row["key"] for row in community_rows]):
        ctx.write(_COUNTS, keys=rows)


def finish_run(ctx: GraphContext, run: str, seconds: dict[str, float]) -> None:
    ctx.write(_FINISH, run=run, seconds=json.dumps(seconds, sort_keys=True))


_RUN_FIELDS = """r {.key, .algorithm, .engine, .parameters, .projection, .accounts, .edges, .communities,
                   .placed, .min_size, .seconds, .status, created_at: toString(r.created_at)}"""
_RUNS = "MATCH (r:CommunityRun) RETURN " + _RUN_FIELDS + " AS run ORDER BY r.created_at DESC, r.key DESC"
_RUN = "MATCH (r:CommunityRun {key: $run}) RETURN " + _RUN_FIELDS + " AS run"


def _to_run(row: dict[str, Any]) -> CommunityRun:
    return CommunityRun(
        run=row["key"], algorithm=row["algorithm"], engine=row["engine"],
        parameters=json.loads(row["parameters"] or "{}"), projection=json.loads(row["projection"] or "{}"),
        created_at=row["created_at"], accounts=row["accounts"], edges=row["edges"],
        communities=row["communities"], placed=row["placed"], min_size=row["min_size"],
        seconds=json.loads(row["seconds"] or "{}"), status=row["status"])


def list_runs(ctx: GraphContext) -> list[CommunityRun]:
    """Every stored run, newest first."""
    return [_to_run(row["run"]) for row in ctx.read(_RUNS)]


def get_run(ctx: GraphContext, run: str | None) -> CommunityRun:
    """The run named, or the newest finished one when `run` is None; NOT_FOUND when there is none."""
    if run is None:
        done = [r for r in list_runs(ctx) if r.status == "done"]
        if not done:
            raise NotFound("no community run yet: run `gracegraph communities` or the runCommunities mutation")
        return done[0]
    rows = ctx.read(_RUN, run=run)
    if not rows:
        raise NotFound(f"no community run {run!r}")
    return _to_run(rows[0]["run"])


_DELETE_BATCH = """
MATCH (c:Community {run: $run})
WITH c LIMIT $batch
DETACH DELETE c
RETURN count(*) AS deleted
"""
_DELETE_RUN = "MATCH (r:CommunityRun {key: $run}) DETACH DELETE r RETURN count(*) AS deleted"


def delete_run(ctx: GraphContext, run: str) -> int:
    """Remove a run, its communities and memberships (never anything else); communities removed."""
    get_run(ctx, run)
    removed = 0
    while True:
        [row] = ctx.write(_DELETE_BATCH, run=run, batch=BATCH)
        removed += row["deleted"]
        if row["deleted"] < BATCH:
            break
    ctx.write(_DELETE_RUN, run=run)
    return removed

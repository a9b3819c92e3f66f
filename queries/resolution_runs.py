"""Resolution runs on the graph: read the records, resolve, write proposals, rebuild identities, record it.

Every run leaves a `ResolutionRun` node (key: the run id) with its parameters, counts, the model it
fitted (m, u, weights per comparison level) and who started it. What a run may change:

- a pair over the threshold that has no link gets one (`proposed`, or `accepted` over the
  auto-accept threshold when the run allows it), with `created_run` and `run` = this run;
- a machine link (proposed, accepted, withdrawn) gets the new score and evidence, or `withdrawn`
  when no longer over the threshold; its former machine fields are kept in `previous`;
- a judged link (confirmed, rejected, unsure) is never touched.

`rollback_run` undoes one run: links it created that nobody judged are deleted, links it re-scored
get their `previous` fields back (unless a later run has re-scored them since), identities are
rebuilt and the run is marked `rolled_back`. Judgements made meanwhile stay. Source data (reports,
accounts, persons, identifiers) is never written by either.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from loaders.model import cypher
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.resolution import Resolution, ResolutionParams, resolve
from queries.resolution_identities import rebuild_identities
from queries.resolution_judgements import JUDGED, LinkStatus, label_pairs, read_links, write_links
from queries.resolution_records import build_table
from queries.resolution_sources import records_from_graph
from queries.results import entity_id

MACHINE_FIELDS = ("status", "score", "weight", "method", "evidence", "run")


@dataclass(slots=True)
class RunSummary:
    run: str
    status: str
    started_at: str
    finished_at: str | None
    by: str | None
    params: dict[str, Any]
    counts: dict[str, Any]


def check_params(params: ResolutionParams) -> ResolutionParams:
    """Refuse parameters no run can use, naming the one at fault."""
    if not 0.0 < params.threshold < 1.0 or not 0.0 < params.auto_accept < 1.0:
        raise BadInput("threshold and autoAccept are probabilities strictly between 0 and 1")
    if params.auto_accept < params.threshold:
        raise BadInput("autoAccept must be at least the proposal threshold")
    if min(params.max_block, params.device_max_accounts, params.ip_max_accounts) < 2:
        raise BadInput("block and supernode limits must be at least 2")
    return params


def new_run_id() -> str:
    return f"res-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def _machine_props(resolution: Resolution, k: int, run: str) -> dict[str, Any]:
    proposal = resolution.proposal(k)
    status = LinkStatus.ACCEPTED if proposal.auto else LinkStatus.PROPOSED
    return {"status": status.value, "score": proposal.score, "weight": proposal.weight, "method": proposal.method,
            "evidence": json.dumps(proposal.evidence, ensure_ascii=False, default=str), "run": run}


PREVIOUS = """
UNWIND $rows AS row
MATCH (a:{la} {key: row.a})-[r:SAME_AS]->(b:{lb} {key: row.b})
RETURN row.a AS a, row.b AS b, r {.status, .score, .weight, .method, .evidence, .run} AS fields
"""


def plan_links(resolution: Resolution, existing: dict[tuple[str, str], dict[str, Any]],
               run: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The link writes of a run (see the module docstring) and their counts."""
    table, blocking = resolution.table, resolution.blocking
    chosen = resolution.over(resolution.params.threshold)
    counts = {"new": 0, "rescored": 0, "withdrawn": 0, "kept_judged": 0, "auto_accepted": 0}
    rows: list[dict[str, Any]] = []
    proposed: set[tuple[str, str]] = set()
    for k in chosen.tolist():
        a, b = table.ids[int(blocking.left[k])], table.ids[int(blocking.right[k])]
        pair = (a, b) if a < b else (b, a)
        proposed.add(pair)
        found = existing.get(pair)
        if found is not None and found["status"] in JUDGED:
            counts["kept_judged"] += 1
            continue
        props = _machine_props(resolution, k, run)
        counts["auto_accepted"] += props["status"] == LinkStatus.ACCEPTED
        if found is None:
            counts["new"] += 1
            props["previous"] = None
        else:
            counts["rescored"] += 1
        rows.append({"a": pair[0], "b": pair[1], "run": run, "props": props, "existing": found is not None})
    for pair, found in existing.items():
        if pair not in proposed and found["status"] in (LinkStatus.PROPOSED, LinkStatus.ACCEPTED):
            counts["withdrawn"] += 1
            rows.append({"a": pair[0], "b": pair[1], "run": run, "existing": True,
                         "props": {"status": LinkStatus.WITHDRAWN.value, "run": run}})
    return rows, counts


def _with_previous(ctx: GraphContext, rows: list[dict[str, Any]]) -> None:
    """Keep each existing link's machine fields in `previous`, for rollback."""
    current: dict[tuple[str, str], dict[str, Any]] = {}
    existing = [{"a": r["a"], "b": r["b"]} for r in rows if r["existing"]]
    for (la, lb), group in label_pairs(existing).items():
        query = cypher(PREVIOUS, la=la, lb=lb)
        for start in range(0, len(group), 2000):
            for found in ctx.read(query, rows=group[start:start + 2000]):
                current[(entity_id(la, found["a"]), entity_id(lb, found["b"]))] = found["fields"]
    for row in rows:
        if row["existing"]:
            row["props"]["previous"] = json.dumps(current.get((row["a"], row["b"]), {}), default=str)


RECORD_RUN = """
MERGE (r:ResolutionRun {key: $run})
SET r += $props
"""


def run_resolution(ctx: GraphContext, params: ResolutionParams, by: str | None = None) -> RunSummary:
    """One run over the whole graph (see the module docstring); returns what it recorded."""
    check_params(params)
    run = new_run_id()
    started = datetime.now(UTC)
    began = time.perf_counter()
    ctx.write(RECORD_RUN, run=run, props={"status": "running", "started_at": started, "by": by,
                                          "params": json.dumps(params.as_dict())})
    try:
        records = records_from_graph(ctx, params.device_max_accounts, params.ip_max_accounts)
        resolution = resolve(build_table(records), params)
        rows, link_counts = plan_links(resolution, read_links(ctx), run)
        _with_previous(ctx, rows)
        write_links(ctx, [{k: v for k, v in row.items() if k != "existing"} for row in rows])
        identities = rebuild_identities(ctx)
    except Exception as exc:  # recorded, then raised: a run that died must not look like one running
        ctx.write(RECORD_RUN, run=run, props={"status": "failed", "finished_at": datetime.now(UTC),
                                              "error": f"{type(exc).__name__}: {exc}"[:1000]})
        raise
    counts = {**resolution.counts(), **link_counts, "identities": identities,
              "seconds": round(time.perf_counter() - began, 2), **resolution.timings}
    finished = datetime.now(UTC)
    ctx.write(RECORD_RUN, run=run, props={"status": "done", "finished_at": finished,
                                          "counts": json.dumps(counts, default=_plain),
                                          "model": json.dumps(resolution.model.as_dict(), default=_plain)})
    return RunSummary(run, "done", started.isoformat(), finished.isoformat(), by, params.as_dict(), counts)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


ROLLBACK_CREATED = """
MATCH ()-[r:SAME_AS]->() WHERE r.created_run = $run AND r.status IN $machine
DELETE r
RETURN count(*) AS n
"""
ROLLBACK_RESCORED = """
MATCH ()-[r:SAME_AS]->() WHERE r.run = $run AND r.status IN $machine AND r.previous IS NOT NULL
RETURN elementId(r) AS id, r.previous AS previous
"""
RESTORE = """
UNWIND $rows AS row
MATCH ()-[r:SAME_AS]->() WHERE elementId(r) = row.id
SET r += row.fields, r.previous = null
"""


def rollback_run(ctx: GraphContext, run: str) -> RunSummary:
    """Undo run `run` (see the module docstring)."""
    found = ctx.read("MATCH (r:ResolutionRun {key: $run}) RETURN r.status AS status", run=run)
    if not found:
        raise NotFound(f"no resolution run {run!r}")
    if found[0]["status"] == "rolled_back":
        raise BadInput(f"run {run!r} was rolled back already")
    machine = [LinkStatus.PROPOSED.value, LinkStatus.ACCEPTED.value, LinkStatus.WITHDRAWN.value]
    deleted = ctx.write(ROLLBACK_CREATED, run=run, machine=machine)[0]["n"]
    restore = []
    for row in ctx.read(ROLLBACK_RESCORED, run=run, machine=machine):
        fields = {k: v for k, v in json.loads(row["previous"]).items() if k in MACHINE_FIELDS}
        restore.append({"id": row["id"], "fields": {k: fields.get(k) for k in MACHINE_FIELDS}})
    for start in range(0, len(restore), 2000):
        ctx.write(RESTORE, rows=restore[start:start + 2000])
    identities = rebuild_identities(ctx)
    ctx.write(RECORD_RUN, run=run, props={"status": "rolled_back", "rolled_back_at": datetime.now(UTC),
                                          "rollback": json.dumps({"deleted": deleted, "restored": len(restore),
                                                                  "identities": identities})})
    return get_run(ctx, run)


RUNS = """
MATCH (r:ResolutionRun) WHERE $run IS NULL OR r.key = $run
RETURN r.key AS run, r.status AS status, toString(r.started_at) AS started_at,
       toString(r.finished_at) AS finished_at, r.by AS by, r.params AS params, r.counts AS counts
ORDER BY r.started_at DESC LIMIT $limit
"""


def _summary(row: dict[str, Any]) -> RunSummary:
    return RunSummary(row["run"], row["status"], row["started_at"], row["finished_at"], row["by"],
                      json.loads(row["params"] or "{}"), json.loads(row["counts"] or "{}"))


def get_run(ctx: GraphContext, run: str) -> RunSummary:
    rows = ctx.read(RUNS, run=run, limit=1)
    if not rows:
        raise NotFound(f"no resolution run {run!r}")
    return _summary(rows[0])


def list_runs(ctx: GraphContext, limit: int = 20) -> list[RunSummary]:
    return [_summary(row) for row in ctx.read(RUNS, run=None, limit=limit)]


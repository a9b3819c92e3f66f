"""Two agencies over one graph of synthetic referrals, for the need-to-know and deconfliction tests.

Reports are loaded from the generator, then agency A opens case A-1 and files the first 45% of
them (by key), agency B opens B-1 with the next 45%, and the rest stay in no case. The fixture
reads back which nodes rest on A's reports only, which on B's only, and which are shared, so that
tests assert against what the graph really holds rather than a hard-coded answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.cases import assign_reports, create_case
from queries.context import GraphContext
from queries.visibility import Clearance, Scope

A, B = "AGENCY-A", "AGENCY-B"
CASE_A, CASE_B = "A-1", "B-1"

_SPLIT = """
MATCH (n) WHERE (n:Account OR n:Email OR n:Phone OR n:IP OR n:Device OR n:File OR n:Person)
  AND size(n.sources) > 0
RETURN labels(n)[0] AS label, n.key AS key, n.sources AS sources, coalesce(n.supernode, false) AS hub
"""


@dataclass
class World:
    ctx: GraphContext
    truth: dict[str, Any]
    reports_a: set[str]
    reports_b: set[str]
    unassigned: set[str]
    only_a: list[str]  # entity ids resting on A's reports only
    only_b: list[str]
    shared: list[str]  # entity ids resting on reports of both (not supernodes)
    nodes: dict[str, list[str]]  # entity id → sources

    def first(self, ids: list[str], kind: str) -> str:
        return next(i for i in ids if i.startswith(kind + ":"))


def build_world(graph: GraphWriter, out: Path, reports: int = 160, seed: int = 808) -> World:
    generate(out, reports=reports, seed=seed)
    truth = json.loads((out / "truth.json").read_text())
    assert not load_files(graph, [out / name for name in truth["files"]], parse_cybertip).failed
    ctx = GraphContext(graph.driver, graph.database, 60.0)
    dated = ctx.read("MATCH (r:Report) WHERE r.incident_at IS NOT NULL RETURN r.key AS key")
    keys = sorted(row["key"] for row in dated)
    cut = int(len(keys) * 0.45)
    reports_a, reports_b, rest = set(keys[:cut]), set(keys[cut:2 * cut]), set(keys[2 * cut:])
    for agency, case, chosen in ((A, CASE_A, reports_a), (B, CASE_B, reports_b)):
        scope = Scope(agency, Clearance.EVERYTHING)
        create_case(ctx, Scope(agency, Clearance.OWN_CASES), case, title=f"{agency} operation",
                    contact=f"desk officer of {agency}, +1 555 0100")
        assign_reports(ctx, scope, case, sorted(chosen))
    only_a, only_b, shared, nodes = [], [], [], {}
    for row in ctx.read(_SPLIT):
        eid, sources = f"{row['label']}:{row['key']}", set(row["sources"])
        nodes[eid] = sorted(sources)
        if sources <= reports_a:
            only_a.append(eid)
        elif sources <= reports_b:
            only_b.append(eid)
        elif sources & reports_a and sources & reports_b and not row["hub"]:
            shared.append(eid)
    return World(ctx, truth, reports_a, reports_b, rest, sorted(only_a), sorted(only_b), sorted(shared), nodes)

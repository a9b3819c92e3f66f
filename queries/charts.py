"""Saved link charts: what an investigator arranged, kept in the graph beside the case it serves.

A chart is the viewer's state: the entities kept on it (each with its position, pinned or not,
hidden or not), the kinds hidden by the legend, and the time range. It is saved as a `Chart` node
tied to its case (`(:Chart)-[:FILED_IN]->(:Case)`; a case key not seen before makes its Case node),
one node per version: saving again under the same name adds version n+1, which `REVISES` version n,
and never changes an earlier one, so what was filed stays as it was filed.

A chart's id is `<case>/<name-slug>@<version>` (e.g. `ICAC-2024-17/network-alpha@2`); without the
`@<version>` it means the latest version. The chart keeps ids and layout only: exports fetch the
entities and relationships afresh, with their sources (`chart_graph`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from neo4j.exceptions import ConstraintError

from loaders.model import Label, Rel, cypher
from queries.bounds import check_kinds
from queries.context import GraphContext
from queries.entities import edge_map, fetch_nodes, iso_text, to_edge, to_entity
from queries.errors import BadInput, NotFound
from queries.results import Entity, GraphEdge, parse_entity_id

#: The most entities one chart may keep (the viewer draws up to a few thousand before it slows).
MAX_CHART_NODES = 5000
MAX_NAME = 120
SAVE_ATTEMPTS = 5
_SLUG_OUT = re.compile(r"[^a-z0-9]+")


@dataclass(slots=True)
class ChartNode:
    id: str
    x: float
    y: float
    pinned: bool = False
    hidden: bool = False


@dataclass(slots=True)
class ChartState:
    """The viewer's chart, exactly as it reopens. JSON form (camelCase, as the viewer sends it):
    `{"nodes": [{"id", "x", "y", "pinned", "hidden"}], "hiddenKinds": [...], "since": ISO|null,
    "until": ISO|null}`."""

    nodes: list[ChartNode] = field(default_factory=list)
    hidden_kinds: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"nodes": [{"id": n.id, "x": n.x, "y": n.y, "pinned": n.pinned, "hidden": n.hidden}
                          for n in self.nodes],
                "hiddenKinds": list(self.hidden_kinds), "since": self.since, "until": self.until}

    def drawn(self) -> list[ChartNode]:
        """The nodes a reader of the chart sees: kept, not hidden, of a kind not hidden."""
        hidden_kinds = set(self.hidden_kinds)
        return [n for n in self.nodes if not n.hidden and parse_entity_id(n.id)[0].value not in hidden_kinds]


@dataclass(slots=True)
class SavedChart:
    id: str  # <case>/<slug>@<version>
    series: str  # <case>/<slug>: every version of one chart
    name: str
    case: str
    version: int
    saved_at: str  # ISO, UTC
    author: str | None
    state: ChartState


@dataclass(slots=True)
class ChartGraph:
    """A chart's drawn entities and the relationships among them, fresh from the graph."""

    chart: SavedChart
    nodes: list[Entity]
    edges: list[GraphEdge]
    missing: list[str]  # ids kept on the chart that the graph no longer has
    reports: list[Entity] = field(default_factory=list)  # the source reports of `edges`, by key


# -- input ----------------------------------------------------------------------------------------

def slug(name: str) -> str:
    """`"Network Alpha (2024)"` -> `"network-alpha-2024"`: the part of a chart id named by its title."""
    text = _SLUG_OUT.sub("-", name.lower()).strip("-")
    if not text:
        raise BadInput(f"a chart name needs at least one letter or digit, not {name!r}")
    return text[:60].rstrip("-")


def _text(name: str, value: Any, most: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadInput(f"{name} must be a non-empty text")
    if len(value) > most:
        raise BadInput(f"{name} must be at most {most} characters")
    return value.strip()


def _time(name: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise BadInput(f"{name} must be an ISO date-time, not {value!r}") from None


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadInput(f"{name} must be a finite number, not {value!r}")
    return float(value)


def parse_state(data: Any) -> ChartState:
    """A `ChartState` from its JSON form, every part checked (BadInput names the first fault)."""
    if not isinstance(data, dict):
        raise BadInput("a chart state must be an object with nodes, hiddenKinds, since, until")
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, list) or not raw_nodes:
        raise BadInput("a chart must keep at least one node")
    if len(raw_nodes) > MAX_CHART_NODES:
        raise BadInput(f"a chart keeps at most {MAX_CHART_NODES} nodes, not {len(raw_nodes)}")
    nodes: dict[str, ChartNode] = {}
    for i, raw in enumerate(raw_nodes):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise BadInput(f"nodes[{i}] must be an object with an id")
        parse_entity_id(raw["id"])
        if raw["id"] in nodes:
            raise BadInput(f"nodes[{i}]: {raw['id']} is kept twice")
        nodes[raw["id"]] = ChartNode(raw["id"], _number(f"nodes[{i}].x", raw.get("x")),
                                     _number(f"nodes[{i}].y", raw.get("y")),
                                     pinned=bool(raw.get("pinned", False)), hidden=bool(raw.get("hidden", False)))
    hidden_kinds = check_kinds(data.get("hiddenKinds") or None) or []
    since, until = _time("since", data.get("since")), _time("until", data.get("until"))
    if since and until and datetime.fromisoformat(since) > datetime.fromisoformat(until):
        raise BadInput("the time range ends before it starts")
    return ChartState(nodes=list(nodes.values()), hidden_kinds=hidden_kinds, since=since, until=until)


def parse_chart_id(value: str) -> tuple[str, int | None]:
    """(series, version) of a chart id; version None when the id names the latest."""
    value = _text("chart id", value, 400)
    series, sep, version = value.rpartition("@")
    if sep and version.isdigit() and series:
        return series, int(version)
    return value, None


# -- Cypher ---------------------------------------------------------------------------------------

_FIELDS = ("c.key AS id, c.series AS series, c.name AS name, c.case_key AS case_key, c.version AS version, "
           "toString(c.saved_at) AS saved_at, c.author AS author, c.state AS state")

# One transaction: the next version number, the new node, its ties. Two saves racing for the same
# version collide on the Chart key constraint, and the driver's retry (or the caller) tries again.
_SAVE = cypher("""
MERGE (k:{case} {key: $case})
  ON CREATE SET k.sources = [], k.created_at = datetime(), k.created_by = 'chart'
WITH k
OPTIONAL MATCH (prev:{chart} {series: $series})
WITH k, prev ORDER BY prev.version DESC LIMIT 1
WITH k, prev, coalesce(prev.version, 0) + 1 AS version
CREATE (c:{chart} {key: $series + '@' + toString(version), series: $series, version: version,
                   name: $name, case_key: $case, author: $author, saved_at: datetime(), state: $state,
                   node_count: $node_count})
CREATE (c)-[:{filed_in}]->(k)
FOREACH (p IN CASE WHEN prev IS NULL THEN [] ELSE [prev] END | CREATE (c)-[:{revises}]->(p))
RETURN """ + _FIELDS, case=Label.CASE, chart=Label.CHART, filed_in=Rel.FILED_IN,
                revises=Rel.REVISES)

_BY_KEY = cypher("MATCH (c:{chart} {key: $key}) RETURN " + _FIELDS, chart=Label.CHART)
_LATEST = cypher("MATCH (c:{chart} {series: $series}) RETURN " + _FIELDS + " ORDER BY c.version DESC LIMIT 1",
                 chart=Label.CHART)
_VERSIONS = cypher("MATCH (c:{chart} {series: $series}) RETURN " + _FIELDS + " ORDER BY c.version",
                   chart=Label.CHART)
_OF_CASE = cypher("""
MATCH (c:{chart})-[:{filed_in}]->(:{case} {key: $case})
WITH c.series AS series, max(c.version) AS latest
MATCH (c:{chart} {series: series, version: latest})
RETURN """ + _FIELDS + " ORDER BY c.name, c.series", chart=Label.CHART, filed_in=Rel.FILED_IN, case=Label.CASE)

_EDGES_AMONG = """
UNWIND $eids AS eid
MATCH (a) WHERE elementId(a) = eid
MATCH (a)-[r]->(b) WHERE elementId(b) IN $eids
RETURN collect(""" + edge_map("r") + ") AS edges"


def _chart(row: dict[str, Any]) -> SavedChart:
    return SavedChart(id=row["id"], series=row["series"], name=row["name"], case=row["case_key"],
                      version=row["version"], saved_at=iso_text(row["saved_at"]), author=row["author"],
                      state=parse_state(json.loads(row["state"])))


# -- operations -----------------------------------------------------------------------------------

def save_chart(ctx: GraphContext, case: str, name: str, state: Any, author: str | None = None) -> SavedChart:
    """Save `state` as the next version of the chart `name` of `case` (version 1 if new)."""
    case = _text("case", case, 200)
    name = _text("name", name, MAX_NAME)
    checked = parse_state(state)
    series = f"{case}/{slug(name)}"
    text = json.dumps(checked.as_json(), separators=(",", ":"))
    for attempt in range(SAVE_ATTEMPTS):
        try:
            rows = ctx.write(_SAVE, case=case, series=series, name=name, author=author, state=text,
                             node_count=len(checked.nodes))
            return _chart(rows[0])
        except ConstraintError:  # another save took this version number first: take the next
            if attempt == SAVE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def get_chart(ctx: GraphContext, id: str) -> SavedChart:
    """The chart version `id` names (the latest when it has no `@<version>`); NotFound otherwise."""
    series, version = parse_chart_id(id)
    rows = ctx.read(_LATEST, series=series) if version is None else ctx.read(_BY_KEY, key=f"{series}@{version}")
    if not rows:
        raise NotFound(f"no chart {id!r}")
    return _chart(rows[0])


def chart_versions(ctx: GraphContext, id: str) -> list[SavedChart]:
    """Every version of the chart `id` belongs to, oldest first."""
    series, _ = parse_chart_id(id)
    rows = ctx.read(_VERSIONS, series=series)
    if not rows:
        raise NotFound(f"no chart {id!r}")
    return [_chart(row) for row in rows]


def list_charts(ctx: GraphContext, case: str) -> list[SavedChart]:
    """The latest version of every chart filed in `case`, by name."""
    return [_chart(row) for row in ctx.read(_OF_CASE, case=_text("case", case, 200))]


def chart_graph(ctx: GraphContext, chart: SavedChart, *, kept: bool = False) -> ChartGraph:
    """The chart's drawn entities (in the chart's order), every relationship among them with its
    sources, and those source reports themselves, as the graph has them now. The time range is not
    applied here: what it hides is for the renderer to decide (`ui/exports/model.py`). With `kept`,
    every entity kept on the chart, hidden ones too (what the viewer needs to reopen it)."""
    ids = [n.id for n in (chart.state.nodes if kept else chart.state.drawn())]
    found = fetch_nodes(ctx, ids)
    missing = [value for value in ids if value not in found]
    present = [value for value in ids if value in found]
    edges: list[GraphEdge] = []
    if present:
        [row] = ctx.read(_EDGES_AMONG, eids=[found[value]["eid"] for value in present])
        edges = sorted((to_edge(e) for e in row["edges"]), key=lambda e: e.id)
    keys = sorted({key for edge in edges for key in edge.sources})
    reports = fetch_nodes(ctx, [f"{Label.REPORT.value}:{key}" for key in keys])
    return ChartGraph(chart=chart, nodes=[to_entity(found[value]) for value in present], edges=edges,
                      missing=missing, reports=[to_entity(reports[k]) for k in sorted(reports)])

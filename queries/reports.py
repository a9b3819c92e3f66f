"""One report as it was received, and one case with its reports.

A report's contents are the elements it rests on: starting at the report, every relationship
whose `sources` include the report's key, followed outwards (the report names an account, the
account used an IP in that report, the account is tied to another account in that report...).
What other reports added to the same nodes stays out, so the view is the report itself.
"""

from __future__ import annotations

from loaders.model import Label, Rel, cypher
from queries.bounds import FIRST, check_range
from queries.context import GraphContext
from queries.cursors import decode, encode
from queries.entities import edge_map, node_map, to_edge, to_entity
from queries.errors import BadInput, NotFound
from queries.results import CaseView, Page, ReportView, Subgraph

#: How far from the report its own relationships are followed (report → person → account →
#: associated account → IP is the longest chain a CyberTip report makes).
REPORT_REACH = 4

_REPORT = cypher("""
MATCH (rep:{report} {key: $key})
OPTIONAL MATCH (rep)-[rs*1..REACH]->(x) WHERE all(r IN rs WHERE $key IN r.sources)
WITH rep, collect(DISTINCT x) AS named
WITH rep, [rep] + named AS nodes
CALL (nodes) {
  UNWIND nodes AS a
  MATCH (a)-[r]->(b) WHERE $key IN r.sources AND b IN nodes
  RETURN collect(""" + edge_map("r") + """) AS edges
}
RETURN [n IN nodes | """ + node_map("n") + """] AS nodes, edges
""", report=Label.REPORT).replace("REACH", str(REPORT_REACH))

_CASE = cypher("MATCH (c:{case} {key: $key}) RETURN " + node_map("c") + " AS node", case=Label.CASE)
_CASE_REPORTS = cypher("""
MATCH (:{case} {key: $key})<-[:{part_of}]-(r:{report})
WITH r ORDER BY r.incident_at, r.key SKIP $skip LIMIT $take
RETURN """ + node_map("r") + " AS node, r.incident_at AS at",
                       case=Label.CASE, part_of=Rel.PART_OF, report=Label.REPORT)


def _key(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise BadInput("key must be a non-empty text")
    return key


def report(ctx: GraphContext, key: str) -> ReportView:
    """The report `key` (e.g. `cybertip:123`) and the subgraph of what it names."""
    rows = ctx.read(_REPORT, key=_key(key))
    if not rows:
        raise NotFound(f"no report {key!r}")
    [row] = rows
    nodes = [to_entity(n) for n in row["nodes"]]
    edges = sorted((to_edge(e) for e in row["edges"]), key=lambda e: e.id)
    return ReportView(entity=nodes[0], contents=Subgraph(nodes=nodes, edges=edges, truncated=False))


def case(ctx: GraphContext, key: str, first: int = 50, after: str | None = None) -> CaseView:
    """The case `key` and a page of its reports, oldest incident first (undated ones last)."""
    check_range("first", first, FIRST)
    skip = decode(after)
    rows = ctx.read(_CASE, key=_key(key))
    if not rows:
        raise NotFound(f"no case {key!r}")
    entity = to_entity(rows[0]["node"])
    found = ctx.read(_CASE_REPORTS, key=key, skip=skip, take=first + 1)
    reports = [to_entity(row["node"]) for row in found[:first]]
    end = encode(reports[-1].key, skip + len(reports)) if reports else after
    return CaseView(entity=entity, reports=Page(items=reports, end_cursor=end, has_next_page=len(found) > first))

"""A community as its own chart, and which community each account on a chart belongs to.

The chart holds the most central members and the identifiers the projection counted that bind them
(the evidence, not every address they ever used), with the relationships among those nodes as the
graph stores them, each with its report keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from loaders.model import Label
from queries.bounds import LIMIT, check_ids, check_range
from queries.community_details import PART, community_binding, community_members, community_summary
from queries.community_store import get_run
from queries.context import GraphContext
from queries.entities import edge_map, fetch_nodes, to_edge, to_entity
from queries.results import Subgraph, parse_entity_id

_EDGES_AMONG = """
UNWIND $eids AS eid
MATCH (a) WHERE elementId(a) = eid
MATCH (a)-[r]->(b) WHERE elementId(b) IN $eids
RETURN collect(""" + edge_map("r") + ") AS edges"


def community_chart(ctx: GraphContext, id: str, members: int = 100, binding: int = 60,
                    reports: int = 80) -> Subgraph:
    """Members (most central first) and the counted binding identifiers, with the edges among them.

    A member holds a file mostly through a report that names it and includes the file, so the
    reports behind the binding files come too (at most `reports` of them), or those members would
    float unconnected. `truncated` is set when the community has more members than `members` or
    more such reports than `reports`.
    """
    check_range("members", members, PART)
    ranked = community_members(ctx, id, members)
    ties = [b for b in community_binding(ctx, id, binding) if b.excluded is None]
    behind = sorted({s for b in ties if b.entity.kind == Label.FILE for s in b.sources})
    wanted = [m.entity.id for m in ranked] + [b.entity.id for b in ties]
    wanted += [f"{Label.REPORT.value}:{key}" for key in behind[:reports] if f"{Label.REPORT.value}:{key}" not in wanted]
    nodes = fetch_nodes(ctx, wanted)
    [found] = ctx.read(_EDGES_AMONG, eids=[node["eid"] for node in nodes.values()])
    return Subgraph(nodes=[to_entity(nodes[value]) for value in wanted if value in nodes],
                    edges=sorted((to_edge(e) for e in found["edges"]), key=lambda e: e.id),
                    truncated=community_summary(ctx, id).size > len(ranked) or len(behind) > reports)


@dataclass(slots=True)
class Membership:
    entity: str  # the account's entity id
    community: str  # community id, <run>:<number>
    number: int
    size: int


_MEMBERSHIPS = """
UNWIND $keys AS key
MATCH (a:Account {key: key})-[:MEMBER_OF {run: $run}]->(c:Community)
RETURN a.key AS key, c.key AS community, c.number AS number, c.size AS size
"""


def community_memberships(ctx: GraphContext, ids: list[str], run: str | None = None) -> list[Membership]:
    """The community, in `run` (default: the newest), of each account among `ids` that has one."""
    chosen = check_ids(ids, most=LIMIT[1])
    keys = [key for label, key in map(parse_entity_id, chosen) if label == Label.ACCOUNT]
    run_id = get_run(ctx, run).run
    return [Membership(entity=f"{Label.ACCOUNT.value}:{row['key']}", community=row["community"],
                       number=row["number"], size=row["size"])
            for row in ctx.read(_MEMBERSHIPS, keys=keys, run=run_id)]

"""One community described for an investigator, every part with the reports it rests on.

Members come ranked by PageRank within the community (stored by the run); the reports naming them,
the providers that sent those, the known files they hold and their categories, the cases and
agencies those reports are filed under, and the identifiers two or more members share (the ties
that bind it, with whether and how much the projection counted each).
"""

from __future__ import annotations

from typing import Any

from loaders.model import Label
from queries.bounds import check_range
from queries.community_results import (
    BindingIdentifier,
    CaseTouch,
    CommunityDetail,
    CommunitySummary,
    KnownFile,
    Member,
    NamedCount,
)
from queries.community_store import get_run
from queries.context import GraphContext
from queries.entities import node_map, to_entity
from queries.errors import BadInput, NotFound
from queries.projection import KIND_WEIGHTS, tie_weight
from queries.results import Entity

#: How many members are "most central".
CENTRAL = 5
PART = (1, 500)

_SUMMARY = "MATCH (c:Community {key: $key}) RETURN c {.*} AS c"
_MEMBERS = """
MATCH (c:Community {key: $key})<-[m:MEMBER_OF]-(a)
RETURN """ + node_map("a") + """ AS node, m.rank AS rank
ORDER BY rank DESC, a.key LIMIT $limit
"""
_REPORTS = """
MATCH (c:Community {key: $key})<-[:MEMBER_OF]-(:Account)<-[:REPORTS]-(r:Report)
WITH DISTINCT r ORDER BY r.incident_at DESC, r.key LIMIT $limit
RETURN collect(""" + node_map("r") + """) AS reports
"""
_PROVIDERS = """
MATCH (c:Community {key: $key})<-[:MEMBER_OF]-(:Account)<-[:REPORTS]-(r:Report)
WITH DISTINCT r
MATCH (r)-[:SUBMITTED_BY]->(p:Provider)
RETURN p.key AS name, count(r) AS count ORDER BY count DESC, name
"""
_CASES = """
MATCH (c:Community {key: $key})<-[:MEMBER_OF]-(:Account)<-[:REPORTS]-(r:Report)
WITH DISTINCT r
MATCH (r)-[:PART_OF]->(k:Case)
OPTIONAL MATCH (k)-[:OWNED_BY]->(g:Agency)
WITH k, g, count(r) AS reports
RETURN """ + node_map("k") + """ AS node, g.key AS agency, reports ORDER BY reports DESC, k.key
"""
# A member holds a file through a report that names it and includes the file, or by an upload.
_KNOWN = """
MATCH (c:Community {key: $key})<-[:MEMBER_OF]-(a:Account)
CALL (a) {
  MATCH (a)<-[:REPORTS]-(:Report)-[:INCLUDES]->(f:File) RETURN f
  UNION
  MATCH (a)-[:SHARED]->(f:File) RETURN f
}
WITH f, count(DISTINCT a) AS holders WHERE f.known
OPTIONAL MATCH (f)-[l:LISTED_IN]->(:HashSet)
WITH f, holders, collect(l.category) + [f.category] AS categories
RETURN """ + node_map("f") + """ AS node, holders, categories ORDER BY holders DESC, f.key
"""
# Identifiers two or more members share, with each one's reach in the whole graph and the report
# keys of the ties: report keys of the reports that include a file (or name two members).
_BINDING = """
MATCH (c:Community {key: $key})<-[:MEMBER_OF]-(a:Account)
CALL (a) {
  MATCH (a)<-[:REPORTS]-(r:Report)-[:INCLUDES]->(x:File) RETURN x, [r.key] AS sources
  UNION
  MATCH (a)<-[:REPORTS]-(x:Report) RETURN x, [x.key] AS sources
  UNION
  MATCH (a)-[t:SHARED|USED_IP|USED_DEVICE|HAS_EMAIL|HAS_PHONE]->(x) RETURN x, t.sources AS sources
}
WITH x, count(DISTINCT a) AS holders, collect(sources) AS sources WHERE holders >= 2
WITH x, holders, sources, CASE
  WHEN x:File THEN COUNT { MATCH (x)<-[:INCLUDES]-(:Report)-[:REPORTS]->(b:Account) RETURN DISTINCT b }
  WHEN x:IP THEN COUNT { (x)<-[:USED_IP]-(:Account) }
  WHEN x:Device THEN COUNT { (x)<-[:USED_DEVICE]-(:Account) }
  WHEN x:Email THEN COUNT { (x)<-[:HAS_EMAIL]-(:Account) }
  WHEN x:Phone THEN COUNT { (x)<-[:HAS_PHONE]-(:Account) }
  WHEN x:Report THEN COUNT { (x)-[:REPORTS]->(:Account) }
END AS degree
RETURN """ + node_map("x") + """ AS node, holders, degree, sources, x.supernode AS supernode, x.kind AS ip_kind
"""


def community_key(value: str) -> str:
    """A community id as given (`<run>:<n>`, or the entity id `Community:<run>:<n>`) as its key."""
    key = value.removeprefix(Label.COMMUNITY.value + ":")
    if ":" not in key:
        raise BadInput(f"{value!r} is not a community id (expected <run>:<number>)")
    return key


def community_summary(ctx: GraphContext, id: str) -> CommunitySummary:
    """The stored figures of one community; NOT_FOUND when there is no such community."""
    rows = ctx.read(_SUMMARY, key=community_key(id))
    if not rows:
        raise NotFound(f"no community {id!r}")
    return to_summary(rows[0]["c"])


def community_members(ctx: GraphContext, id: str, limit: int = 50) -> list[Member]:
    """Members, highest PageRank within the community first (ties by key)."""
    check_range("limit", limit, PART)
    return [Member(entity=to_entity(r["node"]), rank=float(r["rank"] or 0.0))
            for r in ctx.read(_MEMBERS, key=community_key(id), limit=limit)]


def community_reports(ctx: GraphContext, id: str, limit: int = 50) -> list[Entity]:
    """Reports naming a member, newest incident first."""
    check_range("limit", limit, PART)
    [found] = ctx.read(_REPORTS, key=community_key(id), limit=limit)
    return [to_entity(node) for node in found["reports"]]


def community_providers(ctx: GraphContext, id: str) -> list[NamedCount]:
    """Providers that sent the community's reports, with how many each."""
    return [NamedCount(r["name"], r["count"]) for r in ctx.read(_PROVIDERS, key=community_key(id))]


def community_cases(ctx: GraphContext, id: str) -> list[CaseTouch]:
    """Cases the community's reports are filed under, with the owning agency."""
    return [CaseTouch(case=to_entity(r["node"]), agency=r["agency"], reports=r["reports"])
            for r in ctx.read(_CASES, key=community_key(id))]


def community_known_files(ctx: GraphContext, id: str) -> tuple[list[KnownFile], list[NamedCount]]:
    """Known files members hold (most held first), and how many of them fall in each category."""
    known = [KnownFile(entity=to_entity(r["node"]), categories=sorted({c for c in r["categories"] if c}),
                       holders=r["holders"]) for r in ctx.read(_KNOWN, key=community_key(id))]
    categories: dict[str, int] = {}
    for file in known:
        for category in file.categories or ["(none)"]:
            categories[category] = categories.get(category, 0) + 1
    ordered = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))
    return known, [NamedCount(name, n) for name, n in ordered]


def community_binding(ctx: GraphContext, id: str, limit: int = 20) -> list[BindingIdentifier]:
    """Shared identifiers, those the run's projection counted first, then by members holding them."""
    check_range("limit", limit, PART)
    summary = community_summary(ctx, id)
    return _binding(ctx, community_key(id), summary.run, limit)


def community(ctx: GraphContext, id: str, members: int = 50, reports: int = 50,
              binding: int = 20) -> CommunityDetail:
    """Everything above about one community; lists cut at the limits given, counts are whole."""
    summary = community_summary(ctx, id)
    ranked = community_members(ctx, id, max(members, CENTRAL))
    known, categories = community_known_files(ctx, id)
    return CommunityDetail(
        summary=summary, members=ranked[:members], central=ranked[:CENTRAL],
        reports=community_reports(ctx, id, reports), providers=community_providers(ctx, id),
        known_files=known, categories=categories, cases=community_cases(ctx, id),
        binding=_binding(ctx, community_key(id), summary.run, binding))


def _binding(ctx: GraphContext, key: str, run: str, limit: int) -> list[BindingIdentifier]:
    check_range("binding", limit, PART)
    options = get_run(ctx, run).projection.get("options", {})
    max_degree = options.get("max_degree")
    excluded_kinds = options.get("excluded_ip_kinds", [])
    found = []
    for row in ctx.read(_BINDING, key=key):
        entity = to_entity(row["node"])
        degree = int(row["degree"] or row["holders"])
        reason = _reason(row, degree, max_degree, excluded_kinds)
        weight = tie_weight(entity.kind, degree) if reason is None and entity.kind in KIND_WEIGHTS else None
        sources = sorted({s for group in row["sources"] for s in (group or [])})
        found.append(BindingIdentifier(entity=entity, holders=row["holders"], degree=degree, weight=weight,
                                       excluded=reason, sources=sources))
    found.sort(key=lambda b: (b.excluded is not None, -b.holders, -(b.weight or 0.0), b.entity.id))
    return found[:limit]


def _reason(row: dict[str, Any], degree: int, max_degree: int | None, excluded_kinds: list[str]) -> str | None:
    """Why the run's projection left this identifier out (the same rules, read back), or None."""
    if row["supernode"]:
        return "supernode"
    if row["ip_kind"] in excluded_kinds:
        return f"ip kind {row['ip_kind']}"
    if max_degree is not None and degree > max_degree:
        return "degree"
    return None


def to_summary(props: dict[str, Any]) -> CommunitySummary:
    def whole(name: str) -> int:
        value = props.get(name)
        return int(value) if isinstance(value, int | float) else 0

    def real(name: str) -> float:
        value = props.get(name)
        return float(value) if isinstance(value, int | float) else 0.0

    return CommunitySummary(
        id=str(props["key"]), run=str(props["run"]), number=whole("number"), size=whole("size"),
        edges=whole("edges"), weight=real("weight"), density=real("density"), reports=whole("reports"),
        providers=whole("providers"), known_files=whole("known_files"))

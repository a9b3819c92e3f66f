"""Link analysis: what surrounds entities, how two entities connect, what several have in common.

Every answer carries its evidence: each edge comes with its `sources` (report keys) and its times.
The other questions of the query layer live in their own modules and are re-exported here, so
`from queries.link_analysis import search, timeline, ...` works as the API contract lists them.

Supernodes (a CGNAT address shared by hundreds of accounts, a provider that submitted every
report) are why `neighbourhood` expands one level per query with a cap per node instead of
enumerating variable-length paths, and why `paths` never uses a search that can fall back to
enumerating every path. By default neither passes through them at all (queries/supernodes.py
marks them); both list the ones they met in `skipped`, with the reason and the degree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loaders.model import Label
from queries.bounds import DEPTH, LIMIT, MAX_HOPS, as_utc, check_ids, check_kinds, check_range
from queries.context import GraphContext
from queries.entities import (
    edge_map,
    get_entities,
    get_entity,
    get_entity_by_key,
    node_map,
    resolve,
    to_edge,
    to_entity,
)
from queries.links import LinkRules, links, links_among, project_links
from queries.reports import case, report
from queries.results import KINDS, Path, PathSet, SharedEvidence, SharedIdentifier, Skipped, Subgraph
from queries.search import search
from queries.supernodes import hub, skipped_map, sorted_skipped
from queries.timeline import timeline

__all__ = [
    "MAX_PATHS",
    "case",
    "get_entities",
    "get_entity",
    "get_entity_by_key",
    "links",
    "neighbourhood",
    "paths",
    "project_links",
    "report",
    "search",
    "shared_identifiers",
    "timeline",
]

#: At most this many shortest paths are returned (PathSet.truncated says when there were more).
MAX_PATHS = 50
#: At most this many skipped hubs are listed per answer (the widest first).
MAX_SKIPPED = 100
#: The kinds `shared_identifiers` looks for: things a person uses, not reports or persons.
IDENTIFIER_KINDS = [Label.EMAIL.value, Label.PHONE.value, Label.IP.value, Label.DEVICE.value, Label.FILE.value]

_TIME_FILTER = """($since IS NULL OR r.last_seen IS NULL OR r.last_seen >= $since)
    AND ($until IS NULL OR r.first_seen IS NULL OR r.first_seen <= $until)"""
_OF_KINDS = "any(l IN labels(m) WHERE l IN $kinds)"

_EDGES_AMONG_BODY = """
WITH {EIDS} AS eids
UNWIND eids AS eid
MATCH (a) WHERE elementId(a) = eid
MATCH (a)-[r]->(b)
WHERE elementId(b) IN eids AND """ + _TIME_FILTER + """
RETURN collect(""" + edge_map("r") + ") AS edges"

# One BFS level: the new neighbours of the frontier, in frontier order. The cap per node keeps a
# supernode asked for by name from producing more rows than the answer can hold. Big answers come
# back as one collected row: per-record overhead in the driver is most of the cost of many small
# rows. The outer LIMIT stops the walk as soon as enough was found. With $skip, hubs (providers,
# marked supernodes) are split off in the same walk: listed in `hubs`, never in `nodes`, so never
# expanded; only the first $cap nodes and $hubcap hubs are mapped. `found` = $percap means the
# limit stopped the walk (the caller then cannot tell that nothing was left: truncated).
_EXPAND = """
UNWIND $frontier AS fid
MATCH (n) WHERE elementId(n) = fid
CALL (n) {
  MATCH (n)-[r]-(m)
  WHERE """ + _OF_KINDS + """ AND NOT elementId(m) IN $seen AND """ + _TIME_FILTER + """
  RETURN DISTINCT m LIMIT $percap
}
WITH DISTINCT m LIMIT $percap
WITH collect(m) AS found
WITH [m IN found WHERE NOT ($skip AND """ + hub("m") + """)][..$cap] AS nodes,
     [m IN found WHERE $skip AND """ + hub("m") + """][..$hubcap] AS hubs, found
CALL (nodes) {
  WITH nodes WHERE $last
  """ + _EDGES_AMONG_BODY.replace("{EIDS}", "$seen + [m IN nodes | elementId(m)]") + """
}
RETURN [m IN nodes | """ + node_map("m") + """] AS nodes, [m IN hubs | """ + skipped_map("m") + """] AS hubs,
       size(found) AS found, edges"""

# Edges among the chosen nodes, found from their outgoing side: supernodes are high in-degree
# (accounts USE an IP, reports are SUBMITTED_BY a provider), so this never walks their fan-in.
# For the answer's last level it runs inside _EXPAND (one round trip less); alone when the
# expansion stopped early.
_EDGES_AMONG = _EDGES_AMONG_BODY.replace("{EIDS}", "$eids")


def neighbourhood(ctx: GraphContext, ids: list[str], depth: int = 1, kinds: list[str] | None = None,
                  since: datetime | None = None, until: datetime | None = None, limit: int = 500,
                  include_supernodes: bool = False) -> Subgraph:
    """Entities within `depth` hops of `ids` and the edges among them, nearest first.

    Only through nodes of `kinds` (the start entities are always in); with `since`/`until`, only
    through relationships seen in that window (`last_seen >= since`, `first_seen <= until`;
    relationships without times are kept). At most `limit` nodes, chosen in breadth-first order:
    `truncated` says when the cap cut the answer.

    Providers and marked supernodes (queries/supernodes.py) are neither entered nor expanded
    unless `include_supernodes`; those met are listed in `skipped` (at most MAX_SKIPPED, widest
    first). A start entity is always expanded, hub or not: asking for a CGNAT address's users is
    a fair question. Queries: one per level plus one (two when the expansion ends early).
    """
    chosen = check_ids(ids)
    check_range("depth", depth, DEPTH)
    check_range("limit", limit, LIMIT)
    through = check_kinds(kinds) or list(KINDS)
    window = {"since": as_utc(since, "since"), "until": as_utc(until, "until")}
    skip = not include_supernodes
    start = resolve(ctx, chosen)
    nodes = [start[value] for value in chosen][:limit]
    truncated = len(chosen) > limit
    seen = [node["eid"] for node in nodes]
    frontier = seen
    hubs: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] | None = None
    for level in range(depth):
        if truncated or not frontier:
            break
        room = limit - len(seen)
        percap = room + 1 + MAX_SKIPPED
        [row] = ctx.read(_EXPAND, frontier=frontier, seen=seen, kinds=through, cap=room + 1,
                         percap=percap, skip=skip, hubcap=MAX_SKIPPED, last=level == depth - 1, **window)
        found = row["nodes"]
        hubs += row["hubs"]
        edges = row["edges"] if level == depth - 1 else None
        if len(found) > room or row["found"] >= percap:
            found, truncated = found[:room], True
        nodes += found
        frontier = [node["eid"] for node in found]
        seen = seen + frontier
    if edges is None:  # the expansion stopped before its last level
        [row] = ctx.read(_EDGES_AMONG, eids=seen, **window)
        edges = row["edges"]
    entities = [to_entity(node) for node in nodes]
    kept = {entity.id for entity in entities}  # a cut last level may have brought one node too many
    chosen_edges = [edge for edge in map(to_edge, edges) if edge.source in kept and edge.target in kept]
    return Subgraph(nodes=entities, edges=sorted(chosen_edges, key=lambda e: e.id), truncated=truncated,
                    skipped=sorted_skipped(hubs)[:MAX_SKIPPED])


# Without a kind filter or hub skipping, the bidirectional breadth-first `allShortestPaths` (the
# fastest search Neo4j has). With either, `ALL SHORTEST` (GQL) applies the node test during its
# search; `allShortestPaths` with a predicate would fall back to an exhaustive search when no path
# exists, which a 6-hop question on a large graph cannot afford. Quantifiers cannot be parameters:
# one text per allowed bound.
_PATHS_RETURN = """
RETURN [v IN nodes(p) | """ + node_map("v") + """] AS nodes,
       [rel IN relationships(p) | """ + edge_map("rel") + """] AS edges
LIMIT $cap
"""
_ENDS = """
MATCH (a) WHERE elementId(a) = $a
MATCH (b) WHERE elementId(b) = $b
"""
_ANY_PATHS = _ENDS + "MATCH p = allShortestPaths((a)-[*..MAX_HOPS]-(b))" + _PATHS_RETURN
_HOP_TESTS = {
    (True, False): "any(l IN labels(hop) WHERE l IN $kinds)",
    (False, True): "NOT " + hub("hop"),
    (True, True): "any(l IN labels(hop) WHERE l IN $kinds) AND NOT " + hub("hop"),
}
_HOPS = range(MAX_HOPS[0], MAX_HOPS[1] + 1)


def _path_query(hops: int, filtered: bool, skip: bool) -> str:
    if not filtered and not skip:
        return _ANY_PATHS.replace("MAX_HOPS", str(hops))
    test = _HOP_TESTS[filtered, skip]
    return (_ENDS + "MATCH p = ALL SHORTEST (a) (()-[]-(hop) WHERE hop = b OR " + test + "){1,"
            + str(hops) + "} (b)" + _PATHS_RETURN)


_PATHS = {(hops, filtered, skip): _path_query(hops, filtered, skip)
          for hops in _HOPS for filtered in (False, True) for skip in (False, True)}

# Hubs next to the endpoints or to a node of the paths found: what the search was not let through.
_HUBS_BESIDE = """
UNWIND $eids AS eid
MATCH (n) WHERE elementId(n) = eid AND NOT """ + hub("n") + """
MATCH (n)--(m)
WHERE """ + hub("m") + " AND NOT elementId(m) IN $eids AND (" + "$kinds IS NULL OR " + _OF_KINDS + """)
WITH DISTINCT m LIMIT $hubcap
RETURN collect(""" + skipped_map("m") + ") AS hubs"


def paths(ctx: GraphContext, source: str, target: str, max_hops: int = 4, kinds: list[str] | None = None,
          include_supernodes: bool = False) -> PathSet:
    """All shortest paths from `source` to `target`, relationships taken in either direction.

    Intermediate nodes are of `kinds` when given, and never providers or marked supernodes unless
    `include_supernodes` (the ends themselves may be anything). At most MAX_PATHS paths (sorted by
    their node ids, `truncated` set when there were more); `length` is None when no path of at
    most `max_hops` exists. A path from an entity to itself is that entity alone, length 0.
    `skipped` lists the hubs next to the ends or to a node of the paths found (at most
    MAX_SKIPPED): asking again with `include_supernodes` shows the paths through them.
    """
    chosen = check_ids([source, target])
    check_range("max_hops", max_hops, MAX_HOPS)
    through = check_kinds(kinds)
    found = resolve(ctx, chosen)
    if len(chosen) == 1:
        return PathSet(paths=[Path(nodes=[to_entity(found[source])], edges=[])], length=0)
    skip = not include_supernodes
    ends = [found[source]["eid"], found[target]["eid"]]
    rows = ctx.read(_PATHS[max_hops, through is not None, skip], a=ends[0], b=ends[1],
                    kinds=through, cap=MAX_PATHS + 1)
    result = [Path(nodes=[to_entity(n) for n in row["nodes"]], edges=[to_edge(e) for e in row["edges"]])
              for row in rows]
    result.sort(key=lambda p: ([n.id for n in p.nodes], [e.id for e in p.edges]))
    truncated = len(result) > MAX_PATHS
    result = result[:MAX_PATHS]
    skipped: list[Skipped] = []
    if skip:
        on_paths = {node["eid"] for row in rows[:MAX_PATHS] for node in row["nodes"]}
        [row] = ctx.read(_HUBS_BESIDE, eids=[*ends, *sorted(on_paths - set(ends))], kinds=through,
                         hubcap=MAX_SKIPPED)
        skipped = sorted_skipped(row["hubs"])
    return PathSet(paths=result, length=len(result[0].edges) if result else None, truncated=truncated,
                   skipped=skipped)


_SHARED = """
UNWIND $holders AS hid
MATCH (h) WHERE elementId(h) = hid
MATCH (h)-[r]-(x)
WHERE any(l IN labels(x) WHERE l IN $kinds)
WITH x, collect(DISTINCT hid) AS holders, collect(r.sources) AS sources
WHERE size(holders) >= 2
RETURN """ + node_map("x") + " AS node, holders, sources"


def shared_identifiers(ctx: GraphContext, ids: list[str], rules: LinkRules | None = None) -> SharedEvidence:
    """Emails, phones, IPs, devices and files tied directly to two or more of `ids`, and the links.

    `identifiers`: most-shared first, each with the ids that hold it and the union of the report
    keys of the relationships that tie it to them. Plain facts: a CGNAT address shows up here as
    it is (its properties say `supernode` and why). `links`: the scored links between the
    accounts among `ids` (queries/links.py), which do not count supernodes; `skipped`: the
    shared identifiers that are supernodes.
    """
    chosen = check_ids(ids, least=2)
    found = resolve(ctx, chosen)
    by_eid = {found[value]["eid"]: value for value in chosen}
    rows = ctx.read(_SHARED, holders=list(by_eid), kinds=IDENTIFIER_KINDS)
    shared = []
    for row in rows:
        holders = [by_eid[eid] for eid in row["holders"]]
        shared.append(SharedIdentifier(entity=to_entity(row["node"]),
                                       holders=sorted(holders, key=chosen.index),
                                       sources=sorted(_union(row["sources"]))))
    shared.sort(key=lambda s: (-len(s.holders), IDENTIFIER_KINDS.index(s.entity.kind), s.entity.key))
    skipped = [Skipped(s.entity.id, str(s.entity.properties.get("supernode_reason")),
                       int(s.entity.properties.get("degree") or 0))
               for s in shared if s.entity.properties.get("supernode") is True]
    skipped.sort(key=lambda s: (-s.degree, s.id))
    return SharedEvidence(identifiers=shared, links=links_among(ctx, chosen, rules), skipped=skipped)


def _union(lists: list[Any]) -> set[str]:
    return {source for sources in lists for source in (sources or [])}

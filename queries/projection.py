"""The account graph community detection works on: accounts tied by what they share, by rarity.

Two accounts are tied when they share a rare identifier: a file (held through a report that names
the account and includes the file, or an upload; a file in one report only, uploaded by one account,
ties nothing that report's own tie does not), a device, a mailbox (emails with one `canonical`
form: the provider's dots and `+tags` aside), a phone, one report naming
both, a provider's ASSOCIATED_WITH, or an IP address used by both **within `window_s` seconds**
(DESIGN.md §6: never merely because the address appears in both). Left out, and counted by reason
in `Projection.excluded`: identifiers marked `supernode: true`, those held by more than
`max_degree` distinct accounts, and addresses of the kinds in `excluded_ip_kinds` (CGNAT).

The weight of a tie is `tie_weight(kind, degree)`, the only place weights are decided: each shared
identifier gives every pair of its `degree` holders `KIND_WEIGHTS[kind] / sqrt(degree - 1)`. Rarer
weighs more per pair (a file two accounts share weighs 5.4 times one that thirty share), but not so
steeply that a group held together by one identifier they all share falls apart: with full inverse
frequency (1 / (degree - 1), Newman's weighting) each holder gets the same total from it however
large the group, and the Constant Potts Model at resolution 0.05 then drops from any group of more
than 20 the members tied to it by one file only (measured: one member of a planted network per run
at 20k and 100k reports). With the square root a shared identifier holds a group of up to
(weight / resolution)² = 400 together. Ties through several identifiers add up.

Everything comes from one query, streamed (one row per shared identifier, holders collected by the
server, in key order so that the same graph always gives the same projection), and the pairs go
into igraph in bulk: `itertools.combinations` and one `simplify` that sums the weights, in C.

`link_projection` is the other projection: the scored links of link analysis (`queries/links.py`,
docs/analysis.md: weight x rarity x proximity x support per piece of evidence, summed) as the
ties, so that communities follow the same strengths an investigator reads on a link. It costs
more (every pair's evidence is kept in Python before it becomes a weight: measured in
docs/benchmarks.md), so it is chosen by name (`GRACEGRAPH_COMMUNITY_PROJECTION=links`). Another
projection (identities instead of accounts) plugs in as another `Projector`: any function of
(GraphContext, ProjectionOptions) returning a `Projection`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations, repeat
from typing import Any

import igraph as ig

from graph_service.analysis import link_rules
from graph_service.settings import Settings
from loaders.model import Label
from queries.context import GraphContext
from queries.links import LinkRules, project_links
from queries.results import parse_entity_id

#: How much one shared identifier of each kind ties its holders, before rarity. A device, a phone,
#: an email, a report naming both accounts or the provider's own association say "same person or
#: same room"; a file or an address used within the hour says "same circle".
KIND_WEIGHTS: dict[str, float] = {
    "File": 1.0, "IP": 1.0, "Device": 2.0, "Email": 2.0, "Phone": 2.0, "Report": 2.0, "Associated": 2.0,
}


def tie_weight(kind: str, degree: int) -> float:
    """Weight one identifier of `kind` held by `degree` accounts gives each pair of them.

    >>> round(tie_weight("File", 2), 3), round(tie_weight("File", 30), 3)
    (1.0, 0.186)
    """
    return KIND_WEIGHTS[kind] / math.sqrt(max(degree - 1, 1))


@dataclass(frozen=True, slots=True)
class ProjectionOptions:
    window_s: int = 3600
    max_degree: int = 50
    excluded_ip_kinds: tuple[str, ...] = ("cgnat", "private")
    links: LinkRules = field(default_factory=LinkRules)  # the `links` projection's scoring

    @classmethod
    def from_settings(cls, settings: Settings) -> ProjectionOptions:
        return cls(window_s=settings.community_window_s, max_degree=settings.community_max_degree,
                   excluded_ip_kinds=tuple(settings.community_excluded_ip_kinds), links=link_rules(settings))

    def describe(self) -> dict[str, Any]:
        return {"window_s": self.window_s, "max_degree": self.max_degree,
                "excluded_ip_kinds": list(self.excluded_ip_kinds), "weights": dict(KIND_WEIGHTS)}


@dataclass(slots=True)
class Projection:
    """Vertex `i` of `graph` is the account `keys[i]`; edges carry a summed `weight` attribute.

    Only accounts with at least one tie are vertices. `ties` counts the identifiers that tied
    accounts, by kind; `excluded` those left out, by reason (`supernode`, `degree`, `ip kind cgnat`).
    """

    name: str
    keys: list[str]
    graph: ig.Graph
    options: dict[str, Any]
    ties: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "accounts": len(self.keys), "edges": self.graph.ecount(),
                "ties": dict(self.ties), "excluded": dict(self.excluded), "options": self.options}


Projector = Callable[[GraphContext, ProjectionOptions], Projection]

# The reason an identifier is left out, or null. Labels and property names are fixed text here.
_REASON = """CASE WHEN coalesce(x.supernode, false) THEN 'supernode'
     WHEN degree > $max_degree THEN 'degree' END"""

# One row per identifier held by two or more accounts: kind, key, degree (distinct accounts),
# reason (why it is left out, or null), holders (account keys, sorted; empty when left out) and,
# for addresses, times[i]: the epoch seconds at which holders[i] used it. USED_IP and USED_DEVICE
# start at accounts only (loaders/model.py), so their degree is read from the degree store; a
# file's holders are found through its reports, and counting stops past max_degree (a popular
# file's thousands of reports are not walked to learn that it is popular). A supernode file is
# reported with degree 0: it is not walked at all.
SHARED_IDENTIFIERS = """
CALL () {
  MATCH (x:File) WHERE COUNT { (x)<-[:INCLUDES]-() } >= 2 OR COUNT { (x)<-[:SHARED]-() } >= 2
  CALL (x) {
    WITH x WHERE NOT coalesce(x.supernode, false)
    CALL (x) {
      MATCH (x)<-[:INCLUDES]-()-[:REPORTS]->(a:Account) RETURN a  // only reports include files
      UNION
      MATCH (x)<-[:SHARED]-(a:Account) RETURN a
    }
    WITH a LIMIT $max_degree + 1
    WITH a ORDER BY a.key
    RETURN collect(a.key) AS holders
  }
  WITH x, holders, size(holders) AS degree
  WITH x, holders, degree, """ + _REASON + """ AS reason
  WHERE degree >= 2 OR reason IS NOT NULL
  RETURN 'File' AS kind, x.key AS key, degree, reason,
         CASE WHEN reason IS NULL THEN holders ELSE [] END AS holders, [] AS times
  UNION ALL
  MATCH (x:IP) WITH x, COUNT { (x)<-[:USED_IP]-() } AS degree WHERE degree >= 2
  WITH x, degree, CASE WHEN x.kind IN $excluded_ip_kinds THEN 'ip kind ' + x.kind
                       ELSE """ + _REASON + """ END AS reason
  CALL (x, reason) {
    WITH x WHERE reason IS NULL
    MATCH (a:Account)-[r:USED_IP]->(x)
    WITH a, r ORDER BY a.key
    RETURN collect(a.key) AS holders, collect([t IN coalesce(r.times, []) | t.epochSeconds]) AS times
  }
  RETURN 'IP' AS kind, x.key AS key, degree, reason, holders, times
  UNION ALL
  MATCH (x:Device) WITH x, COUNT { (x)<-[:USED_DEVICE]-() } AS degree WHERE degree >= 2
  WITH x, degree, """ + _REASON + """ AS reason
  CALL (x, reason) {
    WITH x WHERE reason IS NULL
    MATCH (a:Account)-[:USED_DEVICE]->(x) WITH a ORDER BY a.key RETURN collect(a.key) AS holders
  }
  RETURN 'Device' AS kind, x.key AS key, degree, reason, holders, [] AS times
  UNION ALL
  MATCH (a:Account)-[:HAS_EMAIL]->(x:Email)
  WITH coalesce(x.canonical, x.key) AS key, a, coalesce(x.supernode, false) AS flagged ORDER BY a.key
  WITH key, collect(DISTINCT a.key) AS holders, collect(flagged) AS flags
  WITH key, holders, size(holders) AS degree, any(f IN flags WHERE f) AS flagged WHERE degree >= 2
  WITH key, holders, degree, CASE WHEN flagged THEN 'supernode' WHEN degree > $max_degree THEN 'degree' END AS reason
  RETURN 'Email' AS kind, key, degree, reason,
         CASE WHEN reason IS NULL THEN holders ELSE [] END AS holders, [] AS times
  UNION ALL
  MATCH (x:Phone) WITH x, COUNT { (x)<-[:HAS_PHONE]-(:Account) } AS degree WHERE degree >= 2
  WITH x, degree, """ + _REASON + """ AS reason
  CALL (x, reason) {
    WITH x WHERE reason IS NULL
    MATCH (a:Account)-[:HAS_PHONE]->(x) WITH a ORDER BY a.key RETURN collect(a.key) AS holders
  }
  RETURN 'Phone' AS kind, x.key AS key, degree, reason, holders, [] AS times
  UNION ALL
  MATCH (x:Report) WITH x, COUNT { (x)-[:REPORTS]->(:Account) } AS degree WHERE degree >= 2
  WITH x, degree, """ + _REASON + """ AS reason
  CALL (x, reason) {
    WITH x WHERE reason IS NULL
    MATCH (x)-[:REPORTS]->(a:Account) WITH a ORDER BY a.key RETURN collect(a.key) AS holders
  }
  RETURN 'Report' AS kind, x.key AS key, degree, reason, holders, [] AS times
  UNION ALL
  MATCH (a:Account)-[:ASSOCIATED_WITH]->(b:Account) WHERE a <> b
  WITH a.key AS one, b.key AS other
  WITH CASE WHEN one < other THEN [one, other] ELSE [other, one] END AS holders
  RETURN DISTINCT 'Associated' AS kind, holders[0] + ' ' + holders[1] AS key, 2 AS degree,
         null AS reason, holders, [] AS times
}
RETURN kind, key, degree, reason, holders, times
ORDER BY kind, key
"""


class _Builder:
    """Pairs of account indexes and their weights, in bulk lists; accounts indexed as first met."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.pairs: list[tuple[int, int]] = []
        self.weights: list[float] = []
        self.ties: Counter[str] = Counter()
        self.excluded: Counter[str] = Counter()

    def vertices(self, keys: Iterable[str]) -> list[int]:
        index = self.index
        return [index.setdefault(key, len(index)) for key in keys]

    def add(self, kind: str, pairs: list[tuple[int, int]], degree: int) -> None:
        if pairs:
            self.pairs.extend(pairs)
            self.weights.extend(repeat(tie_weight(kind, degree), len(pairs)))
            self.ties[kind] += 1

    def row(self, row: dict[str, Any], window_s: int) -> None:
        kind, reason = row["kind"], row["reason"]
        if reason is not None:
            self.excluded[reason] += 1
            return
        holders: list[str] = row["holders"]
        if kind == "IP":
            pairs = co_use_pairs(holders, row["times"], window_s)
            keys = sorted({key for pair in pairs for key in pair})
            at = dict(zip(keys, self.vertices(keys), strict=True))
            self.add(kind, [(at[a], at[b]) for a, b in pairs], row["degree"])
        else:
            self.add(kind, list(combinations(self.vertices(holders), 2)), row["degree"])

    def build(self, name: str, options: dict[str, Any]) -> Projection:
        """The graph with vertices in key order and edges summed and sorted: same data, same graph."""
        keys = sorted(self.index)
        graph = ig.Graph(n=len(keys), edges=self.pairs, edge_attrs={"weight": self.weights})
        # New vertex i is the account keys[i] (igraph: new vertex i is old vertex permutation[i]).
        graph = graph.permute_vertices([self.index[key] for key in keys])
        graph.simplify(multiple=True, loops=True, combine_edges={"weight": "sum"})
        return Projection(name=name, keys=keys, graph=graph, options=options,
                          ties=dict(sorted(self.ties.items())), excluded=dict(sorted(self.excluded.items())))


def co_use_pairs(holders: list[str], times: list[list[int]], window_s: int) -> list[tuple[str, str]]:
    """Pairs of distinct holders who used the address within `window_s` seconds of each other.

    >>> co_use_pairs(["a", "b", "c"], [[0], [3600], [7201]], 3600)
    [('a', 'b')]
    """
    events = sorted((t, key) for key, ts in zip(holders, times, strict=True) for t in ts)
    found: set[tuple[str, str]] = set()
    start = 0
    for i, (t, key) in enumerate(events):
        while events[start][0] < t - window_s:
            start += 1
        for _, other in events[start:i]:
            if other != key:
                found.add((other, key) if other < key else (key, other))
    return sorted(found)


def shared_identifier_projection(ctx: GraphContext, options: ProjectionOptions) -> Projection:
    """The projection described in the module docstring, from one streamed query."""
    params = {"max_degree": options.max_degree, "excluded_ip_kinds": list(options.excluded_ip_kinds)}

    def consume(rows: Iterator[dict[str, Any]]) -> Projection:
        builder = _Builder()  # made inside: a retried transaction starts from nothing
        for row in rows:
            builder.row(row, options.window_s)
        return builder.build("shared-identifiers", options.describe())

    return ctx.stream_into(SHARED_IDENTIFIERS, consume, **params)


def link_projection(ctx: GraphContext, options: ProjectionOptions) -> Projection:
    """Accounts tied by their scored links (`queries.links.project_links`), the score as the weight.

    `ties` counts the distinct pieces of evidence behind the links, by kind. What link analysis
    leaves out (marked supernodes, identifiers of more than `max_holders` accounts) it does not
    count, so `excluded` is empty here; `options.links` decides the scoring, not the
    shared-identifier options.
    """
    rules = options.links
    found = project_links(ctx, rules)
    builder = _Builder()
    evidence: set[tuple[str, str]] = set()
    for link in found:
        a, b = builder.vertices([_account_key(link.a), _account_key(link.b)])
        builder.pairs.append((a, b))
        builder.weights.append(link.score)
        evidence.update((e.kind, e.key) for e in link.evidence)
    builder.ties.update(kind for kind, _ in evidence)
    described = {"window_s": rules.window_s, "min_score": rules.min_score, "rarity_exponent": rules.rarity_exponent,
                 "weights": dict(rules.weights), "device_cousage_required": rules.device_cousage_required,
                 "max_holders": rules.max_holders}
    return builder.build("links", described)


def _account_key(value: str) -> str:
    label, key = parse_entity_id(value)
    assert label is Label.ACCOUNT, value  # links join accounts only
    return key


#: Projections by name, as `runCommunities` and the CLI accept them.
PROJECTORS: dict[str, Projector] = {"shared-identifiers": shared_identifier_projection, "links": link_projection}

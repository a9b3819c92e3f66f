"""Supernodes: addresses, devices, files and providers whose reach is too wide to be evidence.

A carrier-grade-NAT address, a VPN or Tor exit, a public Wi-Fi, a widely circulated file or the
provider that sent every report connects thousands of strangers. `mark_supernodes` finds them and
marks the node (`supernode: true`, `supernode_reason`, `degree`); link analysis then neither
expands through them (`neighbourhood`, `paths`) nor counts them as evidence (`links`), and says so
in its answers (`skipped: [{id, reason, degree}]`).

Reasons, checked in this order (the first that holds is kept):

- `provider`: every Provider node; `degree` is the number of reports it submitted.
- `exit_list`: an IP that a loaded VPN/Tor exit list names (`gracegraph load exits`).
- `cgnat`: an IP in 100.64.0.0/10 (the normaliser's `kind`): one address for a carrier's customers.
- `degree`: used by at least `min_degree` distinct accounts.
- `spread`: used by at least `spread_min_degree` accounts of at least `spread_min_providers`
  providers over at least `spread_min_days` days: a small offender group sits on a few services
  for a few months; a popular file or public address reaches every service all year.

`degree` is the number of distinct accounts tied to the node: USED_IP / USED_DEVICE for
addresses and devices; for a file, the accounts named in the reports that include it (and any
that SHARED it), the same reach that link analysis gives it. Containers that gather whatever
is put in them (a Location's accounts and addresses, a HashSet's files, a Case's reports) are
supernodes by `degree` too, counted as their relationships: a city says nothing about a tie.

The run is idempotent and cheap enough to follow every load: candidates are found by relationship
counts (which Neo4j keeps per node), only they are measured, and only changed nodes are written,
so a second run writes nothing. A node that no longer qualifies (thresholds raised) is unmarked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loaders.model import Label, Rel, cypher
from queries.context import GraphContext
from queries.entities import kind_of
from queries.results import Skipped, entity_id

PROVIDER, EXIT_LIST, CGNAT, DEGREE, SPREAD = "provider", "exit_list", "cgnat", "degree", "spread"
REASONS = (PROVIDER, EXIT_LIST, CGNAT, DEGREE, SPREAD)
#: The labels whose nodes may be marked from their use by accounts.
MEASURED = (Label.IP, Label.DEVICE, Label.FILE)
#: Labels whose nodes gather others (measured by relationship count).
CONTAINERS = (Label.LOCATION, Label.HASHSET, Label.CASE)


@dataclass(frozen=True, slots=True)
class SupernodeRules:
    """Thresholds, from settings (`GRACEGRAPH_SUPERNODE_*`, docs/settings.md)."""

    min_degree: int = 50
    spread_min_degree: int = 10
    spread_min_providers: int = 5
    spread_min_days: int = 180


def hub(var: str) -> str:
    """Cypher test for a node not to expand through: a Provider, or a marked supernode.

    Providers are hubs even before any marking run: every report leads to one. Null-safe (an
    unmarked node has no `supernode`), so `NOT hub(v)` is true for it rather than null.
    """
    if not var.isidentifier():
        raise ValueError(f"bad Cypher variable {var!r}")
    return f"({var}:Provider OR coalesce({var}.supernode, false) = true)"


def skipped_map(var: str) -> str:
    """Cypher map of a hub as `to_skipped` reads it (an unmarked Provider counts its reports)."""
    if not var.isidentifier():
        raise ValueError(f"bad Cypher variable {var!r}")
    v = var
    return (f"{{labels: labels({v}), key: {v}.key, reason: coalesce({v}.supernode_reason, 'provider'), "
            f"degree: coalesce({v}.degree, COUNT {{ ({v})<-[:SUBMITTED_BY]-() }})}}")


def to_skipped(row: dict[str, Any]) -> Skipped:
    return Skipped(id=entity_id(kind_of(row["labels"]), str(row["key"])), reason=str(row["reason"]),
                   degree=int(row["degree"] or 0))


def sorted_skipped(rows: list[dict[str, Any]]) -> list[Skipped]:
    """Distinct hubs, widest first (the ones that would have flooded the answer most)."""
    found = {s.id: s for s in map(to_skipped, rows)}
    return sorted(found.values(), key=lambda s: (-s.degree, s.id))


# Candidates per label: any node that could qualify or is marked now (to unmark it). Relationship
# counts per node are kept by Neo4j, so the filter costs a lookup per node, not a walk.
_IP_LIKE = """
MATCH (x:{label})
WHERE x.supernode IS NOT NULL OR x.kind = 'cgnat' OR x.exit_provider IS NOT NULL
   OR COUNT { (x)<-[:{rel}]-() } >= $least
CALL (x) {
  OPTIONAL MATCH (a:Account)-[:{rel}]->(x)
  RETURN count(DISTINCT a) AS degree, count(DISTINCT a.provider) AS providers
}
RETURN x.key AS key, x.kind AS kind, x.exit_provider AS exit, degree, providers,
       x.first_seen.epochSeconds AS first, x.last_seen.epochSeconds AS last,
       x.supernode AS marked, x.supernode_reason AS reason, x.degree AS was
"""
_FILES = """
MATCH (x:File)
WHERE x.supernode IS NOT NULL OR COUNT { (x)<-[:INCLUDES|SHARED]-() } >= 2
CALL (x) {
  CALL (x) {
    MATCH (x)<-[:INCLUDES]-(:Report)-[:REPORTS]->(a:Account) RETURN a
    UNION
    MATCH (x)<-[:SHARED]-(a:Account) RETURN a
  }
  RETURN count(a) AS degree, count(DISTINCT a.provider) AS providers
}
RETURN x.key AS key, null AS kind, null AS exit, degree, providers,
       x.first_seen.epochSeconds AS first, x.last_seen.epochSeconds AS last,
       x.supernode AS marked, x.supernode_reason AS reason, x.degree AS was
"""
_CONTAINER = """
MATCH (x:{label})
WITH x, COUNT { (x)--() } AS degree
WHERE degree >= $least OR x.supernode IS NOT NULL
RETURN x.key AS key, degree, x.supernode AS marked, x.supernode_reason AS reason, x.degree AS was
"""
_PROVIDERS = """
MATCH (x:Provider)
RETURN x.key AS key, COUNT { (x)<-[:SUBMITTED_BY]-() } AS degree,
       x.supernode AS marked, x.supernode_reason AS reason, x.degree AS was
"""
_MARK = ("UNWIND $rows AS row MATCH (x:{label} {key: row.key}) "
         "SET x.supernode = true, x.supernode_reason = row.reason, x.degree = row.degree")
_UNMARK = "UNWIND $keys AS k MATCH (x:{label} {key: k}) REMOVE x.supernode, x.supernode_reason, x.degree"


@dataclass(slots=True)
class SupernodeSummary:
    """What a run found and changed; `by_reason` counts every supernode after the run."""

    by_reason: Counter[str] = field(default_factory=Counter)
    by_label: Counter[str] = field(default_factory=Counter)
    marked: int = 0  # newly marked, or their reason or degree changed
    unmarked: int = 0

    @property
    def changed(self) -> int:
        return self.marked + self.unmarked


def reason_for(row: dict[str, Any], rules: SupernodeRules) -> str | None:
    """The reason a measured node is a supernode, or None (see the module docstring for the order)."""
    degree = int(row["degree"] or 0)
    if row.get("exit") is not None:
        return EXIT_LIST
    if row.get("kind") == CGNAT:
        return CGNAT
    if degree >= rules.min_degree:
        return DEGREE
    first, last = row.get("first"), row.get("last")
    days = (last - first) / 86_400 if first is not None and last is not None else 0.0
    if (degree >= rules.spread_min_degree and int(row["providers"] or 0) >= rules.spread_min_providers
            and days >= rules.spread_min_days):
        return SPREAD
    return None


def mark_supernodes(ctx: GraphContext, rules: SupernodeRules) -> SupernodeSummary:
    """Mark (and unmark) supernodes in the whole graph; a repeated run changes nothing.

    Queries: one read and at most two writes per label. Cost: a relationship-count lookup per
    IP, Device and File node, then a walk of the candidates' own relationships.
    """
    summary = SupernodeSummary()
    least = min(rules.min_degree, rules.spread_min_degree)
    plans: list[tuple[Label, list[dict[str, Any]]]] = []
    for label, rel in ((Label.IP, Rel.USED_IP), (Label.DEVICE, Rel.USED_DEVICE)):
        plans.append((label, ctx.read(cypher(_IP_LIKE, label=label, rel=rel), least=least)))
    plans.append((Label.FILE, ctx.read(_FILES)))
    for label, rows in plans:
        _apply(ctx, label, rows, lambda row: reason_for(row, rules), summary)
    for label in CONTAINERS:
        rows = ctx.read(cypher(_CONTAINER, label=label), least=rules.min_degree)
        _apply(ctx, label, rows, lambda row: DEGREE if row["degree"] >= rules.min_degree else None, summary)
    _apply(ctx, Label.PROVIDER, ctx.read(_PROVIDERS), lambda row: PROVIDER, summary)
    return summary


def _apply(ctx: GraphContext, label: Label, rows: list[dict[str, Any]], decide: Any,
           summary: SupernodeSummary) -> None:
    mark, unmark = [], []
    for row in rows:
        reason = decide(row)
        degree = int(row["degree"] or 0)
        if reason is None:
            if row["marked"] is not None:
                unmark.append(row["key"])
            continue
        summary.by_reason[reason] += 1
        summary.by_label[label.value] += 1
        if row["marked"] is not True or row["reason"] != reason or row["was"] != degree:
            mark.append({"key": row["key"], "reason": reason, "degree": degree})
    if mark:
        ctx.write(cypher(_MARK, label=label), rows=mark)
    if unmark:
        ctx.write(cypher(_UNMARK, label=label), keys=unmark)
    summary.marked += len(mark)
    summary.unmarked += len(unmark)


_OF_LABEL = "MATCH (x) WHERE x.supernode = true AND any(l IN labels(x) WHERE l IN $kinds) RETURN "


def list_supernodes(ctx: GraphContext, kinds: list[str] | None = None, limit: int = 1000) -> list[Skipped]:
    """The marked supernodes (optionally of `kinds`), widest first: what analyses skip."""
    chosen = kinds or [label.value for label in (*MEASURED, *CONTAINERS, Label.PROVIDER)]
    rows = ctx.read(_OF_LABEL + skipped_map("x") + " AS hub ORDER BY x.degree DESC LIMIT $limit",
                    kinds=chosen, limit=limit)
    return sorted_skipped([row["hub"] for row in rows])

"""Whom to look at first: accounts and reports ranked for triage from network facts, each score
with its parts so the investigator sees why.

An account's score is the sum of its parts, each `weight × value` (weights are settings,
`GRACEGRAPH_PRIORITY_WEIGHTS`, docs/analysis.md):

- `known_files`: log(1 + distinct hash-listed files the account's reports include or it shared).
  Possession of known material is the strongest single fact a referral carries.
- `flagged_links`: log(1 + linked accounts that themselves hold a known file), over the scored
  links of `queries.links` (supernodes excluded): an account among other offenders.
- `centrality`: PageRank on the link projection, divided by the highest PageRank in the
  account's group of linked accounts (1 for the group's hub, 0 for an unlinked account): who
  holds a network together.
- `files`: log(1 + distinct other files): activity beyond what hash lists know.
- `reports`: log(1 + reports naming the account).
- `providers`: log(number of providers reporting it): one person across services.
- `recency`: 0.5 ^ (days since its last report / `recency_half_life_days`), counted from the
  newest report in the graph, so that an old dump does not look stale against itself.
- `cases`: log(1 + cases its reports are filed in): others already work on it.

A report's score is the highest score among the accounts it names (the reason it matters), plus
its own known files' part, so the report that leads to the worst account comes first.
Logarithms keep a single heavy fact from drowning the others: ten known files weigh about twice
three, not three times as much.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import igraph as ig

from loaders.model import Label, Rel, cypher
from queries.bounds import check_range
from queries.context import GraphContext
from queries.errors import BadInput
from queries.links import LinkRules, link_weights, project_links
from queries.results import entity_id, parse_entity_id

#: Default weight of each part; a setting overrides any of them.
DEFAULT_WEIGHTS: dict[str, float] = {
    "known_files": 3.0, "flagged_links": 2.0, "centrality": 1.0, "files": 0.5, "reports": 0.5,
    "providers": 1.0, "recency": 0.5, "cases": 1.0,
}
RECENCY_HALF_LIFE_DAYS = 180.0
LIMIT = (1, 1000)
EVIDENCE_CAP = 20  # keys listed per part; the counts are exact


class Scope(StrEnum):
    ACCOUNTS = "accounts"
    REPORTS = "reports"


#: Two linked account keys (not ids) and the link's score, from `queries.links`.
ScoredLink = tuple[str, str, float]


@dataclass(slots=True)
class ScorePart:
    name: str
    value: float  # the fact measured (a count, a ratio, a decay)
    weight: float
    contribution: float  # weight × transformed value; the parts add up to the score
    evidence: list[str] = field(default_factory=list)  # keys it rests on (capped at EVIDENCE_CAP)


@dataclass(slots=True)
class Priority:
    id: str
    kind: str
    key: str
    label: str
    score: float
    parts: list[ScorePart]


@dataclass(frozen=True, slots=True)
class Weights:
    parts: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    recency_half_life_days: float = RECENCY_HALF_LIFE_DAYS

    @classmethod
    def of(cls, overrides: Mapping[str, float] | None, half_life_days: float = RECENCY_HALF_LIFE_DAYS) -> Weights:
        """Defaults with `overrides` on top; an unknown part name is an error, not ignored."""
        unknown = sorted(set(overrides or {}) - set(DEFAULT_WEIGHTS))
        if unknown:
            raise BadInput(f"unknown priority part(s) {', '.join(unknown)}; known: {', '.join(DEFAULT_WEIGHTS)}")
        return cls({**DEFAULT_WEIGHTS, **(overrides or {})}, half_life_days)


# Facts are pulled as plain pairs and joined here: one pass over each relationship type costs far
# less than a per-account subquery walking reports, providers and files again for every account.
_ACCOUNT_REPORTS = cypher("""
MATCH (r:{report})-[:{reports}]->(a:{account})
RETURN a.key AS account, r.key AS report, r.incident_at.epochMillis AS at,
       coalesce(a.screen_names[0], a.display_names[0], a.key) AS label
""", report=Label.REPORT, account=Label.ACCOUNT, reports=Rel.REPORTS)
_REPORT_PROVIDERS = cypher("MATCH (r:{report})-[:{submitted}]->(p:{provider}) RETURN r.key AS report, p.key AS key",
                           report=Label.REPORT, provider=Label.PROVIDER, submitted=Rel.SUBMITTED_BY)
_REPORT_CASES = cypher("MATCH (r:{report})-[:{part_of}]->(c:{case}) RETURN r.key AS report, c.key AS key",
                       report=Label.REPORT, case=Label.CASE, part_of=Rel.PART_OF)
_REPORT_FILES = cypher("""
MATCH (r:{report})-[:{includes}]->(f:{file}) RETURN r.key AS report, f.key AS key, f.known = true AS known
""", report=Label.REPORT, file=Label.FILE, includes=Rel.INCLUDES)
_SHARED_FILES = cypher("""
MATCH (a:{account})-[:{shared}]->(f:{file}) RETURN a.key AS account, f.key AS key, f.known = true AS known
""", account=Label.ACCOUNT, file=Label.FILE, shared=Rel.SHARED)

def priorities(ctx: GraphContext, scope: Scope | str = Scope.ACCOUNTS, limit: int = 50,
               links: Iterable[ScoredLink] | None = None, weights: Weights | None = None,
               rules: LinkRules | None = None) -> list[Priority]:
    """The `limit` highest-scoring accounts or reports, best first (ties by key).

    `links` defaults to the whole graph's scored links (`queries.links.project_links` with `rules`).
    """
    chosen = _scope(scope)
    check_range("limit", limit, LIMIT)
    w = weights or Weights()
    if links is None:
        links = account_links(ctx, rules)
    accounts = score_accounts(ctx, links, w)
    if chosen is Scope.ACCOUNTS:
        ranked = sorted(accounts.values(), key=lambda p: (-p.score, p.key))
        return ranked[:limit]
    return sorted(_score_reports(ctx, accounts, w), key=lambda p: (-p.score, p.key))[:limit]


def account_links(ctx: GraphContext, rules: LinkRules | None = None) -> list[ScoredLink]:
    """The scored links between accounts, by account key (what the parts count and rank over)."""
    return [(parse_entity_id(a)[1], parse_entity_id(b)[1], score)
            for a, b, score in link_weights(project_links(ctx, rules))]


def score_accounts(ctx: GraphContext, links: Iterable[ScoredLink], w: Weights) -> dict[str, Priority]:
    """Every account's priority, keyed by account key."""
    facts = _Facts.pull(ctx)
    newest = max((at for at in facts.last.values() if at is not None), default=None)
    holders = {a for a, files in facts.files.items() if any(files.values())}
    pairs = [(a, b, s) for a, b, s in links if a != b]
    neighbours_of: dict[str, set[str]] = {}
    for a, b, _ in pairs:
        neighbours_of.setdefault(a, set()).add(b)
        neighbours_of.setdefault(b, set()).add(a)
    central = _centrality(pairs)
    out: dict[str, Priority] = {}
    for key, shown in facts.label.items():
        files = facts.files.get(key, {})
        known = sorted(f for f, is_known in files.items() if is_known)
        other = len(files) - len(known)
        reports = sorted(facts.reports[key])
        providers = sorted({p for r in reports for p in facts.providers.get(r, ())})
        cases = sorted({c for r in reports for c in facts.cases.get(r, ())})
        neighbours = sorted(neighbours_of.get(key, set()) & holders)
        recency = _recency(facts.last.get(key), newest, w.recency_half_life_days)
        parts: list[tuple[str, float, float, list[str]]] = [
            ("known_files", len(known), math.log1p(len(known)), known),
            ("flagged_links", len(neighbours), math.log1p(len(neighbours)), neighbours),
            ("centrality", central.get(key, 0.0), central.get(key, 0.0), []),
            ("files", other, math.log1p(other), []),
            ("reports", len(reports), math.log1p(len(reports)), reports),
            ("providers", len(providers), math.log(max(1, len(providers))), providers),
            ("recency", recency, recency, []),
            ("cases", len(cases), math.log1p(len(cases)), cases),
        ]
        out[key] = _priority(Label.ACCOUNT, key, shown, parts, w)
    return out


@dataclass(slots=True)
class _Facts:
    label: dict[str, str] = field(default_factory=dict)
    reports: dict[str, set[str]] = field(default_factory=dict)  # account -> report keys
    last: dict[str, int | None] = field(default_factory=dict)  # account -> newest report, epoch ms
    providers: dict[str, set[str]] = field(default_factory=dict)  # report -> providers
    cases: dict[str, set[str]] = field(default_factory=dict)  # report -> cases
    report_files: dict[str, dict[str, bool]] = field(default_factory=dict)  # report -> file -> known
    files: dict[str, dict[str, bool]] = field(default_factory=dict)  # account -> file -> known
    named: dict[str, list[str]] = field(default_factory=dict)  # report -> accounts

    @classmethod
    def pull(cls, ctx: GraphContext) -> _Facts:
        facts = cls()
        for row in ctx.read(_ACCOUNT_REPORTS):
            account, report, at = row["account"], row["report"], row["at"]
            facts.label[account] = row["label"]
            facts.reports.setdefault(account, set()).add(report)
            facts.named.setdefault(report, []).append(account)
            last = facts.last.get(account)
            if at is not None and (last is None or at > last):
                facts.last[account] = at
        for query, into in ((_REPORT_PROVIDERS, facts.providers), (_REPORT_CASES, facts.cases)):
            for row in ctx.read(query):
                into.setdefault(row["report"], set()).add(row["key"])
        for row in ctx.read(_REPORT_FILES):
            facts.report_files.setdefault(row["report"], {})[row["key"]] = bool(row["known"])
        for report, files in facts.report_files.items():
            for account in facts.named.get(report, ()):
                facts.files.setdefault(account, {}).update(files)
        for row in ctx.read(_SHARED_FILES):
            facts.label.setdefault(row["account"], row["account"])
            facts.reports.setdefault(row["account"], set())
            facts.files.setdefault(row["account"], {})[row["key"]] = bool(row["known"])
        return facts


def _score_reports(ctx: GraphContext, accounts: dict[str, Priority], w: Weights) -> list[Priority]:
    facts = _Facts.pull(ctx)
    out = []
    weights = Weights({"worst_account": 1.0, "known_files": w.parts["known_files"]}, w.recency_half_life_days)
    for report, named in facts.named.items():
        top = max((accounts[k] for k in named if k in accounts), key=lambda p: (p.score, p.key), default=None)
        known = sorted(f for f, is_known in facts.report_files.get(report, {}).items() if is_known)
        parts: list[tuple[str, float, float, list[str]]] = [
            ("worst_account", top.score if top else 0.0, top.score if top else 0.0, [top.id] if top else []),
            ("known_files", len(known), math.log1p(len(known)), known),
        ]
        out.append(_priority(Label.REPORT, report, report, parts, weights))
    return out


def _priority(label: Label, key: str, shown: str, facts: list[tuple[str, float, float, list[str]]],
              w: Weights) -> Priority:
    parts = [ScorePart(name, float(value), w.parts[name], w.parts[name] * transformed, list(evidence[:EVIDENCE_CAP]))
             for name, value, transformed, evidence in facts]
    return Priority(entity_id(label, key), label.value, key, shown, sum(p.contribution for p in parts), parts)


def _centrality(pairs: list[ScoredLink]) -> dict[str, float]:
    """PageRank (link scores as weights) relative to the top of each group of linked accounts."""
    if not pairs:
        return {}
    graph = ig.Graph.TupleList(pairs, weights=True)  # parallel pairs add up, as evidence does
    rank = graph.pagerank(weights="weight")
    names = graph.vs["name"]
    out: dict[str, float] = {}
    for group in graph.connected_components():
        top = max(rank[i] for i in group)
        for i in group:
            out[names[i]] = rank[i] / top if top > 0 else 0.0
    return out


def _recency(last: int | None, newest: int | None, half_life_days: float) -> float:
    if last is None or newest is None:
        return 0.0
    return 0.5 ** (max(0, newest - last) / 86_400_000 / half_life_days)


def _scope(value: Scope | str) -> Scope:
    try:
        return Scope(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise BadInput(f"unknown scope {value!r}; known: {', '.join(s.value for s in Scope)}") from None

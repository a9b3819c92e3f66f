"""Link strength: which accounts belong together, how strongly, and on what evidence.

A link joins two accounts. Each piece of evidence between them contributes

    contribution = weight(kind) x rarity x proximity x support

and the link's score is the sum of its contributions (so the parts always add up to the score):

- `weight(kind)`: how much one such tie says (`DEFAULT_WEIGHTS`, setting `GRACEGRAPH_LINK_WEIGHTS`).
  A provider's own tie between two accounts, being named in one report, one handset, one phone
  number or one mailbox weigh 1 (0.9 for two spellings of one gmail mailbox); a shared file 0.8
  (files are passed around); one address used within the window 0.7 (addresses are shared by
  households and offices).
- `rarity = (2 / holders) ** rarity_exponent`: inverse frequency. `holders` is how many distinct
  accounts share the identifier; a pair alone with it gets 1, and with the default exponent 0.5
  a file of 30 holders weighs 0.26, one of 300 holders 0.08. Identifiers with more than
  `max_holders` accounts, and marked supernodes (queries/supernodes.py), count for nothing.
- `proximity`: for an address, `1 - gap / (2 x window)` for the closest pair of uses, so 1 for
  simultaneous uses and 0.5 at the window's edge; uses further apart than the window are no
  evidence at all (DESIGN.md §6). A device is one handset, so sharing it is evidence at any time:
  proximity is that of its closest co-use, or 0.5 when there is none within the window (or no
  evidence, with `device_cousage_required`). Other kinds: 1.
- `support = 1 + 0.5 x log2(reports)`: the number of distinct reports the evidence rests on;
  a tie stated by four independent reports counts twice one stated once.

A pair is linked when its score reaches `min_score` (default 0.1: a single address co-use among
50 holders still counts, a file that 800 accounts share does not).

>>> rules = LinkRules()
>>> round(part_product(rules, "file", holders=2, proximity=1.0, reports=1)[3], 3)
0.8
>>> round(part_product(rules, "ip", holders=8, proximity=0.5, reports=4)[3], 3)
0.35
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations

from loaders.model import Label, Rel
from queries import link_evidence as ev
from queries.bounds import check_ids, check_range
from queries.context import GraphContext
from queries.cousage import CoUse, closest, co_uses, rows_to_uses
from queries.entities import resolve
from queries.errors import BadInput
from queries.results import CoUseMatch, Link, LinkEvidence, LinkSet, entity_id, parse_entity_id
from queries.supernodes import sorted_skipped

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "provider_tie": 1.0, "co_reported": 1.0, "device": 1.0, "phone": 1.0, "email": 1.0,
    "email_variant": 0.9, "file": 0.8, "ip": 0.7,
}
EVIDENCE_KINDS = tuple(DEFAULT_WEIGHTS)
#: At most this many co-use matches are listed per evidence (the closest); co_use_count has all.
MAX_CO_USES = 20
#: The widest window a question may ask for: 30 days.
WINDOW_S = (1, 30 * 86_400)
LIMIT = (1, 1000)


@dataclass(frozen=True, slots=True)
class LinkRules:
    """How links are scored; from settings at the edge (`GRACEGRAPH_COUSAGE_WINDOW_S`, `GRACEGRAPH_LINK_*`)."""

    window_s: int = 3600
    min_score: float = 0.1
    rarity_exponent: float = 0.5
    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    device_cousage_required: bool = False
    max_holders: int = 50  # the supernode degree threshold: wider identifiers are not evidence

    def weight(self, kind: str) -> float:
        return float(self.weights.get(kind, DEFAULT_WEIGHTS[kind]))


def part_product(rules: LinkRules, kind: str, holders: int, proximity: float,
                 reports: int) -> tuple[float, float, float, float]:
    """(weight, rarity, support, contribution) of one piece of evidence."""
    weight = rules.weight(kind)
    rarity = (2 / max(holders, 2)) ** rules.rarity_exponent
    support = 1 + 0.5 * math.log2(max(reports, 1))
    return weight, rarity, support, weight * rarity * proximity * support


class _Pairs:
    """Evidence gathered per account pair, keyed by account keys (a < b)."""

    def __init__(self, rules: LinkRules, keep: Callable[[str, str], bool]) -> None:
        self.rules = rules
        self.keep = keep
        self.found: dict[tuple[str, str], list[LinkEvidence]] = {}

    def add(self, a: str, b: str, kind: str, key: str, entities: list[str], reports: Iterable[str | None],
            holders: int, proximity: float = 1.0, matches: list[CoUse] | None = None) -> None:
        if a == b or not self.keep(a, b):
            return
        if b < a:
            a, b = b, a
            matches = [CoUse(m.b_time, m.a_time, m.b_report, m.a_report, m.gap_s) for m in matches or []]
        cited = sorted({r for r in reports if r})
        weight, rarity, support, contribution = part_product(self.rules, kind, holders, proximity, len(cited))
        listed = sorted(matches or [], key=lambda m: (m.gap_s, m.a_time))[:MAX_CO_USES]
        times = sorted({t for m in listed for t in (m.a_time, m.b_time)})
        self.found.setdefault((a, b), []).append(LinkEvidence(
            kind=kind, key=key, entities=entities, reports=cited, times=times,
            co_uses=[CoUseMatch(m.a_time, m.b_time, m.a_report, m.b_report, m.gap_s) for m in listed],
            co_use_count=len(matches or []), holders=holders, weight=weight, rarity=rarity,
            proximity=proximity, support=support, contribution=contribution))

    def links(self, min_score: float) -> list[Link]:
        out = []
        for (a, b), evidence in self.found.items():
            score = math.fsum(e.contribution for e in evidence)
            if score >= min_score:
                evidence.sort(key=lambda e: (-e.contribution, e.kind, e.key))
                out.append(Link(entity_id(Label.ACCOUNT, a), entity_id(Label.ACCOUNT, b), score, evidence))
        out.sort(key=lambda link: (-link.score, link.a, link.b))
        return out


def _proximity(match: CoUse, window_s: int) -> float:
    return 1 - match.gap_s / (2 * window_s)


def _used(ctx: GraphContext, scope: ev.Scope, pairs: _Pairs, label: Label, rel: Rel, kind: str) -> None:
    rules = pairs.rules
    for row in ev.used(ctx, scope, label, rel, rules.max_holders):
        if row["holders"] > rules.max_holders:
            continue
        uses = rows_to_uses(row["uses"])
        matched = co_uses(uses, rules.window_s)
        node = entity_id(label, row["key"])
        for (a, b), matches in matched.items():
            reports = [r for m in matches for r in (m.a_report, m.b_report)]
            pairs.add(a, b, kind, row["key"], [node], reports, row["holders"],
                      _proximity(closest(matches), rules.window_s), matches)
        if kind != "device" or rules.device_cousage_required:
            continue
        by_account: dict[str, set[str | None]] = {}
        for use in uses:
            by_account.setdefault(use.account, set()).add(use.report)
        for account, _, _, sources in row["uses"]:  # a relationship without times still names its reports
            by_account.setdefault(account, set()).update(sources or [])
        for a, b in combinations(sorted(by_account), 2):
            if (a, b) not in matched:
                pairs.add(a, b, kind, row["key"], [node], by_account[a] | by_account[b], row["holders"], 0.5)


def _files(ctx: GraphContext, scope: ev.Scope, pairs: _Pairs) -> None:
    for row in ev.files(ctx, scope, pairs.rules.max_holders):
        if row["holders"] > pairs.rules.max_holders:
            continue
        reports: dict[str, set[str]] = {}
        for account, report in row["held"]:
            reports.setdefault(account, set()).add(report)
        node = entity_id(Label.FILE, row["key"])
        for a, b in combinations(sorted(reports), 2):
            pairs.add(a, b, "file", row["key"], [node], reports[a] | reports[b], row["holders"])


def _phones(ctx: GraphContext, scope: ev.Scope, pairs: _Pairs) -> None:
    for row in ev.phones(ctx, scope, pairs.rules.max_holders):
        if row["holders"] > pairs.rules.max_holders:
            continue
        node = entity_id(Label.PHONE, row["key"])
        held = {account: set(sources or []) for account, sources in row["held"]}
        for a, b in combinations(sorted(held), 2):
            pairs.add(a, b, "phone", row["key"], [node], held[a] | held[b], row["holders"])


def _mailboxes(ctx: GraphContext, scope: ev.Scope, pairs: _Pairs) -> None:
    for row in ev.mailboxes(ctx, scope):
        by_account: dict[str, dict[str, set[str]]] = {}
        for account, email, sources in row["held"]:
            by_account.setdefault(account, {}).setdefault(email, set()).update(sources or [])
        if len(by_account) > pairs.rules.max_holders:
            continue
        for a, b in combinations(sorted(by_account), 2):
            same = sorted(set(by_account[a]) & set(by_account[b]))
            emails = same or sorted(set(by_account[a]) | set(by_account[b]))
            kind, key = ("email", same[0]) if same else ("email_variant", row["mailbox"])
            reports = {r for e in emails for side in (a, b) for r in by_account[side].get(e, ())}
            pairs.add(a, b, kind, key, [entity_id(Label.EMAIL, e) for e in emails], reports, len(by_account))


def _co_reports(ctx: GraphContext, scope: ev.Scope, pairs: _Pairs) -> None:
    for row in ev.co_reports(ctx, scope, pairs.rules.max_holders):
        if row["holders"] > pairs.rules.max_holders:
            continue
        node = entity_id(Label.REPORT, row["key"])
        for a, b in combinations(sorted(set(row["named"])), 2):
            pairs.add(a, b, "co_reported", row["key"], [node], [row["key"]], row["holders"])


def _ties(ctx: GraphContext, scope: ev.Scope, pairs: _Pairs) -> None:
    for row in ev.provider_ties(ctx, scope):
        pairs.add(row["a"], row["b"], "provider_tie", f"{row['a']} ~ {row['b']}",
                  [entity_id(Label.ACCOUNT, row["a"]), entity_id(Label.ACCOUNT, row["b"])], row["sources"] or [], 2)


def _gather(ctx: GraphContext, scope: ev.Scope, rules: LinkRules, keep: Callable[[str, str], bool]) -> _Pairs:
    pairs = _Pairs(rules, keep)
    _used(ctx, scope, pairs, Label.IP, Rel.USED_IP, "ip")
    _used(ctx, scope, pairs, Label.DEVICE, Rel.USED_DEVICE, "device")
    _files(ctx, scope, pairs)
    _phones(ctx, scope, pairs)
    _mailboxes(ctx, scope, pairs)
    _co_reports(ctx, scope, pairs)
    _ties(ctx, scope, pairs)
    return pairs


def project_links(ctx: GraphContext, rules: LinkRules | None = None, min_score: float | None = None) -> list[Link]:
    """Every scored account pair of the whole graph at or above `min_score`, strongest first.

    What prioritisation and community detection pull: seven streamed queries (one per kind of
    evidence, one row per shared identifier, never per pair), pairs made here. Memory: the
    evidence of every linked pair.
    """
    rules = rules or LinkRules()
    threshold = rules.min_score if min_score is None else min_score
    return _gather(ctx, ev.Scope(), rules, lambda a, b: True).links(threshold)


def link_weights(links: Iterable[Link]) -> list[tuple[str, str, float]]:
    """(a, b, score) triples: a projection as a weighted edge list (networkx, igraph)."""
    return [(link.a, link.b, link.score) for link in links]


def _account_keys(ids: list[str]) -> list[str]:
    keys = []
    for value in ids:
        label, key = parse_entity_id(value)
        if label is Label.ACCOUNT:
            keys.append(key)
    return keys


def _rules_for(rules: LinkRules | None, window_s: int | None) -> LinkRules:
    rules = rules or LinkRules()
    if window_s is None:
        return rules
    check_range("window", window_s, WINDOW_S)
    return LinkRules(window_s, rules.min_score, rules.rarity_exponent, rules.weights,
                     rules.device_cousage_required, rules.max_holders)


def links(ctx: GraphContext, id: str, min_score: float | None = None, window_s: int | None = None,
          limit: int = 100, rules: LinkRules | None = None) -> LinkSet:
    """The accounts linked to account `id`, strongest first, each with its evidence.

    `skipped` lists the supernodes the account uses (not counted). Queries: eight, each starting
    from the account's own relationships.
    """
    [value] = check_ids([id])
    check_range("limit", limit, LIMIT)
    if parse_entity_id(value)[0] is not Label.ACCOUNT:
        raise BadInput(f"links join accounts; {value!r} is not an account id")
    if min_score is not None and (not isinstance(min_score, int | float) or min_score < 0):
        raise BadInput(f"minScore must be a number of at least 0, not {min_score!r}")
    resolve(ctx, [value])
    rules = _rules_for(rules, window_s)
    [key] = _account_keys([value])
    pairs = _gather(ctx, ev.Scope([key]), rules, lambda a, b: key in (a, b))
    found = pairs.links(rules.min_score if min_score is None else min_score)
    skipped = sorted_skipped(ev.hubs_of(ctx, [key]))
    return LinkSet(links=found[:limit], skipped=skipped, truncated=len(found) > limit)


def links_among(ctx: GraphContext, ids: list[str], rules: LinkRules | None = None,
                min_score: float | None = None) -> list[Link]:
    """Scored links between the accounts among `ids` (other kinds of entity are left out)."""
    keys = sorted(set(_account_keys(ids)))
    if len(keys) < 2:
        return []
    rules = rules or LinkRules()
    chosen = set(keys)
    pairs = _gather(ctx, ev.Scope(keys), rules, lambda a, b: a in chosen and b in chosen)
    return pairs.links(rules.min_score if min_score is None else min_score)

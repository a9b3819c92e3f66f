"""Link quality: precision and recall of scored links against the generator's planted relations.

    python -m bench.link_quality --reports 20000 --seed 7
    python -m bench.link_quality --quick

Generates synthetic referrals (CGNAT and VPN addresses, popular files: the noise that fools naive
analysis), loads them into a fresh store (bench/harness.py), loads the generated `vpn_exits.csv`
as a user would (`gracegraph load exits`), marks supernodes, projects every link with default
settings (queries/links.py) and scores the linked account pairs against `truth.json` `links`.
Beside it, in the same run, the naive rule "two accounts are linked when they ever used one IP
address".

Scoring rule (docs/analysis.md, "Link quality"), pairwise over unordered account pairs:

- precision = linked pairs that truth lists for any reason / linked pairs;
- recall = recoverable truth pairs linked / recoverable truth pairs, where a truth pair is
  recoverable when one of its reasons rests on metadata the reports carry: `network_file`,
  `network_ip_cousage`, `co_reported`, `family_device`, or `same_person` when both accounts were
  reported and either the person's accounts share a phone, a mailbox or a device, or the
  provider tied the two (`associatedAccount`). `same_person` pairs tied only by name variants and
  a birth date, or reachable only through a third account, are entity resolution's (issue 6);
  `recall_all` gives recall against every truth pair for comparison.

Last line: one JSON object with precision, recall, naive_precision, naive_recall, recall_all,
per-reason recall, counts, seconds (supernode marking plus link projection), top20_planted
(planted network accounts among the top 20 of `priorities`), and `ablations`: precision and recall
with address co-use counted at any time (`ip_any_time`) and with the window required for
devices too (`device_window_required`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.harness import bench_database, emit, machine
from graph_service.analysis import link_rules, supernode_rules
from loaders.cybertip import parse_cybertip
from loaders.exits import parse_exits
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.links import LinkRules, link_weights, project_links
from queries.prioritisation import Scope, Weights, priorities
from queries.results import Link, parse_entity_id
from queries.supernodes import mark_supernodes

#: Reasons a metadata link analysis is expected to recover whenever truth lists them.
ALWAYS_RECOVERABLE = frozenset({"network_file", "network_ip_cousage", "co_reported", "family_device"})
#: What a person's accounts may share that links them without entity resolution.
IDENTIFIER_SHARES = frozenset({"phone", "email", "device"})

Pair = tuple[str, str]

_REPORTED = "MATCH (a:Account) WHERE EXISTS { (a)<-[:REPORTS]-(:Report) } RETURN a.key AS key"
_TIED = "MATCH (a:Account)-[:ASSOCIATED_WITH]->(b:Account) RETURN a.key AS a, b.key AS b"
_SAME_IP_EVER = ("MATCH (a:Account)-[:USED_IP]->(i:IP) WITH i, collect(a.key) AS users "
                 "WHERE size(users) >= 2 RETURN users")


def pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


def truth_reasons(truth: dict[str, Any]) -> dict[Pair, set[str]]:
    reasons: dict[Pair, set[str]] = {}
    for row in truth["links"]:
        reasons.setdefault(pair(row["a"], row["b"]), set()).add(row["reason"])
    return reasons


def recoverable(truth: dict[str, Any], reasons: dict[Pair, set[str]], reported: set[str],
                tied: set[Pair]) -> set[Pair]:
    """The truth pairs a metadata link analysis can be asked to find (module docstring)."""
    by_share: set[Pair] = set()
    for person in truth["persons"]:
        if IDENTIFIER_SHARES & set(person["shares"]):
            accounts = sorted(a for a in person["accounts"] if a in reported)
            by_share.update(pair(a, b) for i, a in enumerate(accounts) for b in accounts[i + 1:])
    out = set()
    for p, why in reasons.items():
        if why & ALWAYS_RECOVERABLE or ("same_person" in why and (p in by_share or p in tied)):
            out.add(p)
    return out


def scores(predicted: set[Pair], truth_pairs: Iterable[Pair], wanted: set[Pair]) -> tuple[float, float]:
    right = predicted & set(truth_pairs)
    precision = len(right) / len(predicted) if predicted else 1.0
    recall = len(predicted & wanted) / len(wanted) if wanted else 1.0
    return precision, recall


def naive_pairs(ctx: GraphContext) -> set[Pair]:
    """Every pair of accounts that ever used one IP address, the rule we are compared with."""
    found: set[Pair] = set()
    for row in ctx.stream(_SAME_IP_EVER):
        users = sorted(set(row["users"]))
        found.update((a, b) for i, a in enumerate(users) for b in users[i + 1:])
    return found


#: The same projection with one safeguard changed, to show what each is worth.
ABLATIONS = {
    "ip_any_time": LinkRules(window_s=400 * 86_400),  # addresses count whenever used (no window)
    "device_window_required": LinkRules(device_cousage_required=True),
}


def pairs_of(links: Iterable[Link]) -> set[Pair]:
    return {pair(link.a.split(":", 1)[1], link.b.split(":", 1)[1]) for link in links}


def top20_planted(ctx: GraphContext, truth: dict[str, Any], links: list[Link], weights: Weights) -> int:
    """Planted network accounts among the top 20 accounts of `priorities` (issue 5 target: 15).

    The ranking is the one GraphQL `priorities` serves (scope accounts, the settings' weights),
    over `links`, the projection already computed with the same rules the API uses.
    """
    planted = {account for network in truth["networks"] for account in network["accounts"]}
    scored = [(parse_entity_id(a)[1], parse_entity_id(b)[1], s) for a, b, s in link_weights(links)]
    top = priorities(ctx, Scope.ACCOUNTS, limit=20, links=scored, weights=weights)
    return sum(p.key in planted for p in top)


def per_reason(predicted: set[Pair], reasons: dict[Pair, set[str]], wanted: set[Pair]) -> dict[str, float]:
    total: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    for p in wanted:
        for why in reasons[p]:
            total[why] += 1
            hit[why] += p in predicted
    return {why: round(hit[why] / total[why], 4) for why in sorted(total)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2,000 reports")
    parser.add_argument("--show-misses", type=int, default=0, help="print this many missed and wrong pairs")
    args = parser.parse_args()
    if args.quick:
        args.reports = 2000
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gg-links-") as tmp, bench_database() as (driver, settings, _):
        out = Path(tmp)
        generate(out, reports=args.reports, seed=args.seed)
        truth = json.loads((out / "truth.json").read_text())
        db = settings.neo4j_database
        ensure_schema(driver, db)
        writer = GraphWriter(driver, db)
        loaded = time.perf_counter()
        load_files(writer, [out / f for f in truth["files"]], parse_cybertip)
        exits = load_files(writer, [out / truth["vpn_exits"]], parse_exits, parallel=False)
        assert not exits.rejections, exits.rejections
        ctx = GraphContext(driver, db, timeout_s=600)
        analysed = time.perf_counter()
        marked = mark_supernodes(ctx, supernode_rules(settings))
        links = project_links(ctx, link_rules(settings))
        finished = time.perf_counter()
        ablations = {name: pairs_of(project_links(ctx, rules)) for name, rules in ABLATIONS.items()}
        reported = {row["key"] for row in ctx.read(_REPORTED)}
        tied = {pair(row["a"], row["b"]) for row in ctx.read(_TIED)}
        naive = naive_pairs(ctx)
        top20 = top20_planted(ctx, truth, links, Weights.of(settings.priority_weights,
                                                            settings.priority_recency_half_life_days))

    reasons = truth_reasons(truth)
    wanted = recoverable(truth, reasons, reported, tied)
    predicted = pairs_of(links)
    precision, recall = scores(predicted, reasons, wanted)
    ablation = {}
    for name, found in ablations.items():
        kept, got = scores(found, reasons, wanted)
        ablation[name] = {"precision": round(kept, 4), "recall": round(got, 4), "pairs": len(found)}
    naive_precision, naive_recall = scores(naive, reasons, wanted)
    if args.show_misses:
        wrong = sorted(predicted - set(reasons))[:args.show_misses]
        missed = sorted(wanted - predicted)[:args.show_misses]
        by_pair = {pair(link.a.split(":", 1)[1], link.b.split(":", 1)[1]): link for link in links}
        for two in wrong:
            print("wrong", two, [(e.kind, e.key, e.holders, round(e.contribution, 3)) for e in by_pair[two].evidence])
        for two in missed:
            print("missed", two, sorted(reasons[two]))
    emit({
        "reports": args.reports, "seed": args.seed,
        "precision": round(precision, 4), "recall": round(recall, 4),
        "naive_precision": round(naive_precision, 4), "naive_recall": round(naive_recall, 4),
        "recall_all": round(len(predicted & set(reasons)) / len(reasons), 4),
        "recall_by_reason": per_reason(predicted, reasons, wanted),
        "linked_pairs": len(predicted), "naive_pairs": len(naive), "truth_pairs": len(reasons),
        "recoverable_pairs": len(wanted), "supernodes": dict(marked.by_reason),
        "top20_planted": top20, "ablations": ablation,
        "seconds": round(finished - analysed, 1), "load_seconds": round(analysed - loaded, 1),
        "total_seconds": round(time.perf_counter() - began, 1), **machine(),
    })


if __name__ == "__main__":
    main()

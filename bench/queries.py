"""Query latency: neighbourhood (depth 2) and paths on synthetic referrals, beside naive Cypher.

    python -m bench.queries --reports 100000
    python -m bench.queries --quick

After the load, the generated VPN exit list is loaded and supernodes are marked, as
`gracegraph load` does; ours then skips providers and supernodes (the default), and
`neighbourhood_through_supernodes` is ours with `include_supernodes` (the expansion as it was
before supernodes were skipped). The naive versions are what one writes first: an uncapped
variable-length match for the neighbourhood, and an enumeration of every path up to the hop
limit for paths, each under the same per-query timeout (a timed-out query counts at the timeout,
and is counted). Start points are planted network accounts and random accounts from truth.json;
path pairs are members of one network. Last line: one JSON object with p50/p95 in milliseconds
for ours and naive, and ratios.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from neo4j import Query
from neo4j.exceptions import ClientError

from bench.harness import bench_database, emit, machine
from loaders.cybertip import parse_cybertip
from loaders.exits import parse_exits
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.link_analysis import neighbourhood, paths
from queries.results import entity_id
from queries.supernodes import SupernodeRules, mark_supernodes

NAIVE_NEIGHBOURHOOD = "MATCH (a:Account {key: $key})-[*1..2]-(b) RETURN DISTINCT b.key AS key"
NAIVE_PATHS = ("MATCH p = (a:Account {key: $a})-[*1..$hops]-(b:Account {key: $b}) "
               "RETURN p ORDER BY length(p) LIMIT 50")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(call: Callable[[], object], timeout_s: float) -> tuple[float, bool]:
    began = time.perf_counter()
    try:
        call()
    except ClientError:
        return timeout_s * 1000, True
    return (time.perf_counter() - began) * 1000, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=10.0, help="per-query timeout (s), ours and naive")
    parser.add_argument("--quick", action="store_true", help="2,000 reports, 30 samples")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.samples = 2000, 30
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="gg-queries-") as tmp, bench_database() as (driver, settings, _):
        truth = generate(Path(tmp), reports=args.reports, seed=args.seed)
        db = settings.neo4j_database
        ensure_schema(driver, db)
        writer = GraphWriter(driver, db)
        load_files(writer, [Path(tmp) / f for f in truth.files], parse_cybertip)
        load_files(writer, [Path(tmp) / truth.vpn_exits], parse_exits, parallel=False)
        ctx = GraphContext(driver, db, args.timeout)
        mark_supernodes(GraphContext(driver, db, 600), SupernodeRules())
        network_accounts = [a for n in truth.networks for a in n["accounts"]]
        starts = [rng.choice(network_accounts) for _ in range(args.samples)]
        pairs = []
        for _ in range(args.samples):
            members = rng.choice([n for n in truth.networks if len(n["accounts"]) > 1])["accounts"]
            pairs.append(tuple(rng.sample(members, 2)))

        def naive(query: str, **params: object) -> Callable[[], object]:
            return lambda: driver.execute_query(Query(query, timeout=args.timeout), params,  # type: ignore[arg-type]
                                                database_=db)

        for key in starts[:5]:  # warm plans and caches for both
            neighbourhood(ctx, [entity_id("Account", key)], depth=2)
            timed(naive(NAIVE_NEIGHBOURHOOD, key=key), args.timeout)
        def ours_neighbourhood(key: str) -> Callable[[], object]:
            return lambda: neighbourhood(ctx, [entity_id("Account", key)], depth=2)

        def ours_paths(a: str, b: str) -> Callable[[], object]:
            return lambda: paths(ctx, entity_id("Account", a), entity_id("Account", b), max_hops=4)

        ours_n = [timed(ours_neighbourhood(k), args.timeout)[0] for k in starts]
        # The same expansion through providers and supernodes, as it was before they were skipped.
        def through_hubs(key: str) -> Callable[[], object]:
            return lambda: neighbourhood(ctx, [entity_id("Account", key)], depth=2, include_supernodes=True)

        hubs_n = [timed(through_hubs(k), args.timeout)[0] for k in starts]
        naive_n = [timed(naive(NAIVE_NEIGHBOURHOOD, key=k), args.timeout) for k in starts]
        ours_p = [timed(ours_paths(a, b), args.timeout)[0] for a, b in pairs]
        naive_p = [timed(naive(NAIVE_PATHS.replace("$hops", "4"), a=a, b=b), args.timeout) for a, b in pairs]

    def stats(name: str, values: list[float]) -> dict[str, float]:
        return {f"{name}_p50_ms": round(percentile(values, 0.5), 1),
                f"{name}_p95_ms": round(percentile(values, 0.95), 1)}

    result = {"reports": args.reports, "samples": args.samples, "timeout_s": args.timeout,
              **stats("neighbourhood", ours_n), **stats("naive_neighbourhood", [v for v, _ in naive_n]),
              **stats("neighbourhood_through_supernodes", hubs_n),
              **stats("paths", ours_p), **stats("naive_paths", [v for v, _ in naive_p]),
              "naive_neighbourhood_timeouts": sum(t for _, t in naive_n),
              "naive_paths_timeouts": sum(t for _, t in naive_p), **machine()}
    result["neighbourhood_p95_ratio"] = round(result["naive_neighbourhood_p95_ms"] / result["neighbourhood_p95_ms"], 1)
    result["paths_p95_ratio"] = round(result["naive_paths_p95_ms"] / result["paths_p95_ms"], 1)
    emit(result)


if __name__ == "__main__":
    main()

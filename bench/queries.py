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
path pairs are members of one network. Ours and the naive query alternate sample by sample, so
that a busy machine's noise falls on both alike. With `--loaded TRUTH_JSON`, the graph already in
the server named by NEO4J_URI is used (nothing cleared or loaded but the exit list next to
truth.json; supernodes marked), to time a 100k graph that took long to load. Last line: one JSON
object with p50/p95 in milliseconds for ours and naive, and ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from neo4j import Driver, Query
from neo4j.exceptions import ClientError

from bench.harness import bench_database, emit, machine
from graph_service.database import open_driver
from graph_service.settings import Settings
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
    parser.add_argument("--loaded", metavar="TRUTH_JSON", help="use the graph already in NEO4J_URI's server")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.samples = 2000, 30
    rng = random.Random(args.seed)

    with ExitStack() as stack:
        if args.loaded:
            driver, db, truth = loaded_graph(Path(args.loaded), stack)
            args.reports = truth["params"]["reports"]
        else:
            driver, settings, _ = stack.enter_context(bench_database())
            db = settings.neo4j_database
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gg-queries-")))
            truth = fresh_graph(driver, db, tmp, args.reports, args.seed)
        ctx = GraphContext(driver, db, args.timeout)
        mark_supernodes(GraphContext(driver, db, 600), SupernodeRules())
        network_accounts = [a for n in truth["networks"] for a in n["accounts"]]
        starts = [rng.choice(network_accounts) for _ in range(args.samples)]
        pairs = []
        for _ in range(args.samples):
            members = rng.choice([n for n in truth["networks"] if len(n["accounts"]) > 1])["accounts"]
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

        # The same expansion through providers and supernodes, as it was before they were skipped.
        def through_hubs(key: str) -> Callable[[], object]:
            return lambda: neighbourhood(ctx, [entity_id("Account", key)], depth=2, include_supernodes=True)

        ours_n, hubs_n, naive_n = [], [], []
        for k in starts:
            ours_n.append(timed(ours_neighbourhood(k), args.timeout)[0])
            hubs_n.append(timed(through_hubs(k), args.timeout)[0])
            naive_n.append(timed(naive(NAIVE_NEIGHBOURHOOD, key=k), args.timeout))
        ours_p, naive_p = [], []
        for a, b in pairs:
            ours_p.append(timed(ours_paths(a, b), args.timeout)[0])
            naive_p.append(timed(naive(NAIVE_PATHS.replace("$hops", "4"), a=a, b=b), args.timeout))

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


def fresh_graph(driver: Driver, db: str, tmp: Path, reports: int, seed: int) -> dict[str, Any]:
    """Generate and load `reports` synthetic reports and the exit list, as `gracegraph load` does."""
    truth = generate(tmp, reports=reports, seed=seed)
    ensure_schema(driver, db)
    writer = GraphWriter(driver, db)
    load_files(writer, [tmp / f for f in truth.files], parse_cybertip)
    load_files(writer, [tmp / truth.vpn_exits], parse_exits, parallel=False)
    return json.loads((tmp / "truth.json").read_text())


def loaded_graph(truth_json: Path, stack: ExitStack) -> tuple[Driver, str, dict[str, Any]]:
    """The graph already loaded in NEO4J_URI's server; its exit list loaded too (idempotent)."""
    settings = Settings()
    driver = open_driver(settings, start=False)
    stack.callback(driver.close)
    truth = json.loads(truth_json.read_text())
    exits = truth_json.parent / truth["vpn_exits"]
    load_files(GraphWriter(driver, settings.neo4j_database), [exits], parse_exits, parallel=False)
    return driver, settings.neo4j_database, truth


if __name__ == "__main__":
    main()

"""Deconfliction throughput: 10k mixed identifiers in one batched call, beside one call per identifier.

    python -m bench.deconfliction --reports 100000
    python -m bench.deconfliction --quick
    NEO4J_URI=bolt://... python -m bench.deconfliction --loaded synth-100000/truth.json

Synthetic referrals are loaded (with the VPN exit list, supernodes marked), then filed in cases of
100 reports each, owned in turn by ten agencies, through `queries.cases` as the API does. The
identifiers are drawn from the graph itself, mixed as an investigator's list would be (emails,
phones, IPs with a moment of use, devices, accounts, file hashes by MD5, names with birth dates),
plus one in ten that no report holds, plus one in fifty that is malformed. The batch is asked
`--runs` times (median reported, after one warm-up), at depth 0 with confirmed identities, and
once at depth 1; the client's own CPU time per batch and the machine's 1-minute load average
before and after the timed calls are reported beside the times, since the machine may be shared.
The one-per-query baseline asks `--singles` identifiers one call each (the same
function, a list of one) and is extrapolated to the whole list; ratios are of medians.
With `--loaded TRUTH_JSON`, the graph already in the server named by NEO4J_URI is used, to time a
graph that took long to load: nothing is cleared or loaded but the exit list next to truth.json,
the schema is brought to the current version as every load does, supernodes are marked, and the
reports are filed in cases as above only when the graph has no case yet.
Last line: one JSON object, times in seconds unless the name says ms.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from neo4j import Driver

from bench.harness import bench_database, emit, machine, median
from bench.queries import loaded_graph
from loaders.cybertip import parse_cybertip
from loaders.exits import parse_exits
from loaders.model import Label, cypher
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.cases import assign_reports, create_case
from queries.context import GraphContext
from queries.deconfliction import Identifier, deconflict
from queries.supernodes import SupernodeRules, mark_supernodes
from queries.visibility import Clearance, Scope

AGENCIES = [f"AG-{n:02d}" for n in range(10)]
CASE_SIZE = 100

_SAMPLES = {
    "email": "MATCH (n:Email) RETURN n.key AS value, null AS type, null AS at, null AS dob",
    "phone": "MATCH (n:Phone) RETURN n.key AS value, null AS type, null AS at, null AS dob",
    "ip": ("MATCH (:Account)-[u:USED_IP]->(n:IP) WHERE u.first_seen IS NOT NULL "
           "RETURN n.key AS value, null AS type, u.first_seen AS at, null AS dob"),
    "device": "MATCH (n:Device) RETURN n.key AS value, null AS type, null AS at, null AS dob",
    "account": "MATCH (n:Account) RETURN n.key AS value, null AS type, null AS at, null AS dob",
    "file": "MATCH (n:File) WHERE n.md5 IS NOT NULL RETURN n.md5 AS value, 'md5' AS type, null AS at, null AS dob",
    "person": ("MATCH (n:Person) WHERE n.name IS NOT NULL AND n.date_of_birth IS NOT NULL "
               "RETURN n.name AS value, null AS type, null AS at, toString(n.date_of_birth) AS dob"),
}


def fresh_graph(driver: Driver, db: str, tmp: Path, reports: int, seed: int) -> float:
    """Generate and load `reports` synthetic reports and the exit list; returns the load's seconds."""
    truth = generate(tmp, reports=reports, seed=seed)
    ensure_schema(driver, db)
    writer = GraphWriter(driver, db)
    load_s, _ = timed(lambda: load_files(writer, [tmp / f for f in truth.files], parse_cybertip))
    load_files(writer, [tmp / truth.vpn_exits], parse_exits, parallel=False)
    return load_s


def existing_cases(ctx: GraphContext) -> int:
    return int(ctx.read(cypher("MATCH (c:{case}) RETURN count(c) AS n", case=Label.CASE))[0]["n"])


def file_cases(ctx: GraphContext) -> int:
    keys = sorted(r["key"] for r in ctx.read("MATCH (r:Report) WHERE r.incident_at IS NOT NULL RETURN r.key AS key"))
    cases = 0
    for start in range(0, len(keys), CASE_SIZE):
        agency = AGENCIES[cases % len(AGENCIES)]
        key = f"{agency}-{cases:05d}"
        create_case(ctx, Scope(agency, Clearance.OWN_CASES), key, contact=f"duty officer {agency}")
        assign_reports(ctx, Scope(agency, Clearance.EVERYTHING), key, keys[start:start + CASE_SIZE])
        cases += 1
    return cases


def identifiers(ctx: GraphContext, count: int, rng: random.Random) -> list[Identifier]:
    share = count * 88 // 100 // len(_SAMPLES)
    chosen: list[Identifier] = []
    for kind, query in _SAMPLES.items():
        rows = ctx.read(query)
        for row in rng.sample(rows, min(share, len(rows))):
            at = row["at"].to_native() if row["at"] is not None else None
            chosen.append(Identifier(kind, str(row["value"]), type=row["type"], at=at, birth_date=row["dob"]))
    while len(chosen) < count * 98 // 100:  # absent: well-formed, held by no report
        chosen.append(Identifier("email", f"nobody{len(chosen)}@absent.example"))
    while len(chosen) < count:  # malformed: refused per identifier, the batch goes on
        chosen.append(Identifier("ip", f"999.1.1.{len(chosen)}"))
    rng.shuffle(chosen)
    return chosen


def timed(call: Any) -> tuple[float, Any]:
    began = time.perf_counter()
    result = call()
    return time.perf_counter() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--identifiers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--singles", type=int, default=300, help="identifiers asked one call each")
    parser.add_argument("--quick", action="store_true", help="2,000 reports, 2,000 identifiers, 3 runs, 100 singles")
    parser.add_argument("--loaded", metavar="TRUTH_JSON", help="use the graph already in NEO4J_URI's server")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.identifiers, args.runs, args.singles = 2000, 2000, 3, 100
    rng = random.Random(args.seed)

    with ExitStack() as stack:
        load_s: float | None = None
        if args.loaded:
            driver, db, truth = loaded_graph(Path(args.loaded), stack)
            args.reports = truth["params"]["reports"]
            ensure_schema(driver, db)
        else:
            driver, settings, _ = stack.enter_context(bench_database())
            db = settings.neo4j_database
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gg-deconf-")))
            load_s = fresh_graph(driver, db, tmp, args.reports, args.seed)
        slow = GraphContext(driver, db, 1800)
        mark_supernodes(slow, SupernodeRules())
        cases_s, cases = timed(lambda: existing_cases(slow) or file_cases(slow))
        ctx = GraphContext(driver, db, 600)
        items = identifiers(ctx, args.identifiers, rng)
        scope = Scope(AGENCIES[0], Clearance.OWN_CASES)

        deconflict(ctx, scope, items)  # warm-up: plans and page cache
        load_before = os.getloadavg()[0]
        cpu_before = time.process_time()
        runs = [timed(lambda: deconflict(ctx, scope, items)) for _ in range(args.runs)]
        client_cpu = (time.process_time() - cpu_before) / args.runs
        batch = [s for s, _ in runs]
        answers = runs[-1][1]
        depth1_s, _ = timed(lambda: deconflict(ctx, scope, items, depth=1))
        singles = [timed(lambda item=item: deconflict(ctx, scope, [item]))[0] for item in items[:args.singles]]
        load_after = os.getloadavg()[0]

    per_single = median(singles)
    result = {
        "reports": args.reports, "identifiers": len(items), "cases": cases, "agencies": len(AGENCIES),
        "loaded": bool(args.loaded), "load_s": None if load_s is None else round(load_s, 1),
        "file_cases_s": round(cases_s, 1),
        "batch_median_s": round(median(batch), 3), "batch_runs_s": [round(s, 3) for s in batch],
        "batch_depth1_s": round(depth1_s, 3), "batch_client_cpu_s": round(client_cpu, 3),
        "load_average_1m": [round(load_before, 1), round(load_after, 1)],
        "single_median_ms": round(per_single * 1000, 2), "single_sampled": len(singles),
        "single_extrapolated_s": round(per_single * len(items), 1),
        "batch_speedup": round(per_single * len(items) / median(batch), 1),
        "identifiers_with_hits": sum(1 for a in answers if a.hits),
        "hits": sum(len(a.hits) for a in answers), "refused": sum(1 for a in answers if a.error),
        "target_batch_s": 2.0, **machine(),
    }
    emit(result)


if __name__ == "__main__":
    main()

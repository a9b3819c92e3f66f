"""Ingest speed: synthetic referrals into Neo4j by our loader and by the naive baseline.

    python -m bench.ingest --reports 10000
    python -m bench.ingest --quick

Both run in the same process against the same server, each into an emptied database with the same
schema. The naive loader gets a prefix of the same reports (it is slow); its rate is elements per
second over what it wrote. Last line: one JSON object with reports, elements, elements_per_s,
naive_elements_per_s, ratio (ours / naive), peak_rss_mb (this process), store_mb.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from bench.harness import ROOT, bench_database, clear, dir_size_mb, element_count, emit, machine, peak_rss_mb
from bench.naive_loader import load_naively
from bench.offline_import import import_offline
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--naive-reports", type=int, default=1000,
                        help="how many of the reports the naive loader writes")
    parser.add_argument("--batch-size", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="small run: 2,000 reports, 300 naive")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.naive_reports = 2000, 300

    with tempfile.TemporaryDirectory(prefix="gg-ingest-") as tmp:
        began = time.perf_counter()
        truth = generate(Path(tmp), reports=args.reports, seed=args.seed)
        generate_s = time.perf_counter() - began
        files = [Path(tmp) / name for name in truth.files]
        with bench_database() as (driver, settings, data_dir):
            db = settings.neo4j_database
            ensure_schema(driver, db)
            began = time.perf_counter()
            summary = load_files(GraphWriter(driver, db), files, parse_cybertip, batch_size=args.batch_size)
            ours_s = time.perf_counter() - began
            elements = element_count(driver, db)
            rss = peak_rss_mb()
            store = dir_size_mb(data_dir)
            rerun = time.perf_counter()
            again = load_files(GraphWriter(driver, db), files, parse_cybertip, batch_size=args.batch_size)
            rerun_s = time.perf_counter() - rerun

            clear(driver, db)
            ensure_schema(driver, db)
            reports = itertools.islice(itertools.chain.from_iterable(parse_cybertip(f) for f in files),
                                       args.naive_reports)
            began = time.perf_counter()
            load_naively(driver, db, reports)
            naive_s = time.perf_counter() - began
            naive_elements = element_count(driver, db)

        all_records = itertools.chain.from_iterable(parse_cybertip(f) for f in files)
        offline = import_offline(all_records, Path(tmp) / "offline", ROOT / ".gracegraph" / "neo4j" / "lib")

    ours_rate = elements / ours_s
    naive_rate = naive_elements / naive_s
    emit({
        "reports": args.reports, "elements": elements, "seconds": round(ours_s, 2),
        "elements_per_s": round(ours_rate), "naive_reports": args.naive_reports,
        "naive_elements": naive_elements, "naive_elements_per_s": round(naive_rate),
        "ratio": round(ours_rate / naive_rate, 1), "peak_rss_mb": rss, "store_mb": store,
        "rejected": sum(summary.rejected.values()), "generate_s": round(generate_s, 1),
        "reload_s": round(rerun_s, 2), "reload_created": again.written.elements_created,
        "offline_import_s": round(offline["import_s"], 2), "offline_prep_s": round(offline["prep_s"], 2),
        "offline_elements_per_s": round(elements / (offline["import_s"] + offline["prep_s"])),
        "vs_offline": round(ours_rate / (elements / (offline["import_s"] + offline["prep_s"])), 2),
        **machine(),
    })


if __name__ == "__main__":
    main()

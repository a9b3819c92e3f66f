"""Entity resolution: pairwise precision, recall and F1 against the truth, comparisons, time, memory.

    python -m bench.resolution                          # 20k synthetic reports, beside Splink
    python -m bench.resolution --reports 20000 --seed 11 --no-splink
    python -m bench.resolution --scale 10000,100000,1000000
    python -m bench.resolution --csv people.csv --mapping docs/mappings/persons.yaml --truth-column person_id \\
        --out clusters.csv
    python -m bench.resolution --write-csv people.csv --records 20000   # a person table to try the CSV path
    python -m bench.resolution --quick

Synthetic path: the generator writes CyberTip XML and truth.json; the reports are parsed by the
loader (no Neo4j: `records_from_parsed` gives the records `gracegraph resolve` reads from the graph,
a test holds the two equal), resolved, and scored: a pair of accounts is true when truth.json lists
them under one person. Predicted pairs are those inside one cluster (connected components of the
links over the default threshold). Splink runs on the same records (`bench/splink_baseline.py`).

Scale path: records come straight from the generator's plan (`bench/synthetic_records.py`), made
and saved by one child process; a second child loads them and resolves, so its time (wall and
CPU) and peak memory are resolution's alone, records included.

CSV path: any table of person records read through the tabular loader's YAML mapping
(docs/resolution.md); the truth column is read only for scoring. `--out` writes `id,cluster`
for every row. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import emit, machine, peak_rss_mb
from queries.resolution import ResolutionParams, resolve
from queries.resolution_clusters import components, pairwise_scores
from queries.resolution_records import RecordTable, SourceRecord, build_table
from queries.resolution_sources import records_from_parsed

Links = tuple[np.ndarray, np.ndarray]


def resolved_clusters(records: list[SourceRecord],
                      params: ResolutionParams) -> tuple[RecordTable, np.ndarray, dict[str, Any], Links]:
    """Table, cluster label per record, the run's figures (time: table, resolve, clusters), links."""
    began, cpu = time.perf_counter(), time.process_time()
    table = build_table(records)
    res = resolve(table, params)
    left, right = res.links()
    labels = components(len(table), left, right)
    figures: dict[str, Any] = {**res.counts(), "seconds": round(time.perf_counter() - began, 2),
               "cpu_seconds": round(time.process_time() - cpu, 2), **res.timings,
               "em_iterations": res.model.iterations, "em_converged": res.model.converged}
    figures.pop("pairs_by_key", None)
    return table, labels, figures, (left, right)


def _scores(prefix: str, labels: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    s = pairwise_scores(labels, truth)
    return {f"{prefix}precision": s.precision, f"{prefix}recall": s.recall, f"{prefix}f1": s.f1,
            f"{prefix}true_pairs": s.true_pairs, f"{prefix}predicted_pairs": s.predicted_pairs}


def synthetic(reports: int, seed: int, params: ResolutionParams, splink: bool) -> dict[str, Any]:
    from loaders.cybertip import parse_cybertip
    from loaders.synthetic import generate

    with tempfile.TemporaryDirectory(prefix="gg-resolution-") as tmp:
        truth = generate(Path(tmp), reports=reports, seed=seed)
        records = records_from_parsed((r for name in truth.files for r in parse_cybertip(Path(tmp) / name)),
                                      params.device_max_accounts, params.ip_max_accounts)
    person = {f"Account:{a}": p["id"] for p in truth.persons for a in p["accounts"]}
    table, labels, figures, (left, right) = resolved_clusters(records, params)
    truth_labels = np.array([hash(person.get(i, i)) for i in table.ids])
    result: dict[str, Any] = {"mode": "synthetic", "reports": reports, "seed": seed, **figures,
                              **_scores("", labels, truth_labels),
                              "link_precision": round(float((truth_labels[left] == truth_labels[right]).mean()), 4)
                              if len(left) else 1.0}
    if splink:
        from bench.splink_baseline import splink_clusters
        from queries.resolution_blocking import BlockingLimits

        limits = BlockingLimits(params.max_block, params.device_max_accounts, params.ip_max_accounts,
                                params.ip_window_s)
        try:
            splink_labels, info = splink_clusters(table, params.threshold, limits)
        except ValueError as exc:  # Splink's EM can fail on small data (m values that underflow)
            result["splink_error"] = str(exc)[:300]
            return result
        result.update(info)
        result.update(_scores("splink_", splink_labels, truth_labels))
        result["time_ratio_splink_over_ours"] = round(info["splink_seconds"] / max(result["seconds"], 1e-9), 1)
    return result


# -- scale ----------------------------------------------------------------------------------------------

def _child(args: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "bench.resolution", *args], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scale(sizes: list[int], seed: int) -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="gg-resolution-scale-") as tmp:
        for size in sizes:
            path = str(Path(tmp) / f"records-{size}.pickle")
            made = _child(["--make-records", str(size), "--seed", str(seed), "--pickle", path])
            got = _child(["--resolve-pickle", path])
            os.unlink(path)
            rows.append({"target_records": size, "generate_seconds": made["seconds"], **got})
    return {"mode": "scale", "seed": seed, "sizes": rows}


def make_records(size: int, seed: int, path: str) -> dict[str, Any]:
    from bench.synthetic_records import scenario_records

    began = time.perf_counter()
    records, owner = scenario_records(size, seed)
    with open(path, "wb") as f:
        pickle.dump((records, owner), f, protocol=pickle.HIGHEST_PROTOCOL)
    return {"records": len(records), "seconds": round(time.perf_counter() - began, 1)}


def high_water_mb() -> float:
    """This process's peak resident memory. `ru_maxrss` survives exec on Linux (a child would report
    its parent's peak), the kernel's VmHWM of the new address space does not."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return peak_rss_mb()


def resolve_pickle(path: str) -> dict[str, Any]:
    with open(path, "rb") as f:
        records, owner = pickle.load(f)
    loaded_rss = high_water_mb()
    table, labels, figures, _ = resolved_clusters(records, ResolutionParams())
    truth = np.array([hash(owner[i]) for i in table.ids])
    return {**figures, **_scores("", labels, truth), "peak_rss_mb": high_water_mb(),
            "rss_after_loading_records_mb": loaded_rss}


# -- CSV -------------------------------------------------------------------------------------------------

def score_csv(path: Path, mapping_path: Path, truth_column: str, out: Path | None,
              params: ResolutionParams, id_column: str | None = None) -> dict[str, Any]:
    """Resolve a person table read through a tabular mapping; score against `truth_column`."""
    from loaders.tabular import load_mapping, parse_table

    mapping = load_mapping(mapping_path)
    parsed = list(parse_table(path, mapping=mapping))
    with path.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=mapping.delimiter or ","))
    fold = {k.strip().casefold(): k for k in (rows[0].keys() if rows else [])}
    if truth_column.strip().casefold() not in fold:
        raise SystemExit(f"{path}: no column {truth_column!r} (columns: {', '.join(fold.values())})")
    truth_key = fold[truth_column.strip().casefold()]
    id_key = fold.get(id_column.strip().casefold()) if id_column else None
    records = records_from_parsed(parsed, params.device_max_accounts, params.ip_max_accounts)
    table, labels, figures, _ = resolved_clusters(records, params)
    row_of = {}  # record id -> data row number (2 = first data row, as the loader numbers them)
    for rec_id in table.ids:
        record_key = rec_id.split(":", 1)[1]  # table:<source>:<row>/<entity>
        row_of[rec_id] = int(record_key.rsplit("/", 1)[0].rsplit(":", 1)[1])
    cluster_of_row = {row_of[i]: f"c{labels[k]}" for k, i in enumerate(table.ids)}
    predicted, truth = [], []
    out_rows = []
    for n, row in enumerate(rows, start=2):
        cluster = cluster_of_row.get(n, f"row{n}")  # a row with nothing to compare is alone
        predicted.append(cluster)
        truth.append(row[truth_key] or f"row{n}")
        out_rows.append((row[id_key] if id_key else str(n), cluster))
    if out is not None:
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "cluster"])
            writer.writerows(out_rows)
    _, p_codes = np.unique(np.array(predicted), return_inverse=True)
    _, t_codes = np.unique(np.array(truth), return_inverse=True)
    return {"mode": "csv", "file": str(path), "rows": len(rows), **figures, **_scores("", p_codes, t_codes)}


def write_person_csv(path: Path, size: int, seed: int) -> dict[str, Any]:
    """The generator's records as a person table (one row per account that has a reported person)."""
    from bench.synthetic_records import scenario_records

    records, owner = scenario_records(size, seed)
    columns = ["record_id", "given_name", "surname", "dob", "street", "town", "postcode", "phone", "email",
               "national_id", "person_id"]
    written = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for rec in records:
            if not rec.persons:
                continue
            first, last, _ = rec.persons[0]
            writer.writerow([rec.id, first, last, rec.dobs[0] if rec.dobs else "", "", "", "",
                             rec.phones[0] if rec.phones else "", rec.emails[0] if rec.emails else "", "",
                             owner[rec.id]])
            written += 1
    return {"mode": "write-csv", "file": str(path), "rows": written}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--splink", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--scale", help="comma-separated record counts, e.g. 10000,100000,1000000")
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--mapping", type=Path)
    parser.add_argument("--truth-column")
    parser.add_argument("--id-column")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--write-csv", type=Path)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="2,000 reports; scale at 2,000 and 5,000 records")
    parser.add_argument("--make-records", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pickle", help=argparse.SUPPRESS)
    parser.add_argument("--resolve-pickle", help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = ResolutionParams(threshold=args.threshold or ResolutionParams().threshold)
    if args.make_records:
        emit(make_records(args.make_records, args.seed, args.pickle))
        return
    if args.resolve_pickle:
        emit(resolve_pickle(args.resolve_pickle))
        return
    if args.write_csv:
        emit(write_person_csv(args.write_csv, args.records, args.seed))
        return
    if args.csv:
        if not (args.mapping and args.truth_column):
            parser.error("--csv needs --mapping and --truth-column")
        result = score_csv(args.csv, args.mapping, args.truth_column, args.out, params, args.id_column)
    elif args.scale:
        result = scale([int(s) for s in args.scale.split(",")], args.seed)
    elif args.quick:
        result = synthetic(2000, args.seed, params, args.splink)
        result["scale"] = scale([2000, 5000], args.seed)["sizes"]
    else:
        result = synthetic(args.reports, args.seed, params, args.splink)
    result.update(machine())
    result["peak_rss_mb_this_process"] = high_water_mb()
    emit(result)


if __name__ == "__main__":
    main()

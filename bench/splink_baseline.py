"""The field's reference tool on the same records: Splink (DuckDB backend), for `bench.resolution`.

Splink gets the features ours uses, normalised the same way (`RecordTable`): given name,
surname, birth date, the first two stripped handles, and as arrays the canonical emails, phones,
devices (supernodes left out), rare addresses and provider ties (a tie is a token both records
carry). It is trained as its documentation recommends: the prior from deterministic rules (a
shared email, phone or device) with recall 0.7, u by random sampling, m by EM in two sessions
(blocked on birth date, then on handle), and scored with blocking rules like ours. Clusters are
Splink's connected components at the same probability threshold.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from queries.resolution_blocking import BlockingLimits, key_rows
from queries.resolution_records import RecordTable


def _columns(table: RecordTable, limits: BlockingLimits) -> dict[str, list[Any]]:
    n = len(table)
    ties: list[list[str]] = [[] for _ in range(n)]
    for a, b in table.associated:
        ties[a].append(f"tie:{a}-{b}")
        ties[b].append(f"tie:{a}-{b}")
    rows, keys = key_rows(table).get("provider", (np.zeros(0, np.int64), np.zeros(0, np.int64)))
    for row, key in zip(rows.tolist(), keys.tolist(), strict=True):
        ties[row].append(f"id:{key}")
    users: dict[str, set[int]] = {}
    for i, uses in enumerate(table.ips):
        for ip, _ in uses:
            users.setdefault(ip, set()).add(i)
    rare = {ip for ip, who in users.items() if len(who) <= limits.ip_max_accounts}
    return {
        "unique_id": list(range(n)),
        "first_name": [table.first.text(i) or None for i in range(n)],
        "surname": [table.last.text(i) or None for i in range(n)],
        "dob": [table.dob.text(i) or None for i in range(n)],
        "handle": [table.handles.text(i, 0) or None for i in range(n)],
        "handle2": [table.handles.text(i, 1) or None for i in range(n)],
        "emails": [list(v) or None for v in table.emails],
        "phones": [list(v) or None for v in table.phones],
        "devices": [list(v) or None for v in table.devices],
        "ips": [sorted({ip for ip, _ in uses} & rare) or None for uses in table.ips],
        "ties": [sorted(set(t)) or None for t in ties],
    }


def splink_clusters(table: RecordTable, threshold: float, limits: BlockingLimits) -> tuple[np.ndarray, dict[str, Any]]:
    """Splink's cluster label per record, and its timings and comparison count."""
    import pyarrow as pa
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    began = time.perf_counter()
    data = pa.table(_columns(table, limits))
    arrays = ("emails", "phones", "devices", "ips", "ties")
    blocking: list[Any] = [block_on("first_name", "surname", "dob"), block_on("surname", "dob"),
                           block_on("first_name", "dob"), block_on("handle"), block_on("substr(handle, 1, 6)"),
                           block_on("handle2")]
    blocking += [block_on(name, arrays_to_explode=[name]) for name in arrays]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("first_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.JaroWinklerAtThresholds("handle", [0.92, 0.8]),
            *(cl.ArrayIntersectAtSizes(name, [1]) for name in arrays),
        ],
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(data), settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on(name, arrays_to_explode=[name]) for name in ("emails", "phones", "devices")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("handle"))
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    rows = clusters.as_record_list()
    labels = np.arange(len(table), dtype=np.int64)
    for row in rows:
        labels[int(row["unique_id"])] = hash(row["cluster_id"])
    done = time.perf_counter()
    return labels, {"splink_seconds": round(done - began, 2), "splink_training_seconds": round(trained - began, 2),
                    "splink_links": len(predictions.as_record_list())}

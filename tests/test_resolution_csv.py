"""The generic path: any CSV of person records, read through a tabular mapping, resolved and scored."""

from __future__ import annotations

import csv
from pathlib import Path

from bench.resolution import score_csv, write_person_csv
from queries.resolution import ResolutionParams

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "docs" / "mappings" / "persons.yaml"


def test_person_csv_is_resolved_scored_and_written_back(tmp_path: Path) -> None:
    table = tmp_path / "people.csv"
    write_person_csv(table, 1500, seed=5)
    with table.open("a", newline="", encoding="utf-8") as f:  # rows a spreadsheet export might hold
        writer = csv.writer(f)
        writer.writerow(["x1", "Zoë", "Ølberg", "1971-03-02", "1 Main St", "Leeds", "LS1 1AA", "", "", "AB123", "zx"])
        writer.writerow(["x2", "ZOE", "OLBERG", "03/02/1971", "1 Main Street", "Leeds", "LS11AA",
                         "", "", "AB123", "zx"])
        writer.writerow(["x3", "", "", "not a date", "", "", "", "not a phone", "@", "", "alone"])
    out = tmp_path / "clusters.csv"
    result = score_csv(table, MAPPING, "person_id", out, ResolutionParams(u_sample=50_000), id_column="record_id")
    with table.open(newline="", encoding="utf-8") as f:
        ids = [row["record_id"] for row in csv.DictReader(f)]
    with out.open(newline="", encoding="utf-8") as f:
        clusters = {row["id"]: row["cluster"] for row in csv.DictReader(f)}
    assert sorted(clusters) == sorted(ids) and len(ids) == result["rows"]
    assert clusters["x1"] == clusters["x2"] != clusters["x3"]
    assert result["precision"] > 0.95 and result["recall"] > 0.85, result

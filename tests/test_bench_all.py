"""`python -m bench all`: sizes, which benches exist, the figures it plots, the rows it files."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from bench.__main__ import SECTION, add_rows, plot, present, size, timed_figures


def test_sizes_read_as_report_counts() -> None:
    assert [size(s) for s in ("10k", "100K", "1m", "2500", "1.5k")] == [10_000, 100_000, 1_000_000, 2500, 1500]


def test_absent_benches_are_known_absent() -> None:
    assert present("ingest") and present("queries")
    assert not present("no_such_bench")


def row(reports: int, seconds: float) -> dict:
    return {"bench": "ingest", "reports": reports, "wall_s": seconds * 2, "exit": 0, "date": "2026-11-26",
            "commit": "abc1234", "result": {"seconds": seconds, "neighbourhood_p50_ms": seconds * 10,
                                            "synthetic": {"pull_s": seconds / 2}, "elements_per_s": 5.0}}


def test_timed_figures_are_seconds_from_s_and_ms_keys_one_level_deep() -> None:
    figures = timed_figures(row(1000, 4.0))
    assert figures == {"wall_s": 8.0, "seconds": 4.0, "neighbourhood_p50_ms": 0.04, "synthetic.pull_s": 2.0}


def test_plot_is_drawn_from_the_json_lines(tmp_path: Path) -> None:
    runs = tmp_path / "runs.jsonl"
    runs.write_text("".join(json.dumps(row(n, n / 100)) + "\n" for n in (1000, 10_000)))
    out = plot(runs, tmp_path / "plot.png")
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 400


def test_rows_go_under_their_section_even_when_others_follow(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Ingest\n\ntext\n")
    add_rows(doc, ["| first |"])
    doc.write_text(doc.read_text() + "\n## Later section\n\n| other table |\n")
    add_rows(doc, ["| second |"])
    lines = doc.read_text().splitlines()
    at = lines.index(SECTION)
    assert lines.index("| first |") > at and lines.index("| second |") == lines.index("| first |") + 1
    assert lines.index("| second |") < lines.index("## Later section")

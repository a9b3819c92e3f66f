"""Every benchmark at several sizes, one command: `python -m bench all --sizes 10k,100k`.

    python -m bench all --sizes 10k,100k                 # every bench at both sizes
    python -m bench all --sizes 2k,10k --only ingest,queries
    python -m bench plot                                 # redraw docs/bench_scaling.png only

Each bench runs as its own process (`python -m bench.NAME`, on its own fresh Neo4j store) with the
size as its report count; its closing JSON line is appended, with the size, the bench's wall time,
the machine and the commit, to docs/bench_runs.jsonl, and a row per run to docs/benchmarks.md.
A bench module that does not exist (yet) is skipped with a note, not an error. The plot, one panel
per bench and one line per timed figure (keys ending in `_s` or `_ms`), is drawn from the JSON
lines file alone, so it can be redrawn or extended without re-running anything.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import ROOT, machine

RUNS = ROOT / "docs" / "bench_runs.jsonl"
PLOT = ROOT / "docs" / "bench_scaling.png"
BENCHMARKS = ROOT / "docs" / "benchmarks.md"

#: Each bench and its arguments for a size (reports); benches not in the tree are skipped with a note.
BENCHES: dict[str, list[str]] = {
    "ingest": ["--reports", "{n}", "--naive-reports", "500"],
    # The analyst's own `gracegraph load` into a kept store (resumed if an earlier attempt stopped).
    "scale_load": ["--reports", "{n}"],
    "queries": ["--reports", "{n}", "--samples", "30"],
    "resolution": ["--reports", "{n}", "--no-splink"],
    "communities": ["--parts", "synthetic", "--reports", "{n}"],
    "link_quality": ["--reports", "{n}"],
    "deconfliction": ["--reports", "{n}"],
    # Federated deconfliction: 1,000 identifiers asked of a peer holding the size's worth.
    "federation": ["--held", "{n}", "--asked", "1000", "--repeat", "1"],
}


def size(text: str) -> int:
    """`10k`, `1m`, `2500` -> reports."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def present(name: str) -> bool:
    return importlib.util.find_spec(f"bench.{name}") is not None


def run_one(name: str, reports: int) -> dict[str, Any]:
    args = [a.replace("{n}", str(reports)) for a in BENCHES[name]]
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", f"bench.{name}", *args], cwd=ROOT, text=True,
                          capture_output=True, check=False)
    wall = round(time.monotonic() - began, 1)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    row: dict[str, Any] = {"bench": name, "reports": reports, "wall_s": wall, "exit": done.returncode,
                           "date": datetime.now(UTC).strftime("%Y-%m-%d"), **machine()}
    if done.returncode == 0 and lines:
        row["result"] = json.loads(lines[-1])
    else:
        row["error"] = (done.stderr or done.stdout)[-2000:]
    return row


#: Keys that echo a bench's settings, not a time it measured.
SETTINGS_KEYS = frozenset({"timeout_s"})


def timed_figures(row: dict[str, Any]) -> dict[str, float]:
    """The timed figures of a run: `wall_s`, and every number whose key is `seconds` or ends in `_s` (not
    `_per_s`) or `_ms` in the bench's JSON (top level and one level down), in seconds."""
    found = {"wall_s": float(row["wall_s"])}

    def take(prefix: str, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key in SETTINGS_KEYS:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                if isinstance(value, dict) and not prefix:
                    take(f"{key}.", value)
                continue
            if key.endswith("_ms"):
                found[prefix + key] = value / 1000
            elif key == "seconds" or (key.endswith("_s") and not key.endswith("_per_s")):  # a rate is not a time
                found[prefix + key] = float(value)

    take("", row.get("result") or {})
    return found


def plot(runs: Path = RUNS, out: Path = PLOT) -> Path:
    """Time against size, one panel per bench (log-log), from the JSON lines alone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in runs.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if r.get("result")]
    benches = sorted({r["bench"] for r in rows})
    fig, axes = plt.subplots(1, max(len(benches), 1), figsize=(5.5 * max(len(benches), 1), 4.5), squeeze=False)
    for ax, name in zip(axes[0], benches, strict=False):
        series: dict[str, dict[int, float]] = {}
        for row in (r for r in rows if r["bench"] == name):
            for key, seconds in timed_figures(row).items():
                series.setdefault(key, {})[row["reports"]] = seconds  # the latest run at a size wins
        for key, points in sorted(series.items()):
            if len(points) < 2 or max(points.values()) <= 0:
                continue
            xs = sorted(points)
            ax.plot(xs, [max(points[x], 1e-4) for x in xs], marker="o", label=key)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"bench.{name}")
        ax.set_xlabel("synthetic reports")
        ax.set_ylabel("seconds")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Time against size (docs/bench_runs.jsonl)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def markdown_row(row: dict[str, Any]) -> str:
    figures = ", ".join(f"{k} {v:.3g}" for k, v in timed_figures(row).items())
    state = "ok" if row.get("result") else f"failed (exit {row['exit']})"
    return (f"| {row['date']} | {row['commit']} | `python -m bench.{row['bench']} "
            f"{' '.join(a.replace('{n}', str(row['reports'])) for a in BENCHES[row['bench']])}` | "
            f"{row['reports']:,} | {state} | {figures} |")


SECTION = "## Every bench by size (`python -m bench all`)"
TABLE_HEAD = ("| date | commit | command | reports | state | timed figures (s) |\n"
              "|---|---|---|---|---|---|")


def add_rows(path: Path, rows: list[str]) -> None:
    """Append `rows` to the table of SECTION in benchmarks.md (made at the end if absent)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if SECTION not in lines:
        lines += ["", SECTION, "", *TABLE_HEAD.splitlines()]
    at = lines.index(SECTION) + 1
    while at < len(lines) and not lines[at].startswith("|"):
        at += 1
    while at < len(lines) and lines[at].startswith("|"):
        at += 1
    lines[at:at] = rows
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("all", "plot"))
    parser.add_argument("--sizes", default="10k,100k", help="report counts, e.g. 10k,100k,1m")
    parser.add_argument("--only", help="comma-separated bench names (default: all of them)")
    args = parser.parse_args()
    if args.command == "plot":
        print(plot())
        return
    names = args.only.split(",") if args.only else list(BENCHES)
    rows: list[dict[str, Any]] = []
    for reports in (size(s) for s in args.sizes.split(",")):
        for name in names:
            if not present(name):
                print(f"skipped: bench.{name} is not in this tree", file=sys.stderr)
                continue
            print(f"running bench.{name} at {reports:,} reports…", file=sys.stderr, flush=True)
            row = run_one(name, reports)
            rows.append(row)
            with RUNS.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, sort_keys=True) + "\n")
    add_rows(BENCHMARKS, [markdown_row(r) for r in rows])
    plot()
    print(json.dumps({"benchmark": "all", "runs": [{k: r[k] for k in ("bench", "reports", "wall_s", "exit")}
                                                   for r in rows], "plot": str(PLOT.relative_to(ROOT))}))


if __name__ == "__main__":
    main()

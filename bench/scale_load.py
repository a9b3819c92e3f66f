"""A national-scale load: N synthetic reports through `gracegraph load`, into a store that is kept.

    python -m bench.scale_load --reports 1000000          # generate, start a server, load, report
    python -m bench.scale_load --reports 1000000          # again after a crash: resumes (--resume)
    python -m bench.scale_load --quick                    # 20k reports

The load is the analyst's own command (`gracegraph load cybertip DIR --resume`) run as a child
process against a server of this bench's own under `.gracegraph/bench/scale-N` (kept afterwards, so
that the query, deconfliction and community benches can time the same graph with `--loaded`).
A load that takes hours on 2 cores can be interrupted and re-run: finished files are skipped by
hash and the time of every attempt is added up. The graph's element count is sampled every minute
(`growth.jsonl` in the store's folder), which shows whether the rate falls as the graph grows.
The server is stopped at the end unless `--keep-running`; start it again on the same store with
`LocalNeo4j(home=<store>/neo4j, port=...)` (graph_service/neo4j_local) to time queries on it.
Last line: reports, elements, seconds, elements_per_s, peak_rss_mb (the largest of the loader's
processes), store_mb, the first and last tenth's rates, and the attempts; the samples also hold the
loader's and its parser's resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from bench.harness import ROOT, dir_size_mb, element_count, emit, machine
from graph_service.database import open_driver
from graph_service.neo4j_local import LocalNeo4j
from graph_service.settings import Settings
from loaders.synthetic import generate


def _rss_mb(pid: int) -> dict[str, float]:
    """Resident memory of the loader and of its parser process, so a growth with the load shows."""
    try:
        loader = psutil.Process(pid)
        found = {"loader_rss_mb": loader.memory_info().rss / 2**20}
        for child in loader.children():
            found["parser_rss_mb"] = found.get("parser_rss_mb", 0.0) + child.memory_info().rss / 2**20
    except psutil.Error:  # the load ended between two samples
        return {}
    return {k: round(v, 1) for k, v in found.items()}


def _sample(settings: Settings, growth: Path, loader: int, stop: threading.Event, every: float) -> None:
    """Append (time, elements, memory) every `every` seconds until `stop`; a failed count is skipped."""
    driver = open_driver(settings, start=False)
    try:
        while not stop.wait(every):
            try:
                count = element_count(driver, settings.neo4j_database)
            except Exception:  # a busy or restarting server: try again next time
                continue
            with growth.open("a") as f:
                f.write(json.dumps({"t": time.time(), "elements": count, **_rss_mb(loader)}) + "\n")
    finally:
        driver.close()


def _rates(growth: Path) -> dict[str, float]:
    """Elements per second over the first and last tenth of the elements written, and the largest
    memory sampled (from the samples)."""
    if not growth.exists():
        return {}
    points = [json.loads(line) for line in growth.read_text().splitlines() if line.strip()]
    if len(points) < 4:
        return {}
    total = points[-1]["elements"]

    def rate(lo: float, hi: float) -> float | None:
        inside = [p for p in points if lo * total <= p["elements"] <= hi * total]
        if len(inside) < 2 or inside[-1]["t"] == inside[0]["t"]:
            return None
        return round((inside[-1]["elements"] - inside[0]["elements"]) / (inside[-1]["t"] - inside[0]["t"]))

    peaks = {f"sampled_peak_{name}": max(p[name] for p in points if name in p)
             for name in ("loader_rss_mb", "parser_rss_mb") if any(name in p for p in points)}
    return {k: v for k, v in {"first_tenth_el_per_s": rate(0.0, 0.1),
                              "last_tenth_el_per_s": rate(0.9, 1.0), **peaks}.items() if v is not None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, help="the kept store (default .gracegraph/bench/scale-N)")
    parser.add_argument("--data", type=Path, help="the synthetic referrals (default .gracegraph/bench/synth-N)")
    parser.add_argument("--port", type=int, default=7730)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="8g")
    parser.add_argument("--sample-every", type=float, default=60.0, help="seconds between element counts")
    parser.add_argument("--keep-running", action="store_true",
                        help="leave the server up afterwards (for the `--loaded` benches)")
    parser.add_argument("--quick", action="store_true", help="20,000 reports")
    args = parser.parse_args()
    if args.quick:
        args.reports, args.sample_every = 20_000, 5.0
    home = args.home or ROOT / ".gracegraph" / "bench" / f"scale-{args.reports}"
    data = args.data or ROOT / ".gracegraph" / "bench" / f"synth-{args.reports}"
    home.mkdir(parents=True, exist_ok=True)
    state_path = home / "attempts.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {"attempts": []}

    generate_s = None
    if not (data / "truth.json").exists():
        began = time.perf_counter()
        generate(data, reports=args.reports, seed=args.seed)
        generate_s = round(time.perf_counter() - began, 1)

    server = LocalNeo4j(home=home / "neo4j", port=args.port, heap=args.heap, pagecache=args.pagecache,
                        lib=ROOT / ".gracegraph" / "neo4j" / "lib")
    server.start()
    settings = Settings(neo4j_uri=server.uri, home=home / "neo4j")
    env = {**os.environ, "NEO4J_URI": server.uri, "NEO4J_USER": settings.neo4j_user,
           "NEO4J_PASSWORD": settings.neo4j_password, "NEO4J_DATABASE": settings.neo4j_database}
    began = time.perf_counter()
    load = subprocess.Popen([sys.executable, "-m", "graph_service.cli", "load", "cybertip", str(data), "--resume"],
                            cwd=ROOT, env=env)
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(settings, home / "growth.jsonl", load.pid, stop,
                                                     args.sample_every), daemon=True)
    sampler.start()
    returncode = load.wait()
    seconds = time.perf_counter() - began
    stop.set()
    sampler.join()
    state["attempts"].append({"seconds": round(seconds, 1), "exit": returncode, "ended": time.time()})
    state_path.write_text(json.dumps(state, indent=1))

    driver = open_driver(settings, start=False)
    try:
        elements = element_count(driver, settings.neo4j_database)
    finally:
        driver.close()
        if not args.keep_running:
            server.stop()
    total_s = sum(a["seconds"] for a in state["attempts"])
    emit({
        "benchmark": "scale_load", "reports": args.reports, "elements": elements,
        "seconds": round(total_s, 1), "elements_per_s": round(elements / total_s),
        "attempts": len(state["attempts"]), "exit": returncode,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "store_mb": dir_size_mb(home / "neo4j" / "data"), "generate_s": generate_s,
        "uri": server.uri, "truth": str(data / "truth.json"), **_rates(home / "growth.jsonl"), **machine(),
    })
    if returncode != 0:
        sys.exit(returncode)


if __name__ == "__main__":
    main()

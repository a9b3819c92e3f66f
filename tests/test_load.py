"""Loading through the CLI into a real Neo4j: counts equal the planted truth, reloads change
nothing, hostile files write nothing, strict files load all or nothing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph_service.cli import app
from graph_service.settings import Settings, get_settings
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from tests.conftest import FIXTURES

runner = CliRunner()
CYBERTIP = FIXTURES / "cybertip"


@pytest.fixture(scope="module")
def cli_env(neo4j_settings: Settings) -> Iterator[None]:
    """The CLI reads its settings from the environment: point it at the test server."""
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("NEO4J_DATABASE", neo4j_settings.neo4j_database)
    get_settings.cache_clear()
    yield
    patch.undo()
    get_settings.cache_clear()


def counts(graph: GraphWriter) -> tuple[dict[str, int], dict[str, int]]:
    run = graph.driver.execute_query
    # Schema version and LoadRun nodes record the loads, not the referrals.
    nodes, _, _ = run("MATCH (n) WHERE NOT n:GracegraphSchema AND NOT n:LoadRun UNWIND labels(n) AS l "
                      "RETURN l, count(*) AS c", database_=graph.database)
    rels, _, _ = run("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS c", database_=graph.database)
    return {r["l"]: r["c"] for r in nodes}, {r["t"]: r["c"] for r in rels}


def load(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["load", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth")
    generate(out, reports=600, seed=11, bundle_size=200)
    return out, json.loads((out / "truth.json").read_text())


def test_synthetic_load_creates_exactly_the_planted_graph(graph: GraphWriter, cli_env: None,
                                                          synthetic: tuple[Path, dict]) -> None:
    folder, truth = synthetic
    code, output = load("cybertip", *(str(folder / f) for f in truth["files"]))
    assert code == 0, output
    nodes, rels = counts(graph)
    assert nodes == truth["counts"]["nodes"]
    assert rels == truth["counts"]["relationships"]
    assert f"rejected {len(truth['invalid'])}" in output
    for bad in truth["invalid"]:
        assert bad["value"][:40] in output or bad["report"] in output


def test_loading_again_creates_and_updates_nothing(graph: GraphWriter, cli_env: None,
                                                   synthetic: tuple[Path, dict]) -> None:
    folder, truth = synthetic
    before = counts(graph)
    code, output = load("cybertip", str(folder))
    assert code == 0, output
    assert f"created 0, updated 0, rejected {len(truth['invalid'])}" in output
    assert counts(graph) == before


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml", "external_dtd.xml"])
def test_files_with_entities_or_dtds_write_nothing(graph: GraphWriter, cli_env: None, name: str) -> None:
    before = counts(graph)
    code, output = load("cybertip", str(CYBERTIP / name))
    assert code == 1
    assert name in output and "DTD" in output.upper()
    assert counts(graph) == before


def test_truncated_file_names_its_position_and_keeps_reports_before_it(
        graph: GraphWriter, cli_env: None) -> None:
    code, output = load("cybertip", str(CYBERTIP / "truncated.xml"))
    assert code == 1
    assert "truncated.xml" in output and "line" in output
    records, _, _ = graph.driver.execute_query("MATCH (r:Report) WHERE r.key STARTS WITH 'cybertip:93000' "
                                               "RETURN r.key AS key ORDER BY key", database_=graph.database)
    assert [r["key"] for r in records] == ["cybertip:9300001", "cybertip:9300002"]


def test_strict_loads_nothing_of_a_file_with_a_bad_record(graph: GraphWriter, cli_env: None,
                                                          tmp_path: Path) -> None:
    bad = shutil.copy(CYBERTIP / "bad_identifiers.xml", tmp_path / "bad.xml")
    good = shutil.copy(CYBERTIP / "bundle.xml", tmp_path / "good.xml")
    graph.driver.execute_query("MATCH (r:Report) DETACH DELETE r", database_=graph.database)
    code, output = load("cybertip", "--strict", str(bad), str(good))
    assert code == 1 and "not loaded (--strict)" in output and "bad.xml" in output
    records, _, _ = graph.driver.execute_query("MATCH (r:Report) UNWIND r.sources AS s RETURN DISTINCT s",
                                               database_=graph.database)
    loaded = {r["s"] for r in records}
    assert loaded and all(key.startswith("cybertip:") for key in loaded)
    bad_ids = {line.split("<reportId>")[1].split("<")[0] for line in Path(bad).read_text().splitlines()
               if "<reportId>" in line}
    assert not loaded & {f"cybertip:{i}" for i in bad_ids}


def test_case_and_agency_own_the_loaded_reports(graph: GraphWriter, cli_env: None) -> None:
    code, output = load("cybertip", "--case", "OP-17", "--agency", "NCA-CEOP", str(CYBERTIP / "bundle.xml"))
    assert code == 0, output
    records, _, _ = graph.driver.execute_query(
        "MATCH (r:Report)-[:PART_OF]->(:Case {key: 'OP-17'})-[:OWNED_BY]->(:Agency {key: 'NCA-CEOP'}) "
        "RETURN count(r) AS n", database_=graph.database)
    assert records[0]["n"] == 3


def test_hashset_marks_known_files(graph: GraphWriter, cli_env: None, synthetic: tuple[Path, dict]) -> None:
    folder, truth = synthetic
    code, output = load("hashset", "--name", "synthetic-known", str(folder / truth["hashset"]))
    assert code == 0, output
    records, _, _ = graph.driver.execute_query(
        "MATCH (f:File {known: true})-[:LISTED_IN]->(:HashSet) RETURN collect(f.key) AS keys",
        database_=graph.database)
    known = set(records[0]["keys"])
    assert set(truth["popular_files"]) <= known


def test_table_with_mapping_links_accounts_to_ips(graph: GraphWriter, cli_env: None) -> None:
    mapping = Path(__file__).resolve().parent.parent / "docs" / "mappings" / "login_ips.yaml"
    code, output = load("table", "--mapping", str(mapping), str(FIXTURES / "tabular" / "login_ips.csv"))
    assert code == 0, output
    records, _, _ = graph.driver.execute_query(
        "MATCH (a:Account)-[r:USED_IP]->(i:IP {key: '192.0.2.10'}) RETURN a.key AS a, r.sources AS s",
        database_=graph.database)
    assert records and records[0]["s"][0].startswith("table:acme-login-log:")

"""Saved charts and exports through the GraphQL API: saveChart, chart, charts, exportChart, audited."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.app import create_app
from graph_service.audit import AuditLog
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from tests.charts import chart_state, network_subgraph
from tests.signin import signed_in

CHART = "id series name case version savedAt author state"
SAVE = f"""mutation Save($case: String!, $name: String!, $state: JSON!) {{
  saveChart(case: $case, name: $name, state: $state, author: "det.api") {{ {CHART} }}
}}"""
EXPORT = """query Export($id: ID!, $format: String!) {
  exportChart(chartId: $id, format: $format, actor: "det.api", agency: "ICAC") {
    chartId format filename mediaType encoding content size sha256 counts
  }
}"""


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("api-charts")
    planted = generate(out, reports=120, seed=99)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip)
    assert not summary.failed
    return planted


@pytest.fixture(scope="module")
def audit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit") / "audit.jsonl"


@pytest.fixture(scope="module")
def client(truth: Truth, neo4j_settings: Settings, audit_path: Path) -> Iterator[TestClient]:
    settings = neo4j_settings.model_copy(update={"audit_log": audit_path})
    with signed_in(create_app(settings), "det.api", "ICAC") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def state(driver: Any, neo4j_settings: Settings, truth: Truth) -> dict[str, Any]:
    subgraph = network_subgraph(GraphContext(driver, neo4j_settings.neo4j_database), truth, limit=30)
    return chart_state(subgraph, hide=[subgraph.nodes[-1].id], pin=[subgraph.nodes[0].id])


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def data(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    body = gql(client, query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def test_save_then_reopen_a_chart_with_its_graph(client: TestClient, state: dict[str, Any]) -> None:
    saved = data(client, SAVE, case="CASE-API-9", name="Network one", state=state)["saveChart"]
    assert saved["id"] == "CASE-API-9/network-one@1" and saved["author"] == "det.api"
    again = data(client, SAVE, case="CASE-API-9", name="Network one", state=state)["saveChart"]
    assert again["version"] == 2
    query = f"""query Chart($id: ID!) {{ chart(id: $id) {{ {CHART}
      graph(kept: true) {{ nodes {{ id }} edges {{ id sources }} missing }}
      drawn: graph {{ nodes {{ id }} }} }} }}"""
    chart = data(client, query, id="CASE-API-9/network-one")["chart"]
    assert chart["version"] == 2 and chart["state"] == state
    kept = [n["id"] for n in chart["graph"]["nodes"]]
    assert kept == [n["id"] for n in state["nodes"]]  # hidden ones too, to reopen the chart
    assert [n["id"] for n in chart["drawn"]["nodes"]] == kept[:-1]
    assert chart["graph"]["edges"] and all(e["sources"] for e in chart["graph"]["edges"])
    listed = data(client, "query { charts(case: \"CASE-API-9\") { id version } }")["charts"]
    assert listed == [{"id": "CASE-API-9/network-one@2", "version": 2}]


def test_export_text_and_binary_formats_and_audit_them(client: TestClient, state: dict[str, Any],
                                                        audit_path: Path) -> None:
    chart_id = data(client, SAVE, case="CASE-API-X", name="Export me", state=state)["saveChart"]["id"]
    ftm = data(client, EXPORT, id=chart_id, format="ftm")["exportChart"]
    assert ftm["encoding"] == "utf-8" and ftm["filename"].endswith(".ftm.json")
    assert all(json.loads(line)["schema"] for line in ftm["content"].splitlines())
    pdf = data(client, EXPORT, id=chart_id, format="pdf")["exportChart"]
    content = base64.b64decode(pdf["encoding"] == "base64" and pdf["content"])
    assert content.startswith(b"%PDF-") and len(content) == pdf["size"]
    assert pdf["counts"]["nodes"] == len(state["nodes"]) - 1
    entries = [e for e in AuditLog(audit_path).entries() if e.variables.get("chartId") == chart_id]
    assert [(e.actor, e.agency, e.variables["format"]) for e in entries] == [("det.api", "ICAC", "ftm"),
                                                                            ("det.api", "ICAC", "pdf")]
    assert entries[1].variables["sha256"] == pdf["sha256"]
    assert AuditLog(audit_path).verify() is None


@pytest.mark.parametrize(("query", "variables", "code"), [
    (EXPORT, {"id": "CASE-NONE/none", "format": "pdf"}, "NOT_FOUND"),
    (EXPORT, {"id": "CASE-NONE/none", "format": "docx"}, "BAD_INPUT"),
    (SAVE, {"case": "C", "name": "n", "state": {"nodes": []}}, "BAD_INPUT"),
    (SAVE, {"case": "C", "name": "n", "state": {"nodes": [{"id": "Account:a", "x": "left", "y": 0}]}}, "BAD_INPUT"),
])
def test_errors_carry_codes(client: TestClient, query: str, variables: dict[str, Any], code: str) -> None:
    body = gql(client, query, **variables)
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]

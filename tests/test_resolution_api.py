"""Entity resolution through the API and the CLI: runResolution, the review queue, judge, identities, rollback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.app import create_app
from graph_service.cli import app as cli
from graph_service.settings import Settings, get_settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from tests.signin import auth_header, signed_in, token_for

LINK = "a { id kind label } b { id kind label } status score weight method evidence run by at note history"


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    out = tmp_path_factory.mktemp("resolution-api")
    planted = generate(out, reports=300, seed=77)
    assert not load_files(graph, [out / name for name in planted.files], parse_cybertip).failed
    return planted


@pytest.fixture(scope="module")
def client(truth: Truth, neo4j_settings: Settings) -> Iterator[TestClient]:
    settings = neo4j_settings.model_copy(update={"resolution_u_sample": 50_000})
    with signed_in(create_app(settings)) as test_client:
        yield test_client


def gql(client: TestClient, query: str, user: str | None = None, **variables: Any) -> dict[str, Any]:
    # `user`: act as that user (the audit log and `by` name the token's user)
    headers = auth_header(token_for(client.app.state.settings, user)) if user else {}
    response = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def data(client: TestClient, query: str, user: str | None = None, **variables: Any) -> dict[str, Any]:
    body = gql(client, query, user, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


@pytest.fixture(scope="module")
def run(client: TestClient) -> dict[str, Any]:
    return data(client, "mutation { runResolution { run status by params counts } }", user="erin")["runResolution"]


def test_run_resolution_records_a_run(run: dict[str, Any], client: TestClient) -> None:
    assert run["status"] == "done" and run["by"] == "erin" and run["run"].startswith("res-")
    assert run["params"]["threshold"] == 0.9 and run["params"]["u_sample"] == 50_000
    assert run["counts"]["proposals"] > 0
    listed = data(client, "{ resolutionRuns { run status } }")["resolutionRuns"]
    assert listed[0] == {"run": run["run"], "status": "done"}


def test_review_queue_pages_with_evidence(run: dict[str, Any], client: TestClient) -> None:
    query = f"query($after: String) {{ resolutionCandidates(first: 3, after: $after) {{ items {{ {LINK} }} " \
            "pageInfo { endCursor hasNextPage } } }"
    first = data(client, query)["resolutionCandidates"]
    assert len(first["items"]) == 3 and first["pageInfo"]["hasNextPage"]
    second = data(client, query, after=first["pageInfo"]["endCursor"])["resolutionCandidates"]
    ids = [(i["a"]["id"], i["b"]["id"]) for i in first["items"] + second["items"]]
    assert len(set(ids)) == len(ids)
    link = first["items"][0]
    assert link["status"] == "proposed" and link["run"] == run["run"] and 0.9 <= link["score"] <= 1
    assert link["evidence"] and {"comparison", "label", "weight", "a", "b"} <= set(link["evidence"][0])


def test_judge_then_identities_then_split(run: dict[str, Any], client: TestClient) -> None:
    [link] = data(client, f"{{ resolutionCandidates(first: 1) {{ items {{ {LINK} }} }} }}")[
        "resolutionCandidates"]["items"]
    judge = ("mutation($a: ID!, $b: ID!, $v: Verdict!, $n: String) "
             f"{{ judge(a: $a, b: $b, verdict: $v, note: $n) {{ {LINK} }} }}")
    judged = data(client, judge, user="frank", a=link["a"]["id"], b=link["b"]["id"], v="CONFIRMED",
                  n="same phone and birth date")["judge"]
    assert (judged["status"], judged["by"], judged["note"]) == ("confirmed", "frank", "same phone and birth date")
    assert judged["history"][-1]["set"] == "confirmed"
    found = data(client, "query($ids: [ID!]) { identities(ids: $ids) { items { entity { id kind properties } "
                         "members { id kind } } } }", ids=[link["a"]["id"]])["identities"]["items"]
    assert len(found) == 1 and found[0]["entity"]["kind"] == "Identity"
    assert {link["a"]["id"], link["b"]["id"]} <= {m["id"] for m in found[0]["members"]}
    data(client, judge, user="frank", a=link["a"]["id"], b=link["b"]["id"], v="REJECTED", n=None)
    again = data(client, "query($ids: [ID!]) { identities(ids: $ids) { items { entity { id } } } }",
                 ids=[link["a"]["id"]])["identities"]["items"]
    assert again == []


def test_bad_judgements_carry_codes(run: dict[str, Any], client: TestClient) -> None:
    judge = "mutation($a: ID!, $b: ID!) { judge(a: $a, b: $b, verdict: UNSURE) { status } }"
    same = gql(client, judge, a="Account:x:1", b="Account:x:1")
    assert same["errors"][0]["extensions"]["code"] == "BAD_INPUT"
    missing = gql(client, judge, a="Account:x:1", b="Account:x:2")
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    wrong = gql(client, "mutation { judge(a: \"Account:x:1\", b: \"Account:x:2\", verdict: MAYBE) { status } }")
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_INPUT"
    threshold = gql(client, "mutation { runResolution(threshold: 1.5) { run } }")
    assert threshold["errors"][0]["extensions"]["code"] == "BAD_INPUT"


def test_cli_resolve_and_rollback(run: dict[str, Any], client: TestClient, neo4j_settings: Settings) -> None:
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("NEO4J_DATABASE", neo4j_settings.neo4j_database)
    patch.setenv("GRACEGRAPH_RESOLUTION_U_SAMPLE", "50000")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(cli, ["resolve", "--by", "gina"])
        assert result.exit_code == 0, result.output
        assert "proposals" in result.output
        newest = data(client, "{ resolutionRuns(limit: 1) { run by status } }")["resolutionRuns"][0]
        assert newest["by"] == "gina"
        result = runner.invoke(cli, ["resolve", "--rollback", newest["run"]])
        assert result.exit_code == 0, result.output
        rolled = data(client, "{ resolutionRuns(limit: 5) { run status } }")["resolutionRuns"]
        assert {"run": newest["run"], "status": "rolled_back"} in rolled
        again = runner.invoke(cli, ["resolve", "--rollback", newest["run"]])
        assert again.exit_code == 1 and "rolled back already" in again.output
        assert runner.invoke(cli, ["resolve", "--threshold", "2"]).exit_code == 1
    finally:
        patch.undo()
        get_settings.cache_clear()

"""Access: no token no data, tokens stored hashed and revocable mid-session, rate limits, the
production switches, and every GraphQL operation in the tamper-evident audit log."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.app import create_app
from graph_service.audit import AuditLog
from graph_service.auth import AuthStore, Role, bearer
from graph_service.cli import app as cli
from graph_service.settings import Settings, get_settings
from loaders.writer import GraphWriter
from tests.signin import auth_header, signed_in, token_for

QUERY = {"query": "{ search(text: \"anything\") { entity { id } } }"}


@pytest.fixture(scope="module")
def settings(graph: GraphWriter, neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("auth")
    return neo4j_settings.model_copy(update={"auth_db": home / "auth.sqlite3", "audit_log": home / "audit.jsonl"})


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:  # no token: each test brings its own
        yield test_client


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer gg_not-a-token", "Basic dXNlcjpwYXNz", "gg_x"])
def test_no_valid_token_no_data(client: TestClient, header: str | None) -> None:
    response = client.post("/graphql", json=QUERY, headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_health_and_graphiql_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 200


def test_tokens_are_kept_only_as_keyed_digests(settings: Settings) -> None:
    token = token_for(settings, "digest-user")
    raw = Path(settings.auth_path).read_bytes()
    assert token.encode() not in raw and token[3:].encode() not in raw
    store = AuthStore.of(settings)
    with sqlite3.connect(settings.auth_path) as db:
        digests = {row[0] for row in db.execute("SELECT digest FROM tokens")}
    assert store.digest(token) in digests
    assert AuthStore(settings.auth_path, b"another secret").authenticate(token) is None  # the key matters
    assert bearer("bearer  " + token) == token and bearer("Token " + token) is None


def test_a_token_revoked_mid_session_stops_at_the_next_request(client: TestClient, settings: Settings) -> None:
    token = token_for(settings, "leaver", "AGENCY-L", Role.ANALYST)
    headers = auth_header(token)
    assert client.post("/graphql", json=QUERY, headers=headers).status_code == 200
    assert AuthStore.of(settings).revoke(token=token) == 1
    assert client.post("/graphql", json=QUERY, headers=headers).status_code == 401


def test_cli_adds_users_prints_tokens_once_and_revokes_them(client: TestClient, settings: Settings) -> None:
    patch = pytest.MonkeyPatch()
    patch.setenv("GRACEGRAPH_AUTH_DB", str(settings.auth_path))
    patch.setenv("GRACEGRAPH_HOME", str(settings.home))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        added = runner.invoke(cli, ["user", "add", "erin", "--agency", "ICAC-9", "--role", "supervisor"])
        assert added.exit_code == 0, added.output
        assert runner.invoke(cli, ["user", "add", "erin", "--agency", "ICAC-9"]).exit_code == 1  # exists
        assert runner.invoke(cli, ["user", "add", "eve", "--agency", "X", "--role", "root"]).exit_code != 0
        token = runner.invoke(cli, ["user", "token", "erin"]).output.strip()
        assert token.startswith("gg_")
        assert client.post("/graphql", json=QUERY, headers=auth_header(token)).status_code == 200
        revoked = runner.invoke(cli, ["user", "revoke", "erin"])
        assert revoked.exit_code == 0 and "1 token" in revoked.output
        assert client.post("/graphql", json=QUERY, headers=auth_header(token)).status_code == 401
        assert runner.invoke(cli, ["user", "token", "nobody"]).exit_code == 1
    finally:
        patch.undo()
        get_settings.cache_clear()


def test_each_token_has_its_own_rate(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 1.0, "rate_limit_burst": 3}))
    with signed_in(app, "hasty") as hasty, signed_in(app, "calm") as calm:
        codes = [hasty.post("/graphql", json=QUERY).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert hasty.post("/graphql", json=QUERY).json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert calm.post("/graphql", json=QUERY).status_code == 200


def test_introspection_and_graphiql_switch_off_for_production(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"introspection": False, "graphiql": False}))
    with signed_in(app) as client:
        body = client.post("/graphql", json={"query": "{ __schema { types { name } } }"}).json()
        assert body.get("data") is None and body["errors"][0]["extensions"]["code"] == "BAD_INPUT"
        assert client.post("/graphql", json=QUERY).status_code == 200
        assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 404


def graphql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    return client.post("/graphql", json={"query": query, "variables": variables}).json()


def test_every_operation_is_audited_and_one_changed_byte_is_named(settings: Settings, tmp_path: Path) -> None:
    audit_path = tmp_path / "audit.jsonl"
    app = create_app(settings.model_copy(update={"audit_log": audit_path}))
    with signed_in(app, "auditee", "AGENCY-Q", Role.ANALYST) as client:
        graphql(client, "query Look($t: String!) { search(text: $t) { entity { id } } }", t="needle")
        graphql(client, "{ entity(id: \"Account:none:1\") { id } }")
        graphql(client, "{ trends { bucket } }")
    entries = list(AuditLog(audit_path).entries())
    assert [(e.actor, e.agency) for e in entries] == [("auditee", "AGENCY-Q")] * 3
    assert entries[0].operation == "graphql query Look" and entries[0].variables["variables"] == {"t": "needle"}
    assert entries[0].counts == {"search": 0, "errors": 0}
    assert entries[1].counts["errors"] == 1 and "Account:none:1" in entries[1].variables["document"]
    assert AuditLog(audit_path).verify() is None
    data = bytearray(audit_path.read_bytes())
    at = data.index(b"needle")  # in entry 1; then entry 2 is the one to change
    at = data.index(b"Account:none:1", at)
    data[at] = ord("B")
    audit_path.write_bytes(bytes(data))
    finding = AuditLog(audit_path).verify()
    assert finding is not None and finding.seq == 2 and "edited" in finding.reason
    result = CliRunner().invoke(cli, ["audit", "verify", "--log", str(audit_path)])
    assert result.exit_code == 1 and "entry 2" in result.output

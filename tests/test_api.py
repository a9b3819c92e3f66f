"""The HTTP service against a real Neo4j: every root field, the bounds, the error codes, GraphiQL
served without a CDN, the health check and the request log."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import GraphDatabase
from typer.testing import CliRunner

from graph_service import graphiql
from graph_service.app import create_app
from graph_service.cli import app as cli
from graph_service.logging import JsonFormatter
from graph_service.neo4j_local.server import free_port
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.pipeline import case_transform, load_files
from loaders.synthetic import Truth, generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from tests.signin import signed_in

CASE = "case-api-1"
#: What must never reach a client: tracebacks, source file paths, driver internals.
LEAKS = re.compile(r"Traceback|File \"|\.py\b|/work/|site-packages|neo4j\.exceptions")
ENTITY = "id kind key label properties sources"
EDGE = "id kind source target properties sources"


@pytest.fixture(scope="module")
def truth(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> Truth:
    """60 synthetic reports, all filed under one case."""
    out = tmp_path_factory.mktemp("referrals")
    planted = generate(out, reports=60, seed=3)
    summary = load_files(graph, [out / name for name in planted.files], parse_cybertip,
                         transform=case_transform(CASE, "agency-api"))
    assert not summary.failed
    return planted


@pytest.fixture(scope="module")
def client(truth: Truth, neo4j_settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(neo4j_settings)) as test_client:
        yield test_client


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    assert not LEAKS.search(response.text), response.text
    return response.json()


def data(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    body = gql(client, query, **variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def account_id(key: str) -> str:
    return f"Account:{key}"


@pytest.fixture
def swapped(client: TestClient) -> Iterator[Any]:
    """Point the running app at another GraphContext for one test (a dead server, a slow one)."""
    state = client.app.state  # type: ignore[attr-defined]
    original = state.graph

    def swap(graph: GraphContext) -> None:
        state.graph = graph

    yield swap
    state.graph = original


def dead_graph() -> GraphContext:
    """A driver for a port nobody listens on, without the driver's 30 s of retries."""
    driver = GraphDatabase.driver(f"bolt://127.0.0.1:{free_port()}", max_transaction_retry_time=0)
    return GraphContext(driver, "neo4j", 5.0)


class CountingGraph(GraphContext):
    """Records each Cypher call a request makes (each still runs on the real server)."""

    def __init__(self, graph: GraphContext) -> None:
        super().__init__(graph.driver, graph.database, graph.timeout_s)
        self.calls: list[str]
        object.__setattr__(self, "calls", [])  # GraphContext is a frozen dataclass

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        self.calls.append(cypher)
        return super().read(cypher, **params)


class SlowGraph(GraphContext):
    """Every read first runs a query far heavier than its time limit allows, as a huge graph would."""

    def read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        super().read("UNWIND range(1, 1000000000) AS x RETURN count(x) AS n")
        return super().read(cypher, **params)


# --- health ---------------------------------------------------------------------------------------

def test_healthz_is_ok_while_neo4j_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "neo4j": "ok"}


def test_healthz_is_503_when_neo4j_is_unreachable(client: TestClient, swapped: Any) -> None:
    swapped(dead_graph())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


# --- every root field -----------------------------------------------------------------------------

def test_search_finds_an_account_by_its_key(client: TestClient, truth: Truth) -> None:
    key = truth.networks[0]["accounts"][0]
    hits = data(client, f"query($t: String!) {{ search(text: $t, kinds: [\"Account\"], limit: 5) "
                        f"{{ score matched entity {{ {ENTITY} }} }} }}", t=key)["search"]
    assert account_id(key) in [hit["entity"]["id"] for hit in hits]
    assert all(isinstance(hit["score"], float) and isinstance(hit["matched"], str) for hit in hits)
    assert all(hit["entity"]["kind"] == "Account" for hit in hits)


def test_entity_by_id_and_by_kind_and_key_are_the_same(client: TestClient, truth: Truth) -> None:
    key = truth.networks[0]["accounts"][0]
    got = data(client, f"query($id: ID!, $key: String!) {{ byId: entity(id: $id) {{ {ENTITY} }} "
                       f"byKey: entity(kind: \"Account\", key: $key) {{ {ENTITY} }} }}",
               id=account_id(key), key=key)
    assert got["byId"] == got["byKey"]
    entity = got["byId"]
    assert (entity["id"], entity["kind"], entity["key"]) == (account_id(key), "Account", key)
    assert entity["label"] and isinstance(entity["properties"], dict)
    assert entity["sources"] and all(s.startswith("cybertip:") for s in entity["sources"])


def test_neighbourhood_edges_join_nodes_of_the_answer(client: TestClient, truth: Truth) -> None:
    start = account_id(truth.networks[0]["accounts"][0])
    sub = data(client, f"query($ids: [ID!]!) {{ neighbourhood(ids: $ids, depth: 2, limit: 300) "
                       f"{{ truncated nodes {{ {ENTITY} }} edges {{ {EDGE} }} }} }}", ids=[start])["neighbourhood"]
    ids = {node["id"] for node in sub["nodes"]}
    assert start in ids and len(ids) > 1
    assert sub["edges"] and all(e["source"] in ids and e["target"] in ids for e in sub["edges"])
    assert isinstance(sub["truncated"], bool)


def test_paths_join_two_accounts_of_one_network(client: TestClient, truth: Truth) -> None:
    first, second = (account_id(k) for k in truth.networks[0]["accounts"][:2])
    found = data(client, f"query($a: ID!, $b: ID!) {{ paths(from: $a, to: $b, maxHops: 4) "
                         f"{{ length truncated paths {{ nodes {{ {ENTITY} }} edges {{ {EDGE} }} }} }} }}",
                 a=first, b=second)["paths"]
    assert found["length"] is not None and found["paths"]
    for path in found["paths"]:
        assert [path["nodes"][0]["id"], path["nodes"][-1]["id"]] == [first, second]
        assert len(path["edges"]) == len(path["nodes"]) - 1 == found["length"]


def test_shared_identifiers_name_holders_among_the_ids_asked(client: TestClient, truth: Truth) -> None:
    ids = [account_id(k) for k in truth.networks[0]["accounts"]]
    shared = data(client, f"query($ids: [ID!]!) {{ sharedIdentifiers(ids: $ids) "
                          f"{{ identifiers {{ holders sources entity {{ {ENTITY} }} }} "
                          f"links {{ a b score }} skipped {{ id reason degree }} }} }}", ids=ids)["sharedIdentifiers"]
    assert shared["identifiers"]
    for item in shared["identifiers"]:
        assert len(item["holders"]) >= 2 and set(item["holders"]) <= set(ids)
        assert item["sources"]
    assert shared["links"] and all({x["a"], x["b"]} <= set(ids) and x["score"] > 0 for x in shared["links"])


LINK_FIELDS = ("a b score evidence { kind key entities reports times holders weight rarity proximity support "
               "contribution coUseCount coUses { aTime bTime aReport bReport gapSeconds } }")


def test_links_give_a_score_and_its_evidence_down_to_the_reports(client: TestClient, truth: Truth) -> None:
    planted = next(x for x in truth.links if x["reason"] == "network_file")
    me, other = account_id(planted["a"]), account_id(planted["b"])
    found = data(client, f"query($id: ID!) {{ links(id: $id, minScore: 0.01) {{ truncated "
                         f"links {{ {LINK_FIELDS} }} skipped {{ id reason degree }} }} }}", id=me)["links"]
    assert not found["truncated"]
    scores = [x["score"] for x in found["links"]]
    assert scores == sorted(scores, reverse=True)
    [link] = [x for x in found["links"] if {x["a"], x["b"]} == {me, other}]
    assert link["score"] == pytest.approx(sum(e["contribution"] for e in link["evidence"]))
    planted_hashes = {h for f in planted["evidence"] for h in truth.file_hashes[f].values()}
    assert any(e["key"].split(":", 1)[1] in planted_hashes for e in link["evidence"] if e["kind"] == "file")
    assert all(e["reports"] and all(r.startswith("cybertip:") for r in e["reports"]) for e in link["evidence"])


def test_links_are_between_accounts_only(client: TestClient) -> None:
    body = gql(client, '{ links(id: "IP:192.0.2.1") { truncated } }')
    assert codes(body) == ["BAD_INPUT"]


def test_neighbourhood_and_paths_list_what_they_skipped(client: TestClient, truth: Truth) -> None:
    start = account_id(truth.networks[0]["accounts"][0])
    sub = data(client, "query($ids: [ID!]!) { neighbourhood(ids: $ids, depth: 2) { skipped { id reason degree } "
                       "nodes { id } } }", ids=[start])["neighbourhood"]
    providers = [s for s in sub["skipped"] if s["reason"] == "provider"]
    assert providers and all(s["degree"] > 0 for s in providers)
    assert not {s["id"] for s in sub["skipped"]} & {n["id"] for n in sub["nodes"]}
    wide = data(client, "query($ids: [ID!]!) { neighbourhood(ids: $ids, depth: 2, includeSupernodes: true) "
                        "{ skipped { id } nodes { id } } }", ids=[start])["neighbourhood"]
    assert wide["skipped"] == [] and providers[0]["id"] in {n["id"] for n in wide["nodes"]}


def test_timeline_pages_follow_the_cursor(client: TestClient, truth: Truth) -> None:
    start = account_id(truth.networks[0]["accounts"][0])
    query = ("query($id: ID!, $after: String) { timeline(id: $id, first: 2, after: $after) { "
             f"events {{ at kind description entity related sources relatedEntity {{ {ENTITY} }} }} "
             "pageInfo { endCursor hasNextPage } } }")
    first = data(client, query, id=start, after=None)["timeline"]
    assert len(first["events"]) == 2 and first["pageInfo"]["hasNextPage"]
    second = data(client, query, id=start, after=first["pageInfo"]["endCursor"])["timeline"]
    assert second["events"] and second["events"] != first["events"]
    events = first["events"] + second["events"]
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)
    related = [e for e in events if e["related"] is not None]
    assert all(e["relatedEntity"]["id"] == e["related"] for e in related)


def test_report_shows_what_the_report_names(client: TestClient, truth: Truth) -> None:
    key = truth.networks[0]["accounts"][0]
    report_key = data(client, "query($id: ID!) { entity(id: $id) { sources } }",
                      id=account_id(key))["entity"]["sources"][0]
    view = data(client, f"query($k: String!) {{ report(key: $k) {{ entity {{ {ENTITY} }} "
                        f"contents {{ truncated nodes {{ id }} edges {{ {EDGE} }} }} }} }}", k=report_key)["report"]
    assert (view["entity"]["kind"], view["entity"]["key"]) == ("Report", report_key)
    assert account_id(key) in {node["id"] for node in view["contents"]["nodes"]}


def test_case_lists_its_reports_a_page_at_a_time(client: TestClient) -> None:
    query = ("query($after: String) { case(key: \"" + CASE + "\", first: 25, after: $after) { "
             f"entity {{ {ENTITY} }} reports {{ items {{ id kind }} pageInfo {{ endCursor hasNextPage }} }} }} }}")
    seen: list[str] = []
    after = None
    while True:
        view = data(client, query, after=after)["case"]
        assert (view["entity"]["kind"], view["entity"]["key"]) == ("Case", CASE)
        seen += [item["id"] for item in view["reports"]["items"]]
        if not view["reports"]["pageInfo"]["hasNextPage"]:
            break
        after = view["reports"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 60
    assert all(item.startswith("Report:") for item in seen)


def test_entities_named_in_one_request_are_fetched_in_one_call(
        client: TestClient, truth: Truth, swapped: Any) -> None:
    counting = CountingGraph(client.app.state.graph)  # type: ignore[attr-defined]
    swapped(counting)
    keys = truth.networks[0]["accounts"][:3]
    fields = " ".join(f"a{i}: entity(id: \"{account_id(k)}\") {{ id }}" for i, k in enumerate(keys))
    got = data(client, "{ " + fields + " }")
    assert [got[f"a{i}"]["id"] for i in range(len(keys))] == [account_id(k) for k in keys]
    assert len(counting.calls) == 1

    timeline = "timeline(id: \"" + account_id(keys[0]) + "\", first: 20) { events { related %s } }"
    before = len(counting.calls)
    data(client, "{ " + timeline % "" + " }")
    plain = len(counting.calls) - before
    events = data(client, "{ " + timeline % "relatedEntity { id }" + " }")["timeline"]["events"]
    assert len({e["related"] for e in events if e["related"]}) > 1
    assert len(counting.calls) - before - plain == plain + 1  # the same reads, and one for all related entities


# --- bounds ---------------------------------------------------------------------------------------

def test_query_deeper_than_the_limit_is_refused(neo4j_settings: Settings, truth: Truth) -> None:
    shallow = neo4j_settings.model_copy(update={"max_query_depth": 2})
    with signed_in(create_app(shallow)) as small:
        body = gql(small, "{ case(key: \"" + CASE + "\") { reports { items { id } } } }")
    assert body["data"] is None
    assert codes(body) == ["BAD_INPUT"] and "depth" in body["errors"][0]["message"]


def test_too_many_aliases_are_refused(client: TestClient) -> None:
    fields = " ".join(f"a{i}: entity(id: \"Account:x:{i}\") {{ id }}" for i in range(16))
    body = gql(client, "{ " + fields + " }")
    assert body["data"] is None and codes(body) == ["BAD_INPUT"]
    assert "aliases" in body["errors"][0]["message"]


def test_too_many_tokens_are_refused(client: TestClient) -> None:
    body = gql(client, "{ search(text: \"x\") { " + "score " * 2500 + "} }")
    assert body["data"] is None and codes(body) == ["BAD_INPUT"]


@pytest.mark.parametrize("field", ["search(text: \"x\", limit: 100000) { score }",
                                   "neighbourhood(ids: [\"Account:x:1\"], depth: 9) { truncated }",
                                   "paths(from: \"Account:x:1\", to: \"Account:x:2\", maxHops: 0) { length }",
                                   "timeline(id: \"Account:x:1\", first: 501) { pageInfo { hasNextPage } }"])
def test_page_sizes_and_hops_out_of_bounds_are_bad_input(client: TestClient, field: str) -> None:
    body = gql(client, "{ " + field + " }")
    assert body["data"] is None and codes(body) == ["BAD_INPUT"]


def test_bounds_hold_for_values_passed_as_variables(client: TestClient) -> None:
    body = gql(client, "query($n: Int!) { search(text: \"x\", limit: $n) { score } }", n=100000)
    assert codes(body) == ["BAD_INPUT"] and "limit" in body["errors"][0]["message"]


def test_more_than_a_hundred_ids_is_bad_input(client: TestClient) -> None:
    ids = ", ".join(f"\"Account:x:{i}\"" for i in range(101))
    body = gql(client, "{ sharedIdentifiers(ids: [" + ids + "]) { identifiers { holders } } }")
    assert codes(body) == ["BAD_INPUT"]


# --- error codes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "{ search(text: \"x\") { score }",                       # syntax
    "{ nothing }",                                           # unknown field
    "{ search(text: 5) { score } }",                         # wrong type of argument
    "{ entity(id: \"no-colon\") { id } }",                   # malformed id
    "{ entity(kind: \"Planet\", key: \"x\") { id } }",         # unknown kind
    "{ entity(kind: \"Account\") { id } }",                  # neither id nor kind and key
    "{ search(text: \"x\", kinds: [\"Planet\"]) { score } }",  # unknown kind in a filter
])
def test_bad_input_is_coded_bad_input(client: TestClient, query: str) -> None:
    body = gql(client, query)
    assert codes(body) == ["BAD_INPUT"]


def test_bad_variable_value_is_bad_input(client: TestClient) -> None:
    body = gql(client, "query($s: DateTime) { neighbourhood(ids: [\"Account:x:1\"], since: $s) { truncated } }",
               s="last tuesday")
    assert codes(body) == ["BAD_INPUT"]


def test_absent_entity_is_not_found(client: TestClient) -> None:
    body = gql(client, "{ byId: entity(id: \"Account:nobody:0\") { id } "
                       "byKey: entity(kind: \"Account\", key: \"nobody:0\") { id } }")
    assert body["data"] == {"byId": None, "byKey": None}
    assert codes(body) == ["NOT_FOUND", "NOT_FOUND"]


def test_unreachable_database_is_unavailable(client: TestClient, swapped: Any) -> None:
    swapped(dead_graph())
    body = gql(client, "{ search(text: \"x\") { score } }")
    assert codes(body) == ["UNAVAILABLE"]


def test_slow_query_is_stopped_with_timeout(client: TestClient, swapped: Any, neo4j_settings: Settings) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    swapped(SlowGraph(graph.driver, neo4j_settings.neo4j_database, 0.05))
    body = gql(client, "{ search(text: \"x\") { score } }")
    assert codes(body) == ["TIMEOUT"]
    assert "0.05s" in body["errors"][0]["message"]


def test_unexpected_failure_is_internal_and_logged_not_shown(
        client: TestClient, swapped: Any, caplog: pytest.LogCaptureFixture) -> None:
    graph = client.app.state.graph  # type: ignore[attr-defined]
    swapped(GraphContext(graph.driver, "no-such-database", 5.0))  # Neo4j refuses: not one of our errors
    with caplog.at_level(logging.ERROR, logger="gracegraph"):
        response = client.post("/graphql", json={"query": "{ entity(kind: \"Account\", key: \"x:1\") { id } }"},
                               headers={"X-Request-ID": "req-internal-1"})
    body = response.json()
    assert codes(body) == ["INTERNAL"]
    assert body["errors"][0]["extensions"]["requestId"] == "req-internal-1"
    assert "no-such-database" not in response.text and not LEAKS.search(response.text)
    [logged] = [r for r in caplog.records if r.getMessage() == "graphql.internal_error"]
    assert logged.exc_info is not None  # the traceback is in the log instead, under the same id


# --- GraphiQL, viewer files -----------------------------------------------------------------------

class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_graphiql_page_loads_only_assets_the_app_serves(client: TestClient) -> None:
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    parser = Assets()
    parser.feed(page.text)
    scripts = [url for url in parser.urls if not url.startswith("data:")]
    assert len(scripts) == 4
    assert not [url for url in parser.urls if re.match(r"(https?:)?//", url)]
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    for url in scripts:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url


def test_only_graphiql_files_of_node_modules_are_served(client: TestClient) -> None:
    assert client.get("/static/vendor/graphiql/package.json").status_code == 404
    assert client.get("/static/vendor/../../../pyproject.toml").status_code == 404


def test_graphiql_without_its_files_says_to_run_setup(tmp_path: Path) -> None:
    response = graphiql.page(tmp_path)
    assert response.status_code == 503
    assert response.media_type == "text/plain" and b"./dev setup" in response.body


def test_graphiql_can_be_turned_off(neo4j_settings: Settings, truth: Truth) -> None:
    with signed_in(create_app(neo4j_settings.model_copy(update={"graphiql": False}))) as plain:
        assert plain.get("/graphql", headers={"Accept": "text/html"}).status_code == 404


def test_viewer_and_vis_network_are_served_locally(client: TestClient) -> None:
    assert client.get("/static/vis/vis-network.min.js").status_code == 200
    home = client.get("/")
    assert home.status_code == 200 and "text/html" in home.headers["content-type"]


def test_swagger_pages_that_load_from_a_cdn_are_off(client: TestClient) -> None:
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


# --- logs, CLI ------------------------------------------------------------------------------------

def test_each_request_logs_one_json_line_with_its_id_and_duration(client: TestClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gracegraph.http")
    logger.addHandler(handler)
    try:
        response = client.get("/healthz", headers={"X-Request-ID": "test-req-1"})
    finally:
        logger.removeHandler(handler)
    assert response.headers["x-request-id"] == "test-req-1"
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["event"] == "request" and entry["level"] == "INFO"
    assert entry["request_id"] == "test-req-1" and entry["path"] == "/healthz" and entry["status"] == 200
    assert isinstance(entry["duration_ms"], float) and entry["time"].endswith("+00:00")


def test_a_request_without_an_id_gets_one(client: TestClient) -> None:
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_serve_command_is_registered() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output

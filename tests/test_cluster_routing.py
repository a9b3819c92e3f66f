"""The app unchanged over `neo4j://`, the URI of a cluster, and its reads sent as reads.

Neo4j Community has no cluster, but its Bolt server answers the routing protocol as a cluster of one
(itself as router, reader and writer), so over `neo4j://127.0.0.1:PORT` the driver does what it does
against a cluster: it fetches a routing table and sends each transaction with the access mode the
code asked for, and the server refuses a write in a read transaction as a follower would. Here the
same work runs over `bolt://` and over `neo4j://` against the tests' own server: a load, search,
neighbourhood, paths, deconfliction and a community run, through the GraphQL API; the answers must
be equal. The driver's own Bolt log (tests/bolt_traffic.py) then shows that every transaction that
only read was sent in read mode (so a cluster routes it to a follower), and the server shows that
read mode is enforced.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from neo4j.exceptions import ClientError

from bench.crash_resume import fingerprint
from graph_service.app import create_app
from graph_service.auth import AuthStore
from graph_service.database import open_driver
from graph_service.settings import Settings
from loaders.cybertip import parse_cybertip
from loaders.hashsets import parse_hashset
from loaders.pipeline import case_transform, load_files
from loaders.schema import ensure_schema
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from tests.bolt_traffic import BoltTraffic
from tests.conftest import clear_graph
from tests.signin import signed_in

CASE, AGENCY = "case-route-1", "agency-route"
ENTITY = "id kind key"
#: Reads that belong on the writer: waiting for the indexes of the server the load then writes to.
ON_THE_WRITER = ("CALL db.awaitIndexes(",)


def routed(uri: str) -> str:
    """The same server named with the routing scheme: bolt://h:p -> neo4j://h:p (and +s / +ssc)."""
    scheme, rest = uri.split("://", 1)
    return "neo4j" + scheme.removeprefix("bolt").removeprefix("neo4j") + "://" + rest


@pytest.fixture(scope="module")
def referrals(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], list[Path], Path]:
    out = tmp_path_factory.mktemp("referrals")
    planted = generate(out, reports=150, seed=11)
    return out, json.loads((out / "truth.json").read_text()), [out / n for n in planted.files], out / planted.hashset


def load(driver: Driver, database: str, files: list[Path], hashset: Path) -> None:
    writer = GraphWriter(driver, database)
    assert not load_files(writer, files, parse_cybertip, transform=case_transform(CASE, AGENCY)).failed
    assert not load_files(writer, [hashset], parse_hashset).failed


@pytest.fixture(scope="module")
def routed_settings(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    audit = tmp_path_factory.mktemp("audit") / "audit.jsonl"
    return neo4j_settings.model_copy(update={"neo4j_uri": routed(neo4j_settings.bolt_uri), "audit_log": audit})


@pytest.fixture(scope="module")
def routed_driver(routed_settings: Settings) -> Iterator[Driver]:
    driver = open_driver(routed_settings, start=False)
    try:
        yield driver
    finally:
        driver.close()


def api_tour(client: TestClient, truth: dict[str, Any]) -> dict[str, Any]:
    """A representative set of the API, as an analyst's session would ask it; the answers by name."""
    network = truth["networks"][0]
    first, second = network["accounts"][:2]
    algo, digest = network["files"][0].split(":", 1)

    def ask(query: str, **variables: Any) -> Any:
        response = client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    answers: dict[str, Any] = {}
    answers["search"] = ask(f"query($t: String!) {{ search(text: $t, limit: 10) {{ score matched entity "
                            f"{{ {ENTITY} }} }} }}", t=first)
    answers["neighbourhood"] = ask(f"query($ids: [ID!]!) {{ neighbourhood(ids: $ids, depth: 2, limit: 300) "
                                   f"{{ truncated nodes {{ {ENTITY} sources }} edges {{ id kind source target }} }} }}",
                                   ids=[f"Account:{first}"])
    answers["paths"] = ask(f"query($a: ID!, $b: ID!) {{ paths(from: $a, to: $b, maxHops: 4) {{ length "
                           f"paths {{ nodes {{ {ENTITY} }} }} }} }}", a=f"Account:{first}", b=f"Account:{second}")
    answers["deconflict"] = ask(
        "query($ids: [IdentifierInput!]) { deconflict(identifiers: $ids, depth: 1) "
        "{ key error hits { case agency contact how hops reports } } }",
        ids=[{"kind": "ip", "value": network["ips"][0]}, {"kind": "file", "type": algo, "value": digest}])
    run = ask("mutation { runCommunities(seed: 42) { run engine algorithm accounts edges communities placed } }")
    answers["run"] = {k: v for k, v in run["runCommunities"].items() if k != "run"}
    answers["communities"] = ask("query($run: String!) { communities(run: $run, limit: 100) { number size "
                                 "reportCount members(limit: 100) { entity { key } } } }",
                                 run=run["runCommunities"]["run"])
    return answers


@pytest.fixture(scope="module")
def tours(driver: Driver, routed_driver: Driver, neo4j_settings: Settings, routed_settings: Settings,
          referrals: tuple[Path, dict[str, Any], list[Path], Path]) -> Iterator[dict[str, Any]]:
    """The same load and API tour over bolt:// and then over neo4j://, the latter with its Bolt traffic."""
    _, truth, files, hashset = referrals
    database = neo4j_settings.neo4j_database
    AuthStore.of(routed_settings).add_agency(AGENCY, "Routing test agency", "the routing desk")
    found: dict[str, Any] = {}
    for name, drv, settings in (("bolt", driver, neo4j_settings), ("neo4j", routed_driver, routed_settings)):
        clear_graph(driver, database)
        traffic = BoltTraffic()
        listening = traffic.listening if name == "neo4j" else nullcontext
        with listening():
            ensure_schema(drv, database)
            load(drv, database, files, hashset)
        found[name + " graph"] = fingerprint(driver, database)  # the test's own reads: not listened to
        with listening(), signed_in(create_app(settings)) as client:
            found[name] = api_tour(client, truth)
        found[name + " traffic"] = traffic
    yield found
    clear_graph(driver, database)


def test_the_scheme_is_the_routing_one(routed_settings: Settings, routed_driver: Driver) -> None:
    assert routed_settings.bolt_uri.startswith("neo4j")
    # The routing table the server handed out: itself in every role, as one member of a cluster.
    table = routed_driver.execute_query("CALL dbms.routing.getRoutingTable({}, $db)",
                                        db=routed_settings.neo4j_database)[0][0]
    roles = {server["role"] for server in table["servers"]}
    assert roles == {"ROUTE", "READ", "WRITE"}


def test_a_load_over_neo4j_scheme_gives_the_graph_a_bolt_load_gives(tours: dict[str, Any]) -> None:
    assert tours["neo4j graph"]["nodes"]["Report"] >= 150  # and the prior reports they name
    assert tours["neo4j graph"] == tours["bolt graph"]


def unordered(answer: Any) -> Any:
    """The answer with the neighbourhood's node and edge lists sorted: the two loads made the same
    graph, but the store's internal ids (and so the order a traversal meets nodes in) differ."""
    if isinstance(answer, dict):
        return {k: unordered(v) for k, v in answer.items()}
    if isinstance(answer, list) and all(isinstance(item, dict) and "id" in item for item in answer):
        return sorted((unordered(item) for item in answer), key=lambda item: json.dumps(item, sort_keys=True))
    return answer


@pytest.mark.parametrize("field", ["search", "neighbourhood", "paths", "deconflict", "run", "communities"])
def test_the_api_answers_the_same_over_both_schemes(tours: dict[str, Any], field: str) -> None:
    mine, theirs = tours["neo4j"][field], tours["bolt"][field]
    if field == "neighbourhood":
        mine, theirs = unordered(mine), unordered(theirs)
    assert mine == theirs
    assert tours["neo4j"][field], f"{field} answered nothing: the comparison would prove nothing"


def test_every_transaction_that_only_reads_is_sent_as_a_read(tours: dict[str, Any]) -> None:
    traffic: BoltTraffic = tours["neo4j traffic"]
    reads = [tx for tx in traffic.transactions if tx.reads_only]
    writes = [tx for tx in traffic.transactions if any(s.type in ("w", "rw") for s in tx.statements)]
    assert len(reads) >= 20 and writes, "the tour should have read and written through the driver"
    sent_as_writes = sorted({s.cypher.strip()[:160] for tx in reads if tx.mode != "r" for s in tx.statements
                             if not s.cypher.startswith(ON_THE_WRITER)})
    assert sent_as_writes == [], "reads sent in write transactions (a cluster sends them to the leader)"
    # And the other way: nothing that writes went in a read transaction (the server would have refused it).
    assert all(tx.mode == "w" for tx in writes)


def test_the_server_enforces_read_mode_as_a_follower_would(routed_driver: Driver, routed_settings: Settings) -> None:
    ctx = GraphContext(routed_driver, routed_settings.neo4j_database)
    with pytest.raises(ClientError) as refused:
        ctx.read("CREATE (:RoutingProbe {key: 'x'})")
    assert refused.value.code == "Neo.ClientError.Statement.AccessMode"
    assert ctx.read("MATCH (n:RoutingProbe) RETURN count(n) AS n") == [{"n": 0}]

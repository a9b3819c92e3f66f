"""Need-to-know against a hostile caller: agency B tries every way in to agency A's case, and fails.

`attempts` is the battery: each attempt is a real GraphQL request by B's analyst, and the battery
returns every leak it saw (an A-only report key or entity id anywhere in an answer, or an error
that words "hidden" differently from "absent"). It must find nothing against the real resolvers,
and it must find leaks against a deliberately unfiltered double of them: a battery that cannot
fail would prove nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph_service.app import create_app
from graph_service.auth import Role
from graph_service.settings import Settings
from loaders.model import Edge, Label, Node, Rel
from loaders.writer import GraphWriter
from queries import visibility
from tests.agencies import CASE_A, CASE_B, A, B, World, build_world
from tests.signin import signed_in

ABSENT_ID = "Account:nowhere inc:000"
ABSENT_REPORT = "cybertip:999999999"

ENTITY = "fragment E on Entity { id kind key label properties sources }"
SUBGRAPH = "fragment S on Subgraph { nodes { ...E } edges { id kind source target properties sources } }"


@pytest.fixture(scope="module")
def world(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(graph, tmp_path_factory.mktemp("agencies"))


@pytest.fixture(scope="module")
def app(world: World, neo4j_settings: Settings) -> Any:
    return create_app(neo4j_settings)


@pytest.fixture(scope="module")
def as_b(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "b-analyst", B, Role.ANALYST) as client:
        yield client


@pytest.fixture(scope="module")
def as_a(app: Any) -> Iterator[TestClient]:
    with signed_in(app, "a-analyst", A, Role.ANALYST) as client:
        yield client


def gql(client: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def error(body: dict[str, Any]) -> tuple[str, str]:
    [first] = body["errors"][:1]
    return first["extensions"]["code"], first["message"]


class Battery:
    """Runs the attempts and keeps every leak it sees, as text naming the attempt."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client, self.w = client, world
        self.leaks: list[str] = []
        secrets = sorted(world.reports_a - world.reports_b) + [i for i in world.only_a]
        self._secret = re.compile("|".join(rf"(?<![\w:.@-]){re.escape(s)}(?![\w.-])" for s in secrets))

    def look(self, name: str, body: dict[str, Any], asked: tuple[str, ...] = ()) -> dict[str, Any]:
        text = json.dumps(body)
        for value in asked:  # what the caller typed comes back in messages: an echo, not a leak
            text = text.replace(json.dumps(value)[1:-1], "<asked>")
        found = self._secret.search(text)
        if found:
            self.leaks.append(f"{name}: {found.group(0)} in …{text[max(0, found.start() - 160):found.end() + 40]}…")
        return body

    def same_as_absent(self, name: str, hidden: dict[str, Any], absent: dict[str, Any], secret: str,
                       missing: str) -> None:
        if "errors" not in hidden:
            self.leaks.append(f"{name}: answered for a hidden {secret}")
            return
        (code_h, msg_h), (code_a, msg_a) = error(hidden), error(absent)
        if (code_h, msg_h.replace(secret, "<x>")) != (code_a, msg_a.replace(missing, "<x>")):
            self.leaks.append(f"{name}: hidden reads {code_h} {msg_h!r}, absent {code_a} {msg_a!r}")

    def run(self) -> list[str]:
        w, c = self.w, self.client
        target = w.first(w.only_a, "Account")
        shared = w.shared[0]
        report_a = sorted(w.reports_a - w.reports_b)[0]
        kind, key = target.split(":", 1)

        q = "query($id: ID!) { entity(id: $id) { id sources } }"
        self.same_as_absent("entity(id)", self.look("entity(id)", gql(c, q, id=target), (target,)),
                            gql(c, q, id=ABSENT_ID), target, ABSENT_ID)
        q = "query($k: String!, $key: String!) { entity(kind: $k, key: $key) { id } }"
        self.same_as_absent("entity(kind,key)", gql(c, q, k=kind, key=key),
                            gql(c, q, k="Account", key="nowhere inc:000"), target, ABSENT_ID)
        q = "query($ids: [ID!]!) { neighbourhood(ids: $ids) { nodes { id } } }"
        self.same_as_absent("neighbourhood(hidden)", gql(c, q, ids=[target]), gql(c, q, ids=[ABSENT_ID]),
                            target, ABSENT_ID)
        q = "query($a: ID!, $b: ID!) { paths(from: $a, to: $b) { length } }"
        self.same_as_absent("paths(hidden)", gql(c, q, a=target, b=shared), gql(c, q, a=ABSENT_ID, b=shared),
                            target, ABSENT_ID)
        q = "query($key: String!) { report(key: $key) { entity { id } } }"
        self.same_as_absent("report", gql(c, q, key=report_a), gql(c, q, key=ABSENT_REPORT), report_a, ABSENT_REPORT)
        q = "query($key: String!) { case(key: $key) { entity { id } } }"
        self.same_as_absent("case", gql(c, q, key=CASE_A), gql(c, q, key="Z-404"), CASE_A, "Z-404")
        q = "mutation($r: [String!]!) { assignReports(case: \"" + CASE_B + "\", reports: $r) }"
        self.same_as_absent("assignReports", gql(c, q, r=[report_a]), gql(c, q, r=[ABSENT_REPORT]), report_a,
                            ABSENT_REPORT)

        self.look("search", gql(c, "query($t: String!) { search(text: $t, limit: 50) { entity { ...E } } } "
                               + ENTITY, t=key), (key,))
        self.look("neighbourhood(shared)", gql(c, "query($ids: [ID!]!) { neighbourhood(ids: $ids, depth: 3, "
                                               "includeSupernodes: true, limit: 2000) { ...S } } " + SUBGRAPH + ENTITY,
                                               ids=w.shared[:20]), tuple(w.shared[:20]))
        b_account = w.first(w.only_b, "Account")
        for other in w.shared[:5]:
            self.look("paths", gql(c, "query($a: ID!, $b: ID!) { paths(from: $a, to: $b, maxHops: 6, "
                                   "includeSupernodes: true) { paths { nodes { ...E } edges { id sources } } } } "
                                   + ENTITY, a=b_account, b=other), (b_account, other))
        self.look("sharedIdentifiers", gql(c, "query($ids: [ID!]!) { sharedIdentifiers(ids: $ids) { identifiers "
                                           "{ entity { ...E } holders sources } links { a b evidence { reports } } } } "
                                           + ENTITY, ids=w.shared[:10]), tuple(w.shared[:10]))
        for account in [i for i in w.shared if i.startswith("Account:")][:3]:
            self.look("links", gql(c, "query($id: ID!) { links(id: $id) { links { a b evidence { reports entities "
                                   "coUses { aReport bReport } } } } }", id=account), (account,))
        for node in w.shared[:5]:
            self.look("timeline", gql(c, "query($id: ID!) { timeline(id: $id, first: 500) { items { at kind "
                                      "description related sources } } }", id=node), (node,))
        aliased = ("query($t: ID!, $s: [ID!]!) { x: entity(id: $t) { ...E } y: neighbourhood(ids: $s, depth: 2) "
                   "{ ...S } z: search(text: \"" + key.replace('"', "") + "\") { entity { ...E } } } "
                   + SUBGRAPH + ENTITY)
        self.look("aliases and fragments", gql(c, aliased, t=target, s=w.shared[:10]), (target, key, *w.shared[:10]))
        asked = [i.split(":", 1)[1] for i in w.only_a[:40]]
        identifiers = [{"kind": i.split(":", 1)[0].lower(), "value": i.split(":", 1)[1]} for i in w.only_a[:40]
                       if i.split(":", 1)[0] in ("Email", "Phone", "IP", "Account", "Device", "File")]
        body = self.look("deconflict", gql(c, "query($ids: [IdentifierInput!]) { deconflict(identifiers: $ids, "
                                           "depth: 2) { key value error hits { case agency contact how hops reports "
                                           "firstSeen } } }", ids=identifiers), tuple(asked))
        for answer in (body.get("data") or {}).get("deconflict") or []:
            for hit in answer["hits"]:
                if hit["case"] == CASE_A and hit["reports"]:
                    self.leaks.append(f"deconflict: A's report keys {hit['reports'][:3]}")
        for name in ("trends { points { reports } }", "priorities { entity { id } }", "communities { id }",
                     "resolutionCandidates { items { a { id } } }"):
            self.look(name, gql(c, "{ " + name + " }"))
        return self.leaks


def test_agency_b_learns_nothing_of_agency_a(as_b: TestClient, world: World) -> None:
    assert world.only_a and world.shared and world.only_b, "the world must have private and shared nodes"
    assert Battery(as_b, world).run() == []


def test_the_battery_catches_an_unfiltered_resolver(as_b: TestClient, world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The same battery against resolvers that skip need-to-know: it must report leaks."""
    monkeypatch.setattr(visibility, "require", lambda *_: None)
    monkeypatch.setattr(visibility, "restrict", lambda _ctx, _scope, answer: answer)
    leaks = Battery(as_b, world).run()
    assert any(leak.startswith("entity(id)") for leak in leaks), leaks
    assert any(leak.startswith("neighbourhood") for leak in leaks), leaks
    assert any(leak.startswith("search") for leak in leaks), leaks


def test_agency_a_reads_its_own_case_and_what_it_shares(as_a: TestClient, world: World) -> None:
    """The other side of the coin: the filter hides A's data from B, not from A."""
    target = world.first(world.only_a, "Account")
    body = gql(as_a, "query($id: ID!) { entity(id: $id) { id sources } }", id=target)
    assert body["data"]["entity"]["id"] == target
    assert set(body["data"]["entity"]["sources"]) <= world.reports_a
    case = gql(as_a, 'query { case(key: "' + CASE_A + '", first: 500) { entity { key } reports { items { key } } } }')
    assert {r["key"] for r in case["data"]["case"]["reports"]["items"]} == world.reports_a
    shared = gql(as_a, "query($id: ID!) { entity(id: $id) { sources } }", id=world.shared[0])["data"]["entity"]
    assert shared["sources"] and set(shared["sources"]) <= world.reports_a  # B's reports stay B's


def test_unassigned_data_is_for_roles_cleared_for_it(world: World, neo4j_settings: Settings) -> None:
    app = create_app(neo4j_settings)  # its own: closing a client of the shared app would close its driver
    loose = next(i for i, s in world.nodes.items() if set(s) <= world.unassigned and i.startswith("Account:"))
    q = "query($id: ID!) { entity(id: $id) { id } }"
    with signed_in(app, "b-super", B, Role.SUPERVISOR) as supervisor:
        assert gql(supervisor, q, id=loose)["data"]["entity"]["id"] == loose
        assert error(gql(supervisor, q, id=world.first(world.only_a, "Account")))[0] == "NOT_FOUND"
    with signed_in(app, "b-analyst", B, Role.ANALYST) as analyst:
        assert error(gql(analyst, q, id=loose))[0] == "NOT_FOUND"


def test_aggregates_and_shared_changes_are_refused_to_limited_roles(as_b: TestClient) -> None:
    assert error(gql(as_b, "{ trends { bucket } }"))[0] == "FORBIDDEN"
    assert error(gql(as_b, "mutation { runCommunities { run } }"))[0] == "FORBIDDEN"


def test_cypher_injection_as_search_text_and_identifier_is_plain_text(as_b: TestClient, world: World) -> None:
    before = world.ctx.read("MATCH (n) RETURN count(n) AS n")[0]["n"]
    hostile = ["') MATCH (n) DETACH DELETE n //", '"}) MATCH (n) DETACH DELETE n RETURN 1 //',
               "x' OR 1=1 --", "*:*", "\\u0027; CALL db.clearQueryCaches()"]
    for text in hostile:
        body = gql(as_b, "query($t: String!) { search(text: $t) { entity { id } } }", t=text)
        assert "errors" not in body or error(body)[0] == "BAD_INPUT", body
        body = gql(as_b, "query($i: [IdentifierInput!]) { deconflict(identifiers: $i) { key error hits { case } } }",
                   i=[{"kind": "account", "value": text}, {"kind": "email", "value": text}])
        [account, email] = body["data"]["deconflict"]
        assert account["key"] == text.strip() and account["hits"] == []  # looked up as a key, found nowhere
        assert email["error"]  # not an address: refused by the loaders' normaliser
    assert world.ctx.read("MATCH (n) RETURN count(n) AS n")[0]["n"] == before
    assert {CASE_A, CASE_B} <= {r["k"] for r in world.ctx.read("MATCH (c:Case) RETURN c.key AS k")}


def test_cypher_injection_stored_in_the_graph_is_found_as_plain_text(as_b: TestClient, world: World,
                                                                     graph: GraphWriter) -> None:
    hostile = "zq') MATCH (n) DETACH DELETE n //"
    key = "acme:'}) MATCH (n) DETACH DELETE n RETURN 1 //"
    report = sorted(world.reports_b)[0]
    graph.write([Node(Label.ACCOUNT, key, {"provider": "acme"}, lists={"screen_names": [hostile]}, sources=[report])],
                [Edge(Rel.REPORTS, (Label.REPORT, report), (Label.ACCOUNT, key), sources=[report])])
    hits = gql(as_b, "query($t: String!) { search(text: $t) { entity { id label } } }", t=hostile)["data"]["search"]
    assert {"id": f"Account:{key}", "label": hostile} in [h["entity"] for h in hits]
    body = gql(as_b, "query($i: [IdentifierInput!]) { deconflict(identifiers: $i) { key hits { case how } } }",
               i=[{"kind": "account", "value": key}])
    assert body["data"]["deconflict"] == [{"key": key, "hits": [{"case": CASE_B, "how": "direct"}]}]
    assert world.ctx.read("MATCH (a:Account {key: $k}) RETURN a.screen_names AS s", k=key) == [{"s": [hostile]}]

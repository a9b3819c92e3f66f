"""Deconfliction on a small hand-made graph of four agencies' cases: direct, identity and hop hits,
IP moments, names with birth dates, refusals per identifier, case mode, the API and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from graph_service.app import create_app
from graph_service.audit import AuditLog
from graph_service.auth import AuthStore, Role
from graph_service.cli import app as cli
from graph_service.settings import Settings, get_settings
from loaders.model import Edge, Label, Node, Rel, cypher
from loaders.writer import GraphWriter
from queries.cases import assign_reports, create_case
from queries.context import GraphContext
from queries.deconfliction import Identifier, deconflict, run
from queries.errors import BadInput, NotFound
from queries.visibility import Clearance, Scope
from tests.signin import signed_in

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
IP = "198.51.100.7"
EMAIL = "alice@example.com"
PHONE_BOB, PHONE_CAROL = "+15555550123", "+15555550199"
MD5 = "5d41402abc4b2a76b9719d911017c592"
AS_B = Scope("B", Clearance.OWN_CASES)


def account(key: str, report: str) -> Node:
    return Node(Label.ACCOUNT, key, {"provider": "acme"}, sources=[report])


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter) -> GraphContext:
    nodes: list[Node] = []
    edges: list[Edge] = []

    def report(key: str, *accounts: str) -> None:
        nodes.append(Node(Label.REPORT, key, {"incident_at": T0}, sources=[key]))
        for a in accounts:
            nodes.append(account(a, key))
            edges.append(Edge(Rel.REPORTS, (Label.REPORT, key), (Label.ACCOUNT, a), sources=[key]))

    def uses(report_key: str, holder: str, rel: Rel, label: Label, key: str, when: datetime | None = None,
             **props: Any) -> None:
        nodes.append(Node(label, key, props, sources=[report_key], times=[when] if when else []))
        edges.append(Edge(rel, (Label.ACCOUNT, holder), (label, key), sources=[report_key],
                          times=[when] if when else []))

    report("t:r1", "acme:alice")
    uses("t:r1", "acme:alice", Rel.HAS_EMAIL, Label.EMAIL, EMAIL, canonical=EMAIL)
    uses("t:r1", "acme:alice", Rel.USED_IP, Label.IP, IP, T0, kind="reserved")
    nodes.append(Node(Label.FILE, f"md5:{MD5}", {"md5": MD5}, sources=["t:r1"]))
    edges.append(Edge(Rel.INCLUDES, (Label.REPORT, "t:r1"), (Label.FILE, f"md5:{MD5}"), sources=["t:r1"]))
    nodes.append(Node(Label.PERSON, "t:r1/person/1", {"name": "Alice Smith", "date_of_birth": date(1990, 1, 2)},
                      sources=["t:r1"]))
    edges.append(Edge(Rel.REPORTS, (Label.REPORT, "t:r1"), (Label.PERSON, "t:r1/person/1"), sources=["t:r1"]))
    report("t:r2", "acme:bob")
    uses("t:r2", "acme:bob", Rel.HAS_EMAIL, Label.EMAIL, EMAIL, canonical=EMAIL)
    uses("t:r2", "acme:bob", Rel.USED_IP, Label.IP, IP, T0 + timedelta(hours=5), kind="reserved")
    uses("t:r2", "acme:bob", Rel.HAS_PHONE, Label.PHONE, PHONE_BOB)
    report("t:r3", "acme:carol")
    uses("t:r3", "acme:carol", Rel.HAS_PHONE, Label.PHONE, PHONE_CAROL)
    edges.append(Edge(Rel.SAME_AS, (Label.ACCOUNT, "acme:carol"), (Label.ACCOUNT, "acme:alice"),
                      {"status": "confirmed"}, sources=["judgement"]))
    report("t:r4", "acme:dave")
    uses("t:r4", "acme:dave", Rel.HAS_PHONE, Label.PHONE, PHONE_BOB)
    graph.write(nodes, edges)
    context = GraphContext(graph.driver, graph.database, 60.0)
    for agency, case, reports, contact in (("A", "A-1", ["t:r1"], "Det. Ames, +1 555 0101"),
                                           ("B", "B-1", ["t:r2"], None), ("C", "C-1", ["t:r3"], "Det. Cole"),
                                           ("D", "D-1", ["t:r4"], None)):
        create_case(context, Scope(agency, Clearance.OWN_CASES), case, contact=contact)
        assign_reports(context, Scope(agency, Clearance.EVERYTHING), case, reports)
    return context


def hits(answer: Any) -> dict[str, tuple[str, int]]:
    return {h.case: (h.how, h.hops) for h in answer.hits}


def test_direct_and_identity_hits_with_whom_to_call(ctx: GraphContext) -> None:
    [answer] = deconflict(ctx, AS_B, [Identifier("email", " Alice@Example.com ")])
    assert answer.key == EMAIL and answer.error is None
    assert hits(answer) == {"A-1": ("direct", 0), "B-1": ("direct", 0), "C-1": ("identity", 0)}
    a1 = next(h for h in answer.hits if h.case == "A-1")
    assert (a1.agency, a1.contact, a1.kind, a1.first_seen) == ("A", "Det. Ames, +1 555 0101", "email", T0)
    assert a1.reports == []  # another agency's case: a pointer, not its content
    assert next(h for h in answer.hits if h.case == "B-1").reports == ["t:r2"]  # our own case


def test_identities_and_hops_can_be_left_out_or_asked_for(ctx: GraphContext) -> None:
    [plain] = deconflict(ctx, AS_B, [Identifier("email", EMAIL)], via_identities=False)
    assert set(hits(plain)) == {"A-1", "B-1"}
    [deep] = deconflict(ctx, AS_B, [Identifier("email", EMAIL)], depth=2)
    assert hits(deep)["D-1"] == ("hops", 2)  # email - bob - phone, which dave's report also names
    with pytest.raises(BadInput):
        deconflict(ctx, AS_B, [Identifier("email", EMAIL)], depth=3)


def test_an_address_with_a_moment_matches_uses_within_the_window(ctx: GraphContext) -> None:
    near, anytime = deconflict(ctx, AS_B, [Identifier("ip", IP, at=T0 + timedelta(minutes=10)),
                                           Identifier("ip", IP)], via_identities=False)
    assert set(hits(near)) == {"A-1"}
    assert set(hits(anytime)) == {"A-1", "B-1"}


def test_moments_on_one_address_in_one_batch_each_keep_their_own_window(ctx: GraphContext) -> None:
    # The address's uses are read once for both moments; each moment still finds only its own use.
    first, later, again = deconflict(ctx, AS_B, [
        Identifier("ip", IP, at=T0 - timedelta(minutes=30)),
        Identifier("ip", IP, at=T0 + timedelta(hours=5, minutes=50)),
        Identifier("ip", IP, at=T0 + timedelta(minutes=59))], via_identities=False)
    assert set(hits(first)) == {"A-1"} and set(hits(later)) == {"B-1"} and set(hits(again)) == {"A-1"}


def test_an_address_used_before_uses_were_kept_matches_by_its_times(ctx: GraphContext) -> None:
    # A graph loaded before the writer paired each moment with its report has only `times` and
    # `sources` on USED_IP; a single-source relationship still ties its moments to that report.
    forget = cypher("MATCH (:{account} {key: 'acme:alice'})-[u:{used_ip}]->() "
                    "WITH u, u.uses AS kept REMOVE u.uses RETURN kept", account=Label.ACCOUNT, used_ip=Rel.USED_IP)
    [kept] = [row["kept"] for row in ctx.write(forget)]
    try:
        [near] = deconflict(ctx, AS_B, [Identifier("ip", IP, at=T0 + timedelta(minutes=10))], via_identities=False)
        assert set(hits(near)) == {"A-1"}
    finally:
        ctx.write(cypher("MATCH (:{account} {key: 'acme:alice'})-[u:{used_ip}]->() SET u.uses = $kept",
                         account=Label.ACCOUNT, used_ip=Rel.USED_IP), kept=kept)


def test_names_with_birth_dates_files_and_refusals_in_one_batch(ctx: GraphContext) -> None:
    person, file, bad, absent = deconflict(ctx, AS_B, [
        Identifier("person", "alice  SMITH", birth_date="1990-01-02"), Identifier("file", MD5),
        Identifier("email", "not an address"), Identifier("phone", "+1 555 555 0000")], via_identities=False)
    assert set(hits(person)) == {"A-1"} and set(hits(file)) == {"A-1"}
    assert bad.error and not bad.hits and bad.key is None
    assert absent.error is None and absent.hits == []


def test_case_mode_checks_everything_a_case_names_against_the_others(ctx: GraphContext) -> None:
    answers = run(ctx, AS_B, None, "B-1")
    found = {h.case for a in answers for h in a.hits}
    assert "B-1" not in found and {"A-1", "D-1"} <= found
    with pytest.raises(NotFound, match="no case 'A-1'"):
        run(ctx, AS_B, None, "A-1")  # not B's to list
    with pytest.raises(BadInput):
        run(ctx, AS_B, [Identifier("email", EMAIL)], "B-1")


@pytest.fixture(scope="module")
def client(ctx: GraphContext, neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[TestClient]:
    settings = neo4j_settings.model_copy(update={"audit_log": tmp_path_factory.mktemp("audit") / "audit.jsonl"})
    AuthStore.of(settings).add_agency("D", "Agency D", "D's duty desk")
    with signed_in(create_app(settings), "b-desk", "B", Role.ANALYST) as test_client:
        yield test_client


def test_the_api_answers_and_audits_deconfliction(client: TestClient) -> None:
    query = """query($ids: [IdentifierInput!], $depth: Int!) {
      deconflict(identifiers: $ids, depth: $depth) { key error hits { case agency contact how hops reports } } }"""
    body = client.post("/graphql", json={"query": query, "operationName": None, "variables": {
        "ids": [{"kind": "email", "value": EMAIL}, {"kind": "ip", "value": "300.1.1.1"}], "depth": 2}}).json()
    assert "errors" not in body, body
    email, bad = body["data"]["deconflict"]
    by_case = {h["case"]: h for h in email["hits"]}
    assert by_case["D-1"]["contact"] == "D's duty desk" and by_case["D-1"]["how"] == "hops"
    assert by_case["A-1"]["reports"] == [] and bad["error"]
    settings = client.app.state.settings  # type: ignore[attr-defined]
    last = list(AuditLog(settings.audit_path).entries())[-1]
    assert (last.actor, last.agency, last.operation) == ("b-desk", "B", "graphql query (anonymous)")
    assert last.counts["deconflict"] == 2 and last.counts["deconflict.hits"] == len(email["hits"])
    assert last.variables["variables"]["ids"][0]["value"] == EMAIL


def test_the_cli_reads_a_file_answers_and_audits(ctx: GraphContext, neo4j_settings: Settings, tmp_path: Path) -> None:
    listing = tmp_path / "ids.csv"
    listing.write_text(f"kind,value,type,at,birth_date\nemail,{EMAIL},,,\nip,{IP},,{T0.isoformat()},\n")
    patch = pytest.MonkeyPatch()
    patch.setenv("NEO4J_URI", neo4j_settings.bolt_uri)
    patch.setenv("GRACEGRAPH_HOME", str(neo4j_settings.home))
    patch.setenv("GRACEGRAPH_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["deconflict", str(listing), "--agency", "B", "--json"])
        assert result.exit_code == 0, result.output
        lines = [line for line in result.output.splitlines() if line.startswith("{")]
        assert len(lines) == 2 and '"case": "A-1"' in lines[0] and '"case": "A-1"' in lines[1]
        [entry] = AuditLog(tmp_path / "audit.jsonl").entries()
        assert entry.operation == "deconflict" and entry.agency == "B" and entry.counts["identifiers"] == 2
    finally:
        patch.undo()
        get_settings.cache_clear()

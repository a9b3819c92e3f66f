"""Scored links against a real Neo4j: co-use windows to the minute, evidence to the report, scores
that add up, supernodes left out, and the whole-graph projection agreeing with per-account answers.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from loaders.model import Edge, Label, Node, Rel
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.errors import BadInput
from queries.link_analysis import links, project_links, shared_identifiers
from queries.links import LinkRules, link_weights
from queries.results import Link, LinkEvidence, Skipped
from queries.supernodes import SupernodeRules, mark_supernodes

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
DEVICE = "imei:490154203237518"
RARE, WIDE = f"md5:{'1' * 32}", f"md5:{'2' * 32}"


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


class Build:
    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.n = 0

    def report(self, *accounts: str) -> tuple[str, list[tuple[Label, str]]]:
        self.n += 1
        key = f"cybertip:{self.n}"
        refs = [(Label.ACCOUNT, f"acme:{a}") for a in accounts]
        self.nodes.append(Node(Label.REPORT, key, sources=[key]))
        for ref in refs:
            self.nodes.append(Node(Label.ACCOUNT, ref[1], {"provider": "acme"}, sources=[key]))
            self.edges.append(Edge(Rel.REPORTS, (Label.REPORT, key), ref, sources=[key]))
        return key, refs

    def used(self, account: str, label: Label, target: str, when: datetime, **props: str) -> str:
        key, [ref] = self.report(account)
        rel = Rel.USED_IP if label is Label.IP else Rel.USED_DEVICE
        self.nodes.append(Node(label, target, dict(props), sources=[key], times=[when]))
        self.edges.append(Edge(rel, ref, (label, target), sources=[key], times=[when]))
        return key

    def file(self, file: str, *accounts: str) -> str:
        key, _ = self.report(*accounts)
        self.nodes.append(Node(Label.FILE, file, {"md5": file[4:]}, sources=[key]))
        self.edges.append(Edge(Rel.INCLUDES, (Label.REPORT, key), (Label.FILE, file), sources=[key]))
        return key

    def contact(self, account: str, label: Label, target: str, **props: str) -> str:
        key, [ref] = self.report(account)
        rel = Rel.HAS_PHONE if label is Label.PHONE else Rel.HAS_EMAIL
        self.nodes.append(Node(label, target, dict(props), sources=[key]))
        self.edges.append(Edge(rel, ref, (label, target), sources=[key]))
        return key


REPORTS: dict[str, str] = {}


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter) -> GraphContext:
    b = Build()
    ip = {"kind": "reserved"}
    REPORTS["a"] = b.used("a", Label.IP, "192.0.2.1", minutes(0), **ip)
    REPORTS["b"] = b.used("b", Label.IP, "192.0.2.1", minutes(59), **ip)
    b.used("c", Label.IP, "192.0.2.2", minutes(0), **ip)
    b.used("d", Label.IP, "192.0.2.2", minutes(61), **ip)
    b.used("g", Label.IP, "192.0.2.3", minutes(0), **ip)
    b.used("h", Label.IP, "192.0.2.3", minutes(60), **ip)
    REPORTS["e"] = b.used("e", Label.IP, "2001:db8::5", minutes(120), **ip)
    REPORTS["f"] = b.used("f", Label.IP, "2001:db8::5", minutes(150), **ip)
    REPORTS["p-early"] = b.used("p", Label.IP, "192.0.2.4", minutes(0), **ip)
    REPORTS["p-late"] = b.used("p", Label.IP, "192.0.2.4", minutes(360), **ip)
    REPORTS["q"] = b.used("q", Label.IP, "192.0.2.4", minutes(380), **ip)
    b.used("x", Label.IP, "100.64.0.9", minutes(0), kind="cgnat")
    b.used("y", Label.IP, "100.64.0.9", minutes(10), kind="cgnat")
    b.used("u", Label.DEVICE, DEVICE, minutes(0))
    b.used("v", Label.DEVICE, DEVICE, minutes(20 * 24 * 60))
    b.file(RARE, "m")
    b.file(RARE, "n")
    for i in range(10):
        b.file(WIDE, f"k{i}")
    b.contact("s", Label.PHONE, "+15555550100")
    b.contact("t", Label.PHONE, "+15555550100")
    b.contact("s", Label.EMAIL, "j.doe@gmail.com", canonical="jdoe@gmail.com")
    b.contact("t", Label.EMAIL, "jdoe+x@gmail.com", canonical="jdoe@gmail.com")
    REPORTS["s+z"], _ = b.report("s", "z")
    b.report("z2")
    b.edges.append(Edge(Rel.ASSOCIATED_WITH, (Label.ACCOUNT, "acme:z"), (Label.ACCOUNT, "acme:z2"), sources=["tie"]))
    graph.write(b.nodes, b.edges)
    context = GraphContext(graph.driver, graph.database)
    mark_supernodes(context, SupernodeRules())
    return context


def link_between(ctx: GraphContext, a: str, b: str, **kwargs: object) -> Link | None:
    found = links(ctx, f"Account:acme:{a}", **kwargs)  # type: ignore[arg-type]
    return next((x for x in found.links if {x.a, x.b} == {f"Account:acme:{a}", f"Account:acme:{b}"}), None)


def only(link: Link | None, kind: str) -> LinkEvidence:
    assert link is not None
    [evidence] = [e for e in link.evidence if e.kind == kind]
    return evidence


# -- the window ------------------------------------------------------------------------------------

def test_uses_59_minutes_apart_link_with_their_times_and_reports(ctx: GraphContext) -> None:
    evidence = only(link_between(ctx, "a", "b"), "ip")
    assert evidence.key == "192.0.2.1" and evidence.entities == ["IP:192.0.2.1"]
    [match] = evidence.co_uses
    assert (match.a_time, match.b_time, match.gap_s) == (minutes(0), minutes(59), 59 * 60)
    assert (match.a_report, match.b_report) == (REPORTS["a"], REPORTS["b"])
    assert evidence.reports == sorted([REPORTS["a"], REPORTS["b"]]) and evidence.times == [minutes(0), minutes(59)]
    assert evidence.proximity == pytest.approx(1 - 59 / 120)


def test_uses_61_minutes_apart_do_not_link_but_a_wider_window_does(ctx: GraphContext) -> None:
    assert link_between(ctx, "c", "d") is None
    wider = only(link_between(ctx, "c", "d", window_s=2 * 3600), "ip")
    assert wider.co_uses[0].gap_s == 61 * 60 and wider.proximity == pytest.approx(1 - 61 / 240)


def test_uses_exactly_one_window_apart_link(ctx: GraphContext) -> None:
    assert only(link_between(ctx, "g", "h"), "ip").proximity == pytest.approx(0.5)


def test_ipv6_co_use_links(ctx: GraphContext) -> None:
    evidence = only(link_between(ctx, "e", "f"), "ip")
    assert evidence.entities == ["IP:2001:db8::5"] and evidence.co_uses[0].gap_s == 30 * 60


def test_each_time_is_tied_to_the_report_that_saw_it(ctx: GraphContext) -> None:
    [row] = ctx.read("MATCH (:Account {key: 'acme:p'})-[r:USED_IP]->() RETURN r.uses AS uses, r.sources AS s")
    assert row["uses"] == [f"{minutes(0).isoformat()}|{REPORTS['p-early']}",
                           f"{minutes(360).isoformat()}|{REPORTS['p-late']}"]
    [match] = only(link_between(ctx, "p", "q"), "ip").co_uses
    assert (match.a_report, match.b_report, match.gap_s) == (REPORTS["p-late"], REPORTS["q"], 20 * 60)


# -- supernodes, devices, rarity -------------------------------------------------------------------

def test_a_supernode_is_not_evidence_and_is_reported(ctx: GraphContext) -> None:
    found = links(ctx, "Account:acme:x")
    assert found.links == []
    assert found.skipped == [Skipped("IP:100.64.0.9", "cgnat", 2)]
    shared = shared_identifiers(ctx, ["Account:acme:x", "Account:acme:y"])
    assert [s.entity.id for s in shared.identifiers] == ["IP:100.64.0.9"]
    assert shared.links == [] and shared.skipped == [Skipped("IP:100.64.0.9", "cgnat", 2)]


def test_a_device_shared_weeks_apart_links_unless_the_window_is_required(ctx: GraphContext) -> None:
    evidence = only(link_between(ctx, "u", "v"), "device")
    assert evidence.proximity == 0.5 and evidence.co_uses == [] and len(evidence.reports) == 2
    strict = links(ctx, "Account:acme:u", rules=LinkRules(device_cousage_required=True))
    assert strict.links == []


def test_a_rare_file_weighs_far_more_than_a_widely_shared_one(ctx: GraphContext) -> None:
    rare = only(link_between(ctx, "m", "n"), "file")
    wide = only(link_between(ctx, "k0", "k1"), "file")
    assert (rare.holders, wide.holders) == (2, 10)
    assert rare.support == wide.support == 1.5  # each pair rests on two reports
    assert rare.contribution == pytest.approx(0.8 * 1.5)
    assert wide.contribution == pytest.approx(0.8 * math.sqrt(2 / 10) * 1.5)
    plain_inverse = LinkRules(rarity_exponent=1.0)
    assert only(link_between(ctx, "k0", "k1", rules=plain_inverse), "file").contribution == pytest.approx(0.24)


def test_contacts_co_reports_and_provider_ties_are_evidence(ctx: GraphContext) -> None:
    st = link_between(ctx, "s", "t")
    assert st is not None and {e.kind for e in st.evidence} == {"phone", "email_variant"}
    assert only(st, "email_variant").key == "jdoe@gmail.com"
    assert only(st, "email_variant").entities == ["Email:j.doe@gmail.com", "Email:jdoe+x@gmail.com"]
    assert only(link_between(ctx, "s", "z"), "co_reported").reports == [REPORTS["s+z"]]
    assert only(link_between(ctx, "z", "z2"), "provider_tie").reports == ["tie"]


# -- scores ----------------------------------------------------------------------------------------

def test_a_scores_parts_add_up_to_the_score(ctx: GraphContext) -> None:
    projected = project_links(ctx)
    assert len(projected) >= 10
    for link in projected:
        assert link.score == pytest.approx(math.fsum(e.contribution for e in link.evidence))
        for e in link.evidence:
            assert e.contribution == pytest.approx(e.weight * e.rarity * e.proximity * e.support)
    two = link_between(ctx, "s", "t")
    assert two is not None and [e.kind for e in two.evidence] == ["phone", "email_variant"]
    assert two.score == pytest.approx(1.0 * 1.5 + 0.9 * 1.5)


def test_min_score_drops_weaker_links(ctx: GraphContext) -> None:
    weak = link_between(ctx, "g", "h")
    assert weak is not None and weak.score == pytest.approx(0.7 * 0.5 * 1.5)
    assert link_between(ctx, "g", "h", min_score=0.53) is None


def test_projection_equals_the_per_account_answers(ctx: GraphContext) -> None:
    projected = {(x.a, x.b): x.score for x in project_links(ctx)}
    accounts = {a for pair in projected for a in pair}
    per_account: dict[tuple[str, str], float] = {}
    for account in accounts:
        for x in links(ctx, account).links:
            per_account[x.a, x.b] = x.score
    assert per_account == pytest.approx(projected)
    assert sorted(link_weights(project_links(ctx))) == sorted((a, b, s) for (a, b), s in projected.items())


@pytest.mark.parametrize("call", [
    lambda ctx: links(ctx, "IP:192.0.2.1"),
    lambda ctx: links(ctx, "Account:acme:a", window_s=0),
    lambda ctx: links(ctx, "Account:acme:a", min_score=-1),
    lambda ctx: links(ctx, "Account:acme:a", limit=0),
], ids=["not-an-account", "window0", "negative-score", "limit0"])
def test_questions_links_cannot_answer_are_bad_input(ctx: GraphContext, call: object) -> None:
    with pytest.raises(BadInput):
        call(ctx)  # type: ignore[operator]

"""The account projection against a real Neo4j: which ties it makes, their weights, what it leaves out.

A small hand-made graph holds one of each kind of tie, plus the things that must not tie: uses of
an address 61 minutes apart, a supernode, a CGNAT address and a file more widely held than the
projection's `max_degree`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loaders.model import Edge, Label, Node, Rel
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.links import LinkRules, links_among
from queries.projection import (
    Projection,
    ProjectionOptions,
    co_use_pairs,
    link_projection,
    shared_identifier_projection,
    tie_weight,
)

T = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
OPTIONS = ProjectionOptions(window_s=3600, max_degree=3)
F1, F2 = "md5:" + "a" * 32, "md5:" + "b" * 32


def acct(n: int) -> tuple[Label, str]:
    return (Label.ACCOUNT, f"p:a{n}")


def report(key: str, accounts: list[int], files: tuple[str, ...] | list[str] = ()) -> tuple[list[Node], list[Edge]]:
    nodes = [Node(Label.REPORT, key, sources=[key])]
    edges = [Edge(Rel.REPORTS, (Label.REPORT, key), acct(a), sources=[key]) for a in accounts]
    edges += [Edge(Rel.INCLUDES, (Label.REPORT, key), (Label.FILE, f), sources=[key]) for f in files]
    return nodes, edges


def ip_use(a: int, ip: str, at: datetime, source: str = "t:ip") -> Edge:
    return Edge(Rel.USED_IP, acct(a), (Label.IP, ip), sources=[source], times=[at])


@pytest.fixture(scope="module")
def ctx(graph: GraphWriter) -> GraphContext:
    nodes = [Node(Label.ACCOUNT, f"p:a{n}", sources=["t:setup"]) for n in range(1, 10)]
    nodes += [Node(Label.FILE, key, {"md5": key[4:]}, sources=["t:setup"]) for key in (F1, F2)]
    nodes += [Node(Label.IP, ip, {"kind": kind}, sources=["t:setup"]) for ip, kind in (
        ("198.51.100.7", "reserved"), ("198.51.100.8", "reserved"), ("198.51.100.9", "reserved"),
        ("100.64.0.9", "cgnat"))]
    nodes += [Node(Label.DEVICE, "imei:1", sources=["t:setup"]), Node(Label.PHONE, "+15555550100", sources=["t:setup"]),
              Node(Label.EMAIL, "john.doe+x@gmail.com", {"canonical": "johndoe@gmail.com"}, sources=["t:setup"]),
              Node(Label.EMAIL, "johndoe@gmail.com", {"canonical": "johndoe@gmail.com"}, sources=["t:setup"])]
    edges: list[Edge] = []
    for key, accounts, files in (("t:r1", [1, 2], []), ("t:r2", [3], [F1]), ("t:r3", [4], [F1]),
                                 ("t:r4", [1], [F2]), ("t:r5", [3], [F2]), ("t:r6", [5], [F2]),
                                 ("t:r7", [9], [F2])):
        n, e = report(key, accounts, files)
        nodes += n
        edges += e
    edges += [ip_use(5, "198.51.100.7", T), ip_use(6, "198.51.100.7", T + timedelta(minutes=59)),
              ip_use(7, "198.51.100.8", T), ip_use(8, "198.51.100.8", T + timedelta(minutes=61)),
              ip_use(2, "198.51.100.9", T), ip_use(3, "198.51.100.9", T), ip_use(5, "198.51.100.9", T),
              ip_use(4, "100.64.0.9", T), ip_use(6, "100.64.0.9", T)]
    edges += [Edge(Rel.USED_DEVICE, acct(a), (Label.DEVICE, "imei:1"), sources=["t:d"]) for a in (1, 9)]
    edges += [Edge(Rel.HAS_PHONE, acct(a), (Label.PHONE, "+15555550100"), sources=["t:p"]) for a in (6, 9)]
    edges += [Edge(Rel.HAS_EMAIL, acct(7), (Label.EMAIL, "john.doe+x@gmail.com"), sources=["t:e"]),
              Edge(Rel.HAS_EMAIL, acct(8), (Label.EMAIL, "johndoe@gmail.com"), sources=["t:e"]),
              Edge(Rel.ASSOCIATED_WITH, acct(3), acct(4), sources=["t:assoc"])]
    graph.write(nodes, edges)
    context = GraphContext(graph.driver, graph.database)
    # What issue 5's supernode detection writes; the projection only reads the flag.
    context.write("MATCH (x:IP {key: '198.51.100.9'}) SET x.supernode = true")
    return context


def ties(projection: Projection) -> dict[tuple[str, str], float]:
    keys = projection.keys
    return {(keys[a], keys[b]): round(w, 6)
            for (a, b), w in zip(projection.graph.get_edgelist(), projection.graph.es["weight"], strict=True)}


def test_each_kind_of_shared_identifier_ties_its_holders_with_its_weight(ctx: GraphContext) -> None:
    projection = shared_identifier_projection(ctx, OPTIONS)
    assert ties(projection) == {
        ("p:a1", "p:a2"): tie_weight("Report", 2),
        ("p:a3", "p:a4"): tie_weight("File", 2) + tie_weight("Associated", 2),
        ("p:a5", "p:a6"): tie_weight("IP", 2),
        ("p:a1", "p:a9"): tie_weight("Device", 2),
        ("p:a6", "p:a9"): tie_weight("Phone", 2),
        ("p:a7", "p:a8"): tie_weight("Email", 2),  # two spellings of one gmail mailbox
    }
    assert projection.keys == sorted(projection.keys)
    assert projection.ties == {"Associated": 1, "Device": 1, "Email": 1, "File": 1, "IP": 1, "Phone": 1,
                               "Report": 1}


def test_supernodes_cgnat_and_widely_held_identifiers_are_left_out_and_counted(ctx: GraphContext) -> None:
    projection = shared_identifier_projection(ctx, OPTIONS)
    assert projection.excluded == {"degree": 1, "ip kind cgnat": 1, "supernode": 1}
    tied = ties(projection)
    assert ("p:a2", "p:a3") not in tied and ("p:a3", "p:a5") not in tied  # the supernode address
    assert ("p:a4", "p:a6") not in tied  # CGNAT
    assert ("p:a1", "p:a3") not in tied  # F2, held by 4 > max_degree 3


def test_marking_a_device_as_supernode_removes_its_tie(ctx: GraphContext) -> None:
    ctx.write("MATCH (x:Device {key: 'imei:1'}) SET x.supernode = true")
    try:
        projection = shared_identifier_projection(ctx, OPTIONS)
    finally:
        ctx.write("MATCH (x:Device {key: 'imei:1'}) REMOVE x.supernode")
    assert ("p:a1", "p:a9") not in ties(projection)
    assert projection.excluded["supernode"] == 2


def test_address_uses_tie_only_within_the_window(ctx: GraphContext) -> None:
    assert ("p:a7", "p:a8") in ties(shared_identifier_projection(ctx, OPTIONS))  # the mailbox, not the address
    wide = shared_identifier_projection(ctx, ProjectionOptions(window_s=2 * 3600, max_degree=3))
    assert ties(wide)[("p:a7", "p:a8")] == tie_weight("Email", 2) + tie_weight("IP", 2)
    narrow = shared_identifier_projection(ctx, ProjectionOptions(window_s=58 * 60, max_degree=3))
    assert ("p:a5", "p:a6") not in ties(narrow)


def test_a_wider_degree_bound_lets_the_file_tie_its_four_holders(ctx: GraphContext) -> None:
    projection = shared_identifier_projection(ctx, ProjectionOptions(max_degree=4))
    tied = ties(projection)
    for pair in (("p:a1", "p:a3"), ("p:a1", "p:a5"), ("p:a3", "p:a9")):
        assert pair in tied
    assert tied[("p:a1", "p:a5")] == round(tie_weight("File", 4), 6)
    assert "degree" not in projection.excluded


def test_co_use_pairs_at_the_window_edges() -> None:
    minute = 60
    assert co_use_pairs(["a", "b"], [[0], [59 * minute]], 3600) == [("a", "b")]
    assert co_use_pairs(["a", "b"], [[0], [61 * minute]], 3600) == []
    assert co_use_pairs(["a", "b"], [[0], [3600]], 3600) == [("a", "b")]  # the bound is inclusive
    assert co_use_pairs(["a", "a"], [[0], [10]], 3600) == []  # one account twice is no pair
    assert co_use_pairs(["c", "a", "b"], [[100, 9000], [5000], [9100]], 3600) == [("b", "c")]


def test_marking_a_file_as_supernode_removes_its_tie_but_not_the_providers(ctx: GraphContext) -> None:
    ctx.write("MATCH (x:File {key: $key}) SET x.supernode = true", key=F1)
    try:
        projection = shared_identifier_projection(ctx, OPTIONS)
    finally:
        ctx.write("MATCH (x:File {key: $key}) REMOVE x.supernode", key=F1)
    assert ties(projection)[("p:a3", "p:a4")] == tie_weight("Associated", 2)
    assert projection.excluded["supernode"] == 2


def test_the_links_projection_ties_accounts_by_their_link_scores(ctx: GraphContext) -> None:
    rules = LinkRules(max_holders=3)
    projection = link_projection(ctx, ProjectionOptions(links=rules))
    tied = ties(projection)
    # By hand from docs/analysis.md: a report naming both (1.0); F1 in two reports (0.8 x support
    # 1.5) plus the provider's tie (1.0); an address used 59 minutes apart (0.7 x proximity
    # 1 - 3540 / 7200); a handset with no co-use in the window (1.0 x 0.5); two spellings of one
    # gmail mailbox (0.9), and not the address they used 61 minutes apart.
    assert tied[("p:a1", "p:a2")] == 1.0
    assert tied[("p:a3", "p:a4")] == 2.2
    assert tied[("p:a5", "p:a6")] == round(0.7 * (1 - 3540 / 7200), 6)
    assert tied[("p:a1", "p:a9")] == 0.5
    assert tied[("p:a7", "p:a8")] == 0.9
    # The marked address and the file held by four accounts (over max_holders) tie nobody.
    assert not {("p:a2", "p:a3"), ("p:a3", "p:a5"), ("p:a1", "p:a3"), ("p:a1", "p:a5")} & set(tied)
    # The same links, asked for among the accounts (scoped queries, not the whole-graph pull).
    among = links_among(ctx, [f"Account:p:a{n}" for n in range(1, 10)], rules)
    assert tied == {(link.a.removeprefix("Account:"), link.b.removeprefix("Account:")): round(link.score, 6)
                    for link in among}
    assert projection.name == "links" and projection.keys == sorted(projection.keys)
    assert projection.ties["ip"] == 2 and projection.ties["file"] == 1  # the unmarked CGNAT address is evidence here
    assert projection.options["max_holders"] == 3

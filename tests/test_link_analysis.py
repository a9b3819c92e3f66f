"""Link analysis against a real Neo4j loaded with synthetic referrals, networkx as the oracle.

The whole (small) graph is pulled into networkx once; neighbourhoods must equal its ego graphs and
paths its all-shortest-paths, node for node, with the filters applied to both sides alike. By
default both skip providers and supernodes: the oracle is then the graph without them (`plain`),
and the hubs next to the answer must be the ones reported as skipped.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import networkx as nx
import pytest

from loaders.cybertip import parse_cybertip
from loaders.exits import parse_exits
from loaders.model import Edge, Label, Node, Rel
from loaders.pipeline import load_files
from loaders.synthetic import generate
from loaders.writer import GraphWriter
from queries.context import GraphContext
from queries.entities import kind_of
from queries.errors import BadInput, NotFound
from queries.link_analysis import MAX_PATHS, neighbourhood, paths, shared_identifiers
from queries.results import KINDS, entity_id
from queries.supernodes import CGNAT, SupernodeRules, mark_supernodes
from tests.conftest import FIXTURES

FULL_REPORT = FIXTURES / "cybertip" / "full_report.xml"
JON = "Account:example social inc:u-1001"
JON_PERSON = "Person:cybertip:9000001/person/1"


@dataclass
class World:
    ctx: GraphContext
    truth: dict[str, Any]
    g: nx.Graph  # undirected; each edge's "rels" lists the relationships between its two nodes
    rels: list[dict[str, Any]]  # every relationship: type, start, end (entity ids), times, sources

    @property
    def hubs(self) -> set[str]:
        return {n for n, hub in self.g.nodes(data="hub") if hub}

    def plain(self, keep: Any = ()) -> nx.Graph:
        """The graph without providers and supernodes, except the nodes in `keep`."""
        return self.g.subgraph(n for n in self.g if n in keep or n not in self.hubs)


def pull_graph(ctx: GraphContext) -> tuple[nx.Graph, list[dict[str, Any]]]:
    g = nx.Graph()
    for row in ctx.read("MATCH (n) WHERE any(l IN labels(n) WHERE l IN $kinds) "
                        "RETURN labels(n) AS labels, n.key AS key, n.supernode AS hub", kinds=list(KINDS)):
        kind = kind_of(row["labels"])
        g.add_node(entity_id(kind, row["key"]), kind=kind, hub=kind == Label.PROVIDER or row["hub"] is True)
    rels = []
    for row in ctx.read("MATCH (a)-[r]->(b) RETURN labels(a) AS al, a.key AS ak, labels(b) AS bl, b.key AS bk, "
                        "type(r) AS type, r.first_seen AS first, r.last_seen AS last, r.sources AS sources"):
        rel = {"type": row["type"], "start": entity_id(kind_of(row["al"]), row["ak"]),
               "end": entity_id(kind_of(row["bl"]), row["bk"]), "sources": row["sources"],
               "first": row["first"].to_native() if row["first"] else None,
               "last": row["last"].to_native() if row["last"] else None}
        rels.append(rel)
        if g.has_edge(rel["start"], rel["end"]):
            g.edges[rel["start"], rel["end"]]["rels"].append(rel)
        else:
            g.add_edge(rel["start"], rel["end"], rels=[rel])
    return g, rels


@pytest.fixture(scope="module")
def world(graph: GraphWriter, tmp_path_factory: pytest.TempPathFactory) -> World:
    out = tmp_path_factory.mktemp("synthetic")
    generate(out, reports=300, seed=5)
    truth = json.loads((out / "truth.json").read_text())
    summary = load_files(graph, [out / name for name in truth["files"]] + [FULL_REPORT], parse_cybertip)
    assert not summary.failed
    assert not load_files(graph, [out / truth["vpn_exits"]], parse_exits, parallel=False).rejections
    ctx = GraphContext(graph.driver, graph.database)
    assert mark_supernodes(ctx, SupernodeRules()).by_reason[CGNAT] > 0
    g, rels = pull_graph(ctx)
    return World(ctx, truth, g, rels)


def accounts(world: World, count: int, seed: int) -> list[str]:
    found = sorted(n for n, kind in world.g.nodes(data="kind") if kind == Label.ACCOUNT)
    return random.Random(seed).sample(found, count)


def edge_triples(edges: list[Any]) -> set[tuple[str, str, str]]:
    return {(e.kind, e.source, e.target) for e in edges}


def oracle_triples(world: World, nodes: set[str], keep: Any = None) -> set[tuple[str, str, str]]:
    return {(r["type"], r["start"], r["end"]) for r in world.rels
            if r["start"] in nodes and r["end"] in nodes and (keep is None or keep(r))}


# -- neighbourhood ------------------------------------------------------------------------------

def hubs_beside(world: World, view: nx.Graph, start: str, depth: int) -> set[str]:
    """The hubs next to the nodes a `depth`-level expansion from `start` expands (all but the last level)."""
    expanded = [n for n, d in nx.single_source_shortest_path_length(view, start, cutoff=depth - 1).items()
                if n not in world.hubs]
    return {m for n in expanded for m in world.g[n] if m in world.hubs and m != start}


@pytest.mark.parametrize("depth", [1, 2])
def test_neighbourhood_equals_networkx_ego_graph_without_hubs(world: World, depth: int) -> None:
    for start in [*accounts(world, 8, seed=depth), JON]:
        view = world.plain(keep={start})
        expected = set(nx.ego_graph(view, start, radius=depth))
        got = neighbourhood(world.ctx, [start], depth=depth, limit=2000)
        assert not got.truncated
        assert {n.id for n in got.nodes} == expected
        assert got.nodes[0].id == start
        assert edge_triples(got.edges) == oracle_triples(world, expected)
        assert {s.id for s in got.skipped} == hubs_beside(world, view, start, depth)


def test_neighbourhood_with_supernodes_equals_networkx_ego_graph(world: World) -> None:
    for start in accounts(world, 4, seed=12):
        expected = set(nx.ego_graph(world.g, start, radius=2))
        got = neighbourhood(world.ctx, [start], depth=2, limit=2000, include_supernodes=True)
        assert {n.id for n in got.nodes} == expected and got.skipped == []


def test_skipped_hubs_say_why_and_how_wide(world: World) -> None:
    users = [n for n in world.g if world.g.nodes[n]["kind"] == Label.ACCOUNT
             and any(world.g.nodes[m]["hub"] and m.startswith("IP:100.") for m in world.g[n])]
    got = neighbourhood(world.ctx, users[:1], depth=2)
    cgnat = [s for s in got.skipped if s.reason == CGNAT]
    assert cgnat and all(s.id not in {n.id for n in got.nodes} for s in got.skipped)
    for s in cgnat:
        assert s.degree == sum(1 for m in world.g[s.id] if world.g.nodes[m]["kind"] == Label.ACCOUNT)
    provider = [s for s in got.skipped if s.reason == "provider"]
    assert provider and provider[0].degree == sum(1 for _ in world.g[provider[0].id])


def test_a_supernode_asked_for_is_expanded(world: World) -> None:
    hub = next(n for n in sorted(world.hubs) if n.startswith("IP:"))
    got = neighbourhood(world.ctx, [hub], depth=1, limit=2000)
    assert {n.id for n in got.nodes} == set(nx.ego_graph(world.plain(keep={hub}), hub, radius=1))


def test_neighbourhood_of_several_entities_is_the_union(world: World) -> None:
    starts = accounts(world, 3, seed=11)
    expected = set().union(*(nx.ego_graph(world.plain(), s, radius=1) for s in starts))
    got = neighbourhood(world.ctx, starts, depth=1, limit=2000)
    assert {n.id for n in got.nodes} == expected
    assert [n.id for n in got.nodes[:3]] == starts


def test_every_edge_carries_its_evidence(world: World) -> None:
    got = neighbourhood(world.ctx, [JON], depth=1)
    by_kind = {e.kind: e for e in got.edges}
    assert all(e.sources == ["cybertip:9000001"] for e in got.edges)
    used = next(e for e in got.edges if e.target == "IP:192.0.2.10")
    assert used.properties["times"] == ["2024-03-01T08:00:00+00:00", "2024-03-01T08:01:00+00:00"]
    assert used.properties["first_seen"] == "2024-03-01T08:00:00+00:00"
    assert used.properties["events"] == ["Login", "Upload"]
    assert {"USED_IP", "USED_DEVICE", "SHARED", "HAS_EMAIL", "REPORTS", "USES"} <= set(by_kind)
    json.dumps([e.properties for e in got.edges] + [n.properties for n in got.nodes])


def test_neighbourhood_only_through_kinds(world: World) -> None:
    kinds = [Label.ACCOUNT.value, Label.IP.value]
    for start in accounts(world, 5, seed=3):
        allowed = [n for n, kind in world.plain().nodes(data="kind") if kind in kinds or n == start]
        expected = set(nx.ego_graph(world.g.subgraph(allowed), start, radius=2))
        got = neighbourhood(world.ctx, [start], depth=2, kinds=kinds, limit=2000)
        assert {n.id for n in got.nodes} == expected
        assert {n.kind for n in got.nodes[1:]} <= set(kinds)


def test_neighbourhood_since_until_filters_relationships(world: World) -> None:
    since = datetime(2024, 4, 1, tzinfo=UTC)
    until = datetime(2024, 8, 1, tzinfo=UTC)

    def keep(rel: dict[str, Any]) -> bool:
        return (rel["last"] is None or rel["last"] >= since) and (rel["first"] is None or rel["first"] <= until)

    window = nx.Graph()
    window.add_nodes_from(world.plain())
    window.add_edges_from((u, v) for u, v, rels in world.plain().edges(data="rels") if any(keep(r) for r in rels))
    differs = 0
    for start in accounts(world, 10, seed=4):
        expected = set(nx.ego_graph(window, start, radius=2))
        got = neighbourhood(world.ctx, [start], depth=2, since=since, until=until, limit=2000)
        assert {n.id for n in got.nodes} == expected
        assert edge_triples(got.edges) == oracle_triples(world, expected, keep)
        differs += expected != set(nx.ego_graph(world.plain(), start, radius=2))
    assert differs, "the window should have cut at least one neighbourhood"


def test_naive_times_are_taken_as_utc(world: World) -> None:
    start = accounts(world, 1, seed=8)[0]
    aware = neighbourhood(world.ctx, [start], depth=2, since=datetime(2024, 5, 1, tzinfo=UTC))
    naive = neighbourhood(world.ctx, [start], depth=2, since=datetime(2024, 5, 1))
    assert {n.id for n in naive.nodes} == {n.id for n in aware.nodes}


def test_limit_truncates_keeping_the_nearest(world: World) -> None:
    plain = world.plain()
    start = max(accounts(world, 30, seed=5), key=lambda a: len(nx.ego_graph(plain, a, radius=2)))
    distance = nx.single_source_shortest_path_length(plain, start, cutoff=3)
    limit = plain.degree(start) + 3  # all of level 1 and a few of level 2
    got = neighbourhood(world.ctx, [start], depth=3, limit=limit)
    assert got.truncated
    assert len(got.nodes) == limit
    levels = [distance[n.id] for n in got.nodes]
    assert levels == sorted(levels)
    assert {n for n, d in distance.items() if d <= 1} <= {n.id for n in got.nodes}
    ids = {n.id for n in got.nodes}
    assert all(e.source in ids and e.target in ids for e in got.edges)


def test_neighbourhood_not_truncated_when_everything_fits(world: World) -> None:
    start = accounts(world, 1, seed=6)[0]
    size = len(nx.ego_graph(world.plain(), start, radius=1))
    got = neighbourhood(world.ctx, [start], depth=1, limit=size)
    assert not got.truncated and len(got.nodes) == size


# -- paths ---------------------------------------------------------------------------------------

def path_pairs(world: World, want: int, seed: int, g: nx.Graph | None = None) -> list[tuple[str, str, int]]:
    """Random account pairs at most 6 hops apart in `g` (default: without hubs), spread over
    lengths, with few enough shortest paths."""
    g = world.plain() if g is None else g
    rng = random.Random(seed)
    nodes = sorted(n for n, kind in g.nodes(data="kind") if kind == Label.ACCOUNT)
    pairs: list[tuple[str, str, int]] = []
    per_length: dict[int, int] = {}
    for _ in range(300):
        a, b = rng.sample(nodes, 2)
        try:
            length = nx.shortest_path_length(g, a, b)
        except nx.NetworkXNoPath:
            continue
        if length > 6 or per_length.get(length, 0) >= max(2, want // 3):
            continue
        if sum(1 for _ in islice(nx.all_shortest_paths(g, a, b), MAX_PATHS + 1)) > MAX_PATHS:
            continue
        pairs.append((a, b, length))
        per_length[length] = per_length.get(length, 0) + 1
        if len(pairs) == want:
            break
    return pairs


def node_sequences(path_set: Any) -> set[tuple[str, ...]]:
    return {tuple(n.id for n in p.nodes) for p in path_set.paths}


def test_paths_are_networkx_all_shortest_paths_without_hubs(world: World) -> None:
    pairs = path_pairs(world, 12, seed=1)
    plain = world.plain()
    assert len({length for _, _, length in pairs}) >= 2
    for a, b, length in pairs:
        got = paths(world.ctx, a, b, max_hops=6)
        assert got.length == length and not got.truncated
        assert node_sequences(got) == {tuple(p) for p in nx.all_shortest_paths(plain, a, b)}
        on_paths = {n.id for p in got.paths for n in p.nodes}
        assert {s.id for s in got.skipped} == {m for n in on_paths if n not in world.hubs
                                               for m in world.g[n] if m in world.hubs}
        for p in got.paths:
            assert p.nodes[0].id == a and p.nodes[-1].id == b
            for i, edge in enumerate(p.edges):
                assert {edge.source, edge.target} == {p.nodes[i].id, p.nodes[i + 1].id}
                assert edge.sources


def test_paths_through_supernodes_when_asked(world: World) -> None:
    for a, b, length in path_pairs(world, 6, seed=7, g=world.g):
        got = paths(world.ctx, a, b, max_hops=6, include_supernodes=True)
        assert got.length == length and got.skipped == []
        assert node_sequences(got) == {tuple(p) for p in nx.all_shortest_paths(world.g, a, b)}


def test_accounts_joined_only_through_a_supernode_have_no_path_but_see_it(world: World) -> None:
    plain = world.plain()
    for hub in sorted(h for h in world.hubs if h.startswith("IP:")):
        users = sorted(world.g[hub])
        pair = next(((a, b) for i, a in enumerate(users) for b in users[i + 1:]
                     if not nx.has_path(plain, a, b) or nx.shortest_path_length(plain, a, b) > 2), None)
        if pair is None:
            continue
        got = paths(world.ctx, *pair, max_hops=2)
        assert got.paths == [] and hub in {s.id for s in got.skipped}
        assert paths(world.ctx, *pair, max_hops=2, include_supernodes=True).length == 2
        return
    pytest.fail("no CGNAT or VPN address alone joins two accounts")


def test_paths_longer_than_max_hops_are_not_returned(world: World) -> None:
    a, b, length = next(pair for pair in path_pairs(world, 12, seed=2) if pair[2] >= 3)
    got = paths(world.ctx, a, b, max_hops=length - 1)
    assert got.paths == [] and got.length is None
    assert paths(world.ctx, a, b, max_hops=length).length == length


def test_paths_only_through_kinds(world: World) -> None:
    kinds = [Label.IP.value, Label.FILE.value, Label.DEVICE.value]
    for a, b, _ in path_pairs(world, 5, seed=3):
        allowed = [n for n, kind in world.plain().nodes(data="kind") if kind in kinds or n in (a, b)]
        sub = world.g.subgraph(allowed)
        got = paths(world.ctx, a, b, max_hops=6, kinds=kinds)
        if not nx.has_path(sub, a, b) or nx.shortest_path_length(sub, a, b) > 6:
            assert got.paths == []
            continue
        assert node_sequences(got) == {tuple(p) for p in nx.all_shortest_paths(sub, a, b)}


def test_path_to_itself_is_the_entity_alone(world: World) -> None:
    got = paths(world.ctx, JON, JON)
    assert got.length == 0 and [n.id for n in got.paths[0].nodes] == [JON]


def test_many_shortest_paths_are_capped_and_say_so(graph: GraphWriter, world: World) -> None:
    hub = [Node(Label.ACCOUNT, f"captest:{n}", sources=["captest"]) for n in ("a", "b")]
    files = [Node(Label.FILE, f"md5:{i:032x}", {"md5": f"{i:032x}"}, sources=["captest"])
             for i in range(MAX_PATHS + 10)]
    shared = [Edge(Rel.SHARED, (Label.ACCOUNT, h.key), (Label.FILE, f.key), sources=["captest"])
              for h in hub for f in files]
    graph.write(hub + files, shared)
    got = paths(world.ctx, "Account:captest:a", "Account:captest:b")
    assert got.truncated and got.length == 2 and len(got.paths) == MAX_PATHS


# -- shared identifiers ----------------------------------------------------------------------------

def test_shared_identifiers_of_one_report_person_and_account(world: World) -> None:
    got = shared_identifiers(world.ctx, [JON, JON_PERSON]).identifiers
    assert {s.entity.id for s in got} == {"Email:j.fake+tag@example.com", "Email:jon.fake@example.org",
                                         "Phone:+15555550123"}
    assert all(s.holders == [JON, JON_PERSON] and s.sources == ["cybertip:9000001"] for s in got)


def test_shared_identifiers_match_networkx(world: World) -> None:
    identifier = {"Email", "Phone", "IP", "Device", "File"}
    people = [p for p in world.truth["persons"] if p["shares"]]
    checked = 0
    for person in people:
        ids = [f"Account:{a}" for a in person["accounts"] if f"Account:{a}" in world.g]
        if len(ids) < 2:
            continue
        expected: dict[str, set[str]] = {}
        for holder in ids:
            for other in world.g[holder]:
                if world.g.nodes[other]["kind"] in identifier:
                    expected.setdefault(other, set()).add(holder)
        expected = {k: v for k, v in expected.items() if len(v) >= 2}
        got = shared_identifiers(world.ctx, ids).identifiers
        assert {s.entity.id: set(s.holders) for s in got} == expected
        for s in got:
            tying = {src for h in s.holders for r in world.g.edges[h, s.entity.id]["rels"] for src in r["sources"]}
            assert set(s.sources) == tying
        assert [len(s.holders) for s in got] == sorted((len(s.holders) for s in got), reverse=True)
        checked += bool(got)
    assert checked, "planted persons share identifiers"


# -- refusals ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda ctx: neighbourhood(ctx, [JON], depth=0),
    lambda ctx: neighbourhood(ctx, [JON], depth=4),
    lambda ctx: neighbourhood(ctx, [JON], limit=0),
    lambda ctx: neighbourhood(ctx, [JON], limit=2001),
    lambda ctx: neighbourhood(ctx, [], depth=1),
    lambda ctx: neighbourhood(ctx, [f"Account:x{i}" for i in range(101)]),
    lambda ctx: neighbourhood(ctx, [JON], kinds=["Acount"]),
    lambda ctx: neighbourhood(ctx, [JON], kinds=[]),
    lambda ctx: neighbourhood(ctx, ["no-colon"]),
    lambda ctx: neighbourhood(ctx, ["Planet:earth"]),
    lambda ctx: paths(ctx, JON, JON_PERSON, max_hops=0),
    lambda ctx: paths(ctx, JON, JON_PERSON, max_hops=7),
    lambda ctx: paths(ctx, JON, JON_PERSON, kinds=["Nope"]),
    lambda ctx: shared_identifiers(ctx, [JON]),
], ids=["depth0", "depth4", "limit0", "limit2001", "no-ids", "101-ids", "bad-kind", "empty-kinds", "malformed-id",
        "unknown-label", "hops0", "hops7", "paths-bad-kind", "one-id"])
def test_out_of_bounds_questions_are_bad_input(world: World, call: Any) -> None:
    with pytest.raises(BadInput):
        call(world.ctx)


@pytest.mark.parametrize("call", [
    lambda ctx: neighbourhood(ctx, [JON, "Account:nobody:0"]),
    lambda ctx: paths(ctx, JON, "IP:192.0.2.254"),
    lambda ctx: shared_identifiers(ctx, [JON, "Email:nobody@example.com"]),
])
def test_unknown_entities_are_not_found(world: World, call: Any) -> None:
    with pytest.raises(NotFound):
        call(world.ctx)

"""The algorithms on graphs built in memory: reproducibility, numbering, networkx as the oracle."""

from __future__ import annotations

import random

import igraph as ig
import networkx as nx
import pytest

from queries.community_detection import Method, canonical, detect, shape, to_networkx
from queries.errors import BadInput


def ring_of_cliques(cliques: int = 30, size: int = 5) -> ig.Graph:
    """The textbook case of modularity's resolution limit: cliques joined in a ring by one edge each."""
    edges = []
    for c in range(cliques):
        base = c * size
        edges += [(base + i, base + j) for i in range(size) for j in range(i + 1, size)]
        edges.append((base, ((c + 1) % cliques) * size + 1))
    return ig.Graph(n=cliques * size, edges=edges, edge_attrs={"weight": [1.0] * len(edges)})


def noisy_groups(seed: int) -> ig.Graph:
    """40 groups of 4-20 vertices, dense inside, with random weighted ties across."""
    rng = random.Random(seed)
    sizes = [rng.randint(4, 20) for _ in range(40)]
    group = [g for g, n in enumerate(sizes) for _ in range(n)]
    n = len(group)
    edges, weights = [], []
    for a in range(n):
        for b in range(a + 1, n):
            inside = group[a] == group[b]
            if rng.random() < (0.6 if inside else 0.004):
                edges.append((a, b))
                weights.append(rng.uniform(0.2, 2.0))
    return ig.Graph(n=n, edges=edges, edge_attrs={"weight": weights})


@pytest.mark.parametrize("method", [Method("leiden", "cpm", 0.05, 7), Method("leiden", "modularity", 1.0, 7),
                                    Method("louvain", "modularity", 1.0, 7)])
def test_the_same_seed_gives_the_same_partition(method: Method) -> None:
    graph = noisy_groups(1)
    first = detect(graph, method)
    assert detect(graph.copy(), method) == first
    assert len(set(first)) > 10


def test_cpm_keeps_the_small_groups_that_modularity_merges() -> None:
    graph = ring_of_cliques()
    truth = [v // 5 for v in range(graph.vcount())]
    cpm = detect(graph, Method("leiden", "cpm", 0.05, 1))
    modularity = detect(graph, Method("leiden", "modularity", 1.0, 1))
    assert ig.compare_communities(truth, cpm, "nmi") == pytest.approx(1.0)
    assert len(set(modularity)) < 30  # the resolution limit: neighbouring cliques merged
    assert len(set(cpm)) == 30


def test_components_equal_networkx_connected_components() -> None:
    graph = noisy_groups(2)
    graph.delete_edges([e.index for e in graph.es if e["weight"] < 1.0])  # break it into pieces
    found = detect(graph, Method("components"))
    expected = {frozenset(c) for c in nx.connected_components(to_networkx(graph))}
    ours: dict[int, set[int]] = {}
    for vertex, community in enumerate(found):
        ours.setdefault(community, set()).add(vertex)
    assert {frozenset(c) for c in ours.values()} == expected


def test_communities_are_numbered_largest_first_ties_by_lowest_vertex() -> None:
    assert canonical([5, 5, 9, 9, 9, 1, 7]) == [1, 1, 0, 0, 0, 2, 3]
    found = detect(noisy_groups(3), Method())
    sizes = [found.count(c) for c in range(max(found) + 1)]
    assert sizes == sorted(sizes, reverse=True)


def test_shape_counts_internal_ties_and_ranks_members_by_pagerank_within_their_community() -> None:
    graph = noisy_groups(4)
    graph.add_vertices(3)  # members without ties: their own communities, and a trap for PageRank's mass
    membership = detect(graph, Method())
    assert membership.count(max(membership)) == 1
    found = shape(graph, membership)
    nx_graph = to_networkx(graph)
    for community in [*range(5), max(membership)]:
        members = [v for v, c in enumerate(membership) if c == community]
        inside = nx_graph.subgraph(members)
        assert found.size[community] == len(members)
        assert found.edges[community] == inside.number_of_edges()
        assert found.weight[community] == pytest.approx(inside.size(weight="weight"))
        assert found.density[community] == pytest.approx(nx.density(inside))
        # One PageRank per community, on that community alone: what the single whole-graph call replaces.
        alone = graph.induced_subgraph(members).pagerank(weights="weight")
        for vertex, expected in zip(members, alone, strict=True):
            assert found.rank[vertex] == pytest.approx(expected, abs=1e-6)


def test_unknown_methods_are_refused() -> None:
    graph = noisy_groups(5)
    with pytest.raises(BadInput):
        detect(graph, Method("spectral"))
    with pytest.raises(BadInput):
        detect(graph, Method("louvain", "cpm"))
    with pytest.raises(BadInput):
        detect(graph, Method("leiden", "cpm", 0.0))


def test_an_empty_graph_has_no_communities() -> None:
    assert detect(ig.Graph(), Method()) == []

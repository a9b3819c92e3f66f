"""Communities of a projection, in process: Leiden by default, networkx Louvain as the reference.

Why Leiden with the Constant Potts Model (CPM) by default: offender groups are a handful to a few
dozen accounts in a graph of hundreds of thousands, and modularity (Louvain, or Leiden optimising
modularity) cannot see communities that small in a graph that large: its resolution limit merges
them. CPM has no such limit; its `resolution` is a density, the least weight of ties per pair of
members a community must have inside (and the most it may have to the rest). Measured, with the
figures, in docs/benchmarks.md (`python -m bench.communities`).

Same graph, same method, same seed: same partition. Communities are numbered by size, largest
first (ties: the one holding the lowest vertex first), so numbers are stable too.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import Any

import igraph as ig
import leidenalg as la
import networkx as nx

from queries.errors import BadInput

ALGORITHMS = ("leiden", "louvain", "components")
QUALITIES = ("cpm", "modularity")
_RANDOM = threading.Lock()


@dataclass(frozen=True, slots=True)
class Method:
    """What to run: `quality` and `resolution` apply to Leiden; Louvain optimises modularity."""

    algorithm: str = "leiden"
    quality: str = "cpm"
    resolution: float = 0.05
    seed: int = 42

    def checked(self) -> Method:
        if self.algorithm not in ALGORITHMS:
            raise BadInput(f"unknown algorithm {self.algorithm!r}; known: {', '.join(ALGORITHMS)}")
        if self.quality not in QUALITIES:
            raise BadInput(f"unknown quality {self.quality!r}; known: {', '.join(QUALITIES)}")
        if self.algorithm == "louvain" and self.quality != "modularity":
            raise BadInput("networkx Louvain optimises modularity only: give quality 'modularity'")
        if not self.resolution > 0:
            raise BadInput(f"resolution must be greater than 0, not {self.resolution!r}")
        return self

    def describe(self) -> dict[str, Any]:
        if self.algorithm == "components":
            return {"algorithm": "components"}
        return asdict(self)


def detect(graph: ig.Graph, method: Method) -> list[int]:
    """The community of each vertex (numbered by size, see the module docstring).

    Leiden runs until an iteration changes nothing; complexity about linear in the edges per
    iteration. Louvain is networkx's pure-Python one: the reference, and slow on large graphs.
    """
    method = method.checked()
    if graph.vcount() == 0:
        return []
    if method.algorithm == "components":
        membership = graph.connected_components().membership
    elif method.algorithm == "louvain":
        membership = louvain(graph, method.resolution, method.seed)
    else:
        membership = leiden(graph, method.quality, method.resolution, method.seed)
    return canonical(membership)


def leiden(graph: ig.Graph, quality: str, resolution: float, seed: int) -> list[int]:
    """igraph's Leiden (its C core), iterated until nothing changes, from a seeded generator.

    igraph draws from one process-wide generator: it is set to a `Random(seed)` for the call, under a
    lock so that two runs at once cannot share it, and given back afterwards.
    """
    weights = "weight" if "weight" in graph.edge_attributes() else None
    with _RANDOM:
        ig.set_random_number_generator(random.Random(seed))
        try:
            clustering = graph.community_leiden(objective_function="CPM" if quality == "cpm" else "modularity",
                                                weights=weights, resolution=resolution, n_iterations=-1)
        finally:
            ig.set_random_number_generator(random)
    return list(clustering.membership)


def leidenalg_partition(graph: ig.Graph, quality: str, resolution: float, seed: int) -> list[int]:
    """The same optimisation by the `leidenalg` package: a cross-check of `leiden` in the benchmark
    (equal quality on the LFR graphs, many times slower: docs/benchmarks.md)."""
    kind = la.CPMVertexPartition if quality == "cpm" else la.RBConfigurationVertexPartition
    weights = "weight" if "weight" in graph.edge_attributes() else None
    partition = la.find_partition(graph, kind, weights=weights, resolution_parameter=resolution, seed=seed,
                                  n_iterations=-1)
    return canonical(list(partition.membership))


def louvain(graph: ig.Graph, resolution: float, seed: int) -> list[int]:
    nx_graph = to_networkx(graph)
    communities = nx.community.louvain_communities(nx_graph, weight="weight", resolution=resolution, seed=seed)
    membership = [0] * graph.vcount()
    for number, members in enumerate(communities):
        for vertex in members:
            membership[vertex] = number
    return membership


def to_networkx(graph: ig.Graph) -> nx.Graph:
    """The same graph for networkx: vertices 0..n-1, edge attribute `weight` (1 when unweighted)."""
    nx_graph = nx.Graph()
    nx_graph.add_nodes_from(range(graph.vcount()))
    weights = graph.es["weight"] if "weight" in graph.edge_attributes() else [1.0] * graph.ecount()
    nx_graph.add_weighted_edges_from((a, b, w) for (a, b), w in zip(graph.get_edgelist(), weights, strict=True))
    return nx_graph


def canonical(membership: list[int]) -> list[int]:
    """Renumber: largest community 0, ties broken by the lowest vertex each holds."""
    size: dict[int, int] = {}
    first: dict[int, int] = {}
    for vertex, community in enumerate(membership):
        size[community] = size.get(community, 0) + 1
        first.setdefault(community, vertex)
    order = sorted(size, key=lambda c: (-size[c], first[c]))
    number = {community: rank for rank, community in enumerate(order)}
    return [number[c] for c in membership]


@dataclass(slots=True)
class Shape:
    """What a community looks like inside: `rank[v]` is PageRank within its own community."""

    size: list[int]
    edges: list[int]
    weight: list[float]
    density: list[float]
    rank: list[float]


def shape(graph: ig.Graph, membership: list[int]) -> Shape:
    """Sizes, internal ties, density (ties over possible pairs) and PageRank within each community.

    PageRank runs once on the graph of internal ties only: no walk crosses from one community to
    another there, so within each community the scores are proportional to that community's own
    PageRank (the teleports and the mass of members without ties spread over all vertices alike);
    dividing by the community's total gives it, summing to 1, without one call per community.
    """
    count = max(membership, default=-1) + 1
    size = [0] * count
    for community in membership:
        size[community] += 1
    inside = graph.subgraph_edges(_within(graph, membership), delete_vertices=False)
    weights = "weight" if "weight" in inside.edge_attributes() and inside.ecount() else None
    edges = [0] * count
    weight = [0.0] * count
    for vertex, (degree, strength) in enumerate(zip(inside.degree(), inside.strength(weights=weights),
                                                    strict=True)):
        edges[membership[vertex]] += degree
        weight[membership[vertex]] += strength
    edges = [e // 2 for e in edges]  # each internal tie was counted from both ends
    weight = [w / 2 for w in weight]
    density = [2 * e / (s * (s - 1)) if s > 1 else 0.0 for e, s in zip(edges, size, strict=True)]
    scores = inside.pagerank(weights=weights, directed=False)
    total = [0.0] * count
    for vertex, score in enumerate(scores):
        total[membership[vertex]] += score
    rank = [score / total[membership[v]] for v, score in enumerate(scores)]
    return Shape(size=size, edges=edges, weight=weight, density=density, rank=rank)


def _within(graph: ig.Graph, membership: list[int]) -> list[int]:
    """Ids of the edges whose two ends are in one community."""
    return [i for i, (a, b) in enumerate(graph.get_edgelist()) if membership[a] == membership[b]]

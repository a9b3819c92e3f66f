"""Community detection on the server, when it has Neo4j's Graph Data Science plugin.

`has_gds` asks the server which procedures it offers (Neo4j Community without the plugin has none
named `gds.*`, and then everything runs in process). With the plugin, `gds_leiden` sends the same
projection (the edges and weights `queries/projection.py` made, so the weighting stays in one
place) to an in-memory GDS graph, runs `gds.leiden.stream` on it, drops it, and returns one
community number per vertex, the shape `community_detection.detect` returns.

The in-memory graph lives on the one server that projected it, so projecting, running and dropping
happen in ONE read transaction: on a cluster (`neo4j://`) separate reads may go to different
followers, and the second would not find the graph. GDS's procedures used here only read the
database, so a read transaction (routed to a follower or a GDS secondary) may run them.

GDS's Leiden optimises modularity with `gamma` = our `resolution`; it has no CPM. A run with the
CPM quality therefore never goes to GDS when the engine is `auto`, and is refused with `gds`.
`concurrency: 1` with `randomSeed` makes its result reproducible.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from neo4j import ManagedTransaction
from neo4j.exceptions import CypherSyntaxError, Neo4jError

from queries.community_detection import Method, canonical
from queries.context import GraphContext
from queries.errors import BadInput, Unavailable
from queries.projection import Projection

ENGINES = ("auto", "local", "gds")

_HAS_GDS = "SHOW PROCEDURES YIELD name WHERE name IN ['gds.leiden.stream', 'gds.graph.project'] RETURN count(*) AS n"

# Cypher aggregation projection: one row per edge, both ends as Account nodes, undirected.
_PROJECT = """
UNWIND $edges AS e
MATCH (a:Account {key: e[0]})
MATCH (b:Account {key: e[1]})
WITH gds.graph.project($name, a, b, {relationshipProperties: {weight: e[2]}},
                       {undirectedRelationshipTypes: ['*']}) AS g
RETURN g.nodeCount AS nodes, g.relationshipCount AS relationships
"""
_LEIDEN = """
CALL gds.leiden.stream($name, {relationshipWeightProperty: 'weight', gamma: $resolution,
                               randomSeed: $seed, concurrency: 1})
YIELD nodeId, communityId
RETURN gds.util.asNode(nodeId).key AS key, communityId AS community
"""
_DROP = "CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName"


def has_gds(ctx: GraphContext) -> bool:
    """True when the server offers GDS's Leiden and Cypher projection (the plugin is installed)."""
    [row] = ctx.read(_HAS_GDS)
    return int(row["n"]) == 2


def choose_engine(ctx: GraphContext, engine: str, method: Method) -> str:
    """`local` or `gds`: where this run executes, given what was asked and what the server has."""
    if engine not in ENGINES:
        raise BadInput(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    gds_can = method.algorithm == "leiden" and method.quality == "modularity"
    if engine == "local":
        return "local"
    if engine == "gds":
        if not gds_can:
            raise BadInput("GDS runs Leiden with the modularity quality only")
        if not has_gds(ctx):
            raise Unavailable("the Neo4j server has no Graph Data Science plugin")
        return "gds"
    return "gds" if gds_can and has_gds(ctx) else "local"


def gds_leiden(ctx: GraphContext, projection: Projection, method: Method) -> list[int]:
    """Community of each vertex of `projection`, computed by the server's GDS."""
    keys = projection.keys
    edges: list[list[Any]] = [[keys[a], keys[b], w] for (a, b), w in
                              zip(projection.graph.get_edgelist(), projection.graph.es["weight"], strict=True)]

    def on_one_server(tx: ManagedTransaction) -> dict[str, int]:
        # A fresh name per attempt: the driver may retry this function after a transient error.
        name = f"gracegraph-communities-{uuid.uuid4().hex[:12]}"
        tx.run(_PROJECT, name=name, edges=edges).consume()
        try:
            found = {row["key"]: row["community"] for row in
                     tx.run(_LEIDEN, name=name, resolution=method.resolution, seed=method.seed)}
        except Neo4jError:
            # The catalog is not transactional: try to drop the graph, but report the first failure.
            with contextlib.suppress(Neo4jError):
                tx.run(_DROP, name=name).consume()
            raise
        tx.run(_DROP, name=name).consume()
        return found

    try:
        found = ctx.in_one_read(on_one_server)
    except CypherSyntaxError as exc:  # "Unknown function 'gds.graph.project'"
        # `has_gds` said yes, but the server this transaction reached has no GDS: on a cluster whose
        # GDS is on some members only (docs/deploy.md §3), two reads may reach two members.
        raise Unavailable("the Neo4j server that took this run has no Graph Data Science plugin") from exc
    # Vertices without edges are not in the GDS graph; a projection has none, but stay total.
    spare = max(found.values(), default=-1) + 1
    membership = []
    for key in keys:
        if key not in found:
            found[key] = spare
            spare += 1
        membership.append(found[key])
    return canonical(membership)

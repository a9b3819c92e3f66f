"""The baseline the ingest benchmark measures us against: one MERGE per element, one transaction each.

This is how a first script usually loads a graph (a `session.run` per node and per relationship),
kept as plain as that on purpose. Same records, same constraints, same graph at the end; it does
not keep provenance unions or file re-keying, which only makes it faster than a fair copy would be.
"""

from __future__ import annotations

from collections.abc import Iterable

from neo4j import Driver

from loaders.model import Edge, Node, Records, cypher

_NODE = "MERGE (n:{label} {key: $key}) SET n += $props"
_EDGE = ("MATCH (a:{start} {key: $start}) MATCH (b:{end} {key: $end}) "
         "MERGE (a)-[r:{rel}]->(b) SET r += $props")


def load_naively(driver: Driver, database: str, records: Iterable[Records]) -> int:
    """Write every element of every record; returns how many statements it sent."""
    sent = 0
    with driver.session(database=database) as session:
        for rec in records:
            for node in rec.nodes:
                session.run(cypher(_NODE, label=node.label), key=node.key, props=_plain(node)).consume()
                sent += 1
            for edge in rec.edges:
                query = cypher(_EDGE, start=edge.start[0], end=edge.end[0], rel=edge.type)
                session.run(query, start=edge.start[1], end=edge.end[1], props=_plain(edge)).consume()
                sent += 1
    return sent


def _plain(element: Node | Edge) -> dict:
    return {**element.props, **element.lists, "sources": element.sources}

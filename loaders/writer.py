"""The one writer: canonical records in, batched idempotent writes out.

Per batch, in one transaction with the driver's managed retries: File nodes are joined to any node
that shares one of their hashes; the current state of every node and relationship the batch names
is read (one `UNWIND $keys MATCH` per label or relationship shape); the batch's facts are folded
into it in Python (loaders/provenance.py); then only what is new is CREATEd and only what changed
is SET, each with one `UNWIND $rows` query. A first load is all cheap CREATEs; a repeated load
reads and writes nothing, so it reports nothing created or updated.

Two loaders racing to create the same key hit the uniqueness constraint; the batch is then
retried, and the retry finds the other's node and merges into it.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError

from loaders.file_identity import resolve_files
from loaders.model import ENDPOINTS, Edge, Label, Node, Rel, cypher
from loaders.provenance import State, TemporalShape, fold, from_wire, snapshot, to_wire

#: Attempts at a batch that lost a race to another loader on a new key.
RACE_RETRIES = 5


@dataclass(slots=True)
class WriteCounts:
    """Created and updated elements per label or relationship type."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    file_conflicts: int = 0

    def add(self, other: WriteCounts) -> None:
        self.created.update(other.created)
        self.updated.update(other.updated)
        self.file_conflicts += other.file_conflicts

    @property
    def elements_created(self) -> int:
        return sum(self.created.values())


class EdgeWithoutEndpoint(RuntimeError):
    """A relationship whose start or end node was not written: a parser bug, never silent."""


#: The writer's plans are index seeks whatever the statistics say (every MATCH carries its index
#: hint, so a plan made on an empty graph is still right on a full one); without this, a load into a
#: fast-growing graph makes the server re-plan every query again and again (seen: the server busy
#: compiling Cypher for most of a 10k-report load).
_REPLAN = "CYPHER replan=skip "

#: A property as [name, value, how]: temporal values cross the wire as numbers or text, because the
#: driver's pure-Python hydration of DateTime objects costs more than the whole query.
_PROPERTY_ROW = """[name IN keys({var}) | [name,
  CASE WHEN {var}[name] IS :: ZONED DATETIME THEN {var}[name].epochSeconds * 1000000 + {var}[name].microsecond
       WHEN {var}[name] IS :: LIST<ZONED DATETIME NOT NULL>
            THEN [t IN {var}[name] | t.epochSeconds * 1000000 + t.microsecond]
       WHEN {var}[name] IS :: DATE THEN toString({var}[name])
       ELSE {var}[name] END,
  CASE WHEN {var}[name] IS :: ZONED DATETIME THEN 'dt'
       WHEN {var}[name] IS :: LIST<ZONED DATETIME NOT NULL> THEN 'dts'
       WHEN {var}[name] IS :: DATE THEN 'date' ELSE '' END]]"""
_READ_NODES = (_REPLAN + "UNWIND $keys AS k MATCH (n:{label} {key: k}) USING INDEX n:{label}(key) RETURN n.key AS key, "
               + _PROPERTY_ROW.replace("{var}", "n") + " AS p")
_CREATE_NODES = _REPLAN + "UNWIND $rows AS row CREATE (n:{label}) SET n = row.p"
_UPDATE_NODES = (_REPLAN + "UNWIND $rows AS row MATCH (n:{label} {key: row.p.key}) USING INDEX n:{label}(key) "
                 "SET n += row.p")
#: Both ends are found by key first, so the relationship is looked up from the side with fewer
#: relationships (Expand(Into)), never by walking a CGNAT address's thousands of users.
_READ_EDGES = (_REPLAN + "UNWIND $pairs AS pair MATCH (a:{start} {key: pair[0]})-[r:{rel}]->(b:{end} {key: pair[1]}) "
               "USING INDEX a:{start}(key) USING INDEX b:{end}(key) "
               "RETURN a.key AS s, b.key AS e, " + _PROPERTY_ROW.replace("{var}", "r") + " AS p")
_CREATE_EDGES = (_REPLAN + "UNWIND $rows AS row MATCH (a:{start} {key: row.s}) USING INDEX a:{start}(key) "
                 "MATCH (b:{end} {key: row.e}) USING INDEX b:{end}(key) "
                 "CREATE (a)-[r:{rel}]->(b) SET r = row.p")
_UPDATE_EDGES = (_REPLAN + "UNWIND $rows AS row MATCH (a:{start} {key: row.s})-[r:{rel}]->(b:{end} {key: row.e}) "
                 "USING INDEX a:{start}(key) USING INDEX b:{end}(key) SET r += row.p")

_MICROS = "datetime({{epochSeconds: {v} / 1000000, nanosecond: {v} % 1000000 * 1000}})"
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

NodeRef = tuple[Label, str]


def with_temporals(query: str, var: str, shape: TemporalShape, tail: str = "") -> str:
    """`query` plus the SETs that turn a row's numeric temporals back into Neo4j values.

    Property names come from our parsers, not from users, and are checked as identifiers anyway.
    """
    single, many, dates = shape
    sets = []
    for name in (*single, *many, *dates):
        if not _PROPERTY_NAME.match(name):
            raise ValueError(f"bad property name {name!r}")
    sets += [f"{var}.{n} = " + _MICROS.format(v=f"row.t.{n}") for n in single]
    sets += [f"{var}.{n} = [x IN row.ts.{n} | " + _MICROS.format(v="x") + "]" for n in many]
    sets += [f"{var}.{n} = date(row.d.{n})" for n in dates]
    return query + (" SET " + ", ".join(sets) if sets else "") + tail


def _by_shape(rows: list[tuple[TemporalShape, dict[str, Any]]]) -> dict[TemporalShape, list[dict[str, Any]]]:
    groups: dict[TemporalShape, list[dict[str, Any]]] = {}
    for shape, row in rows:
        groups.setdefault(shape, []).append(row)
    return groups


def _check_endpoints(edge: Edge) -> None:
    starts, ends = ENDPOINTS[edge.type]
    if edge.start[0] not in starts or (ends and edge.end[0] not in ends):
        raise ValueError(f"{edge.type} cannot join {edge.start[0]} to {edge.end[0]}")


def _group_nodes(nodes: Iterable[Node], remap: dict[str, str]) -> dict[Label, dict[str, list[Node]]]:
    groups: dict[Label, dict[str, list[Node]]] = {}
    for node in nodes:
        key = remap.get(node.key, node.key) if node.label is Label.FILE else node.key
        groups.setdefault(node.label, {}).setdefault(key, []).append(node)
    return groups


def _ref(ref: NodeRef, remap: dict[str, str]) -> str:
    return remap.get(ref[1], ref[1]) if ref[0] is Label.FILE else ref[1]


def _group_edges(edges: Iterable[Edge], remap: dict[str, str]
                 ) -> dict[tuple[Rel, Label, Label], dict[tuple[str, str], list[Edge]]]:
    groups: dict[tuple[Rel, Label, Label], dict[tuple[str, str], list[Edge]]] = {}
    for edge in edges:
        shape = (edge.type, edge.start[0], edge.end[0])
        pair = (_ref(edge.start, remap), _ref(edge.end, remap))
        groups.setdefault(shape, {}).setdefault(pair, []).append(edge)
    return groups


def _fold_all(existing: State | None, elements: list[Any], identity: dict[str, Any]) -> tuple[State, bool]:
    """The element's new state and whether it differs from what the graph holds."""
    if existing is None:  # new: nothing to compare with
        state: State = dict(identity)
        for element in elements:
            fold(state, element)
        return state, True
    state = dict(existing)
    before = snapshot(state)
    for element in elements:
        fold(state, element)
    return state, state != before


def _write_nodes(tx: ManagedTransaction, label: Label, by_key: dict[str, list[Node]], counts: WriteCounts) -> None:
    keys = list(by_key)
    existing = {r["key"]: from_wire(r["p"]) for r in tx.run(cypher(_READ_NODES, label=label), keys=keys)}
    created, updated = [], []
    for key, nodes in by_key.items():
        state, changed = _fold_all(existing.get(key), nodes, {"key": key})
        if key not in existing:
            created.append(to_wire(state))
        elif changed:
            updated.append(to_wire(state))
    for shape, rows in _by_shape(created).items():
        tx.run(with_temporals(cypher(_CREATE_NODES, label=label), "n", shape), rows=rows).consume()
    for shape, rows in _by_shape(updated).items():
        tx.run(with_temporals(cypher(_UPDATE_NODES, label=label), "n", shape), rows=rows).consume()
    counts.created[label.value] += len(created)
    counts.updated[label.value] += len(updated)


def _write_edges(tx: ManagedTransaction, shape: tuple[Rel, Label, Label],
                 by_pair: dict[tuple[str, str], list[Edge]], counts: WriteCounts) -> None:
    rel, start, end = shape
    names: dict[str, Label | Rel] = {"rel": rel, "start": start, "end": end}
    pairs = [list(pair) for pair in by_pair]
    existing = {(r["s"], r["e"]): from_wire(r["p"])
                for r in tx.run(cypher(_READ_EDGES, **names), pairs=pairs)}
    created, updated = [], []
    for pair, edges in by_pair.items():
        state, changed = _fold_all(existing.get(pair), edges, {})
        temporals, row = to_wire(state)
        row["s"], row["e"] = pair
        if pair not in existing:
            created.append((temporals, row))
        elif changed:
            updated.append((temporals, row))
    for temporals, rows in _by_shape(created).items():
        query = with_temporals(cypher(_CREATE_EDGES, **names), "r", temporals, " RETURN count(r) AS made")
        made = tx.run(query, rows=rows).single()
        if made is None or made["made"] != len(rows):
            missing = len(rows) - (made["made"] if made else 0)
            raise EdgeWithoutEndpoint(f"{missing} {rel} relationships from {start} to {end} lack an endpoint node")
    for temporals, rows in _by_shape(updated).items():
        tx.run(with_temporals(cypher(_UPDATE_EDGES, **names), "r", temporals), rows=rows).consume()
    counts.created[rel.value] += len(created)
    counts.updated[rel.value] += len(updated)


def write_batch(tx: ManagedTransaction, nodes: list[Node], edges: list[Edge]) -> WriteCounts:
    """The transaction function: no side effects outside `tx`, so the driver may retry it."""
    for edge in edges:  # every shape is checked before anything is written (re-keying writes)
        _check_endpoints(edge)
    files = [n for n in nodes if n.label is Label.FILE]
    remap, conflicts = resolve_files(tx, files) if files else ({}, 0)
    edge_groups = _group_edges(edges, remap)
    counts = WriteCounts(file_conflicts=conflicts)
    for label, by_key in _group_nodes(nodes, remap).items():
        _write_nodes(tx, label, by_key, counts)
    for shape, by_pair in edge_groups.items():
        _write_edges(tx, shape, by_pair, counts)
    return counts


class GraphWriter:
    """Writes batches to one database; what the loaders and benchmarks share.

    One transaction per batch, with the driver's managed retries; every step is an idempotent
    fold, so a batch cut short by a crash is completed, not duplicated, when the load runs again.
    """

    def __init__(self, driver: Driver, database: str) -> None:
        self.driver = driver
        self.database = database

    def write(self, nodes: list[Node], edges: list[Edge]) -> WriteCounts:
        for attempt in range(RACE_RETRIES):
            try:
                with self.driver.session(database=self.database) as session:
                    return session.execute_write(write_batch, nodes, edges)
            except ConstraintError:
                # Another loader created one of our new keys first; the retry reads and merges it.
                if attempt == RACE_RETRIES - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

"""The one writer: canonical records in, batched idempotent writes out.

Per batch, in one transaction with the driver's managed retries:
1. File nodes are joined to any node that shares one of their hashes (loaders/file_identity.py).
2. Everything the batch says about one node or relationship is folded into one delta in Python
   (loaders/provenance.py), so a provider named by a thousand reports is merged once, not a
   thousand times.
3. Per label, one `UNWIND $keys MATCH` reads the nodes that exist already (state and element id);
   the deltas are merged into them in Python; then one `UNWIND $rows CREATE` makes the new nodes
   (returning their element ids) and one `UNWIND $rows SET` writes only the changed ones.
4. Per relationship shape, the same, except that relationships are found and made from their
   endpoints' element ids (no index seek), and a relationship with an endpoint made in this batch
   cannot exist yet, so it is not looked for: a first load reads almost no relationships.
A repeated load reads and writes nothing new, so it reports nothing created or updated.

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
from loaders.params import Rows
from loaders.provenance import State, delta, from_wire, merge, to_wire

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


#: The writer's plans are index or id seeks whatever the statistics say (every MATCH by key carries
#: its index hint, so a plan made on an empty graph is still right on a full one); without this, a
#: load into a fast-growing graph makes the server re-plan every query again and again.
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
#: Every query answers with one record (lists collected on the server): the driver's per-record
#: work in Python cost more than the rows' content.
#: The reads the writer merges into take each element's write lock first (a write of a throwaway
#: property), so a second loader updating the same node waits for this batch to commit and then
#: reads its result: without the lock both read the old `sources`, and the later write loses the
#: earlier one's reports. Keys go in sorted order, so two loaders lock in the same order.
_LOCK = " SET {var}._lock = true REMOVE {var}._lock "
_READ_NODES = (_REPLAN + "UNWIND $keys AS k MATCH (n:{label} {key: k}) USING INDEX n:{label}(key)"
               + _LOCK.replace("{var}", "n")
               + "RETURN collect([k, elementId(n), " + _PROPERTY_ROW.replace("{var}", "n") + "]) AS found")
_FIND_NODES = (_REPLAN + "UNWIND $keys AS k MATCH (n:{label} {key: k}) USING INDEX n:{label}(key) "
               "RETURN collect([k, elementId(n)]) AS found")
_CREATE_NODES = _REPLAN + "UNWIND $rows AS row CREATE (n:{label}) SET n = row.p"
_CREATED_IDS = " RETURN collect([row.p.key, elementId(n)]) AS made"
_UPDATE_NODES = _REPLAN + "UNWIND $rows AS row MATCH (n) WHERE elementId(n) = row.id SET n += row.p"
#: Relationships are looked up from their start node's id and filtered on the end's id: the start
#: side of every shape in the model is the one with few relationships of that type.
_READ_EDGES = (_REPLAN + "UNWIND $pairs AS pair MATCH (a) WHERE elementId(a) = pair[0] "
               "MATCH (a)-[r:{rel}]->(b) WHERE elementId(b) = pair[1]" + _LOCK.replace("{var}", "r") +
               "RETURN collect([pair[0], pair[1], elementId(r), " + _PROPERTY_ROW.replace("{var}", "r") + "]) AS found")
_CREATE_EDGES = (_REPLAN + "UNWIND $rows AS row MATCH (a) WHERE elementId(a) = row.s "
                 "MATCH (b) WHERE elementId(b) = row.e CREATE (a)-[r:{rel}]->(b) SET r = row.p")
_UPDATE_EDGES = _REPLAN + "UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.id SET r += row.p"

_MICROS = "datetime({{epochSeconds: {v} / 1000000, nanosecond: {v} % 1000000 * 1000}})"
_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

NodeRef = tuple[Label, str]
Pair = tuple[str, str]
#: Temporal property names of a group of rows: (datetimes, datetime lists, dates).
Names = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def with_temporals(query: str, var: str, names: Names, tail: str = "") -> str:
    """`query` plus the SETs that turn the rows' numeric temporals back into Neo4j values.

    One query serves every row of a label whatever temporals each row has: a row without one
    keeps the property as it is (on a new element: absent). Property names come from our parsers,
    not from users, and are checked as identifiers anyway.
    """
    single, many, dates = names
    for name in (*single, *many, *dates):
        if not _PROPERTY_NAME.match(name):
            raise ValueError(f"bad property name {name!r}")

    def keep_or(value: str, given: str, name: str) -> str:
        return f"{var}.{name} = CASE WHEN {given} IS NULL THEN {var}.{name} ELSE {value} END"

    sets = [keep_or(_MICROS.format(v=f"row.t.{n}"), f"row.t.{n}", n) for n in single]
    sets += [keep_or(f"[x IN row.ts.{n} | " + _MICROS.format(v="x") + "]", f"row.ts.{n}", n) for n in many]
    sets += [keep_or(f"date(row.d.{n})", f"row.d.{n}", n) for n in dates]
    return query + (" SET " + ", ".join(sets) if sets else "") + tail


def _names(rows: list[dict[str, Any]]) -> Names:
    single = set().union(*(row["t"] for row in rows))
    many = set().union(*(row["ts"] for row in rows))
    dates = set().union(*(row["d"] for row in rows))
    return tuple(sorted(single)), tuple(sorted(many)), tuple(sorted(dates))


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


def _ref(ref: NodeRef, remap: dict[str, str]) -> NodeRef:
    return (ref[0], remap.get(ref[1], ref[1])) if ref[0] is Label.FILE else ref


def _group_edges(edges: Iterable[Edge], remap: dict[str, str]
                 ) -> dict[tuple[Rel, Label, Label], dict[tuple[NodeRef, NodeRef], list[Edge]]]:
    groups: dict[tuple[Rel, Label, Label], dict[tuple[NodeRef, NodeRef], list[Edge]]] = {}
    for edge in edges:
        shape = (edge.type, edge.start[0], edge.end[0])
        pair = (_ref(edge.start, remap), _ref(edge.end, remap))
        groups.setdefault(shape, {}).setdefault(pair, []).append(edge)
    return groups


@dataclass(slots=True)
class _Batch:
    """What one batch learns as it goes: element ids of its nodes and which of them it made."""

    tx: ManagedTransaction
    counts: WriteCounts
    ids: dict[NodeRef, str] = field(default_factory=dict)
    made: set[NodeRef] = field(default_factory=set)


def _run_groups(tx: ManagedTransaction, query: str, var: str, rows: list[dict[str, Any]],
                tail: str = "") -> list[Any]:
    if not rows:
        return []
    return list(tx.run(with_temporals(query, var, _names(rows), tail), rows=Rows(rows)))


def _write_nodes(batch: _Batch, label: Label, by_key: dict[str, list[Node]]) -> None:
    tx = batch.tx
    [found_rows] = tx.run(cypher(_READ_NODES, label=label), keys=Rows(sorted(by_key))).single(strict=True)
    existing = {key: (eid, props) for key, eid, props in found_rows}
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for key, nodes in by_key.items():
        more = delta(nodes)
        found = existing.get(key)
        if found is None:
            more["key"] = key
            created.append(to_wire(more))
            continue
        batch.ids[(label, key)] = found[0]
        state: State = from_wire(found[1])
        if merge(state, more):
            row = to_wire(state)
            row["id"] = found[0]
            updated.append(row)
    for record in _run_groups(tx, cypher(_CREATE_NODES, label=label), "n", created, _CREATED_IDS):
        for key, eid in record["made"]:
            ref = (label, key)
            batch.ids[ref] = eid
            batch.made.add(ref)
    _run_groups(tx, _UPDATE_NODES, "n", updated)
    batch.counts.created[label.value] += len(created)
    batch.counts.updated[label.value] += len(updated)


def _find_endpoints(batch: _Batch, refs: Iterable[NodeRef]) -> None:
    """Element ids of endpoints that are not nodes of this batch (written by an earlier one)."""
    missing: dict[Label, set[str]] = {}
    for ref in refs:
        if ref not in batch.ids:
            missing.setdefault(ref[0], set()).add(ref[1])
    for label, keys in missing.items():
        [found] = batch.tx.run(cypher(_FIND_NODES, label=label), keys=Rows(sorted(keys))).single(strict=True)
        for key, eid in found:
            batch.ids[(label, key)] = eid


def _write_edges(batch: _Batch, shape: tuple[Rel, Label, Label],
                 by_pair: dict[tuple[NodeRef, NodeRef], list[Edge]]) -> None:
    rel, start, end = shape
    tx = batch.tx
    _find_endpoints(batch, (ref for pair in by_pair for ref in pair))
    lacking = [pair for pair in by_pair if pair[0] not in batch.ids or pair[1] not in batch.ids]
    if lacking:
        raise EdgeWithoutEndpoint(f"{len(lacking)} {rel} relationships from {start} to {end} lack an endpoint "
                                  f"node, e.g. {lacking[0][0][1]!r} -> {lacking[0][1][1]!r}")
    ids = {pair: (batch.ids[pair[0]], batch.ids[pair[1]]) for pair in by_pair}
    # A relationship can exist only if neither end was made by this batch.
    maybe = [list(ids[pair]) for pair in by_pair if pair[0] not in batch.made and pair[1] not in batch.made]
    existing: dict[Pair, tuple[str, Any]] = {}
    if maybe:
        [found] = tx.run(cypher(_READ_EDGES, rel=rel), pairs=Rows(sorted(maybe))).single(strict=True)
        existing = {(s, e): (rid, props) for s, e, rid, props in found}
    created: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    for pair, edges in by_pair.items():
        more = delta(edges)
        found = existing.get(ids[pair])
        if found is None:
            row = to_wire(more)
            row["s"], row["e"] = ids[pair]
            created.append(row)
            continue
        state: State = from_wire(found[1])
        if merge(state, more):
            row = to_wire(state)
            row["id"] = found[0]
            updated.append(row)
    made = _run_groups(tx, cypher(_CREATE_EDGES, rel=rel), "r", created, " RETURN count(r) AS made")
    if created and made[0]["made"] != len(created):
        raise EdgeWithoutEndpoint(f"{len(created) - made[0]['made']} {rel} relationships from {start} to {end} "
                                  "lost an endpoint node while being written")
    _run_groups(tx, _UPDATE_EDGES, "r", updated)
    batch.counts.created[rel.value] += len(created)
    batch.counts.updated[rel.value] += len(updated)


def write_batch(tx: ManagedTransaction, nodes: list[Node], edges: list[Edge]) -> WriteCounts:
    """The transaction function: no side effects outside `tx`, so the driver may retry it."""
    for edge in edges:  # every shape is checked before anything is written (re-keying writes)
        _check_endpoints(edge)
    files = [n for n in nodes if n.label is Label.FILE]
    remap, conflicts = resolve_files(tx, files) if files else ({}, 0)
    batch = _Batch(tx, WriteCounts(file_conflicts=conflicts))
    edge_groups = _group_edges(edges, remap)
    for label, by_key in _group_nodes(nodes, remap).items():
        _write_nodes(batch, label, by_key)
    for shape, by_pair in edge_groups.items():
        _write_edges(batch, shape, by_pair)
    return batch.counts


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

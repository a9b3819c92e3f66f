"""The one writer: canonical records in, batched idempotent MERGEs out.

Per batch: records are first merged in Python (one row per node or relationship), File nodes are
joined to any existing node that shares one of their hashes, then one `UNWIND $rows MERGE ...` per
label and per relationship shape runs, all in one transaction with the driver's managed retries.
Provenance only grows: `sources` and list properties are unions, `first_seen`/`last_seen` widen,
relationship `times` are the sorted distinct union, so writing the same records twice changes
nothing and reports nothing created or updated.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from loaders.model import ENDPOINTS, HASH_STRENGTH, Edge, Label, Node, Rel, cypher

_PROPERTY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
HASH_PROPS = HASH_STRENGTH  # the File properties that identify it


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


# -- merging records of one batch in Python ------------------------------------------------------

def _union(into: list[Any], more: Iterable[Any]) -> None:
    for value in more:
        if value not in into:
            into.append(value)


def merge_nodes(nodes: Iterable[Node]) -> dict[tuple[Label, str], Node]:
    """One node per (label, key): later props win, lists and sources are unions."""
    merged: dict[tuple[Label, str], Node] = {}
    for node in nodes:
        ref = (node.label, node.key)
        have = merged.get(ref)
        if have is None:
            merged[ref] = Node(node.label, node.key, dict(node.props),
                               {k: list(dict.fromkeys(v)) for k, v in node.lists.items()},
                               list(dict.fromkeys(node.sources)), list(node.times))
            continue
        have.props.update(node.props)
        for name, values in node.lists.items():
            _union(have.lists.setdefault(name, []), values)
        _union(have.sources, node.sources)
        have.times.extend(node.times)
    return merged


def merge_edges(edges: Iterable[Edge]) -> dict[tuple[Rel, tuple[Label, str], tuple[Label, str]], Edge]:
    merged: dict[tuple[Rel, tuple[Label, str], tuple[Label, str]], Edge] = {}
    for edge in edges:
        ref = (edge.type, edge.start, edge.end)
        have = merged.get(ref)
        if have is None:
            merged[ref] = Edge(edge.type, edge.start, edge.end, dict(edge.props),
                               {k: list(dict.fromkeys(v)) for k, v in edge.lists.items()},
                               list(dict.fromkeys(edge.sources)), list(edge.times))
            continue
        have.props.update(edge.props)
        for name, values in edge.lists.items():
            _union(have.lists.setdefault(name, []), values)
        _union(have.sources, edge.sources)
        have.times.extend(edge.times)
    return merged


# -- Cypher -----------------------------------------------------------------------------------

def _list_clauses(var: str, names: tuple[str, ...]) -> tuple[str, str]:
    """`changed` test and SET clause for list properties (names are checked identifiers)."""
    if not names:
        return "false", ""
    tests, sets = [], []
    for name in names:
        if not _PROPERTY_NAME.match(name):
            raise ValueError(f"bad list property name {name!r}")
        tests.append(f"any(x IN row.lists.{name} WHERE {var}.{name} IS NULL "
                     f"OR NOT x IN {var}.{name})")
        sets.append(f"{var}.{name} = coalesce({var}.{name}, []) + "
                    f"[x IN row.lists.{name} WHERE NOT x IN coalesce({var}.{name}, [])]")
    return " OR ".join(tests), "SET " + ", ".join(sets)


_CHANGE_AND_SET = """
WITH {var}, row, {var}.sources IS NULL AS created
WITH {var}, row, created,
     created
     OR any(s IN row.sources WHERE NOT s IN {var}.sources)
     OR any(k IN keys(row.props) WHERE {var}[k] IS NULL OR {var}[k] <> row.props[k])
     OR (row.first IS NOT NULL AND ({var}.first_seen IS NULL OR row.first < {var}.first_seen))
     OR (row.last IS NOT NULL AND ({var}.last_seen IS NULL OR row.last > {var}.last_seen))
     OR {list_test} {times_test} AS changed
SET {var} += row.props,
    {var}.sources = coalesce({var}.sources, []) + [s IN row.sources WHERE NOT s IN coalesce({var}.sources, [])],
    {var}.first_seen = CASE WHEN row.first IS NOT NULL AND ({var}.first_seen IS NULL OR row.first < {var}.first_seen)
                            THEN row.first ELSE {var}.first_seen END,
    {var}.last_seen = CASE WHEN row.last IS NOT NULL AND ({var}.last_seen IS NULL OR row.last > {var}.last_seen)
                           THEN row.last ELSE {var}.last_seen END
{list_set}
{times_set}
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN changed AND NOT created THEN 1 ELSE 0 END) AS updated,
       count(*) AS rows
"""

_TIMES_TEST = "OR any(t IN row.times WHERE r.times IS NULL OR NOT t IN r.times)"
_TIMES_SET = """WITH r, row, created, changed
SET r.times = COLLECT { UNWIND coalesce(r.times, []) + [t IN row.times WHERE NOT t IN coalesce(r.times, [])] AS t
                        RETURN DISTINCT t ORDER BY t }"""

_queries: dict[tuple[Any, ...], str] = {}


def node_query(label: Label, lists: tuple[str, ...]) -> str:
    key = ("node", label, lists)
    if key not in _queries:
        test, sets = _list_clauses("n", lists)
        body = _CHANGE_AND_SET.replace("{var}", "n").replace("{list_test}", test)
        body = body.replace("{times_test}", "").replace("{list_set}", sets)
        body = body.replace("{times_set}", "")
        _queries[key] = cypher("UNWIND $rows AS row MERGE (n:{label} {key: row.key})", label=label) + body
    return _queries[key]


def edge_query(rel: Rel, start: Label, end: Label, lists: tuple[str, ...]) -> str:
    key = ("edge", rel, start, end, lists)
    if key not in _queries:
        test, sets = _list_clauses("r", lists)
        body = _CHANGE_AND_SET.replace("{var}", "r").replace("{list_test}", test)
        body = body.replace("{times_test}", _TIMES_TEST).replace("{list_set}", sets)
        body = body.replace("{times_set}", _TIMES_SET)
        head = cypher("UNWIND $rows AS row MATCH (a:{start} {key: row.start}) "
                      "MATCH (b:{end} {key: row.end}) MERGE (a)-[r:{rel}]->(b)",
                      start=start, end=end, rel=rel)
        _queries[key] = head + body
    return _queries[key]


def _row(key: str, props: dict[str, Any], lists: dict[str, list[Any]], sources: list[str],
         times: list[datetime]) -> dict[str, Any]:
    return {"key": key, "props": props, "lists": lists, "sources": sources,
            "first": min(times) if times else None, "last": max(times) if times else None}


# -- files known by several hashes -----------------------------------------------------------

_FIND_FILES = """
UNWIND $values AS v
CALL (v) {
  MATCH (f:File {md5: v}) RETURN f
  UNION MATCH (f:File {sha1: v}) RETURN f
  UNION MATCH (f:File {sha256: v}) RETURN f
}
RETURN DISTINCT f.key AS key, f.md5 AS md5, f.sha1 AS sha1, f.sha256 AS sha256
"""
_REKEY_FILE = "UNWIND $pairs AS p MATCH (f:File {key: p.old}) SET f.key = p.new"


class _Groups:
    """Union-find over file keys and hash values: files sharing any hash are one file."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


def _strongest(hashes: dict[str, str]) -> str:
    for algo in HASH_PROPS:
        if hashes.get(algo):
            return f"{algo}:{hashes[algo]}"
    raise ValueError("file without md5, sha1 or sha256")


def resolve_files(tx: ManagedTransaction, files: list[Node]) -> tuple[dict[str, str], int]:
    """Map each batch file key to the key its node has (or gets) in the graph.

    Files in the batch and in the graph that share any hash form one group; the group's key is its
    strongest hash, and an existing node whose key is weaker is re-keyed (its relationships follow,
    it is the same node). Two existing nodes joined only now (an MD5-only node and a SHA1-only node
    that a later report shows to be one file) are not fused: the count of such conflicts is
    returned so the loader can report it.
    """
    groups = _Groups()
    hashes: dict[str, dict[str, str]] = {}
    values: set[str] = set()
    for node in files:
        own = {a: str(node.props[a]) for a in HASH_PROPS if node.props.get(a)}
        hashes.setdefault(node.key, {}).update(own)
        for algo, value in own.items():
            groups.join(node.key, f"{algo}:{value}")
            values.add(value)
    existing: list[str] = []
    for rec in tx.run(_FIND_FILES, values=sorted(values)):
        key = rec["key"]
        existing.append(key)
        found = {a: rec[a] for a in HASH_PROPS if rec[a]}
        hashes.setdefault(key, {}).update(found)
        for algo, value in found.items():
            groups.join(key, f"{algo}:{value}")
    members: dict[str, list[str]] = {}
    for key in hashes:
        members.setdefault(groups.find(key), []).append(key)
    remap: dict[str, str] = {}
    rekeys: list[dict[str, str]] = []
    conflicts = 0
    in_graph = set(existing)
    for keys in members.values():
        merged: dict[str, str] = {}
        for key in keys:
            for algo, value in hashes[key].items():
                merged.setdefault(algo, value)
        target = _strongest(merged)
        old = sorted(k for k in keys if k in in_graph)
        if old and target not in in_graph:
            # Keep the strongest existing node; re-key it to the group's strongest hash.
            keep = min(old, key=lambda k: HASH_PROPS.index(k.split(":", 1)[0]))
            rekeys.append({"old": keep, "new": target})
        conflicts += max(0, len(old) - 1)
        for key in keys:
            remap[key] = target
    if rekeys:
        tx.run(_REKEY_FILE, pairs=rekeys).consume()
    return remap, conflicts


# -- the batch transaction ---------------------------------------------------------------------

def _group_rows(nodes: Iterable[Node], remap: dict[str, str]) -> dict[tuple[Any, ...], list[dict]]:
    groups: dict[tuple[Any, ...], list[dict]] = {}
    for node in nodes:
        key = remap.get(node.key, node.key) if node.label is Label.FILE else node.key
        shape = (node.label, tuple(sorted(node.lists)))
        groups.setdefault(shape, []).append(
            _row(key, node.props, node.lists, node.sources, node.times))
    return groups


def _check_endpoints(edge: Edge) -> None:
    starts, ends = ENDPOINTS[edge.type]
    if edge.start[0] not in starts or (ends and edge.end[0] not in ends):
        raise ValueError(f"{edge.type} cannot join {edge.start[0]} to {edge.end[0]}")


def _edge_rows(edges: Iterable[Edge], remap: dict[str, str]) -> dict[tuple[Any, ...], list[dict]]:
    groups: dict[tuple[Any, ...], list[dict]] = {}
    for edge in edges:
        _check_endpoints(edge)
        start = remap.get(edge.start[1], edge.start[1]) if edge.start[0] is Label.FILE else edge.start[1]
        end = remap.get(edge.end[1], edge.end[1]) if edge.end[0] is Label.FILE else edge.end[1]
        row = _row(end, edge.props, edge.lists, edge.sources, edge.times)
        row["start"], row["end"] = start, end
        row["times"] = sorted(set(edge.times))
        shape = (edge.type, edge.start[0], edge.end[0], tuple(sorted(edge.lists)))
        groups.setdefault(shape, []).append(row)
    return groups


class EdgeWithoutEndpoint(RuntimeError):
    """A relationship whose start or end node was not written: a parser bug, never silent."""


def write_batch(tx: ManagedTransaction, nodes: list[Node], edges: list[Edge]) -> WriteCounts:
    """The transaction function: no side effects outside `tx`, so the driver may retry it."""
    merged_nodes = merge_nodes(nodes)
    merged_edges = merge_edges(edges)
    files = [n for n in merged_nodes.values() if n.label is Label.FILE]
    remap, conflicts = resolve_files(tx, files) if files else ({}, 0)
    counts = WriteCounts(file_conflicts=conflicts)
    # Re-keyed files may now collide within the batch: merge again under the final keys.
    for (label, lists), rows in _group_rows(merged_nodes.values(), remap).items():
        if label is Label.FILE:
            rows = _merge_rows(rows)
        rec = tx.run(node_query(label, lists), rows=rows).single()
        counts.created[label.value] += rec["created"]
        counts.updated[label.value] += rec["updated"]
    for (rel, start, end, lists), rows in _edge_rows(merged_edges.values(), remap).items():
        rows = _merge_rows(rows, edge=True) if Label.FILE in (start, end) else rows
        rec = tx.run(edge_query(rel, start, end, lists), rows=rows).single()
        if rec["rows"] != len(rows):
            raise EdgeWithoutEndpoint(f"{len(rows) - rec['rows']} {rel} relationships from "
                                      f"{start} to {end} lack an endpoint node")
        counts.created[rel.value] += rec["created"]
        counts.updated[rel.value] += rec["updated"]
    return counts


def _merge_rows(rows: list[dict], edge: bool = False) -> list[dict]:
    """Fold rows that ended up with the same identity after file re-keying."""
    out: dict[tuple[str, ...], dict] = {}
    for row in rows:
        ident = (row["start"], row["end"]) if edge else (row["key"],)
        have = out.get(ident)
        if have is None:
            out[ident] = row
            continue
        have["props"] = {**have["props"], **row["props"]}
        for name, values in row["lists"].items():
            _union(have["lists"].setdefault(name, []), values)
        _union(have["sources"], row["sources"])
        firsts = [t for t in (have["first"], row["first"]) if t is not None]
        lasts = [t for t in (have["last"], row["last"]) if t is not None]
        have["first"] = min(firsts) if firsts else None
        have["last"] = max(lasts) if lasts else None
        if edge:
            have["times"] = sorted(set(have["times"]) | set(row["times"]))
    return list(out.values())


class GraphWriter:
    """Writes batches to one database; what the loaders and benchmarks share."""

    def __init__(self, driver: Driver, database: str) -> None:
        self.driver = driver
        self.database = database

    def write(self, nodes: list[Node], edges: list[Edge]) -> WriteCounts:
        with self.driver.session(database=self.database) as session:
            return session.execute_write(write_batch, nodes, edges)

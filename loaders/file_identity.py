"""Files known by several hashes are one node (formats.md): find it, or give it its best key.

A report may carry only an MD5 of a file another report knows by MD5 and SHA1; both must land on
one `File` node, keyed by the strongest hash known so far (sha256 > sha1 > md5).
"""

from __future__ import annotations

from neo4j import ManagedTransaction

from loaders.model import HASH_STRENGTH, Node
from loaders.params import Rows

HASH_PROPS = HASH_STRENGTH  # the File properties that identify it

_FIND_FILES = """
UNWIND $values AS v
CALL (v) {
  MATCH (f:File {md5: v}) USING INDEX f:File(md5) RETURN f
  UNION MATCH (f:File {sha1: v}) USING INDEX f:File(sha1) RETURN f
  UNION MATCH (f:File {sha256: v}) USING INDEX f:File(sha256) RETURN f
}
RETURN DISTINCT f.key AS key, f.md5 AS md5, f.sha1 AS sha1, f.sha256 AS sha256
"""
#: Two loaders that both find no node for a file's hashes would both create one, under two keys
#: when one knows the file by MD5 only and the other by SHA-256 too (no uniqueness constraint spans
#: a file's hashes). So the lookup and what follows it hold a write lock on the one schema node,
#: released at commit: file identities are resolved by one batch at a time across all loaders.
#: It is the first lock a batch takes, so it cannot be part of a deadlock.
_SERIALISE = "MATCH (s:GracegraphSchema {key: 'schema'}) SET s._lock = true REMOVE s._lock"
_REKEY_FILE = "UNWIND $pairs AS p MATCH (f:File {key: p.old}) USING INDEX f:File(key) SET f.key = p.new"


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
    tx.run(_SERIALISE).consume()
    existing: list[str] = []
    for rec in tx.run(_FIND_FILES, values=Rows(sorted(values))):
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
        tx.run(_REKEY_FILE, pairs=Rows(rekeys)).consume()
    return remap, conflicts

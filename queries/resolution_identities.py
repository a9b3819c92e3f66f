"""Identity nodes: the connected components of confirmed and accepted SAME_AS links.

An `Identity` INCLUDES its records (accounts, persons without an account) and the reported persons
who use its accounts. Its key is `identity:<smallest member id>`, so an identity keeps its key while
it grows; when a rejection splits one, each part is keyed by its own smallest member. Identities are
derived data: a run rebuilds them all (`rebuild_identities`), a judgement only those around the
pair it judged (`update_identities_around`), found by walking merging links from both records.
`members` on an Identity lists its records' entity ids (not the persons it includes through them).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from loaders.model import Label
from queries import cursors
from queries.bounds import FIRST, LIMIT, check_ids, check_range
from queries.context import GraphContext
from queries.entities import node_map, to_entity
from queries.resolution_clusters import components
from queries.resolution_judgements import MERGING, read_links
from queries.results import Entity, Page, entity_id, parse_entity_id

WRITE_IDENTITIES = """
UNWIND $rows AS row
MERGE (i:Identity {key: row.key})
SET i.size = row.size, i.name = row.name, i.members = row.members, i.updated_at = datetime(),
    i.links = row.links
WITH i, row
CALL (i, row) {
  UNWIND row.accounts AS k
  MATCH (a:Account {key: k})
  MERGE (i)-[:INCLUDES]->(a)
  WITH a, i
  MATCH (p:Person)-[:USES]->(a)
  MERGE (i)-[:INCLUDES]->(p)
}
CALL (i, row) {
  UNWIND row.persons AS k
  MATCH (p:Person {key: k})
  MERGE (i)-[:INCLUDES]->(p)
}
"""

DELETE_IDENTITIES = "UNWIND $keys AS k MATCH (i:Identity {key: k}) DETACH DELETE i"
MEMBERS_OF = """
MATCH (i:Identity) WHERE any(id IN i.members WHERE id IN $ids)
RETURN i.key AS key, i.members AS members
"""
NAMES = """
UNWIND $keys AS k
MATCH (p:Person)-[:USES]->(a:Account {key: k})
RETURN p.name AS name
UNION ALL
UNWIND $persons AS k
MATCH (p:Person {key: k})
RETURN p.name AS name
"""


def _rows(ctx: GraphContext, groups: list[list[str]], links: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    rows = []
    for members in groups:
        accounts = [parse_entity_id(m)[1] for m in members if m.startswith(f"{Label.ACCOUNT.value}:")]
        persons = [parse_entity_id(m)[1] for m in members if m.startswith(f"{Label.PERSON.value}:")]
        names = Counter(r["name"] for r in ctx.read(NAMES, keys=accounts, persons=persons) if r["name"])
        inside = set(members)
        count = sum(1 for (a, b) in links if a in inside and b in inside)
        rows.append({"key": f"identity:{members[0]}", "size": len(members), "members": members,
                     "accounts": accounts, "persons": persons, "links": count,
                     "name": names.most_common(1)[0][0] if names else None})
    return rows


def _groups(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """Components of the merging links, each sorted, members of two or more only."""
    ids = sorted({x for pair in pairs for x in pair})
    index = {value: i for i, value in enumerate(ids)}
    left = np.array([index[a] for a, _ in pairs], dtype=np.int64)
    right = np.array([index[b] for _, b in pairs], dtype=np.int64)
    labels = components(len(ids), left, right)
    grouped: dict[int, list[str]] = {}
    for i, label in enumerate(labels.tolist()):
        grouped.setdefault(label, []).append(ids[i])
    return [sorted(g) for g in grouped.values() if len(g) > 1]


def rebuild_identities(ctx: GraphContext, batch: int = 500) -> int:
    """Every identity again from the merging links; returns how many there are."""
    links = {pair: row for pair, row in read_links(ctx).items() if row["status"] in MERGING}
    groups = _groups(list(links))
    wanted = {f"identity:{g[0]}" for g in groups}
    existing = {r["key"] for r in ctx.read("MATCH (i:Identity) RETURN i.key AS key")}
    ctx.write(DELETE_IDENTITIES, keys=sorted(existing))  # INCLUDES may have changed for the kept keys too
    rows = _rows(ctx, groups, links)
    for start in range(0, len(rows), batch):
        ctx.write(WRITE_IDENTITIES, rows=rows[start:start + batch])
    return len(wanted)


NEIGHBOURS = """
UNWIND $ids AS id
CALL (id) {
  MATCH (x:Account {key: id.key}) WHERE id.label = 'Account' RETURN x
  UNION
  MATCH (x:Person {key: id.key}) WHERE id.label = 'Person' RETURN x
}
MATCH (x)-[r:SAME_AS]-(y) WHERE r.status IN $merging
RETURN labels(startNode(r)) AS la, startNode(r).key AS a, labels(endNode(r)) AS lb, endNode(r).key AS b
"""


def _record(labels: list[str]) -> str:
    return next(label for label in labels if label in (Label.ACCOUNT.value, Label.PERSON.value))


def merging_component(ctx: GraphContext, ids: list[str]) -> dict[tuple[str, str], bool]:
    """The merging links reachable from `ids`, found hop by hop (identities are small)."""
    links: dict[tuple[str, str], bool] = {}
    seen = set(ids)
    frontier = list(ids)
    while frontier:
        starts = [{"label": parse_entity_id(i)[0].value, "key": parse_entity_id(i)[1]} for i in frontier]
        frontier = []
        for row in ctx.read(NEIGHBOURS, ids=starts, merging=list(MERGING)):
            pair = (entity_id(_record(row["la"]), row["a"]), entity_id(_record(row["lb"]), row["b"]))
            links[pair] = True
            for end in pair:
                if end not in seen:
                    seen.add(end)
                    frontier.append(end)
    return links


def update_identities_around(ctx: GraphContext, ids: list[str]) -> None:
    """Recompute the identities that hold, or now should hold, any of `ids` (after a judgement).

    The old identities of `ids` are dropped; their former members, and `ids`, are regrouped by the
    merging links that now reach them: one identity again, or two after a split.
    """
    old = ctx.read(MEMBERS_OF, ids=ids)
    members = sorted({*ids, *(m for r in old for m in r["members"])})
    links = merging_component(ctx, members)
    ctx.write(DELETE_IDENTITIES, keys=sorted({r["key"] for r in old}))
    groups = _groups(list(links))
    if groups:
        ctx.write(WRITE_IDENTITIES, rows=_rows(ctx, groups, links))


# -- reading ------------------------------------------------------------------------------------------

IDENTITIES_PAGE = """
MATCH (i:Identity)
WHERE $ids IS NULL OR any(id IN $ids WHERE id IN i.members)
WITH i ORDER BY i.size DESC, i.key SKIP $offset LIMIT $limit
CALL (i) {
  MATCH (i)-[:INCLUDES]->(m)
  WITH m ORDER BY m.key
  RETURN collect(MEMBER_MAP) AS members
}
RETURN IDENTITY_MAP AS identity, members
""".replace("MEMBER_MAP", node_map("m")).replace("IDENTITY_MAP", node_map("i"))


def identities(ctx: GraphContext, first: int = 20, after: str | None = None,
               ids: list[str] | None = None) -> Page:
    """Identities, largest first, each with the records and persons it includes (`ids`: only those
    holding one of these records). Items are (identity Entity, member Entities)."""
    check_range("first", first, FIRST)
    if ids is not None:
        ids = check_ids(ids, least=0, most=LIMIT[1])
    offset = cursors.decode(after)
    rows = ctx.read(IDENTITIES_PAGE, ids=ids, offset=offset, limit=first + 1)
    items: list[tuple[Entity, list[Entity]]] = [
        (to_entity(r["identity"]), [to_entity(m) for m in r["members"]]) for r in rows[:first]]
    end = cursors.encode(items[-1][0].key, offset + len(items)) if items else None
    return Page(items, end, len(rows) > first)

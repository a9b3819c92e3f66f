"""Retention: a closed case's reports leave the graph, and with them whatever only they supported.

`close_case` marks a case closed (nothing is removed); `purge_case` then, for a closed case only:

1. takes the case's reports that are filed in no other case (a report another case still holds
   stays, whole);
2. deletes those Report nodes;
3. strips their keys from every relationship's `sources` (and `uses`, whose times are rebuilt into
   `times`, `first_seen`, `last_seen`), deleting a relationship left with no source;
4. strips them from every node's `sources`, deleting a node left with no source: an email named
   only by purged reports goes, an address another report also names stays with that report alone;
5. keeps the Case node as a record (`status: purged`, when, how many reports) and agencies.

Derived analysis (identities, communities, supernode marks) is recomputed by its own runs; links to
deleted nodes go with them. Scans the graph once per step in transactions of 10,000 rows: a
retention job, not a query.
"""

from __future__ import annotations

from dataclasses import dataclass

from loaders.model import Label, Rel, cypher
from queries.context import GraphContext
from queries.errors import BadInput, NotFound

_STATUS = cypher("MATCH (c:{case} {key: $key}) RETURN c.status AS status", case=Label.CASE)
_CLOSE = cypher("MATCH (c:{case} {key: $key}) SET c.status = 'closed', c.closed_at = datetime() RETURN c.key AS key",
                case=Label.CASE)
_REPORTS = cypher("""
MATCH (c:{case} {key: $key})<-[:{part_of}]-(r:{report})
WHERE NOT EXISTS { (r)-[:{part_of}]->(o:{case}) WHERE o <> c }
RETURN collect(r.key) AS keys
""", case=Label.CASE, part_of=Rel.PART_OF, report=Label.REPORT)
_DELETE_REPORTS = cypher("""
UNWIND $keys AS k MATCH (r:{report} {key: k})
CALL (r) { DETACH DELETE r } IN TRANSACTIONS OF 10000 ROWS
""", report=Label.REPORT)
_TIMES = ("reduce(acc = [], t IN [u IN rel.uses | datetime(split(u, '|')[0])] | "
          "CASE WHEN t IN acc THEN acc ELSE acc + t END)")
_RELATIONSHIPS = """
MATCH ()-[rel]->() WHERE rel.sources IS NOT NULL AND any(s IN rel.sources WHERE s IN $keys)
CALL (rel) {
  SET rel.sources = [s IN rel.sources WHERE NOT s IN $keys]
  SET rel.uses = CASE WHEN rel.uses IS NULL THEN null ELSE [u IN rel.uses WHERE NOT split(u, '|')[1] IN $keys] END
  SET rel.times = CASE WHEN rel.uses IS NULL THEN rel.times ELSE TIMES END
  SET rel.first_seen = CASE WHEN rel.uses IS NULL THEN rel.first_seen ELSE rel.times[0] END,
      rel.last_seen = CASE WHEN rel.uses IS NULL THEN rel.last_seen ELSE rel.times[-1] END
  WITH rel WHERE size(rel.sources) = 0
  DELETE rel
} IN TRANSACTIONS OF 10000 ROWS
""".replace("TIMES", _TIMES)
_NODES = cypher("""
MATCH (n) WHERE n.sources IS NOT NULL AND NOT n:{case} AND any(s IN n.sources WHERE s IN $keys)
CALL (n) {
  SET n.sources = [s IN n.sources WHERE NOT s IN $keys]
  WITH n WHERE size(n.sources) = 0 AND NOT n:{agency}
  DETACH DELETE n
} IN TRANSACTIONS OF 10000 ROWS
""", case=Label.CASE, agency=Label.AGENCY)
_MARK = cypher("""
MATCH (c:{case} {key: $key})
SET c.status = 'purged', c.purged_at = datetime(), c.purged_reports = size($keys), c.sources = []
""", case=Label.CASE)
_COUNT = ("CALL () { MATCH (n) RETURN count(n) AS c UNION ALL MATCH ()-[r]->() RETURN count(r) AS c } "
          "RETURN collect(c) AS c")


@dataclass(frozen=True, slots=True)
class PurgeSummary:
    case: str
    reports: int  # Report nodes removed
    nodes: int  # nodes removed in all, reports included
    relationships: int  # relationships removed

    def counts(self) -> dict[str, int]:
        return {"reports": self.reports, "nodes": self.nodes, "relationships": self.relationships}


def close_case(ctx: GraphContext, key: str) -> None:
    if not ctx.write(_CLOSE, key=key):
        raise NotFound(f"no case {key!r}")


def purge_case(ctx: GraphContext, key: str) -> PurgeSummary:
    """Remove closed case `key`'s own reports and every element only they supported (see above)."""
    rows = ctx.read(_STATUS, key=key)
    if not rows:
        raise NotFound(f"no case {key!r}")
    if rows[0]["status"] != "closed":
        raise BadInput(f"case {key!r} is not closed (status {rows[0]['status'] or 'open'}): close it first")
    keys = ctx.read(_REPORTS, key=key)[0]["keys"]
    before = ctx.read(_COUNT)[0]["c"]
    with ctx.driver.session(database=ctx.database) as session:  # CALL IN TRANSACTIONS needs auto-commit
        for statement in (_DELETE_REPORTS, _RELATIONSHIPS, _NODES):
            session.run(statement, keys=keys).consume()
    ctx.write(_MARK, key=key, keys=keys)
    after = ctx.read(_COUNT)[0]["c"]
    return PurgeSummary(key, reports=len(keys), nodes=before[0] - after[0], relationships=before[1] - after[1])

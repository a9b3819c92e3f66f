"""Cases and their ownership: an agency opens a case and files reports in it.

A case made here is owned by one agency (`(:Case)-[:OWNED_BY]->(:Agency)`, and the code also kept
as the case's `agency` property so the owner sees an empty case); `contact` is who other agencies
should call about it (deconfliction shows it). Filing a report in a case is what makes it the
owning agency's to read (queries/visibility.py): a caller can file only reports it can already see,
in a case its own agency owns, so filing can never open another agency's report to anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from loaders.model import Label, Rel, cypher
from queries.context import GraphContext
from queries.entities import node_map, to_entity
from queries.errors import BadInput, NotFound
from queries.results import Entity
from queries.visibility import Scope, visible_reports

MAX_ASSIGN = 10_000

_OWNER = cypher("""
MATCH (c:{case} {key: $key})
OPTIONAL MATCH (c)-[:{owned_by}]->(a:{agency})
RETURN coalesce(c.agency, a.key) AS agency
""", case=Label.CASE, owned_by=Rel.OWNED_BY, agency=Label.AGENCY)

_CREATE = cypher("""
MERGE (a:{agency} {key: $agency}) ON CREATE SET a.sources = []
CREATE (c:{case} {key: $key, agency: $agency, title: $title, contact: $contact, created_at: datetime(),
                  sources: []})-[:{owned_by} {sources: []}]->(a)
RETURN """ + node_map("c") + " AS node", case=Label.CASE, owned_by=Rel.OWNED_BY, agency=Label.AGENCY)

_EXISTING = cypher("UNWIND $keys AS k MATCH (r:{report} {key: k}) RETURN r.key AS key", report=Label.REPORT)

_FILE = cypher("""
MATCH (c:{case} {key: $case})
UNWIND $keys AS k
MATCH (r:{report} {key: k})
MERGE (r)-[p:{part_of}]->(c) ON CREATE SET p.sources = [k]
SET c.sources = CASE WHEN k IN c.sources THEN c.sources ELSE c.sources + k END
RETURN count(p) AS filed
""", case=Label.CASE, report=Label.REPORT, part_of=Rel.PART_OF)


def _text(name: str, value: str | None, most: int = 200) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise BadInput(f"{name} must be a non-empty text of at most {most} characters")
    return value.strip()


def case_owner(ctx: GraphContext, key: str) -> str | None:
    rows = ctx.read(_OWNER, key=key)
    return rows[0]["agency"] if rows else None


def create_case(ctx: GraphContext, scope: Scope, key: str, title: str | None = None,
                contact: str | None = None) -> Entity:
    """Open case `key` for the caller's agency. A key in use (by anyone) is refused, saying no more."""
    key = _text("key", key) or ""
    if ctx.read(_OWNER, key=key):
        raise BadInput(f"case key {key!r} is not available; choose another")
    rows = ctx.write(_CREATE, key=key, agency=scope.agency, title=_text("title", title),
                     contact=_text("contact", contact))
    return to_entity(rows[0]["node"])


def assign_reports(ctx: GraphContext, scope: Scope, case: str, reports: Sequence[str]) -> int:
    """File `reports` in `case`; returns how many were newly or already filed.

    The case must be the caller's agency's and every report visible to the caller; otherwise
    NOT_FOUND, worded as for an absent case or report, so a refusal tells nothing about others'.
    """
    keys = list(dict.fromkeys(reports))
    if not keys or len(keys) > MAX_ASSIGN:
        raise BadInput(f"give 1 to {MAX_ASSIGN} report keys")
    owner = case_owner(ctx, case)
    if owner is None or not (scope.everything or owner == scope.agency):
        raise NotFound(f"no case {case!r}")
    existing = {row["key"] for row in ctx.read(_EXISTING, keys=keys)}
    seen = visible_reports(ctx, scope, existing)
    missing = [k for k in keys if k not in seen]
    if missing:
        raise NotFound(f"no report {missing[0]!r}")
    return int(ctx.write(_FILE, case=case, keys=keys)[0]["filed"])

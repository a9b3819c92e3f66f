"""Proposals and the investigators' judgements of them: `SAME_AS` links in the graph.

A link joins two records (accounts, or persons who use no account), stored once, from the smaller
entity id to the larger. Machine fields (`score`, `weight`, `method`, `evidence`, `run`) are
written by resolution runs; judgement fields (`by`, `at`, `note`, and `history`, every earlier
verdict as JSON) by people. Statuses are data that every later run reads:

- `proposed`: over the proposal threshold, waiting for review;
- `accepted`: over the auto-accept threshold in a run that allowed it (counts for identities);
- `withdrawn`: proposed by an earlier run, no longer over the threshold (kept, for rollback);
- `confirmed`, `rejected`, `unsure`: judged. A run never changes a judged link, so a rejected
  pair is never proposed again and a confirmed one stays merged, whatever new reports say.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from loaders.model import Label, cypher
from queries import cursors
from queries.bounds import FIRST, check_range
from queries.context import GraphContext
from queries.entities import fetch_nodes, json_value, node_map, to_entity
from queries.errors import BadInput, NotFound
from queries.results import Entity, Page, entity_id, parse_entity_id


class LinkStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNSURE = "unsure"


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNSURE = "unsure"


JUDGED = frozenset({LinkStatus.CONFIRMED, LinkStatus.REJECTED, LinkStatus.UNSURE})
MACHINE = frozenset({LinkStatus.PROPOSED, LinkStatus.ACCEPTED, LinkStatus.WITHDRAWN})
#: Links that make identities: people's confirmations and the runs' accepted links.
MERGING = (LinkStatus.CONFIRMED.value, LinkStatus.ACCEPTED.value)
RECORD_LABELS = (Label.ACCOUNT, Label.PERSON)


@dataclass(slots=True)
class Link:
    """A SAME_AS link with both records; `evidence` as the run wrote it (comparisons, values, reports)."""

    a: Entity
    b: Entity
    status: str
    score: float | None
    weight: float | None
    method: str | None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    run: str | None = None
    by: str | None = None
    at: str | None = None
    note: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair of record ids as stored: checked, distinct, smaller id first."""
    for value in (a, b):
        label, _ = parse_entity_id(value)
        if label not in RECORD_LABELS:
            raise BadInput(f"{value!r} is not an account or person: only they are resolved")
    if a == b:
        raise BadInput("a record is always the same as itself: give two different ids")
    return (a, b) if a < b else (b, a)


def label_pairs(rows: list[dict[str, Any]]) -> dict[tuple[Label, Label], list[dict[str, Any]]]:
    """Rows (with entity ids `a` and `b`) grouped by the labels of their ends, keys split off."""
    grouped: dict[tuple[Label, Label], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        la, ka = parse_entity_id(row["a"])
        lb, kb = parse_entity_id(row["b"])
        grouped[(la, lb)].append({**row, "a": ka, "b": kb})
    return grouped


WRITE_LINKS = """
UNWIND $rows AS row
MATCH (a:{la} {key: row.a})
MATCH (b:{lb} {key: row.b})
MERGE (a)-[r:SAME_AS]->(b)
ON CREATE SET r.created_run = row.run, r.proposed_at = datetime()
SET r += row.props
"""


def write_links(ctx: GraphContext, rows: list[dict[str, Any]], batch: int = 2000) -> None:
    """MERGE links `{a, b, run, props}` (a null in props removes the property)."""
    for (la, lb), group in label_pairs(rows).items():
        query = cypher(WRITE_LINKS, la=la, lb=lb)
        for start in range(0, len(group), batch):
            ctx.write(query, rows=group[start:start + batch])


READ_LINKS = """
MATCH (a)-[r:SAME_AS]->(b)
RETURN labels(a) AS la, a.key AS a, labels(b) AS lb, b.key AS b, r.status AS status, r.run AS run,
       r.created_run AS created_run, r.previous AS previous
"""


def read_links(ctx: GraphContext) -> dict[tuple[str, str], dict[str, Any]]:
    """Every SAME_AS link by (a id, b id): status, run, created_run, previous."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for row in ctx.read(READ_LINKS):
        a = entity_id(_record_label(row["la"]), row["a"])
        b = entity_id(_record_label(row["lb"]), row["b"])
        out[(a, b)] = row
    return out


def _record_label(labels: list[str]) -> str:
    return next(label for label in labels if label in (Label.ACCOUNT.value, Label.PERSON.value))


# -- reading proposals -------------------------------------------------------------------------------

LINKS_PAGE = """
MATCH (a)-[r:SAME_AS]->(b)
WHERE r.status IN $statuses AND coalesce(r.score, 1.0) >= $min_score
  AND ($member IS NULL OR (a.key = $member_key AND $member_label IN labels(a))
       OR (b.key = $member_key AND $member_label IN labels(b)))
WITH a, r, b ORDER BY coalesce(r.score, 1.0) DESC, a.key, b.key SKIP $offset LIMIT $limit
RETURN {a}, {b}, properties(r) AS link
""".replace("{a}", node_map("a") + " AS na").replace("{b}", node_map("b") + " AS nb")


def to_link(na: dict[str, Any], nb: dict[str, Any], props: dict[str, Any]) -> Link:
    evidence = json.loads(props["evidence"]) if props.get("evidence") else []
    history = [json.loads(h) for h in props.get("history") or []]
    at = props.get("at")
    return Link(to_entity(na), to_entity(nb), str(props.get("status")), props.get("score"), props.get("weight"),
                props.get("method"), evidence, props.get("run"), props.get("by"),
                None if at is None else json_value(at), props.get("note"), history)


def resolution_candidates(ctx: GraphContext, first: int = 20, after: str | None = None,
                          statuses: list[str] | None = None, min_score: float = 0.0,
                          member: str | None = None) -> Page:
    """Links to review, best score first (default: the proposed ones), a page at a time.

    `member` (an entity id) keeps the links of one record only.
    """
    check_range("first", first, FIRST)
    chosen = [LinkStatus.PROPOSED.value] if statuses is None else list(dict.fromkeys(statuses))
    unknown = [s for s in chosen if s not in LinkStatus.__members__.values()]
    if unknown or not chosen:
        raise BadInput(f"statuses must be among {', '.join(s.value for s in LinkStatus)}, not {unknown}")
    if not 0.0 <= min_score <= 1.0:
        raise BadInput("minScore is a probability, from 0 to 1")
    member_label, member_key = parse_entity_id(member) if member is not None else (None, None)
    offset = cursors.decode(after)
    rows = ctx.read(LINKS_PAGE, statuses=chosen, min_score=min_score, member=member, member_key=member_key,
                    member_label=member_label.value if member_label else None, offset=offset, limit=first + 1)
    items = [to_link(r["na"], r["nb"], r["link"]) for r in rows[:first]]
    end = cursors.encode(f"{items[-1].a.id}~{items[-1].b.id}", offset + len(items)) if items else None
    return Page(items, end, len(rows) > first)


ONE_LINK = """
MATCH (a:{la} {key: $a})-[r:SAME_AS]->(b:{lb} {key: $b})
RETURN {na}, {nb}, properties(r) AS link
"""


def get_link(ctx: GraphContext, a: str, b: str) -> Link | None:
    a, b = ordered(a, b)
    (la, ka), (lb, kb) = parse_entity_id(a), parse_entity_id(b)
    query = cypher(ONE_LINK, la=la, lb=lb).replace("{na}", node_map("a") + " AS na").replace(
        "{nb}", node_map("b") + " AS nb")
    rows = ctx.read(query, a=ka, b=kb)
    return to_link(rows[0]["na"], rows[0]["nb"], rows[0]["link"]) if rows else None


# -- judging --------------------------------------------------------------------------------------------

JUDGE = """
MATCH (a:{la} {key: $a})
MATCH (b:{lb} {key: $b})
MERGE (a)-[r:SAME_AS]->(b)
ON CREATE SET r.method = 'manual', r.proposed_at = datetime($at)
SET r.history = coalesce(r.history, []) + $entry, r.status = $status, r.by = $by, r.at = datetime($at),
    r.note = $note
"""


def judge(ctx: GraphContext, a: str, b: str, verdict: str, note: str | None = None,
          by: str = "unknown") -> Link:
    """Record a person's verdict on a pair (proposed or not) and update the identities around it.

    The verdict replaces the link's status; the earlier status, with who set it and when, goes to
    `history`. Returns the link as stored.
    """
    try:
        chosen = Verdict(str(verdict).lower())
    except ValueError:
        raise BadInput(f"verdict must be one of {', '.join(v.name for v in Verdict)}, not {verdict!r}") from None
    if note is not None and len(note) > 2000:
        raise BadInput("a note is at most 2000 characters")
    a, b = ordered(a, b)
    found = fetch_nodes(ctx, [a, b])
    missing = [value for value in (a, b) if value not in found]
    if missing:
        raise NotFound(f"no such record: {', '.join(missing)}")
    before = get_link(ctx, a, b)
    now = datetime.now(UTC).isoformat()
    entry = json.dumps({"status": before.status if before else None, "by": before.by if before else None,
                        "at": before.at if before else None, "note": before.note if before else None,
                        "set": chosen.value, "set_by": by, "set_at": now})
    (la, ka), (lb, kb) = parse_entity_id(a), parse_entity_id(b)
    ctx.write(cypher(JUDGE, la=la, lb=lb), a=ka, b=kb, entry=[entry], status=chosen.value, by=by, at=now,
              note=note)
    from queries.resolution_identities import update_identities_around

    update_identities_around(ctx, [a, b])
    link = get_link(ctx, a, b)
    assert link is not None  # just written
    return link

"""An entity's dated events, oldest first: when it used what, and the reports that name it.

Three sources of events, merged in one order:
- every time on the entity's relationships (`times`: an account's USED_IP, USED_DEVICE and
  SHARED moments; seen from an IP, device or file, the accounts that used it);
- every report tied to the entity (REPORTS, INCLUDES, SUBMITTED_BY, PART_OF, RELATED_TO), at the
  report's `incident_at`;
- for a report itself, its incident and the moment it was received.
The order (time, then origin, relationship type, other entity, relationship) is total, so offset
cursors page through it without gaps or repeats while the graph does not change.
"""

from __future__ import annotations

from typing import Any

from loaders.model import Label, Rel, cypher
from queries.bounds import FIRST, check_ids, check_range
from queries.context import GraphContext
from queries.cursors import decode, encode
from queries.entities import node_map, resolve, to_entity
from queries.results import Entity, Page, TimelineEvent

_EVENTS = cypher("""
MATCH (e) WHERE elementId(e) = $eid
CALL (e) {
  MATCH (e)-[r]-(o) WHERE r.times IS NOT NULL
  UNWIND r.times AS at
  RETURN at, 0 AS origin, type(r) AS rel, startNode(r) = e AS outgoing, o, r.events AS events,
         r.sources AS sources, elementId(r) AS rid
  UNION ALL
  MATCH (e)-[r]-(o:{report}) WHERE o.incident_at IS NOT NULL
  RETURN o.incident_at AS at, 1 AS origin, type(r) AS rel, startNode(r) = e AS outgoing, o, null AS events,
         [o.key] AS sources, elementId(r) AS rid
  UNION ALL
  WITH e WHERE e:{report}
  UNWIND [[2, e.incident_at], [3, e.received_at]] AS pair
  WITH e, pair WHERE pair[1] IS NOT NULL
  RETURN pair[1] AS at, pair[0] AS origin, null AS rel, null AS outgoing, null AS o, null AS events,
         [e.key] AS sources, '' AS rid
}
WITH at, origin, rel, outgoing, o, events, sources, rid
ORDER BY at, origin, rel, o.key, rid
SKIP $skip LIMIT $take
RETURN at, origin, rel, outgoing, CASE WHEN o IS NULL THEN null ELSE """ + node_map("o") + """ END AS other,
       events, sources
""", report=Label.REPORT)

_VERBS: dict[tuple[str, bool], str] = {
    (Rel.USED_IP, True): "used IP", (Rel.USED_IP, False): "used by account",
    (Rel.USED_DEVICE, True): "used device", (Rel.USED_DEVICE, False): "used by account",
    (Rel.SHARED, True): "shared file", (Rel.SHARED, False): "shared by account",
}
_REPORT_EVENTS: dict[str, tuple[str, str]] = {
    Rel.REPORTS: ("REPORTED", "reported in"),
    Rel.INCLUDES: ("INCLUDED", "included in report"),
    Rel.SUBMITTED_BY: ("SUBMITTED", "submitted report"),
    Rel.PART_OF: ("CASE_REPORT", "case holds report"),
    Rel.RELATED_TO: ("RELATED_REPORT", "related report"),
}
_OWN = {2: ("INCIDENT", "incident"), 3: ("RECEIVED", "report received")}


def _event(entity: Entity, row: dict[str, Any]) -> TimelineEvent:
    other = to_entity(row["other"]) if row["other"] is not None else None
    at = row["at"].to_native()
    if row["origin"] in _OWN:
        kind, text = _OWN[row["origin"]]
        incident = entity.properties.get("incident_type")
        return TimelineEvent(at=at, kind=kind, description=f"{text}: {incident}" if incident else text,
                             entity=entity.id, related=None, sources=row["sources"])
    assert other is not None
    if row["origin"] == 1:
        kind, verb = _REPORT_EVENTS.get(row["rel"], ("REPORT", f"{row['rel']} report"))
        incident = other.properties.get("incident_type")
        description = f"{verb} {other.key}" + (f" ({incident})" if incident else "")
    else:
        kind = row["rel"]
        generic = f"{row['rel']} {other.kind}" if row["outgoing"] else f"{other.kind} {row['rel']}"
        verb = _VERBS.get((row["rel"], row["outgoing"]), generic)
        events = ", ".join(str(e) for e in row["events"] or [] if e)
        description = f"{verb} {other.label}" + (f" ({events})" if events else "")
    return TimelineEvent(at=at, kind=kind, description=description, entity=entity.id, related=other.id,
                         sources=sorted(row["sources"] or []))


def timeline(ctx: GraphContext, id: str, first: int = 50, after: str | None = None) -> Page:
    """A page of `TimelineEvent`s of entity `id`, oldest first; `after` is a previous `end_cursor`."""
    [value] = check_ids([id])
    check_range("first", first, FIRST)
    skip = decode(after)
    node = resolve(ctx, [value])[value]
    entity = to_entity(node)
    rows = ctx.read(_EVENTS, eid=node["eid"], skip=skip, take=first + 1)
    events = [_event(entity, row) for row in rows[:first]]
    end = encode(events[-1].at.isoformat(), skip + len(events)) if events else after
    return Page(items=events, end_cursor=end, has_next_page=len(rows) > first)

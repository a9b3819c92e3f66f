"""Need-to-know: what one caller may see of an answer, decided in this one place for every question.

The unit of access is the report. A report is *visible* to a caller when it belongs to a case of
the caller's agency, or, for roles cleared for it, when it belongs to no case at all; a report in
another agency's case is never visible (unless it is also in one of ours). Nodes and relationships
are shared between reports (their `sources` list report keys), so an element is visible when ANY
of its sources is, and the caller is shown only the visible part of its `sources` (and of an edge's
`uses`, whose times are rebuilt from what is left).

How it is applied (graph_service's resolvers do it for every field):

1. `require(ctx, scope, ids)` before a question that starts from entities: a hidden id is refused
   with exactly the NotFound an absent one gets, so "exists but hidden" and "does not exist" read
   the same, and nothing is computed from a hidden starting point.
2. `restrict(ctx, scope, answer)` after: every report key the answer mentions is looked up in one
   query (`UNWIND` over the indexed Report keys), then the answer is pruned: hidden entities and
   edges go, an edge goes with either end, a path goes whole if any part of it is hidden, evidence
   keeps only visible reports. An answer of a type this module does not know how to prune is
   refused to a limited caller (Forbidden), never passed through: a new query fails closed.

Granularity is the node: the properties of a visible node are shown whole, even where a hidden
report added a value (docs/security.md says so).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from loaders.model import Label, Rel, cypher, parse_use_stamp
from queries.context import GraphContext
from queries.errors import NotFound, QueryError
from queries.results import (
    CaseView,
    CoUseMatch,
    Entity,
    GraphEdge,
    Link,
    LinkEvidence,
    LinkSet,
    Page,
    Path,
    PathSet,
    ReportView,
    SearchHit,
    SharedEvidence,
    SharedIdentifier,
    Subgraph,
    TimelineEvent,
)

T = TypeVar("T")


class Forbidden(QueryError):
    """The caller's role may not ask this (not: the thing asked for is hidden; that is NotFound)."""

    code = "FORBIDDEN"


class Clearance(StrEnum):
    OWN_CASES = "own_cases"
    OWN_AND_UNASSIGNED = "own_and_unassigned"
    EVERYTHING = "everything"


@dataclass(frozen=True, slots=True)
class Scope:
    """Who is asking, as far as visibility goes."""

    agency: str
    clearance: Clearance

    @property
    def everything(self) -> bool:
        return self.clearance is Clearance.EVERYTHING

    def sees_case_owned_by(self, agencies: Sequence[str | None]) -> bool:
        return self.everything or self.agency in agencies


#: The cases (with their owners) of each report key asked about; keys in no case come back not at all.
_CASES_OF = cypher("""
UNWIND $keys AS k
MATCH (r:{report} {key: k})-[:{part_of}]->(c:{case})
OPTIONAL MATCH (c)-[:{owned_by}]->(a:{agency})
RETURN k AS report, collect(a.key) AS agencies
""", report=Label.REPORT, part_of=Rel.PART_OF, case=Label.CASE, owned_by=Rel.OWNED_BY, agency=Label.AGENCY)


def visible_reports(ctx: GraphContext, scope: Scope, keys: Iterable[str]) -> set[str]:
    """The subset of `keys` (report or record keys) the caller may see."""
    wanted = set(keys)
    if scope.everything or not wanted:
        return wanted
    in_cases = {row["report"]: row["agencies"] for row in ctx.read(_CASES_OF, keys=sorted(wanted))}
    unassigned_ok = scope.clearance is Clearance.OWN_AND_UNASSIGNED
    return {key for key in wanted
            if (scope.agency in in_cases[key] if key in in_cases else unassigned_ok)}


def _not_found(ids: Sequence[str]) -> NotFound:
    # Word for word the message of queries.entities.resolve for an absent id.
    shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
    return NotFound(f"no such entity: {shown}")


_SOURCES_OF = ("CALL () { " + " UNION ALL ".join(
    cypher("UNWIND coalesce($keys.{label}, []) AS k MATCH (n:{label} {key: k}) "
           "RETURN '{label}:' + k AS id, n.sources AS sources, n.agency AS agency", label=label)
    for label in Label) + " } RETURN id, sources, agency")


def hidden_ids(ctx: GraphContext, scope: Scope, ids: Sequence[str]) -> list[str]:
    """Those of `ids` that exist but are hidden from the caller, judged on their full `sources`."""
    if scope.everything or not ids:
        return []
    by_label: dict[str, list[str]] = {}
    for value in ids:
        label, _, key = value.partition(":")
        if label in Label.__members__.values():
            by_label.setdefault(label, []).append(key)
    rows = {row["id"]: row for row in ctx.read(_SOURCES_OF, keys=by_label)} if by_label else {}
    every = {key for row in rows.values() for key in (row["sources"] or [])}
    reports = {value.partition(":")[2] for value in rows if value.startswith(Label.REPORT.value + ":")}
    seen = visible_reports(ctx, scope, every | reports)
    return [value for value in ids if value in rows
            and not _node_visible(value, rows[value]["sources"] or [], rows[value]["agency"], seen, scope)]


def require(ctx: GraphContext, scope: Scope, ids: Sequence[str]) -> None:
    """Refuse (NotFound, as if absent) when any of `ids` is hidden from the caller."""
    hidden = hidden_ids(ctx, scope, ids)
    if hidden:
        raise _not_found(hidden)


def _node_visible(value: str, sources: Sequence[str], agency: str | None, seen: set[str], scope: Scope) -> bool:
    label, _, key = value.partition(":")
    if label == Label.REPORT.value:
        return key in seen
    return agency == scope.agency or any(s in seen for s in sources)


# -- pruning ------------------------------------------------------------------------------------


def restrict(ctx: GraphContext, scope: Scope, answer: T) -> T:
    """`answer` as the caller may see it (see the module docstring); raises when it cannot be pruned."""
    if scope.everything:
        return answer
    keys: set[str] = set()
    capped: dict[str, Entity] = {}
    _collect(answer, keys, capped)
    seen = visible_reports(ctx, scope, keys)
    # Entities show only their first sources (queries.entities.MAX_SOURCES): one whose shown sources
    # are all hidden may still rest on a visible report further down its list; ask about those whole.
    doubtful = [e.id for e in capped.values() if not any(s in seen for s in e.sources)]
    also = set(doubtful) - set(hidden_ids(ctx, scope, doubtful))
    return _Pruner(scope, seen, also).prune(answer)


def _collect(value: Any, keys: set[str], capped: dict[str, Entity]) -> None:
    if isinstance(value, list | tuple):
        for item in value:
            _collect(item, keys, capped)
    elif isinstance(value, Entity):
        keys.update(value.sources)
        if value.kind == Label.REPORT:
            keys.add(value.key)
        if int(value.properties.get("source_count") or 0) > len(value.sources):
            capped[value.id] = value
    elif isinstance(value, GraphEdge | TimelineEvent | SharedIdentifier):
        keys.update(value.sources)
        if isinstance(value, SharedIdentifier):
            _collect(value.entity, keys, capped)
    elif isinstance(value, LinkEvidence):
        keys.update(value.reports)
    elif is_dataclass(value):
        for f in fields(value):
            _collect(getattr(value, f.name), keys, capped)


class _Pruner:
    def __init__(self, scope: Scope, seen: set[str], also: set[str]) -> None:
        self.scope = scope
        self.seen = seen
        self.also = also  # entity ids found visible on their full sources

    def visible(self, sources: Iterable[str]) -> list[str]:
        return [s for s in sources if s in self.seen]

    def entity(self, entity: Entity) -> Entity | None:
        own_case = entity.kind == Label.CASE and entity.properties.get("agency") == self.scope.agency
        if entity.kind == Label.REPORT and entity.key not in self.seen:
            return None  # a report is its own: another one citing it (priorCTReports) does not open it
        shown = self.visible(entity.sources)
        if not (shown or own_case or entity.id in self.also):
            return None
        properties = dict(entity.properties)
        if "source_count" in properties:  # the full count would tell how many hidden reports name it
            whole = int(properties["source_count"] or 0) <= len(entity.sources)
            if whole:
                properties["source_count"] = len(shown)
            else:
                del properties["source_count"]
        return replace(entity, sources=shown, properties=properties)

    def edge(self, edge: GraphEdge) -> GraphEdge | None:
        shown = self.visible(edge.sources)
        if not shown:
            return None
        properties = dict(edge.properties)
        if "uses" in properties:
            uses = [u for u in properties["uses"] if parse_use_stamp(str(u))[1] in self.seen]
            times = sorted({parse_use_stamp(str(u))[0] for u in uses})
            properties["uses"] = uses
            properties["times"] = [t.isoformat() for t in times]
            if times:
                properties["first_seen"], properties["last_seen"] = times[0].isoformat(), times[-1].isoformat()
        return replace(edge, sources=shown, properties=properties)

    def subgraph(self, graph: Subgraph) -> Subgraph:
        nodes = [n for n in (self.entity(e) for e in graph.nodes) if n is not None]
        ids = {n.id for n in nodes}
        edges = [e for e in (self.edge(e) for e in graph.edges)
                 if e is not None and e.source in ids and e.target in ids]
        return Subgraph(nodes=nodes, edges=edges, truncated=graph.truncated, skipped=[])

    def path(self, path: Path) -> Path | None:
        nodes = [self.entity(e) for e in path.nodes]
        edges = [self.edge(e) for e in path.edges]
        if any(n is None for n in nodes) or any(e is None for e in edges):
            return None
        return Path(nodes=[n for n in nodes if n], edges=[e for e in edges if e])

    def evidence(self, ev: LinkEvidence) -> LinkEvidence | None:
        reports = self.visible(ev.reports)
        if not reports:
            return None
        co_uses = [c for c in ev.co_uses if self._co_use_visible(c)]
        return replace(ev, reports=reports, co_uses=co_uses, co_use_count=min(ev.co_use_count, len(co_uses))
                       if len(co_uses) < len(ev.co_uses) else ev.co_use_count)

    def _co_use_visible(self, c: CoUseMatch) -> bool:
        return all(r is None or r in self.seen for r in (c.a_report, c.b_report))

    def link(self, link: Link) -> Link | None:
        evidence = [e for e in (self.evidence(ev) for ev in link.evidence) if e is not None]
        if not evidence:
            return None
        return Link(a=link.a, b=link.b, score=sum(e.contribution for e in evidence), evidence=evidence)

    def prune(self, value: Any) -> Any:
        if value is None or isinstance(value, str | int | float | bool | datetime):
            return value
        if isinstance(value, list):
            pruned = [self.prune(item) for item in value]
            return [item for item in pruned if item is not None]
        if isinstance(value, Entity):
            return self.entity(value)
        if isinstance(value, GraphEdge):
            return self.edge(value)
        if isinstance(value, Subgraph):
            return self.subgraph(value)
        if isinstance(value, Path):
            return self.path(value)
        if isinstance(value, PathSet):
            paths = [p for p in (self.path(p) for p in value.paths) if p is not None]
            return PathSet(paths=paths, length=value.length if paths else None, truncated=value.truncated)
        if isinstance(value, SearchHit):
            entity = self.entity(value.entity)
            return None if entity is None else replace(value, entity=entity)
        if isinstance(value, SharedIdentifier):
            entity, sources = self.entity(value.entity), self.visible(value.sources)
            return None if entity is None or not sources else replace(value, entity=entity, sources=sources)
        if isinstance(value, SharedEvidence):
            return SharedEvidence(identifiers=self.prune(value.identifiers), links=self.prune(value.links), skipped=[])
        if isinstance(value, Link):
            return self.link(value)
        if isinstance(value, LinkSet):
            return LinkSet(links=self.prune(value.links), skipped=[], truncated=value.truncated)
        if isinstance(value, TimelineEvent):
            sources = self.visible(value.sources)
            return replace(value, sources=sources) if sources else None
        if isinstance(value, Page):
            return replace(value, items=self.prune(value.items))
        if isinstance(value, ReportView):
            entity = self.entity(value.entity)
            if entity is None:
                raise NotFound(f"no report {value.entity.key!r}")  # word for word queries.reports.report
            return ReportView(entity=entity, contents=self.subgraph(value.contents))
        if isinstance(value, CaseView):
            entity = self.entity(value.entity)
            if entity is None:
                raise NotFound(f"no case {value.entity.key!r}")  # word for word queries.reports.case
            return CaseView(entity=entity, reports=self.prune(value.reports))
        raise Forbidden("this question is open to roles cleared for every case only")

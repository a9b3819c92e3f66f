"""The GraphQL types: one per result dataclass of `queries/`, field for field, and their converters.

Converters copy; they never compute. The one addition to the dataclasses is
`TimelineEvent.relatedEntity`, the related entity itself, fetched through the request's DataLoader
so that a page of events costs one lookup however many entities it names.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_service.graphql.context import ApiContext
from queries import charts, prioritisation, results, trends
from ui.exports.service import ExportResult as ChartExportResult


@strawberry.enum(description="The length of one period of `trends`.")
class TrendBucket(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@strawberry.type(description="A node of the graph: an account, an address, a report, a person…")
class Entity:
    id: strawberry.ID = strawberry.field(description="`Kind:key`, stable across reloads.")
    kind: str = strawberry.field(description="The node label: Account, IP, Report, …")
    key: str
    label: str = strawberry.field(description="What to show: a screen name, a name, the address.")
    properties: JSON
    sources: list[str] = strawberry.field(description="Keys of the reports that name it.")


@strawberry.type(description="A relationship between two entities, with when and where it was seen.")
class Edge:
    id: strawberry.ID
    kind: str
    source: strawberry.ID
    target: strawberry.ID
    properties: JSON
    sources: list[str]


@strawberry.type(description="A supernode the answer did not pass through or count as evidence.")
class Skipped:
    id: strawberry.ID
    reason: str = strawberry.field(description="provider, exit_list, cgnat, degree or spread (docs/analysis.md).")
    degree: int = strawberry.field(description="Distinct accounts using it; for a provider, reports it submitted.")


@strawberry.type
class Subgraph:
    nodes: list[Entity]
    edges: list[Edge]
    truncated: bool = strawberry.field(description="True when a limit cut the answer short.")
    skipped: list[Skipped] = strawberry.field(
        description="Providers and supernodes next to the answer that were not expanded (widest first).")


@strawberry.type
class Path:
    nodes: list[Entity]
    edges: list[Edge]


@strawberry.type
class PathSet:
    paths: list[Path]
    length: int | None = strawberry.field(description="Hops of the shortest paths; null when none.")
    truncated: bool = strawberry.field(description="True when more shortest paths exist than were returned.")
    skipped: list[Skipped] = strawberry.field(
        description="Providers and supernodes next to the ends or the paths, which the paths may not pass through.")


@strawberry.type(description="Two accounts' uses of one address or device within the co-use window.")
class CoUse:
    a_time: datetime
    b_time: datetime
    a_report: str | None
    b_report: str | None
    gap_seconds: float


@strawberry.type(description="One piece of what ties two accounts: "
                             "contribution = weight x rarity x proximity x support.")
class LinkEvidence:
    kind: str = strawberry.field(
        description="provider_tie, co_reported, device, phone, email, email_variant, file or ip.")
    key: str = strawberry.field(description="The shared identifier's key (a mailbox, a report key...).")
    entities: list[strawberry.ID] = strawberry.field(description="The graph nodes it rests on.")
    reports: list[str]
    times: list[datetime] = strawberry.field(description="Matched moments of co-use, oldest first.")
    co_uses: list[CoUse] = strawberry.field(description="Matching pairs of uses, closest first (capped).")
    co_use_count: int
    holders: int = strawberry.field(description="Distinct accounts sharing the identifier.")
    weight: float
    rarity: float
    proximity: float
    support: float
    contribution: float


@strawberry.type(description="Two accounts and how strongly their shared evidence ties them.")
class Link:
    a: strawberry.ID
    b: strawberry.ID
    score: float = strawberry.field(description="The sum of the evidence's contributions (docs/analysis.md).")
    evidence: list[LinkEvidence]


@strawberry.type
class LinkSet:
    links: list[Link]
    skipped: list[Skipped] = strawberry.field(description="Supernodes the account uses, not counted as evidence.")
    truncated: bool


@strawberry.type
class SearchHit:
    entity: Entity
    score: float
    matched: str


@strawberry.type
class SharedIdentifier:
    entity: Entity
    holders: list[strawberry.ID]
    sources: list[str]


@strawberry.type
class SharedEvidence:
    identifiers: list[SharedIdentifier]
    links: list[Link] = strawberry.field(description="Scored links between the accounts among the ids asked.")
    skipped: list[Skipped] = strawberry.field(description="Shared identifiers that are supernodes (not counted).")


@strawberry.type
class TimelineEvent:
    at: datetime
    kind: str
    description: str
    entity: strawberry.ID
    related: strawberry.ID | None
    sources: list[str]

    @strawberry.field(description="The related entity itself (batched: one lookup per page).")
    async def related_entity(self, info: Info[ApiContext, None]) -> Entity | None:
        if self.related is None:
            return None
        found = await info.context.entities.load(self.related)
        return to_entity(found) if found is not None else None


@strawberry.type
class PageInfo:
    end_cursor: str | None = strawberry.field(description="Pass back as `after` for the next page.")
    has_next_page: bool


@strawberry.type
class TimelineConnection:
    events: list[TimelineEvent]
    page_info: PageInfo


@strawberry.type
class EntityConnection:
    items: list[Entity]
    page_info: PageInfo


@strawberry.type
class ReportView:
    entity: Entity
    contents: Subgraph


@strawberry.type
class CaseView:
    entity: Entity
    reports: EntityConnection


@strawberry.type(description="One period of `trends`: counts by the reports' incident time (UTC).")
class TrendPoint:
    start: datetime
    end: datetime = strawberry.field(description="Exclusive.")
    reports: int
    providers: int = strawberry.field(description="Providers that reported in the period.")
    files: int = strawberry.field(description="Files the period's reports include.")
    new_files: int = strawberry.field(description="Of `files`, those no earlier report includes.")
    known_files: int = strawberry.field(description="Of `files`, those on a loaded hash set.")
    accounts: int = strawberry.field(description="Accounts the period's reports name.")
    new_accounts: int = strawberry.field(description="Of `accounts`, those no earlier report names.")
    largest_groups: list[int] = strawberry.field(
        description="Sizes of the largest groups of linked accounts at the period's end, largest first.")


@strawberry.type
class Trends:
    bucket: TrendBucket
    since: datetime | None = strawberry.field(description="Start of the first period; null when no report is dated.")
    until: datetime | None = strawberry.field(description="End (exclusive) of the last period.")
    points: list[TrendPoint]


@strawberry.enum(description="What `priorities` ranks.")
class PriorityScope(Enum):
    ACCOUNTS = "accounts"
    REPORTS = "reports"


@strawberry.type(description="One part of a priority score: `contribution` = `weight` × the part's "
                             "transform of `value` (docs/analysis.md); the parts add up to the score.")
class ScorePart:
    name: str
    value: float
    weight: float
    contribution: float
    evidence: list[str] = strawberry.field(description="Keys the part rests on (at most 20; `value` is exact).")


@strawberry.type
class Priority:
    id: strawberry.ID
    kind: str
    key: str
    label: str
    score: float
    parts: list[ScorePart]


def to_entity(entity: results.Entity) -> Entity:
    return Entity(id=strawberry.ID(entity.id), kind=entity.kind, key=entity.key, label=entity.label,
                  properties=JSON(entity.properties), sources=list(entity.sources))


def to_edge(edge: results.GraphEdge) -> Edge:
    return Edge(id=strawberry.ID(edge.id), kind=edge.kind, source=strawberry.ID(edge.source),
                target=strawberry.ID(edge.target), properties=JSON(edge.properties), sources=list(edge.sources))


def to_skipped(skipped: results.Skipped) -> Skipped:
    return Skipped(id=strawberry.ID(skipped.id), reason=skipped.reason, degree=skipped.degree)


def to_subgraph(subgraph: results.Subgraph) -> Subgraph:
    return Subgraph(nodes=[to_entity(n) for n in subgraph.nodes], edges=[to_edge(e) for e in subgraph.edges],
                    truncated=subgraph.truncated, skipped=[to_skipped(s) for s in subgraph.skipped])


def to_path_set(path_set: results.PathSet) -> PathSet:
    paths = [Path(nodes=[to_entity(n) for n in p.nodes], edges=[to_edge(e) for e in p.edges])
             for p in path_set.paths]
    return PathSet(paths=paths, length=path_set.length, truncated=path_set.truncated,
                   skipped=[to_skipped(s) for s in path_set.skipped])


def to_link(link: results.Link) -> Link:
    evidence = [LinkEvidence(
        kind=e.kind, key=e.key, entities=[strawberry.ID(x) for x in e.entities], reports=list(e.reports),
        times=list(e.times),
        co_uses=[CoUse(a_time=m.a_time, b_time=m.b_time, a_report=m.a_report, b_report=m.b_report,
                       gap_seconds=m.gap_s) for m in e.co_uses],
        co_use_count=e.co_use_count, holders=e.holders, weight=e.weight, rarity=e.rarity,
        proximity=e.proximity, support=e.support, contribution=e.contribution) for e in link.evidence]
    return Link(a=strawberry.ID(link.a), b=strawberry.ID(link.b), score=link.score, evidence=evidence)


def to_link_set(link_set: results.LinkSet) -> LinkSet:
    return LinkSet(links=[to_link(x) for x in link_set.links], skipped=[to_skipped(s) for s in link_set.skipped],
                   truncated=link_set.truncated)


def to_shared_evidence(shared: results.SharedEvidence) -> SharedEvidence:
    return SharedEvidence(identifiers=[to_shared_identifier(s) for s in shared.identifiers],
                          links=[to_link(x) for x in shared.links], skipped=[to_skipped(s) for s in shared.skipped])


def to_search_hit(hit: results.SearchHit) -> SearchHit:
    return SearchHit(entity=to_entity(hit.entity), score=hit.score, matched=hit.matched)


def to_shared_identifier(shared: results.SharedIdentifier) -> SharedIdentifier:
    return SharedIdentifier(entity=to_entity(shared.entity), holders=[strawberry.ID(h) for h in shared.holders],
                            sources=list(shared.sources))


def to_timeline_event(event: results.TimelineEvent) -> TimelineEvent:
    return TimelineEvent(at=event.at, kind=event.kind, description=event.description,
                         entity=strawberry.ID(event.entity),
                         related=strawberry.ID(event.related) if event.related is not None else None,
                         sources=list(event.sources))


def to_page_info(page: results.Page) -> PageInfo:
    return PageInfo(end_cursor=page.end_cursor, has_next_page=page.has_next_page)


def to_timeline(page: results.Page) -> TimelineConnection:
    return TimelineConnection(events=[to_timeline_event(e) for e in page.items], page_info=to_page_info(page))


def to_report_view(view: results.ReportView) -> ReportView:
    return ReportView(entity=to_entity(view.entity), contents=to_subgraph(view.contents))


def to_case_view(view: results.CaseView) -> CaseView:
    reports = EntityConnection(items=[to_entity(e) for e in view.reports.items],
                               page_info=to_page_info(view.reports))
    return CaseView(entity=to_entity(view.entity), reports=reports)


def to_trends(found: trends.Trends) -> Trends:
    points = [TrendPoint(start=p.start, end=p.end, reports=p.reports, providers=p.providers, files=p.files,
                         new_files=p.new_files, known_files=p.known_files, accounts=p.accounts,
                         new_accounts=p.new_accounts, largest_groups=list(p.largest_groups))
              for p in found.points]
    return Trends(bucket=TrendBucket(found.bucket.value), since=found.since, until=found.until, points=points)


def to_priority(found: prioritisation.Priority) -> Priority:
    parts = [ScorePart(name=p.name, value=p.value, weight=p.weight, contribution=p.contribution,
                       evidence=list(p.evidence)) for p in found.parts]
    return Priority(id=strawberry.ID(found.id), kind=found.kind, key=found.key, label=found.label,
                    score=found.score, parts=parts)
# -- saved charts and their exports (issue 9) ---------------------------------------------------

@strawberry.type(description="Entities kept on a saved chart, the links among them (fresh from the graph) "
                             "and the ids the graph no longer has.")
class ChartGraph:
    nodes: list[Entity]
    edges: list[Edge]
    missing: list[strawberry.ID]


@strawberry.type(description="One version of a saved link chart of a case.")
class Chart:
    id: strawberry.ID = strawberry.field(description="`<case>/<name>@<version>`.")
    series: str = strawberry.field(description="`<case>/<name>`: every version of this chart (the latest when asked).")
    name: str
    case: str
    version: int
    saved_at: datetime
    author: str | None
    state: JSON = strawberry.field(description="The viewer's chart: nodes (id, x, y, pinned, hidden), hiddenKinds, "
                                               "since, until.")
    saved: strawberry.Private[charts.SavedChart]

    @strawberry.field(description="The chart's entities and links as the graph has them now; with `kept`, "
                                  "hidden entities too (to reopen it), else only those drawn.")
    async def graph(self, info: Info[ApiContext, None], kept: bool = False) -> ChartGraph:
        found = await asyncio.to_thread(charts.chart_graph, info.context.graph, self.saved, kept=kept)
        return ChartGraph(nodes=[to_entity(n) for n in found.nodes], edges=[to_edge(e) for e in found.edges],
                          missing=[strawberry.ID(m) for m in found.missing])


@strawberry.type(description="An exported chart file: text as is, binary formats (png, pdf) in base64.")
class ChartExport:
    chart_id: strawberry.ID
    format: str
    filename: str
    media_type: str
    encoding: str = strawberry.field(description="`utf-8` (content is the file's text) or `base64`.")
    content: str
    size: int = strawberry.field(description="Bytes in the file.")
    sha256: str = strawberry.field(description="SHA-256 of the file, as written to the audit log.")
    counts: JSON = strawberry.field(description="Entities, links and source reports exported.")


def to_chart(chart: charts.SavedChart) -> Chart:
    return Chart(id=strawberry.ID(chart.id), series=chart.series, name=chart.name, case=chart.case,
                 version=chart.version, saved_at=datetime.fromisoformat(chart.saved_at), author=chart.author,
                 state=JSON(chart.state.as_json()), saved=chart)


def to_chart_export(result: ChartExportResult, binary: bool) -> ChartExport:
    content = base64.b64encode(result.content).decode("ascii") if binary else result.content.decode("utf-8")
    return ChartExport(chart_id=strawberry.ID(result.chart_id), format=result.format, filename=result.filename,
                       media_type=result.media_type, encoding="base64" if binary else "utf-8", content=content,
                       size=len(result.content), sha256=result.sha256, counts=JSON(result.counts))

"""The GraphQL types of community detection, mirroring `queries/community_results.py`.

A `Community`'s figures are stored with the run; its lists (members, reports, providers, known files,
cases, binding identifiers) are fields with resolvers, each one query in `queries/community_details`,
run only when asked for: a list of fifty communities that asks for sizes costs one query.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_service.graphql.access import ask
from graph_service.graphql.context import ApiContext
from graph_service.graphql.types import Entity, Subgraph, to_entity, to_subgraph
from queries import community_chart as chart
from queries import community_details as details
from queries import community_results as r

ApiInfo = Info[ApiContext, None]
R = TypeVar("R")


@strawberry.enum(description="How `communities` orders its answer (largest first).")
class CommunityOrder(Enum):
    SIZE = "SIZE"
    DENSITY = "DENSITY"
    REPORTS = "REPORTS"
    PROVIDERS = "PROVIDERS"
    KNOWN_FILES = "KNOWN_FILES"
    WEIGHT = "WEIGHT"


@strawberry.type(description="One stored run of community detection: what ran, on what, and what came out.")
class CommunityRun:
    run: str
    algorithm: str
    engine: str = strawberry.field(description="local (igraph/leidenalg, networkx) or gds (the server's GDS).")
    parameters: JSON = strawberry.field(description="The method: quality, resolution, seed.")
    projection: JSON = strawberry.field(description="How accounts were tied, and what was left out and why.")
    created_at: str
    accounts: int = strawberry.field(description="Accounts with at least one tie (the projection's vertices).")
    edges: int
    communities: int = strawberry.field(description="Communities written (of at least minSize members).")
    placed: int
    min_size: int
    seconds: JSON
    status: str


@strawberry.type
class CommunityMember:
    entity: Entity
    rank: float = strawberry.field(description="PageRank within the community (members' ranks sum to 1).")


@strawberry.type
class NamedCount:
    name: str
    count: int


@strawberry.type
class KnownFile:
    entity: Entity
    categories: list[str]
    holders: int = strawberry.field(description="Members holding it.")


@strawberry.type
class CaseTouch:
    case: Entity
    agency: str | None
    reports: int = strawberry.field(description="The community's reports filed under this case.")


@strawberry.type(description="An identifier two or more members share: evidence that binds the community.")
class BindingIdentifier:
    entity: Entity
    holders: int = strawberry.field(description="Members holding it.")
    degree: int = strawberry.field(description="Accounts holding it in the whole graph.")
    weight: float | None = strawberry.field(
        description="What it gives each pair of holders in the projection; null when left out.")
    excluded: str | None = strawberry.field(description="Why the projection left it out (supernode, degree…).")
    sources: list[str] = strawberry.field(description="Report keys of the ties between it and the members.")


@strawberry.type(description="A group of accounts more tied to each other than to the rest.")
class Community:
    id: strawberry.ID = strawberry.field(description="`<run>:<number>`; number 0 is the run's largest.")
    run: str
    number: int
    size: int
    edges: int = strawberry.field(description="Ties between members.")
    weight: float = strawberry.field(description="Summed weight of those ties.")
    density: float = strawberry.field(description="Ties over possible pairs of members.")
    report_count: int
    provider_count: int
    known_file_count: int

    @strawberry.field(description="Members, most central (PageRank within the community) first.")
    async def members(self, info: ApiInfo, limit: int = 50) -> list[CommunityMember]:
        found = await _call(info, details.community_members, self.id, limit)
        return [to_member(m) for m in found]

    @strawberry.field(description="The five most central members.")
    async def central(self, info: ApiInfo) -> list[CommunityMember]:
        found = await _call(info, details.community_members, self.id, details.CENTRAL)
        return [to_member(m) for m in found]

    @strawberry.field(description="Reports naming a member, newest first.")
    async def reports(self, info: ApiInfo, limit: int = 50) -> list[Entity]:
        return [to_entity(e) for e in await _call(info, details.community_reports, self.id, limit)]

    @strawberry.field(description="Providers that sent the community's reports.")
    async def providers(self, info: ApiInfo) -> list[NamedCount]:
        return [NamedCount(name=p.name, count=p.count) for p in await _call(info, details.community_providers,
                                                                              self.id)]

    @strawberry.field(description="Files known from hash sets that members hold.")
    async def known_files(self, info: ApiInfo) -> list[KnownFile]:
        files, _ = await _call(info, details.community_known_files, self.id)
        return [KnownFile(entity=to_entity(f.entity), categories=list(f.categories), holders=f.holders)
                for f in files]

    @strawberry.field(description="Categories of those known files, with how many files in each.")
    async def categories(self, info: ApiInfo) -> list[NamedCount]:
        _, counts = await _call(info, details.community_known_files, self.id)
        return [NamedCount(name=c.name, count=c.count) for c in counts]

    @strawberry.field(description="Cases (and their agencies) the community's reports are filed under.")
    async def cases(self, info: ApiInfo) -> list[CaseTouch]:
        found = await _call(info, details.community_cases, self.id)
        return [CaseTouch(case=to_entity(c.case), agency=c.agency, reports=c.reports) for c in found]

    @strawberry.field(description="Identifiers members share, those the projection counted first.")
    async def binding(self, info: ApiInfo, limit: int = 20) -> list[BindingIdentifier]:
        found = await _call(info, details.community_binding, self.id, limit)
        return [BindingIdentifier(entity=to_entity(b.entity), holders=b.holders, degree=b.degree, weight=b.weight,
                                  excluded=b.excluded, sources=list(b.sources)) for b in found]

    @strawberry.field(description="The community as its own chart: its most central members and the "
                                  "identifiers that bind them, with the relationships among them.")
    async def chart(self, info: ApiInfo, members: int = 100) -> Subgraph:
        return to_subgraph(await _call(info, chart.community_chart, self.id, members))


@strawberry.type(description="The community an account belongs to in one run.")
class CommunityMembership:
    entity: strawberry.ID
    community: strawberry.ID
    number: int
    size: int


@strawberry.type(description="How communities of one run became those of a later one.")
class CommunityChange:
    kind: str = strawberry.field(description="APPEARED, VANISHED, GREW, SHRANK, STABLE, MERGED or SPLIT.")
    before: list[strawberry.ID]
    after: list[strawberry.ID]
    size_before: int
    size_after: int
    jaccard: float
    joined: int
    left: int


async def _call(info: ApiInfo, query: Callable[..., R], *args: Any) -> R:
    return await ask(info, query, *args)


def to_member(member: r.Member) -> CommunityMember:
    return CommunityMember(entity=to_entity(member.entity), rank=member.rank)


def to_community(summary: r.CommunitySummary) -> Community:
    return Community(id=strawberry.ID(summary.id), run=summary.run, number=summary.number, size=summary.size,
                     edges=summary.edges, weight=summary.weight, density=summary.density,
                     report_count=summary.reports, provider_count=summary.providers,
                     known_file_count=summary.known_files)


def to_run(run: r.CommunityRun) -> CommunityRun:
    return CommunityRun(run=run.run, algorithm=run.algorithm, engine=run.engine, parameters=JSON(run.parameters),
                        projection=JSON(run.projection), created_at=run.created_at, accounts=run.accounts,
                        edges=run.edges, communities=run.communities, placed=run.placed, min_size=run.min_size,
                        seconds=JSON(run.seconds), status=run.status)


def to_change(change: r.CommunityChange) -> CommunityChange:
    return CommunityChange(kind=change.kind, before=[strawberry.ID(b) for b in change.before],
                           after=[strawberry.ID(a) for a in change.after], size_before=change.size_before,
                           size_after=change.size_after, jaccard=change.jaccard, joined=change.joined,
                           left=change.left)

"""Entity resolution in the API: the review queue, identities, judgements and runs.

Root fields: `resolutionCandidates`, `identities`, `resolutionRuns` (Query); `judge`,
`runResolution`, `rollbackResolution` (Mutation). Thin as the rest: convert, call `queries/`,
convert back. Who judges is the authenticated user (the bearer token's, DESIGN.md §7).
"""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from graph_service.graphql.access import ask, change
from graph_service.graphql.context import ApiContext
from graph_service.graphql.types import Entity, PageInfo, to_entity, to_page_info
from graph_service.settings import Settings, get_settings
from queries import resolution_identities, resolution_judgements, resolution_runs
from queries.resolution import ResolutionParams

ApiInfo = Info[ApiContext, None]


@strawberry.enum(description="An investigator's decision on a pair of records.")
class Verdict(Enum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNSURE = "unsure"


@strawberry.type(description="A SAME_AS link: a proposal of a run, or a judged pair, with its evidence.")
class ResolutionLink:
    a: Entity
    b: Entity
    status: str = strawberry.field(description="proposed, accepted, withdrawn, confirmed, rejected or unsure.")
    score: float | None = strawberry.field(description="Match probability (0-1) of the run that scored it.")
    weight: float | None = strawberry.field(description="Match weight in bits (log2 odds).")
    method: str | None
    evidence: JSON = strawberry.field(description="Per comparison: level, similarity, weight, both values, "
                                                  "shared identifiers and the report keys they come from.")
    run: str | None
    by: str | None
    at: str | None
    note: str | None
    history: JSON = strawberry.field(description="Earlier verdicts on this pair, oldest first.")


@strawberry.type
class ResolutionLinkConnection:
    items: list[ResolutionLink]
    page_info: PageInfo


@strawberry.type(description="A resolved person: records joined by confirmed (or accepted) links.")
class Identity:
    entity: Entity
    members: list[Entity] = strawberry.field(description="Its accounts, persons without account, and the "
                                                         "reported persons who use its accounts.")


@strawberry.type
class IdentityConnection:
    items: list[Identity]
    page_info: PageInfo


@strawberry.type(description="One resolution run: its parameters and what it did.")
class ResolutionRun:
    run: str
    status: str
    started_at: str | None
    finished_at: str | None
    by: str | None
    params: JSON
    counts: JSON


def to_link(link: resolution_judgements.Link) -> ResolutionLink:
    return ResolutionLink(a=to_entity(link.a), b=to_entity(link.b), status=link.status, score=link.score,
                          weight=link.weight, method=link.method, evidence=JSON(link.evidence), run=link.run,
                          by=link.by, at=link.at, note=link.note, history=JSON(link.history))


def to_run(run: resolution_runs.RunSummary) -> ResolutionRun:
    return ResolutionRun(run=run.run, status=run.status, started_at=run.started_at, finished_at=run.finished_at,
                         by=run.by, params=JSON(run.params), counts=JSON(run.counts))


def user_of(info: ApiInfo) -> str:
    """Who judges: the token's user (the `X-Gracegraph-User` header is no longer believed)."""
    return info.context.caller.user


def settings_of(info: ApiInfo) -> Settings:
    request = getattr(info.context, "request", None)
    found = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    return found if isinstance(found, Settings) else get_settings()


@strawberry.type
class ResolutionQuery:
    @strawberry.field(description="Pairs to review, best score first (default: status proposed).")
    async def resolution_candidates(self, info: ApiInfo, first: int = 20, after: str | None = None,
                                    statuses: list[str] | None = None, min_score: float = 0.0,
                                    member: strawberry.ID | None = None) -> ResolutionLinkConnection:
        page = await ask(info, resolution_judgements.resolution_candidates, first=first, after=after,
                           statuses=statuses, min_score=min_score, member=member)
        return ResolutionLinkConnection(items=[to_link(link) for link in page.items], page_info=to_page_info(page))

    @strawberry.field(description="Resolved identities, largest first; `ids`: those holding one of these records.")
    async def identities(self, info: ApiInfo, first: int = 20, after: str | None = None,
                         ids: list[strawberry.ID] | None = None) -> IdentityConnection:
        page = await ask(info, resolution_identities.identities, first=first, after=after,
                           ids=list(ids) if ids is not None else None)
        items = [Identity(entity=to_entity(entity), members=[to_entity(m) for m in members])
                 for entity, members in page.items]
        return IdentityConnection(items=items, page_info=to_page_info(page))

    @strawberry.field(description="The latest resolution runs, newest first.")
    async def resolution_runs(self, info: ApiInfo, limit: int = 20) -> list[ResolutionRun]:
        runs = await ask(info, resolution_runs.list_runs, limit=max(1, min(limit, 200)))
        return [to_run(run) for run in runs]


@strawberry.type
class ResolutionMutation:
    @strawberry.mutation(description="Decide whether two records are one person; identities follow.")
    async def judge(self, info: ApiInfo, a: strawberry.ID, b: strawberry.ID, verdict: Verdict,
                    note: str | None = None) -> ResolutionLink:
        link = await change(info, resolution_judgements.judge, str(a), str(b), verdict.value, note=note,
                           by=user_of(info))
        return to_link(link)

    @strawberry.mutation(description="Resolve the whole graph now; unset arguments take the settings.")
    async def run_resolution(self, info: ApiInfo, threshold: float | None = None,
                             auto_accept: float | None = None,
                             allow_auto_accept: bool | None = None) -> ResolutionRun:
        params = ResolutionParams.from_settings(settings_of(info), threshold=threshold, auto_accept=auto_accept,
                                                allow_auto_accept=allow_auto_accept)
        resolution_runs.check_params(params)
        return to_run(await change(info, resolution_runs.run_resolution, params, by=user_of(info)))

    @strawberry.mutation(description="Undo one run: its unjudged links go, re-scored ones get their old scores.")
    async def rollback_resolution(self, info: ApiInfo, run: str) -> ResolutionRun:
        return to_run(await change(info, resolution_runs.rollback_run, run))

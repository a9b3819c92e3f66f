"""The Query root: each resolver converts its arguments, calls one query function, converts back.

Query functions are synchronous (the Neo4j driver is), so they run in a worker thread and the
event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.printer import print_schema
from strawberry.types import ExecutionContext, Info

from graph_service.graphql import types as t
from graph_service.graphql.bounds import bounds
from graph_service.graphql.context import ApiContext
from graph_service.graphql.errors import ErrorCodes, log_errors
from graph_service.settings import Settings
from queries import link_analysis
from queries.context import GraphContext
from queries.errors import BadInput, NotFound
from queries.results import parse_entity_id

R = TypeVar("R")
ApiInfo = Info[ApiContext, None]


async def call(info: ApiInfo, query: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    graph: GraphContext = info.context.graph
    return await asyncio.to_thread(query, graph, *args, **kwargs)


@strawberry.type
class Query:
    @strawberry.field(description="Entities whose key, name or label matches `text`, best first.")
    async def search(self, info: ApiInfo, text: str, kinds: list[str] | None = None,
                     limit: int = 20) -> list[t.SearchHit]:
        hits = await call(info, link_analysis.search, text, kinds=kinds, limit=limit)
        return [t.to_search_hit(hit) for hit in hits]

    @strawberry.field(description="One entity, by `id` (Kind:key) or by `kind` and `key`; NOT_FOUND when absent.")
    async def entity(self, info: ApiInfo, id: strawberry.ID | None = None, kind: str | None = None,
                     key: str | None = None) -> t.Entity | None:
        if id is not None and kind is None and key is None:
            parse_entity_id(id)  # a malformed id is BAD_INPUT, and must not fail the batch it would join
            found = await info.context.entities.load(id)
            if found is None:
                raise NotFound(f"no entity {id!r}")
            return t.to_entity(found)
        if id is None and kind is not None and key is not None:
            return t.to_entity(await call(info, link_analysis.get_entity_by_key, kind, key))
        raise BadInput("give either id, or both kind and key")

    @strawberry.field(description="The entities within `depth` hops of `ids`, optionally only of `kinds` "
                                  "and seen between `since` and `until`; providers and supernodes are "
                                  "not expanded (listed in `skipped`) unless `includeSupernodes`.")
    async def neighbourhood(self, info: ApiInfo, ids: list[strawberry.ID], depth: int = 1,
                            kinds: list[str] | None = None, since: datetime | None = None,
                            until: datetime | None = None, limit: int = 500,
                            include_supernodes: bool = False) -> t.Subgraph:
        subgraph = await call(info, link_analysis.neighbourhood, list(ids), depth=depth, kinds=kinds,
                              since=since, until=until, limit=limit, include_supernodes=include_supernodes)
        return t.to_subgraph(subgraph)

    @strawberry.field(description="All shortest paths between two entities, up to `maxHops` long, not "
                                  "through providers or supernodes unless `includeSupernodes`.")
    async def paths(self, info: ApiInfo, source: Annotated[strawberry.ID, strawberry.argument(name="from")],
                    target: Annotated[strawberry.ID, strawberry.argument(name="to")], max_hops: int = 4,
                    kinds: list[str] | None = None, include_supernodes: bool = False) -> t.PathSet:
        return t.to_path_set(await call(info, link_analysis.paths, source, target, max_hops=max_hops, kinds=kinds,
                                        include_supernodes=include_supernodes))

    @strawberry.field(description="Identifiers (emails, phones, addresses, devices, files) that two or "
                                  "more of `ids` have in common, with the reports saying so, and the "
                                  "scored links between the accounts among them.")
    async def shared_identifiers(self, info: ApiInfo, ids: list[strawberry.ID]) -> t.SharedEvidence:
        shared = await call(info, link_analysis.shared_identifiers, list(ids), rules=info.context.links)
        return t.to_shared_evidence(shared)

    @strawberry.field(description="The accounts linked to account `id`, strongest first, each with the score "
                                  "and the evidence (docs/analysis.md); `window` (seconds) for address co-use.")
    async def links(self, info: ApiInfo, id: strawberry.ID, min_score: float | None = None,
                    window: int | None = None, limit: int = 100) -> t.LinkSet:
        found = await call(info, link_analysis.links, id, min_score=min_score, window_s=window, limit=limit,
                           rules=info.context.links)
        return t.to_link_set(found)

    @strawberry.field(description="What happened to an entity, in time order, a page at a time.")
    async def timeline(self, info: ApiInfo, id: strawberry.ID, first: int = 50,
                       after: str | None = None) -> t.TimelineConnection:
        return t.to_timeline(await call(info, link_analysis.timeline, id, first=first, after=after))

    @strawberry.field(description="One report and everything it names.")
    async def report(self, info: ApiInfo, key: str) -> t.ReportView:
        return t.to_report_view(await call(info, link_analysis.report, key))

    @strawberry.field(description="One case and its reports, a page at a time.")
    async def case(self, info: ApiInfo, key: str, first: int = 50, after: str | None = None) -> t.CaseView:
        return t.to_case_view(await call(info, link_analysis.case, key, first=first, after=after))


class GraceSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list[Any] = [*bounds(settings), ErrorCodes]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return GraceSchema(query=Query, extensions=extensions)


def schema_sdl() -> str:
    """The schema as SDL text, as `gracegraph schema export` writes it (bounds do not change it)."""
    return print_schema(GraceSchema(query=Query)) + "\n"

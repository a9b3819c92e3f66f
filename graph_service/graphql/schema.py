"""The Query root: each resolver converts its arguments, calls one query function, converts back.

Query functions are synchronous (the Neo4j driver is), so they run in a worker thread and the
event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import DisableIntrospection
from strawberry.printer import print_schema
from strawberry.scalars import JSON
from strawberry.types import ExecutionContext, Info

from graph_service.audit import AuditLog
from graph_service.federation import asking as federation_asking
from graph_service.graphql import community_types as ct
from graph_service.graphql import deconfliction_types as dt
from graph_service.graphql import federation_types as ft
from graph_service.graphql import types as t
from graph_service.graphql.access import act, ask, change
from graph_service.graphql.audit_trail import AuditTrail
from graph_service.graphql.bounds import bounds
from graph_service.graphql.context import ApiContext
from graph_service.graphql.errors import ErrorCodes, log_errors
from graph_service.graphql.resolution import ResolutionMutation, ResolutionQuery
from graph_service.settings import Settings
from queries import cases, charts, community_chart, deconfliction, link_analysis, prioritisation
from queries import communities as community_queries
from queries import trends as trend_analysis
from queries.bounds import check_kind
from queries.errors import BadInput, NotFound
from queries.prioritisation import Weights
from queries.results import parse_entity_id
from ui.exports import export_format
from ui.exports.service import export_chart

ApiInfo = Info[ApiContext, None]


@strawberry.type
class Query(ResolutionQuery):
    @strawberry.field(description="Entities whose key, name or label matches `text`, best first.")
    async def search(self, info: ApiInfo, text: str, kinds: list[str] | None = None,
                     limit: int = 20) -> list[t.SearchHit]:
        hits = await ask(info, link_analysis.search, text, kinds=kinds, limit=limit)
        return [t.to_search_hit(hit) for hit in hits]

    @strawberry.field(description="One entity, by `id` (Kind:key) or by `kind` and `key`; NOT_FOUND when absent.")
    async def entity(self, info: ApiInfo, id: strawberry.ID | None = None, kind: str | None = None,
                     key: str | None = None) -> t.Entity | None:
        if id is not None and kind is None and key is None:
            parse_entity_id(id)  # a malformed id is BAD_INPUT, and must not fail the batch it would join
            found = await info.context.entities.load(id)  # the loader prunes: hidden reads as absent
            if found is None:
                raise NotFound(f"no entity {id!r}")
            return t.to_entity(found)
        if id is None and kind is not None and key is not None:
            by_key = await ask(info, link_analysis.get_entity_by_key, kind, key)
            if by_key is None:  # hidden: word for word what queries.entities says of an absent one
                raise NotFound(f"no such entity: {check_kind(kind).value}:{key}")
            return t.to_entity(by_key)
        raise BadInput("give either id, or both kind and key")

    @strawberry.field(description="The entities within `depth` hops of `ids`, optionally only of `kinds` "
                                  "and seen between `since` and `until`; providers and supernodes are "
                                  "not expanded (listed in `skipped`) unless `includeSupernodes`.")
    async def neighbourhood(self, info: ApiInfo, ids: list[strawberry.ID], depth: int = 1,
                            kinds: list[str] | None = None, since: datetime | None = None,
                            until: datetime | None = None, limit: int = 500,
                            include_supernodes: bool = False) -> t.Subgraph:
        subgraph = await ask(info, link_analysis.neighbourhood, list(ids), seeds=ids, depth=depth, kinds=kinds,
                              since=since, until=until, limit=limit, include_supernodes=include_supernodes)
        return t.to_subgraph(subgraph)

    @strawberry.field(description="All shortest paths between two entities, up to `maxHops` long, not "
                                  "through providers or supernodes unless `includeSupernodes`.")
    async def paths(self, info: ApiInfo, source: Annotated[strawberry.ID, strawberry.argument(name="from")],
                    target: Annotated[strawberry.ID, strawberry.argument(name="to")], max_hops: int = 4,
                    kinds: list[str] | None = None, include_supernodes: bool = False) -> t.PathSet:
        return t.to_path_set(await ask(info, link_analysis.paths, source, target, seeds=[source, target],
                                       max_hops=max_hops, kinds=kinds,
                                       include_supernodes=include_supernodes))

    @strawberry.field(description="Identifiers (emails, phones, addresses, devices, files) that two or "
                                  "more of `ids` have in common, with the reports saying so, and the "
                                  "scored links between the accounts among them.")
    async def shared_identifiers(self, info: ApiInfo, ids: list[strawberry.ID]) -> t.SharedEvidence:
        shared = await ask(info, link_analysis.shared_identifiers, list(ids), seeds=ids, rules=info.context.links)
        return t.to_shared_evidence(shared)

    @strawberry.field(description="The accounts linked to account `id`, strongest first, each with the score "
                                  "and the evidence (docs/analysis.md); `window` (seconds) for address co-use.")
    async def links(self, info: ApiInfo, id: strawberry.ID, min_score: float | None = None,
                    window: int | None = None, limit: int = 100) -> t.LinkSet:
        found = await ask(info, link_analysis.links, id, seeds=[id], min_score=min_score, window_s=window, limit=limit,
                           rules=info.context.links)
        return t.to_link_set(found)

    @strawberry.field(description="What happened to an entity, in time order, a page at a time.")
    async def timeline(self, info: ApiInfo, id: strawberry.ID, first: int = 50,
                       after: str | None = None) -> t.TimelineConnection:
        return t.to_timeline(await ask(info, link_analysis.timeline, id, seeds=[id], first=first, after=after))

    @strawberry.field(description="One report and everything it names.")
    async def report(self, info: ApiInfo, key: str) -> t.ReportView:
        return t.to_report_view(await ask(info, link_analysis.report, key))

    @strawberry.field(description="One case and its reports, a page at a time.")
    async def case(self, info: ApiInfo, key: str, first: int = 50, after: str | None = None) -> t.CaseView:
        return t.to_case_view(await ask(info, link_analysis.case, key, first=first, after=after))

    @strawberry.field(description="Reports, files, accounts and the largest groups of linked accounts per "
                                  "period between `from` and `to` (default: every dated report).")
    async def trends(self, info: ApiInfo,
                     since: Annotated[datetime | None, strawberry.argument(name="from")] = None,
                     until: Annotated[datetime | None, strawberry.argument(name="to")] = None,
                     bucket: t.TrendBucket = t.TrendBucket.MONTH) -> t.Trends:
        grow = partial(trend_analysis.timed_links, rules=info.context.links)
        return t.to_trends(await ask(info, trend_analysis.trends, since, until, bucket.value, links=grow))

    @strawberry.field(description="Accounts or reports to look at first, best first, each score with its "
                                  "parts and their evidence (docs/analysis.md).")
    async def priorities(self, info: ApiInfo, scope: t.PriorityScope = t.PriorityScope.ACCOUNTS,
                         limit: int = 50) -> list[t.Priority]:
        found = await ask(info, prioritisation.priorities, scope.value, limit=limit,
                           weights=priority_weights(info.context.settings), rules=info.context.links)
        return [t.to_priority(p) for p in found]

    @strawberry.field(description="The communities of a run (default: the newest), largest first by `orderBy`.")
    async def communities(self, info: ApiInfo, run: str | None = None, min_size: int = 2, limit: int = 50,
                          order_by: ct.CommunityOrder = ct.CommunityOrder.SIZE) -> list[ct.Community]:
        found = await ask(info, community_queries.communities, run, min_size=min_size, limit=limit,
                           order_by=order_by.value)
        return [ct.to_community(c) for c in found]

    @strawberry.field(description="One community by id (`<run>:<number>`); NOT_FOUND when absent.")
    async def community(self, info: ApiInfo, id: strawberry.ID) -> ct.Community:
        return ct.to_community(await ask(info, community_queries.community_summary, id))

    @strawberry.field(description="For each account among `ids` that has one, its community in `run` "
                                  "(default: the newest run).")
    async def community_memberships(self, info: ApiInfo, ids: list[strawberry.ID],
                                    run: str | None = None) -> list[ct.CommunityMembership]:
        found = await ask(info, community_chart.community_memberships, list(ids), run)
        return [ct.CommunityMembership(entity=strawberry.ID(m.entity), community=strawberry.ID(m.community),
                                       number=m.number, size=m.size) for m in found]

    @strawberry.field(description="Stored community runs, newest first.")
    async def community_runs(self, info: ApiInfo) -> list[ct.CommunityRun]:
        return [ct.to_run(r) for r in await ask(info, community_queries.list_runs)]

    @strawberry.field(description="Which communities grew, shrank, merged, split, appeared or vanished "
                                  "between two runs (members matched by Jaccard index).")
    async def community_changes(self, info: ApiInfo, before: str, after: str,
                                threshold: float = 0.3) -> list[ct.CommunityChange]:
        changes = await ask(info, community_queries.compare_runs, before, after, threshold=threshold)
        return [ct.to_change(c) for c in changes]

    @strawberry.field(description="Which other cases contain these identifiers (or everything case `caseKey` "
                                  "names): directly, through a confirmed identity, or within `depth` (0-2) hops "
                                  "avoiding supernodes. Pointers only: case, agency, contact, how, first seen.")
    async def deconflict(self, info: ApiInfo, identifiers: list[dt.IdentifierInput] | None = None,
                         case_key: str | None = None, depth: int = 0,
                         via_identities: bool = True) -> list[dt.DeconflictionAnswer]:
        settings = info.context.settings
        request = info.context.request
        contacts = request.app.state.auth.contacts() if request is not None else {}
        items = [item.to_query() for item in identifiers] if identifiers is not None else None
        answers = await act(info, deconfliction.run, items, case_key, depth=depth, via_identities=via_identities,
                            window_s=settings.cousage_window_s, region=settings.default_region, contacts=contacts)
        return [dt.to_answer(a) for a in answers]

    @strawberry.field(description="Which of these identifiers (or of everything case `caseKey` names, or of the "
                                  "`entities` of a chart) other gracegraph instances hold too, through blinded "
                                  "matching: no identifier leaves this instance. `peers`: names from peers.yaml, "
                                  "or 'all'. Pointers only.")
    async def federated_deconflict(self, info: ApiInfo, identifiers: list[dt.IdentifierInput] | None = None,
                                   case_key: str | None = None, peers: list[str] | None = None,
                                   entities: list[strawberry.ID] | None = None) -> list[ft.FederatedHit]:
        settings = info.context.settings
        audit = info.context.audit or AuditLog(settings.audit_path)
        given = [ft.given(item) for item in identifiers] if identifiers is not None else None
        ids = [str(i) for i in entities] if entities is not None else None
        hits = await act(info, federation_asking.ask, settings, audit, given, case_key, peers or ["all"], ids)
        return [ft.to_hit(hit) for hit in hits]

    @strawberry.field(description="The peer instances this one can ask (peers.yaml), revoked ones marked; "
                                  "UNAVAILABLE when federation is not set up here.")
    async def federation_peers(self, info: ApiInfo) -> list[ft.FederationPeer]:
        found = await asyncio.to_thread(federation_asking.peer_list, info.context.settings)
        return [ft.to_peer(peer) for peer in found]

    # -- saved charts and their exports (issue 9) -------------------------------------------------

    @strawberry.field(description="One saved chart by id, `<case>/<name>@<version>` (no `@<version>`: the latest).")
    async def chart(self, info: ApiInfo, id: strawberry.ID) -> t.Chart:
        return t.to_chart(await ask(info, charts.get_chart, id))

    @strawberry.field(description="The latest version of every chart saved in a case, by name.")
    async def charts(self, info: ApiInfo, case: str) -> list[t.Chart]:
        return [t.to_chart(c) for c in await ask(info, charts.list_charts, case)]

    @strawberry.field(description="A saved chart as a file (html, png, svg, graphml, gexf, anx, ftm, pdf), its "
                                  "entities and links fetched afresh; written to the audit log under the caller's "
                                  "name and agency (`actor` and `agency` are ignored, kept for older clients).")
    async def export_chart(self, info: ApiInfo, chart_id: strawberry.ID, format: str, actor: str | None = None,
                           agency: str | None = None) -> t.ChartExport:
        request = info.context.request
        assert request is not None  # always set for HTTP requests, the only way in
        state = request.app.state
        caller = info.context.caller
        result = await change(info, export_chart, chart_id, format, audit=state.audit, actor=caller.user,
                              agency=caller.agency, options=state.render_options)
        return t.to_chart_export(result, export_format(format).binary)


@strawberry.type
class Mutation(ResolutionMutation):
    @strawberry.mutation(description="Find communities now (a new run, kept beside earlier ones); arguments "
                                     "left out take the GRACEGRAPH_COMMUNITY_* settings.")
    async def run_communities(self, info: ApiInfo, algorithm: str | None = None, quality: str | None = None,
                              resolution: float | None = None, seed: int | None = None,
                              engine: str | None = None, min_size: int | None = None,
                              projection: str | None = None) -> ct.CommunityRun:
        settings = info.context.settings
        options = community_queries.options_from(settings, algorithm, quality, resolution, seed, engine, min_size,
                                                 projection)
        graph = replace(info.context.graph, timeout_s=settings.community_timeout_s)
        return ct.to_run(await change(info, community_queries.run_communities, options, graph=graph))

    @strawberry.mutation(description="Delete a run with its communities and memberships; returns how many "
                                     "communities went. Nothing else is touched.")
    async def delete_community_run(self, info: ApiInfo, run: str) -> int:
        return await change(info, community_queries.delete_run, run)

    @strawberry.mutation(description="Save the viewer's chart as the next version of chart `name` of `case` "
                                     "(the case is made if new); earlier versions stay as they were.")
    async def save_chart(self, info: ApiInfo, case: str, name: str, state: JSON,
                         author: str | None = None) -> t.Chart:
        return t.to_chart(await change(info, charts.save_chart, case, name, state, author=author))


    @strawberry.mutation(description="Open a case owned by the caller's agency; `contact` is who other agencies "
                                     "should call (deconfliction names it). A key in use is BAD_INPUT.")
    async def create_case(self, info: ApiInfo, key: str, title: str | None = None,
                          contact: str | None = None) -> t.Entity:
        return t.to_entity(await act(info, cases.create_case, key, title, contact))

    @strawberry.mutation(description="File reports in a case of the caller's agency; returns how many are filed. "
                                     "A case or report the caller cannot see is NOT_FOUND.")
    async def assign_reports(self, info: ApiInfo, case: str, reports: list[str]) -> int:
        return await act(info, cases.assign_reports, case, list(reports))


def priority_weights(settings: Settings) -> Weights:
    """The weights this deployment chose (`GRACEGRAPH_PRIORITY_*`); an unknown part is BAD_INPUT."""
    return Weights.of(settings.priority_weights, settings.priority_recency_half_life_days)


class GraceSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


def build_schema(settings: Settings) -> strawberry.Schema:
    priority_weights(settings)  # checked before serving: a mistyped part must stop the service
    extensions: list[Any] = [*bounds(settings), AuditTrail, ErrorCodes]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return GraceSchema(query=Query, mutation=Mutation, extensions=extensions)


def schema_sdl() -> str:
    """The schema as SDL text, as `gracegraph schema export` writes it (bounds do not change it)."""
    return print_schema(GraceSchema(query=Query, mutation=Mutation)) + "\n"

"""POST /graphql (and GraphiQL on GET), as a FastAPI router over strawberry's."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from graph_service.graphql.context import ApiContext
from graph_service.graphql.errors import classified
from queries.context import GraphContext


async def context_for(request: Request) -> ApiContext:
    """A fresh context per request (its DataLoader cache must not outlive the request)."""
    graph: GraphContext = request.app.state.graph
    return ApiContext(graph, getattr(request.app.state, "settings", None))


class GraphRouter(GraphQLRouter[ApiContext, None]):
    def __init__(self, schema: BaseSchema, ide: Callable[[], Response] | None) -> None:
        # GET runs no queries (one way in: POST); GET with Accept: text/html gets GraphiQL.
        super().__init__(schema, graphql_ide="graphiql" if ide else None, allow_queries_via_get=False,
                         context_getter=context_for)
        self._ide = ide

    async def render_graphql_ide(self, request: Request) -> Response:  # type: ignore[override]
        assert self._ide is not None  # strawberry asks only when graphql_ide is set
        return self._ide()

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # The schema's ErrorCodes extension has classified these already; this catches the few
        # errors strawberry produces outside the extensions (an extension failing, say).
        if result.errors:
            result.errors = [classified(error) for error in result.errors]
        return await super().process_result(request, result)

"""POST /graphql (and GraphiQL on GET), as a FastAPI router over strawberry's, behind bearer tokens.

A POST without a valid token is answered 401 with a GraphQL error (code UNAUTHENTICATED) and runs
nothing; a token past its rate is answered 429 (RATE_LIMITED). GET only serves the GraphiQL page
(queries over GET are off), so it needs no token: the page asks for one in its headers pane.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from graph_service.auth import AuthStore, bearer
from graph_service.graphql.context import ApiContext
from graph_service.graphql.errors import classified
from graph_service.ratelimit import RateLimiter
from queries.context import GraphContext


class Refused(Exception):
    """Answered before GraphQL runs: the HTTP status, our code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    return JSONResponse({"data": None, "errors": [{"message": exc.message, "extensions": {"code": exc.code}}]},
                        status_code=exc.status, headers=headers)


async def context_for(request: Request) -> ApiContext:
    """A fresh context per request (its DataLoader cache must not outlive the request), with its caller."""
    state = request.app.state
    graph: GraphContext = state.graph
    principal = None
    if request.method != "GET":
        store: AuthStore = state.auth
        token = bearer(request.headers.get("authorization"))
        principal = store.authenticate(token) if token else None
        if principal is None:
            raise Refused(401, "UNAUTHENTICATED", "a valid bearer token is required (Authorization: Bearer <token>)")
        limiter: RateLimiter = state.rate_limiter
        if not limiter.allow(principal.token_id):
            raise Refused(429, "RATE_LIMITED", "too many requests with this token; slow down")
    return ApiContext(graph, getattr(state, "settings", None), principal=principal, audit=state.audit)


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

"""What a client learns when a question fails: our message and a code, never our internals.

Every error leaves with `extensions.code`:

- our own `QueryError`s keep their message and carry their code (BAD_INPUT, NOT_FOUND, TIMEOUT,
  UNAVAILABLE, FORBIDDEN: the caller's role may not ask this; UNAUTHENTICATED and RATE_LIMITED
  come from the router, before GraphQL runs);
- errors about the document itself (syntax, unknown fields, wrong argument types, the depth, alias
  and token bounds) are the client's to fix: BAD_INPUT, with graphql-core's message;
- anything else is a bug of ours: INTERNAL with a generic message and `extensions.requestId`; its
  traceback goes to the log under that request id, never into the response.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph_service.logging import request_id
from loaders.errors import Neo4jUnavailable
from queries.errors import QueryError

log = logging.getLogger("gracegraph.graphql")

INTERNAL_MESSAGE = "internal error: the server log has the details under this request's id"
CODES = frozenset({"BAD_INPUT", "NOT_FOUND", "TIMEOUT", "UNAVAILABLE", "INTERNAL", "FORBIDDEN", "UNAUTHENTICATED",
                   "RATE_LIMITED"})


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, QueryError):
        return original.code
    if isinstance(original, Neo4jUnavailable):
        return "UNAVAILABLE"
    given = (error.extensions or {}).get("code")
    if original is None and given in CODES:
        return str(given)  # set by our validation rules, or classified already
    if error.path is None and (original is None or isinstance(original, (GraphQLError, ValueError))):
        return "BAD_INPUT"  # raised before execution: parsing, validation, coercing variables
    return "INTERNAL"


def classified(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it (idempotent: a classified error comes back unchanged)."""
    code = error_code(error)
    if code != "INTERNAL":
        extensions: dict[str, Any] = {"code": code}
        message = error.message
    else:  # the request id lets whoever reads the log find the traceback
        extensions = {"code": code, "requestId": (error.extensions or {}).get("requestId", request_id.get())}
        message = INTERNAL_MESSAGE
    return GraphQLError(message, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, original_error=None, extensions=extensions)


def log_errors(errors: list[GraphQLError]) -> None:
    """Our bugs with their traceback; the client's mistakes and outages as one line each."""
    for error in errors:
        code = error_code(error)
        where = ".".join(str(p) for p in error.path) if error.path else None
        if code == "INTERNAL":
            log.error("graphql.internal_error", exc_info=error.original_error,
                      extra={"path": where, "error": error.message})
        else:
            log.info("graphql.error", extra={"code": code, "path": where, "error": error.message})


class ErrorCodes(SchemaExtension):
    """Rewrite every error of an operation into its client form (see the module docstring)."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [classified(error) for error in result.errors]

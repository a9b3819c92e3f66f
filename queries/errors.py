"""Errors a query can end in, each with the code the API hands to its client."""

from __future__ import annotations

from loaders.errors import GracegraphError


class QueryError(GracegraphError):
    code = "INTERNAL"


class BadInput(QueryError):
    """The question cannot be asked as put (depth 9, an unknown kind, a malformed id)."""

    code = "BAD_INPUT"


class NotFound(QueryError):
    code = "NOT_FOUND"


class QueryTimeout(QueryError):
    code = "TIMEOUT"


class Unavailable(QueryError):
    code = "UNAVAILABLE"

"""Every GraphQL operation, written to the audit log (graph_service/audit.py) as it finishes.

One entry per operation: the caller (user and agency from the token), the operation (its type and
name), the variables, the document itself (cut at `GRACEGRAPH_AUDIT_DOCUMENT_CHARS`: literal
arguments are in it) and the result counts (per root field: list lengths, and the lengths of the
lists inside an object such as a subgraph's nodes and edges). An operation that cannot be audited
returns no data: the client gets UNAVAILABLE instead of an answer nobody recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from graph_service.audit import AuditError
from graph_service.graphql.context import ApiContext

log = logging.getLogger("gracegraph.audit")


def result_counts(data: dict[str, Any] | None) -> dict[str, int]:
    """Sizes of what went back: `field` for a list, `field.part` for the lists of an object."""
    counts: dict[str, int] = {}
    for name, value in (data or {}).items():
        if isinstance(value, list):
            counts[name] = len(value)
            hits = [len(item["hits"]) for item in value
                    if isinstance(item, dict) and isinstance(item.get("hits"), list)]
            if hits:
                counts[f"{name}.hits"] = sum(hits)
        elif isinstance(value, dict):
            for part, inner in value.items():
                if isinstance(inner, list):
                    counts[f"{name}.{part}"] = len(inner)
                elif isinstance(inner, dict) and isinstance(inner.get("nodes"), list):
                    counts[f"{name}.{part}.nodes"] = len(inner["nodes"])
            counts.setdefault(name, 1)
        elif value is not None:
            counts[name] = 1
    return counts


class AuditTrail(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        ec = self.execution_context
        context = ec.context
        if not isinstance(context, ApiContext) or context.principal is None or context.audit is None:
            return  # nobody authenticated: the router refused before anything ran
        try:
            kind = ec.operation_type.value
        except RuntimeError:
            kind = "invalid"  # the document did not parse: audited all the same
        result = ec.result
        counts = result_counts(result.data if result is not None else None)
        counts["errors"] = len(result.errors or []) if result is not None else 0
        document = (ec.query or "")[:context.settings.audit_document_chars]
        variables = {"variables": ec.variables or {}, "document": document}
        try:
            context.audit.append(context.principal.user, context.principal.agency,
                                 f"graphql {kind} {ec.operation_name or '(anonymous)'}", variables, counts)
        except AuditError as exc:
            log.error("audit.unwritable", extra={"error": str(exc)})
            if result is not None:
                result.data = None
                result.errors = [GraphQLError("the audit log cannot be written; nothing was answered",
                                              extensions={"code": "UNAVAILABLE"})]

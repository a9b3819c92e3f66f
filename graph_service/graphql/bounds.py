"""How big one GraphQL request may be, checked before any Cypher runs.

Depth, aliases and tokens bound the document (strawberry's `QueryDepthLimiter`,
`MaxAliasesLimiter` and `MaxTokensLimiter`); `PageBounds` refuses page sizes and hop counts written
into the document that the query layer would refuse anyway, so that a request with one bad field
costs nothing. Values passed as variables are checked by the query layer itself (BadInput).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from graphql import ArgumentNode, FieldNode, GraphQLError, IntValueNode, ListValueNode, ValidationRule
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from graph_service.settings import Settings
from queries.bounds import DEPTH, FIRST, LIMIT, MAX_HOPS, MAX_IDS
from queries.deconfliction import DEPTH as DECONFLICT_DEPTH

#: Argument name → (least, most): the query layer's own bounds, checked earlier.
ARGUMENT_BOUNDS: dict[str, tuple[int, int]] = {"limit": LIMIT, "first": FIRST, "depth": DEPTH, "maxHops": MAX_HOPS}
#: (field, argument) → bounds, where one field's argument means something else (deconflict's depth 0..2).
FIELD_BOUNDS: dict[tuple[str, str], tuple[int, int]] = {("deconflict", "depth"): DECONFLICT_DEPTH}


class PageBounds(ValidationRule):
    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.fields: list[str] = []

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)

    def leave_field(self, *_: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        name, value = node.name.value, node.value
        field = self.fields[-1] if self.fields else ""
        bounds = FIELD_BOUNDS.get((field, name)) or ARGUMENT_BOUNDS.get(name)
        if isinstance(value, IntValueNode) and bounds is not None:
            least, most = bounds
            if not least <= int(value.value) <= most:
                self.refuse(node, f"{name} must be between {least} and {most}, not {value.value}")
        elif isinstance(value, ListValueNode) and name == "ids" and len(value.values) > MAX_IDS:
            self.refuse(node, f"at most {MAX_IDS} ids at once, not {len(value.values)}")

    def refuse(self, node: ArgumentNode, message: str) -> None:
        self.report_error(GraphQLError(message, node, extensions={"code": "BAD_INPUT"}))


def bounds(settings: Settings) -> list[Any]:
    """Extension factories (strawberry builds fresh ones for each request)."""
    return [
        partial(QueryDepthLimiter, max_depth=settings.max_query_depth),
        partial(MaxAliasesLimiter, max_alias_count=settings.max_aliases),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        partial(AddValidationRules, [PageBounds]),
    ]

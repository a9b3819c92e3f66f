"""How big one GraphQL request may be, checked before any Cypher runs.

Depth, aliases and tokens bound the document (strawberry's `QueryDepthLimiter`,
`MaxAliasesLimiter` and `MaxTokensLimiter`); `PageBounds` refuses page sizes and hop counts written
into the document that the query layer would refuse anyway, so that a request with one bad field
costs nothing. Values passed as variables are checked by the query layer itself (BadInput).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from graphql import ArgumentNode, GraphQLError, IntValueNode, ListValueNode, ValidationRule
from strawberry.extensions import AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from graph_service.settings import Settings
from queries.bounds import DEPTH, FIRST, LIMIT, MAX_HOPS, MAX_IDS

#: Argument name → (least, most): the query layer's own bounds, checked earlier.
ARGUMENT_BOUNDS: dict[str, tuple[int, int]] = {"limit": LIMIT, "first": FIRST, "depth": DEPTH, "maxHops": MAX_HOPS}


class PageBounds(ValidationRule):
    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        name, value = node.name.value, node.value
        if isinstance(value, IntValueNode) and name in ARGUMENT_BOUNDS:
            least, most = ARGUMENT_BOUNDS[name]
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

"""The one way a resolver asks the query layer: as the caller, with need-to-know applied.

Every resolver calls `ask` (or `change` for mutations that alter shared analysis state), so the
visibility rules of `queries/visibility.py` hold for every field without being repeated in any:
ids the question starts from are checked first (`seeds`: hidden reads as absent), and the answer
is pruned to what the caller's agency may see. Query functions are synchronous (the Neo4j driver
is), so they run in a worker thread and the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry.types import Info

from graph_service.graphql.context import ApiContext
from queries import visibility
from queries.context import GraphContext

R = TypeVar("R")
ApiInfo = Info[ApiContext, None]


async def ask(info: ApiInfo, query: Callable[..., R], *args: Any, seeds: Sequence[str] = (),
              graph: GraphContext | None = None, **kwargs: Any) -> R:
    """`query(graph, *args, **kwargs)` as the caller may see it."""
    scope = info.context.scope
    ctx = graph or info.context.graph

    def run() -> R:
        visibility.require(ctx, scope, [str(s) for s in seeds])
        return visibility.restrict(ctx, scope, query(ctx, *args, **kwargs))

    return await asyncio.to_thread(run)


async def change(info: ApiInfo, action: Callable[..., R], *args: Any, graph: GraphContext | None = None,
                 **kwargs: Any) -> R:
    """A mutation of shared analysis state (runs, judgements, charts): roles cleared for everything only."""
    if not info.context.scope.everything:
        raise visibility.Forbidden("this change is open to roles cleared for every case only")
    return await asyncio.to_thread(action, graph or info.context.graph, *args, **kwargs)


async def act(info: ApiInfo, action: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """`action(graph, scope, ...)`: for the few functions that weigh the caller themselves (cases)."""
    scope = info.context.scope
    return await asyncio.to_thread(action, info.context.graph, scope, *args, **kwargs)

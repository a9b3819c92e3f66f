"""Batched entity lookups: a page of 200 timeline events naming 200 entities costs one Cypher call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from strawberry.dataloader import DataLoader

from queries import link_analysis, visibility
from queries.bounds import LIMIT
from queries.context import GraphContext
from queries.results import Entity
from queries.visibility import Scope

#: `get_entities` takes as many ids as a page may hold.
MAX_BATCH = LIMIT[1]


def entity_loader(graph: GraphContext, scope: Callable[[], Scope]) -> DataLoader[str, Entity | None]:
    """One loader per request (its cache must not outlive the request): id → entity, or None when
    absent or hidden from the caller (`scope`, asked when a batch runs; queries/visibility.py)."""

    def visible(ids: list[str]) -> list[Entity]:
        return visibility.restrict(graph, scope(), link_analysis.get_entities(graph, ids))

    async def load(ids: list[str]) -> list[Entity | None]:
        found = await asyncio.to_thread(visible, ids)
        by_id = {entity.id: entity for entity in found}
        return [by_id.get(entity_id) for entity_id in ids]

    return DataLoader(load_fn=load, max_batch_size=MAX_BATCH)

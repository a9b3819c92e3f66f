"""Batched entity lookups: a page of 200 timeline events naming 200 entities costs one Cypher call."""

from __future__ import annotations

import asyncio

from strawberry.dataloader import DataLoader

from queries import link_analysis
from queries.bounds import LIMIT
from queries.context import GraphContext
from queries.results import Entity

#: `get_entities` takes as many ids as a page may hold.
MAX_BATCH = LIMIT[1]


def entity_loader(graph: GraphContext) -> DataLoader[str, Entity | None]:
    """One loader per request (its cache must not outlive the request): id → entity, or None."""

    async def load(ids: list[str]) -> list[Entity | None]:
        found = await asyncio.to_thread(link_analysis.get_entities, graph, ids)
        by_id = {entity.id: entity for entity in found}
        return [by_id.get(entity_id) for entity_id in ids]

    return DataLoader(load_fn=load, max_batch_size=MAX_BATCH)

"""What every resolver receives: the graph to ask, and the request's batching loaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from graph_service.graphql.dataloaders import entity_loader
from queries.context import GraphContext


class ApiContext(BaseContext):
    def __init__(self, graph: GraphContext) -> None:
        super().__init__()
        self.graph = graph
        self.entities = entity_loader(graph)

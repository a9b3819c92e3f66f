"""What every resolver receives: the graph to ask, and the request's batching loaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from graph_service.graphql.dataloaders import entity_loader
from queries.context import GraphContext
from queries.prioritisation import Weights


class ApiContext(BaseContext):
    def __init__(self, graph: GraphContext, priority_weights: Weights | None = None) -> None:
        super().__init__()
        self.graph = graph
        self.priority_weights = priority_weights or Weights()
        self.entities = entity_loader(graph)

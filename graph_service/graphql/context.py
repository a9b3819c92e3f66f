"""What every resolver receives: the graph to ask, and the request's batching loaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from graph_service.graphql.dataloaders import entity_loader
from queries.context import GraphContext
from queries.links import LinkRules


class ApiContext(BaseContext):
    def __init__(self, graph: GraphContext, links: LinkRules | None = None) -> None:
        super().__init__()
        self.graph = graph
        self.links = links or LinkRules()
        self.entities = entity_loader(graph)

"""What every resolver receives: the graph to ask, and the request's batching loaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from graph_service.analysis import link_rules
from graph_service.graphql.dataloaders import entity_loader
from graph_service.settings import Settings, get_settings
from queries.context import GraphContext


class ApiContext(BaseContext):
    def __init__(self, graph: GraphContext, settings: Settings | None = None) -> None:
        super().__init__()
        self.graph = graph
        self.settings = settings or get_settings()  # defaults of analyses run through the API
        self.links = link_rules(self.settings)
        self.entities = entity_loader(graph)

"""What every resolver receives: the graph to ask, who is asking, and the request's batching loaders."""

from __future__ import annotations

from strawberry.fastapi import BaseContext

from graph_service.analysis import link_rules
from graph_service.audit import AuditLog
from graph_service.auth import Principal
from graph_service.graphql.dataloaders import entity_loader
from graph_service.settings import Settings, get_settings
from queries.context import GraphContext
from queries.errors import QueryError
from queries.visibility import Scope


class Unauthenticated(QueryError):
    """No valid bearer token: no data, whatever was asked."""

    code = "UNAUTHENTICATED"


class ApiContext(BaseContext):
    def __init__(self, graph: GraphContext, settings: Settings | None = None, principal: Principal | None = None,
                 audit: AuditLog | None = None) -> None:
        super().__init__()
        self.graph = graph
        self.settings = settings or get_settings()  # defaults of analyses run through the API
        self.links = link_rules(self.settings)
        self.principal = principal
        self.entities = entity_loader(graph, lambda: self.scope)
        self.audit = audit

    @property
    def caller(self) -> Principal:
        """The authenticated caller; Unauthenticated when there is none (the router lets only GET through)."""
        if self.principal is None:
            raise Unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
        return self.principal

    @property
    def scope(self) -> Scope:
        caller = self.caller
        return Scope(caller.agency, caller.role.clearance)

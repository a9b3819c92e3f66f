"""The GraphQL API: strawberry types mirroring the query results, thin resolvers, bounds, error codes.

It converts and calls; the answers are computed in `queries/`, which knows nothing of GraphQL.
"""

from graph_service.graphql.schema import build_schema, schema_sdl

__all__ = ["build_schema", "schema_sdl"]

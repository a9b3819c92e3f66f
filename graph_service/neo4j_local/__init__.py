"""A local Neo4j Community server built from Maven Central jars (see server.py)."""

from graph_service.neo4j_local.server import LocalNeo4j, ServerStatus

__all__ = ["LocalNeo4j", "ServerStatus"]

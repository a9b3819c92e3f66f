"""`gracegraph serve`: the API, GraphiQL and the viewer over HTTP."""

from __future__ import annotations

import typer
from rich.console import Console

from graph_service.cli.errors import reported

out = Console(highlight=False, soft_wrap=True)


@reported
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve GraphQL (POST /graphql, GraphiQL on GET), the viewer (/) and /healthz."""
    import uvicorn

    from graph_service.app import create_app
    from graph_service.database import open_driver
    from graph_service.logging import configure_logging
    from graph_service.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)
    # Reach (or start) Neo4j before serving, so that a database we cannot reach is one line of
    # error and exit code 1 here, not a traceback from inside the server's startup.
    with out.status("starting Neo4j…" if settings.uses_local_neo4j else f"reaching {settings.bolt_uri}…"):
        open_driver(settings).close()
    out.print(f"gracegraph on http://{host}:{port}/  (GraphiQL: /graphql; stop with Ctrl-C)")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False,
                log_level=settings.log_level.lower())

"""`gracegraph db start|stop|status`: the local Neo4j server."""

from __future__ import annotations

import typer
from rich.console import Console

from graph_service.cli.errors import reported
from graph_service.database import local_server
from graph_service.settings import get_settings

app = typer.Typer(help="Run the local Neo4j server (unless NEO4J_URI names another).",
                  no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


def _external() -> bool:
    settings = get_settings()
    if settings.uses_local_neo4j:
        return False
    out.print(f"NEO4J_URI is set: using {settings.neo4j_uri}; no local server is managed.")
    return True


@app.command()
@reported
def start(with_gds: bool = typer.Option(
        False, "--with-gds", help="Add Neo4j's Graph Data Science (OpenGDS, ~32 MB more from Maven Central "
                                  "on first use); the same as GRACEGRAPH_NEO4J_GDS=true.")) -> None:
    """Start the local server (fetching its jars with Maven on first use) and wait for Bolt."""
    if _external():
        return
    settings = get_settings()
    server = local_server(settings, gds=with_gds)
    was = server.status()
    with out.status("starting Neo4j (the first start fetches ~130 MB of jars with Maven)…"):
        status = server.start(timeout=settings.neo4j_start_timeout_s)
    out.print(("already " if was.running else "") + status.describe())
    if was.running and server.gds:
        out.print("Graph Data Science is added when the server starts: if it lacks it, "
                  "`gracegraph db stop` first.")


@app.command()
@reported
def install(with_gds: bool = typer.Option(
        False, "--with-gds", help="Fetch Graph Data Science's jars too.")) -> None:
    """Fetch Neo4j's jars with Maven (the one step that needs a network) and compile the launcher."""
    if _external():
        return
    server = local_server(get_settings(), gds=with_gds)
    with out.status("fetching Neo4j's jars with Maven (first time ~130 MB)…"):
        server.ensure_jars()
        server.compile()
        if server.gds:
            server.ensure_gds()
    out.print(f"Neo4j jars ready in {server.lib_dir}"
              + (f"; Graph Data Science in {server.plugins_dir}" if server.gds else ""))


@app.command()
@reported
def stop() -> None:
    """Stop the local server cleanly and wait until its process has ended."""
    if _external():
        return
    server = local_server(get_settings())
    with out.status("stopping Neo4j…"):
        stopped = server.stop()
    out.print("stopped" if stopped else "was not running")


@app.command()
@reported
def status() -> None:
    """Say whether the local server runs, where, and where its data and log are."""
    if _external():
        return
    status = local_server(get_settings()).status()
    out.print(status.describe())
    if not status.running:
        raise typer.Exit(3)

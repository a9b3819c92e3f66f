"""`gracegraph schema export`: the GraphQL schema as SDL, for client authors and for review."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from graph_service.cli.errors import reported

out = Console(highlight=False, soft_wrap=True)
app = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)


@app.command("export")
@reported
def export(
    to: Path = typer.Option(Path("docs/schema.graphql"), "--out",
                            help="File to write the SDL to ('-': standard output)."),
) -> None:
    """Write the schema the API serves as SDL (tests fail when docs/schema.graphql drifts from it)."""
    from graph_service.graphql import schema_sdl

    text = schema_sdl()
    if str(to) == "-":
        sys.stdout.write(text)
        return
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text(text, encoding="utf-8")
    out.print(f"wrote the GraphQL schema to {to}")

"""The `gracegraph` command: each group lives in its own module and is assembled here."""

from __future__ import annotations

import typer

from graph_service.cli import db, demo, load, schema, serve, supernodes, synth

app = typer.Typer(help="gracegraph: investigate offender networks from referral metadata.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(db.app, name="db")
app.add_typer(load.app, name="load")
app.command("synth")(synth.synth)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("supernodes")(supernodes.supernodes)
app.add_typer(schema.app, name="schema")

__all__ = ["app"]

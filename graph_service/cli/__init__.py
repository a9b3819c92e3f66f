"""The `gracegraph` command: each group lives in its own module and is assembled here."""

from __future__ import annotations

import typer

from graph_service.cli import (
    audit,
    cases,
    communities,
    db,
    demo,
    export,
    federation,
    load,
    resolve,
    schema,
    serve,
    supernodes,
    synth,
    users,
)

app = typer.Typer(help="gracegraph: investigate offender networks from referral metadata.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(db.app, name="db")
app.add_typer(load.app, name="load")
app.command("synth")(synth.synth)
app.command("resolve")(resolve.resolve)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("supernodes")(supernodes.supernodes)
app.add_typer(schema.app, name="schema")
app.add_typer(communities.app, name="communities")
app.add_typer(audit.app, name="audit")
app.add_typer(export.app, name="export")
app.add_typer(users.app, name="user")
app.add_typer(users.agencies, name="agency")
app.add_typer(cases.app, name="case")
app.command("deconflict")(cases.deconflict)
app.add_typer(federation.app, name="federation")

__all__ = ["app"]

"""`gracegraph resolve`: entity resolution over the graph, a run at a time (or undo one)."""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.table import Table

from graph_service.cli.errors import reported
from graph_service.database import open_driver
from graph_service.settings import get_settings
from loaders.schema import ensure_schema
from queries.context import GraphContext
from queries.resolution import ResolutionParams

out = Console(highlight=False, soft_wrap=True)
SHOWN = ("records", "comparisons", "comparison_share", "proposals", "new", "rescored", "withdrawn",
         "kept_judged", "auto_accepted", "identities", "seconds")


@reported
def resolve(
    threshold: float | None = typer.Option(None, "--threshold", help="Match probability to propose a pair "
                                                                     "(default: GRACEGRAPH_RESOLUTION_THRESHOLD)."),
    auto_accept: float | None = typer.Option(None, "--auto-accept", help="Match probability to accept a pair "
                                                                         "without review, if allowed."),
    allow_auto_accept: bool | None = typer.Option(None, "--allow-auto-accept/--no-auto-accept",
                                                  help="Accept pairs over --auto-accept without review."),
    rollback: str | None = typer.Option(None, "--rollback", metavar="RUN", help="Undo this run instead."),
    runs: bool = typer.Option(False, "--runs", help="List the latest runs instead."),
    by: str | None = typer.Option(None, "--by", help="Who runs it (default: the login name)."),
) -> None:
    """Propose which accounts and persons are one human (people decide: see the review page)."""
    from queries.resolution_runs import check_params, list_runs, rollback_run, run_resolution

    settings = get_settings()
    driver = open_driver(settings)
    try:
        ensure_schema(driver, settings.neo4j_database)
        ctx = GraphContext(driver, settings.neo4j_database, max(settings.query_timeout_s, 300.0))
        if runs:
            table = Table("run", "status", "started", "by", "proposals", "identities")
            for run in list_runs(ctx):
                table.add_row(run.run, run.status, run.started_at, run.by or "",
                              str(run.counts.get("proposals", "")), str(run.counts.get("identities", "")))
            out.print(table)
            return
        if rollback is not None:
            summary = rollback_run(ctx, rollback)
            out.print(f"rolled back {summary.run}")
            return
        params = check_params(ResolutionParams.from_settings(settings, threshold=threshold, auto_accept=auto_accept,
                                                             allow_auto_accept=allow_auto_accept))
        with out.status("resolving…"):
            summary = run_resolution(ctx, params, by=by or getpass.getuser())
    finally:
        driver.close()
    table = Table("", "")
    for name in SHOWN:
        table.add_row(name, str(summary.counts.get(name, "")))
    out.print(table)
    out.print(f"run {summary.run}: review the proposals at /review (gracegraph serve); "
              f"undo with gracegraph resolve --rollback {summary.run}")

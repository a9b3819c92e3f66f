"""`gracegraph export chart`: a saved chart as a file in one of seven formats, audited."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from graph_service.audit import AuditLog
from graph_service.cli.errors import reported
from graph_service.database import open_driver
from graph_service.settings import get_settings
from queries.context import GraphContext
from ui.exports import FORMATS, RenderOptions
from ui.exports.service import export_chart

app = typer.Typer(help="Export saved link charts for case files and other tools.", no_args_is_help=True)
out = Console(stderr=True, highlight=False, soft_wrap=True)


@app.command("chart")
@reported
def chart(
    chart_id: str = typer.Option(..., "--chart", help="Chart id, <case>/<name>@<version> (no @version: the latest)."),
    format: str = typer.Option(..., "--format", "-f", help=f"One of: {', '.join(FORMATS)}."),
    to: Path = typer.Option(..., "--out", "-o", help="File to write ('-': standard output)."),
    actor: str | None = typer.Option(None, "--actor", help="Who exports, for the audit log (default: local)."),
    agency: str | None = typer.Option(None, "--agency", help="Their agency, for the audit log."),
) -> None:
    """Fetch the chart's entities and links afresh, write them in FORMAT, and audit the export."""
    settings = get_settings()
    driver = open_driver(settings)
    try:
        ctx = GraphContext(driver, settings.neo4j_database, settings.query_timeout_s)
        result = export_chart(ctx, chart_id, format, audit=AuditLog(settings.audit_path), actor=actor,
                              agency=agency, options=RenderOptions(chromium=settings.chromium))
    finally:
        driver.close()
    if str(to) == "-":
        sys.stdout.buffer.write(result.content)
    else:
        to.parent.mkdir(parents=True, exist_ok=True)
        to.write_bytes(result.content)
    counts = result.counts
    out.print(f"wrote {result.chart_id} as {result.format} to {to}: {counts['nodes']} entities, "
              f"{counts['edges']} links, {counts['reports']} source reports"
              + (f", {counts['missing']} no longer in the graph" if counts["missing"] else "")
              + f" (sha256 {result.sha256[:16]}…, audited)")

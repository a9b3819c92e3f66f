"""`gracegraph audit verify|export`: check the hash chain, and hand a period of it to an oversight body."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from graph_service.audit import AuditLog
from graph_service.cli.errors import err, reported
from graph_service.settings import get_settings
from loaders.errors import GracegraphError

app = typer.Typer(help="The audit log of exports and queries.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)

LOG = typer.Option(None, "--log", help="The audit log (default: the GRACEGRAPH_AUDIT_LOG setting).")


def _log(path: Path | None) -> AuditLog:
    return AuditLog(path or get_settings().audit_path)


def _moment(text: str | None, name: str) -> datetime | None:
    """An ISO date or date-time; a bare date is midnight UTC, a time without offset is UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise GracegraphError(f"{name} must be an ISO date or date-time, not {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@app.command("verify")
@reported
def verify(log: Path | None = LOG) -> None:
    """Check every entry's hash and the chain; name the first entry edited, removed or reordered."""
    audit = _log(log)
    finding = audit.verify()
    if finding is not None:
        err.print(f"[red]audit log {audit.path} does not hold:[/red] {finding}")
        raise typer.Exit(1)
    count = sum(1 for _ in audit.entries())
    out.print(f"audit log {audit.path}: {count} entries, chain intact")


@app.command("export")
@reported
def export(
    since: str | None = typer.Option(None, "--from", help="First moment to include (ISO date or date-time, UTC)."),
    until: str | None = typer.Option(None, "--to", help="Last moment to include (ISO date or date-time, UTC)."),
    to: Path = typer.Option(Path("-"), "--out", help="File to write the entries to as JSON lines ('-': stdout)."),
    log: Path | None = LOG,
) -> None:
    """Write the entries of a period, as they are in the log (hashes included, so they can be checked)."""
    audit = _log(log)
    finding = audit.verify()
    if finding is not None:  # hand over nothing that cannot be trusted without saying so
        raise GracegraphError(f"audit log {audit.path} does not hold: {finding}")
    start, end = _moment(since, "--from"), _moment(until, "--to")
    if end is not None and until is not None and "T" not in until:
        end = end.replace(hour=23, minute=59, second=59, microsecond=999999)  # a whole last day
    lines = [json.dumps(entry.as_dict(), sort_keys=True, ensure_ascii=False) + "\n"
             for entry in audit.export(start, end)]
    if str(to) == "-":
        sys.stdout.writelines(lines)
    else:
        to.parent.mkdir(parents=True, exist_ok=True)
        to.write_text("".join(lines), encoding="utf-8")
        out.print(f"wrote {len(lines)} audit entries to {to}")

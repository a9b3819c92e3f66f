"""`gracegraph case close|purge KEY` and `gracegraph deconflict FILE`: retention and deconfliction
from the command line, each written to the audit log like the API's operations."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from graph_service.audit import AuditLog
from graph_service.auth import AuthStore
from graph_service.cli.errors import reported
from graph_service.database import open_driver
from graph_service.settings import get_settings
from loaders.errors import GracegraphError
from queries import deconfliction, purge
from queries.context import GraphContext
from queries.visibility import Clearance, Scope

app = typer.Typer(help="Case retention: close a case, then purge it.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


@contextmanager
def _graph(timeout_s: float = 3600.0) -> Iterator[GraphContext]:
    settings = get_settings()
    driver = open_driver(settings)
    try:
        yield GraphContext(driver, settings.neo4j_database, timeout_s)
    finally:
        driver.close()


def _audit() -> AuditLog:
    return AuditLog(get_settings().audit_path)


@app.command("close")
@reported
def close(key: str = typer.Argument(..., help="The case to close.")) -> None:
    """Mark a case closed: nothing is removed; `purge` may then remove it."""
    with _graph() as ctx:
        purge.close_case(ctx, key)
    _audit().append(None, None, "case close", {"case": key})
    out.print(f"case {key} closed")


@app.command("purge")
@reported
def purge_command(key: str = typer.Argument(..., help="The closed case to purge."),
                  yes: bool = typer.Option(False, "--yes", help="Do it (without: say what would go and stop).")
                  ) -> None:
    """Remove a closed case's reports and every node and relationship only they support; shared ones
    stay, with the purged report keys stripped from their sources. Written to the audit log."""
    if not yes:
        raise GracegraphError(f"purging case {key} cannot be undone: add --yes")
    with _graph() as ctx:
        summary = purge.purge_case(ctx, key)
    _audit().append(None, None, "case purge", {"case": key}, summary.counts())
    out.print(f"case {key} purged: {summary.reports} reports, {summary.nodes} nodes and "
              f"{summary.relationships} relationships removed")


def read_identifiers(path: Path) -> list[deconfliction.Identifier]:
    """CSV with a header (kind, value, and optionally type, at, birth_date) or JSON lines of the same."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".jsonl", ".json"):
        rows: list[dict[str, Any]] = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        rows = list(csv.DictReader(text.splitlines()))
    items = []
    for number, row in enumerate(rows, start=1):
        if not row.get("kind") or row.get("value") is None:
            raise GracegraphError(f"{path}: row {number} needs kind and value")
        at = row.get("at") or None
        try:
            moment = datetime.fromisoformat(at) if at else None
        except ValueError:
            raise GracegraphError(f"{path}: row {number}: at must be an ISO date-time, not {at!r}") from None
        items.append(deconfliction.Identifier(row["kind"], str(row["value"]), type=row.get("type") or None,
                                              at=moment, birth_date=row.get("birth_date") or None))
    return items


@reported
def deconflict(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or JSON lines of identifiers."),
               agency: str | None = typer.Option(None, "--agency", help="Ask as this agency (report keys of its own "
                                                 "cases only); default: as the local operator, who reads all."),
               depth: int = typer.Option(0, "--depth", min=0, max=2, help="Also cases within this many hops."),
               identities: bool = typer.Option(True, "--identities/--no-identities",
                                               help="Also cases of confirmed identities' other records."),
               as_json: bool = typer.Option(False, "--json", help="One JSON answer per line instead of a table.")
               ) -> None:
    """Which other cases hold these identifiers, and whom to call (written to the audit log)."""
    settings = get_settings()
    items = read_identifiers(file)
    scope = Scope(agency, Clearance.OWN_CASES) if agency else Scope("", Clearance.EVERYTHING)
    with _graph(settings.query_timeout_s * 10) as ctx:
        answers = deconfliction.deconflict(ctx, scope, items, depth=depth, via_identities=identities,
                                           window_s=settings.cousage_window_s, region=settings.default_region,
                                           contacts=AuthStore.of(settings).contacts())
    _audit().append(None, agency, "deconflict", {"file": str(file), "depth": depth, "identities": identities,
                                                 "identifiers": len(items)},
                    {"identifiers": len(answers), "hits": sum(len(a.hits) for a in answers),
                     "refused": sum(1 for a in answers if a.error)})
    if as_json:
        for a in answers:
            out.print(json.dumps({"kind": a.kind, "value": a.value, "key": a.key, "error": a.error,
                                  "hits": [_hit(h) for h in a.hits]},
                                 default=str), markup=False)
        return
    table = Table("identifier", "case", "agency", "contact", "how", "first seen")
    for a in answers:
        if a.error:
            table.add_row(f"{a.kind} {a.value}", "[red]refused[/red]", a.error, "", "", "")
        for h in a.hits:
            how = h.how if h.how != "hops" else f"{h.hops} hops"
            table.add_row(f"{a.kind} {a.value}", h.case, h.agency or "", h.contact or "", how,
                          h.first_seen.isoformat() if h.first_seen else "")
    out.print(table)
    out.print(f"{len(answers)} identifiers, {sum(1 for a in answers if a.hits)} with hits in other cases")


def _hit(hit: deconfliction.Hit) -> dict[str, Any]:
    return {name: getattr(hit, name) for name in hit.__slots__}  # type: ignore[attr-defined]

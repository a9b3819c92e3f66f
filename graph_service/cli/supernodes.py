"""`gracegraph supernodes`: mark the addresses, devices, files and providers that are not evidence.

Every `gracegraph load` runs the same marking at its end (degrees change with every load, and a
stale mark would let a new CGNAT address link strangers); this command is for re-marking after
changing the thresholds (`GRACEGRAPH_SUPERNODE_*`) and for listing what is marked.
"""

from __future__ import annotations

import typer
from neo4j import Driver
from rich.console import Console
from rich.table import Table

from graph_service.analysis import supernode_rules
from graph_service.cli.errors import reported
from graph_service.database import open_driver
from graph_service.settings import Settings, get_settings
from queries.context import GraphContext
from queries.supernodes import SupernodeSummary, list_supernodes, mark_supernodes

out = Console(highlight=False, soft_wrap=True)


def mark(driver: Driver, settings: Settings) -> SupernodeSummary:
    """One idempotent marking run with the settings' thresholds, and its one-line summary."""
    ctx = GraphContext(driver, settings.neo4j_database, timeout_s=max(settings.query_timeout_s, 600.0))
    summary = mark_supernodes(ctx, supernode_rules(settings))
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.by_reason.items())) or "none"
    out.print(f"supernodes: {sum(summary.by_reason.values())} ({reasons}); "
              f"{summary.marked} newly marked or changed, {summary.unmarked} unmarked")
    return summary


@reported
def supernodes(show: int = typer.Option(20, "--show", min=0, help="List this many of the widest.")) -> None:
    """Mark supernodes (CGNAT, loaded VPN/Tor exits, wide degree or spread, providers); idempotent."""
    settings = get_settings()
    driver = open_driver(settings)
    try:
        mark(driver, settings)
        if show:
            table = Table("id", "reason", "degree")
            ctx = GraphContext(driver, settings.neo4j_database, settings.query_timeout_s)
            for hub in list_supernodes(ctx, limit=show):
                table.add_row(hub.id, hub.reason, str(hub.degree))
            out.print(table)
    finally:
        driver.close()

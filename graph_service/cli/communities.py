"""`gracegraph communities`: find communities (a new run), list runs, show one, compare two, delete."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.table import Table

from graph_service.cli.errors import reported
from graph_service.database import open_driver
from graph_service.settings import get_settings
from loaders.schema import ensure_schema
from queries import communities as q
from queries.community_results import CommunitySummary
from queries.context import GraphContext

out = Console(highlight=False, soft_wrap=True)
app = typer.Typer(help="Find communities (offender networks) and compare runs.", invoke_without_command=True)


@contextmanager
def graph(timeout_s: float | None = None) -> Iterator[GraphContext]:
    settings = get_settings()
    driver = open_driver(settings)
    try:
        ensure_schema(driver, settings.neo4j_database)
        yield GraphContext(driver, settings.neo4j_database, timeout_s or settings.query_timeout_s)
    finally:
        driver.close()


@app.callback()
@reported
def communities(
    ctx: typer.Context,
    algorithm: str | None = typer.Option(None, "--algorithm", help="leiden (default), louvain or components."),
    quality: str | None = typer.Option(None, "--quality", help="Leiden's quality: cpm (default) or modularity."),
    resolution: float | None = typer.Option(None, "--resolution", help="CPM density, or modularity's gamma."),
    seed: int | None = typer.Option(None, "--seed", help="Same seed, same graph: same communities."),
    engine: str | None = typer.Option(None, "--engine", help="auto (GDS when the server has it), local or gds."),
    min_size: int | None = typer.Option(None, "--min-size", help="Smallest community written."),
    projection: str | None = typer.Option(None, "--projection",
                                          help="How accounts are tied: shared-identifiers (default) or links."),
) -> None:
    """Without a sub-command: a new run on the whole graph, stored beside earlier runs."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    options = q.options_from(settings, algorithm, quality, resolution, seed, engine, min_size, projection)
    with graph(settings.community_timeout_s) as g:
        with out.status("finding communities…"):
            record = q.run_communities(g, options)
        seconds = ", ".join(f"{k} {v:.1f}s" for k, v in record.seconds.items())
        out.print(f"run {record.run}: {record.algorithm} ({record.engine}) on {record.accounts} accounts, "
                  f"{record.edges} ties: {record.communities} communities of at least {record.min_size} "
                  f"({record.placed} accounts); {seconds}")
        _table(q.communities(g, record.run, limit=10))


def _table(rows: list[CommunitySummary]) -> None:
    """Communities as rows, numbered: a community's id is `<run>:<number>`."""
    if not rows:
        out.print("no communities")
        return
    out.print(f"communities of run {rows[0].run} (id: {rows[0].run}:<number>)")
    table = Table("number", "size", "ties", "density", "reports", "providers", "known files")
    for c in rows:
        table.add_row(str(c.number), str(c.size), str(c.edges), f"{c.density:.2f}", str(c.reports),
                      str(c.providers), str(c.known_files))
    out.print(table)


@app.command("list")
@reported
def list_(run: str | None = typer.Argument(None, help="Run id (default: the newest)."),
          limit: int = typer.Option(20, "--limit"), min_size: int = typer.Option(2, "--min-size"),
          order_by: str = typer.Option("SIZE", "--order-by", help=", ".join(q.ORDERS))) -> None:
    """A run's communities, largest first."""
    with graph() as g:
        _table(q.communities(g, run, min_size=min_size, limit=limit, order_by=order_by.upper()))


@app.command("runs")
@reported
def runs() -> None:
    """Stored runs, newest first."""
    with graph() as g:
        found = q.list_runs(g)
    table = Table("run", "algorithm", "engine", "parameters", "accounts", "communities", "status")
    for r in found:
        params = ", ".join(f"{k}={v}" for k, v in r.parameters.items() if k != "algorithm")
        table.add_row(r.run, r.algorithm, r.engine, params, str(r.accounts), str(r.communities), r.status)
    out.print(table)


@app.command("show")
@reported
def show(id: str = typer.Argument(..., help="Community id, <run>:<number>.")) -> None:
    """One community: members by centrality, providers, cases, and the identifiers that bind it."""
    with graph() as g:
        c = q.community(g, id, members=20, reports=10, binding=10)
    s = c.summary
    out.print(f"{s.id}: {s.size} accounts, {s.edges} ties (density {s.density:.2f}), {s.reports} reports "
              f"from {s.providers} providers, {s.known_files} known files")
    out.print("most central: " + ", ".join(f"{m.entity.key} ({m.rank:.2f})" for m in c.central))
    out.print("providers: " + ", ".join(f"{p.name} ({p.count})" for p in c.providers))
    if c.cases:
        out.print("cases: " + ", ".join(f"{k.case.key} ({k.agency or '?'})" for k in c.cases))
    for b in c.binding:
        why = f"left out: {b.excluded}" if b.excluded else f"weight {b.weight:.3g}"
        out.print(f"  {b.entity.kind} {b.entity.key}: {b.holders} members of {b.degree} holders; {why}; "
                  f"reports {', '.join(b.sources[:5])}{' …' if len(b.sources) > 5 else ''}")


@app.command("compare")
@reported
def compare(before: str = typer.Argument(..., help="The earlier run."),
            after: str = typer.Argument(..., help="The later run."),
            threshold: float = typer.Option(0.3, "--threshold", help="Least Jaccard index for a match.")) -> None:
    """Which communities grew, shrank, merged, split, appeared or vanished between two runs."""
    with graph() as g:
        changes = q.compare_runs(g, before, after, threshold=threshold)
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.kind] = counts.get(change.kind, 0) + 1
    out.print(", ".join(f"{kind.lower()} {n}" for kind, n in counts.items()) or "no communities in either run")
    for change in changes[:50]:
        if change.kind != "STABLE":
            out.print(f"  {change.kind}: {' + '.join(change.before) or '-'} -> {' + '.join(change.after) or '-'} "
                      f"({change.size_before} -> {change.size_after}, jaccard {change.jaccard:.2f})")


@app.command("delete")
@reported
def delete(run: str = typer.Argument(..., help="The run to remove with its communities.")) -> None:
    """Remove a run (its Community nodes and MEMBER_OF ties; nothing else)."""
    with graph() as g:
        removed = q.delete_run(g, run)
    out.print(f"deleted run {run} ({removed} communities)")

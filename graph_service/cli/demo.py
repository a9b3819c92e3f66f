"""`gracegraph demo`: a local Neo4j, synthetic referrals loaded once, then the viewer."""

from __future__ import annotations

import json

import typer
from neo4j import RoutingControl
from rich.console import Console

from graph_service.auth import AuthStore, Role
from graph_service.cli.errors import reported
from graph_service.cli.load import run_load
from graph_service.database import open_driver
from graph_service.settings import Settings, get_settings

out = Console(highlight=False, soft_wrap=True)


def _already_loaded(truth: dict) -> bool:
    """The demo's data is in the graph when its last report is (loads go in file order)."""
    settings = get_settings()
    driver = open_driver(settings)
    try:
        last = truth["networks"][0]["accounts"][-1]
        records, _, _ = driver.execute_query("MATCH (a:Account {key: $key}) RETURN count(a) AS n",
                                             key=last, database_=settings.neo4j_database,
                                             routing_=RoutingControl.READ)
        return bool(records[0]["n"])
    finally:
        driver.close()


def first_search(truth: dict) -> str:
    """A planted network member's handle: a good first thing to type into the viewer."""
    for person in truth.get("persons", []):
        if person.get("kind") == "network" and person.get("screen_names"):
            return str(person["screen_names"][0])
    return str(truth["networks"][0]["accounts"][0])


DEMO_USER = "demo-admin"
DEMO_AGENCY = "DEMO"


def demo_token(settings: Settings) -> str:
    """Local development: one admin user, and a fresh token for it on every run (older ones stay valid)."""
    store = AuthStore.of(settings)
    store.ensure_user(DEMO_USER, DEMO_AGENCY, Role.ADMIN)
    return store.issue_token(DEMO_USER)


@reported
def demo(
    reports: int = typer.Option(3000, "--reports", min=100, help="Synthetic reports to generate."),
    seed: int = typer.Option(7, "--seed", help="Seed of the synthetic data."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the viewer after loading."),
) -> None:
    """Start Neo4j, generate and load synthetic referrals (once), then serve the viewer."""
    from loaders.cybertip import parse_cybertip
    from loaders.synthetic import generate

    settings = get_settings()
    folder = settings.home / "demo" / f"reports-{reports}-seed-{seed}"
    truth_file = folder / "truth.json"
    if not truth_file.exists():
        with out.status(f"generating {reports} synthetic reports…"):
            generate(folder, reports=reports, seed=seed)
    truth = json.loads(truth_file.read_text())
    if _already_loaded(truth):
        out.print(f"demo data already loaded ({reports} reports, seed {seed})")
    else:
        from loaders.exits import parse_exits
        from loaders.hashsets import parse_hashset

        run_load([folder / name for name in truth["files"]], parse_cybertip, strict=False, supernodes=False)
        run_load([folder / truth["hashset"]], lambda p: parse_hashset(p, name="synthetic-known"), strict=False,
                 kind="hashset", supernodes=False)
        run_load([folder / truth["vpn_exits"]], lambda p: parse_exits(p, name="synthetic-vpn"), strict=False,
                 kind="exits")
    out.print(f"try a first search: [bold]{first_search(truth)}[/bold]  (a planted network member)")
    token = demo_token(settings)
    out.print(f"admin token (shown once): [bold]{token}[/bold]")
    out.print(f"open the viewer signed in: http://{host}:{port}/#token={token}")
    if serve:
        from graph_service.cli.serve import serve as serve_command

        serve_command(host=host, port=port)



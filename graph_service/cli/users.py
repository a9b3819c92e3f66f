"""`gracegraph user add|token|revoke` and `gracegraph agency add`: who may use the API."""

from __future__ import annotations

import typer
from rich.console import Console

from graph_service.auth import AuthStore, Role
from graph_service.cli.errors import reported
from graph_service.settings import get_settings

app = typer.Typer(help="Users of the API, their roles and bearer tokens.", no_args_is_help=True)
agencies = typer.Typer(help="Agencies that own cases, with the point of contact deconfliction names.",
                       no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


def _store() -> AuthStore:
    return AuthStore.of(get_settings())


@app.command("add")
@reported
def add(name: str = typer.Argument(..., help="The user's name, as the audit log will show it."),
        agency: str = typer.Option(..., "--agency", help="The agency code the user works for."),
        role: Role = typer.Option(Role.ANALYST, "--role", help="analyst, supervisor or admin (docs/security.md).")
        ) -> None:
    """Add a user (and the agency, if new). Give them a token with `gracegraph user token`."""
    _store().add_user(name, agency, role)
    out.print(f"user {name} ({role.value}, agency {agency}) added")


@app.command("token")
@reported
def token(name: str = typer.Argument(..., help="The user to make a token for.")) -> None:
    """Make a new bearer token for a user and print it: it is shown this once, only its digest is kept."""
    out.print(_store().issue_token(name))


@app.command("revoke")
@reported
def revoke(name: str | None = typer.Argument(None, help="Revoke every token of this user."),
           token: str | None = typer.Option(None, "--token", help="Revoke just this token.")) -> None:
    """Revoke tokens: from the next request on they open nothing."""
    count = _store().revoke(user=name if token is None else None, token=token)
    out.print(f"{count} token(s) revoked")


@agencies.command("add")
@reported
def add_agency(code: str = typer.Argument(..., help="The agency code (as in `load --agency`)."),
               name: str | None = typer.Option(None, "--name"),
               contact: str | None = typer.Option(None, "--contact",
                                                  help="Who other agencies should call (deconfliction shows it).")
               ) -> None:
    """Add an agency or change its name or point of contact."""
    _store().add_agency(code, name, contact)
    out.print(f"agency {code} saved")

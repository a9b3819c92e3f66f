"""One line per problem and a non-zero exit, for every error a user can act on."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from loaders.errors import GracegraphError

err = Console(stderr=True, highlight=False, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def reported(func: F) -> F:
    """Turn our own errors into `error: …` on stderr and exit code 1 (never a traceback)."""

    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GracegraphError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from exc

    return run  # type: ignore[return-value]

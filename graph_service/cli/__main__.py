"""`python -m graph_service.cli`: the `gracegraph` command, for a checkout whose package is not installed."""

from graph_service.cli import app

app()

"""`python -m graph_service.cli …`: the gracegraph command run from a checkout."""

from graph_service.cli import app

app(prog_name="gracegraph")

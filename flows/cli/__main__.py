"""`python -m flows.cli`: the same `vanban` command."""

from flows.cli import app

app()

"""The typer application: one place that wires the commands together."""

from __future__ import annotations

import typer

app = typer.Typer(name="symgrad", help="Exact derivatives in PyTorch.", no_args_is_help=True)


def main() -> None:
    """Console-script entry point."""
    app()

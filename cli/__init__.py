"""The `symgrad` command line (installed as `symgrad.cli`)."""

from .app import app as app
from .app import main as main

__all__ = ["app", "main"]

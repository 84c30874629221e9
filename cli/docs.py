"""`symgrad docs`: derivation pages from a documentation spec (`sg.generate_docs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import symgrad as sg

from . import render
from .options import DebugOpt, Format, FormatOpt

__all__ = ["EXAMPLES", "docs"]

EXAMPLES = """Examples:

\b
  symgrad docs docs/gallery.toml --out site/gallery
  symgrad docs derivations.toml --out pages --format json
"""

SpecArg = Annotated[
    Path,
    typer.Argument(
        help="The documentation spec (TOML): [[derivation]] entries with title, expr, ...",
        metavar="SPEC",
        show_default=False,
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        help="The folder the pages are written to (created if missing).",
        metavar="DIR",
        show_default=False,
    ),
]


def docs(spec: SpecArg, out: OutOpt, fmt: FormatOpt = Format.text, debug: DebugOpt = False) -> None:
    """Write a Markdown page per derivation in SPEC, and an index, into the folder --out."""
    render.written(sg.generate_docs(spec, out), fmt)

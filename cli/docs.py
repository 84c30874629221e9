"""`symgrad docs`: derivation pages from a documentation spec (`sg.generate_docs`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import symgrad as sg

from . import render
from .options import DebugOpt, Format, FormatOpt, OptionError

__all__ = ["EXAMPLES", "docs"]

EXAMPLES = """Examples:

\b
  symgrad docs derivations.toml --out site/derivations
"""

SpecArg = Annotated[
    Path,
    typer.Argument(help="The documentation spec to render.", metavar="SPEC", show_default=False),
]
OutOpt = Annotated[
    Path, typer.Option("--out", help="The folder the pages are written to.", show_default=False)
]


def docs(spec: SpecArg, out: OutOpt, fmt: FormatOpt = Format.text, debug: DebugOpt = False) -> None:
    """Write the step-by-step derivations a SPEC asks for into the folder --out."""
    generate = getattr(sg, "generate_docs", None)
    if generate is None:
        raise OptionError("symgrad docs is not available yet in this version of symgrad")
    render.written(generate(spec, out), fmt)

"""LaTeX and Markdown for people: functions, partials, step-by-step derivations, values.

The documentation pages (`_docgen`) are assembled from these pieces. Everything here
returns text and is deterministic: the same input gives the same characters.

- `names_of(f)`: the LaTeX names of a function's symbols (`x[0]` is written `x_{0}`, as in
  `Function.latex()`), passed to every `latex` call so that a page names things one way.
- `partial_latex(wrt)`: `\\frac{\\partial^{2} f}{\\partial x \\partial y}` and friends.
- `value_text(tensor)`, `point_text(point)`: numbers as a table shows them.

Markdown produced here puts inline math in `$...$` and display math in `$$` blocks, the
forms `pymdownx.arithmatex` and GitHub both render.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sympy

from ._function import Function

__all__ = [
    "display_math",
    "escape_markdown",
    "latex",
    "name_latex",
    "names_of",
    "partial_latex",
    "point_text",
    "value_text",
]

_COMPONENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z_0-9]*)\[(?P<index>\d+)\]$")


def name_latex(name: str) -> str:
    """A variable's name in LaTeX: `x` -> `x`, `sigma` -> `\\sigma`, `x[0]` -> `x_{0}`."""
    match = _COMPONENT.match(name)
    if match:
        return f"{sympy.latex(sympy.Symbol(match['name']))}_{{{match['index']}}}"
    return sympy.latex(sympy.Symbol(name))


def names_of(f: Function) -> dict[sympy.Symbol, str]:
    """LaTeX names for every symbol of `f` (vector components as subscripts)."""
    return {symbol: name_latex(symbol.name) for item in f.inputs for symbol in item.symbols}


def latex(expr: Any, names: Mapping[sympy.Symbol, str] | None = None) -> str:
    """`expr` (a sympy object) in LaTeX with the symbol names of `names_of`."""
    return sympy.latex(expr, symbol_names=dict(names or {}))


def partial_latex(wrt: Sequence[str], of: str = "f") -> str:
    """`("x", "x", "y")` -> `\\frac{\\partial^{3} f}{\\partial x^{2} \\partial y}`."""
    order = len(wrt)
    top = rf"\partial^{{{order}}} {of}" if order > 1 else rf"\partial {of}"
    parts = []
    for name, group in itertools.groupby(wrt):
        power = len(list(group))
        parts.append(rf"\partial {name_latex(name)}" + (f"^{{{power}}}" if power > 1 else ""))
    return rf"\frac{{{top}}}{{{' '.join(parts)}}}"


def display_math(body: str) -> str:
    """A display-math block, `$$` on lines of their own, blank lines around it."""
    return f"\n$$\n{body}\n$$\n"


def escape_markdown(text: str) -> str:
    """Plain text that Markdown shows as written (no emphasis, links, math or tables)."""
    for ch in "\\`*_[]<>|$":
        text = text.replace(ch, "\\" + ch)
    return text


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return format(value + 0.0, ".6g")  # + 0.0 turns -0.0 into 0.0


def value_text(value: Any) -> str:
    """A number, or nested lists of them, with six significant digits: `[4, 27]`."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    return _number(float(value))


def point_text(point: Mapping[str, Any]) -> str:
    """`{"x": 2, "y": [1, 4]}` -> `x=2, y=[1, 4]`."""
    return ", ".join(f"{name}={value_text(value)}" for name, value in point.items())

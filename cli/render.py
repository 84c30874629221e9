"""All printing of the command line: text for people, LaTeX to paste, JSON for programs.

The commands compute; this module only shows. Results go to stdout as one document;
messages (errors, progress) go to stderr. Colour comes from `typer.style`, which typer
strips when stdout is not a terminal; `NO_COLOR` turns it off everywhere.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sympy
import typer

import symgrad as sg

from .options import Format, variable_names

__all__ = [
    "Row",
    "derivatives",
    "error",
    "progress",
    "report",
    "source",
    "value",
    "version",
    "written",
]


@dataclass(frozen=True)
class Row:
    """One partial derivative to show: by what, its closed form, its value (with --at)."""

    wrt: tuple[str, ...]
    function: sg.Function
    output: int | None = None  # the output it belongs to, for Jacobians
    value: Any = None  # a float or nested lists, with --at

    def with_value(self, value: Any) -> Row:
        return replace(self, value=value)


# ---------------------------------------------------------------------------------------
# Small pieces


def _color() -> bool | None:
    return False if os.environ.get("NO_COLOR") else None  # None: typer decides (a tty?)


def _out(text: str = "") -> None:
    typer.echo(text, color=_color())


def _style(text: str, **style: Any) -> str:
    return typer.style(text, **style)


def _json(document: Any) -> None:
    typer.echo(json.dumps(_finite(document), allow_nan=False))


def _finite(value: Any) -> Any:
    """JSON-safe numbers everywhere in a document: NaN and infinities become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _number(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    return f"{float(value):.10g}"


def _latex_number(value: Any) -> str:
    if isinstance(value, list):
        return r"\left[" + ", ".join(_latex_number(v) for v in value) + r"\right]"
    number = float(value)
    if math.isnan(number):
        return r"\mathrm{NaN}"
    if math.isinf(number):
        return r"\infty" if number > 0 else r"-\infty"
    return f"{number:.10g}"


def _latex_name(name: str) -> str:
    """`x` -> `x`, `alpha` -> `\\alpha`, `x[1]` -> `x_{1}`."""
    match = re.fullmatch(r"(.+)\[(\d+)\]", name)
    base, index = (match.group(1), match.group(2)) if match else (name, None)
    text = sympy.latex(sympy.Symbol(base))
    return f"{text}_{{{index}}}" if index is not None else text


def _tex_escape(text: str) -> str:
    table = {"\\": r"\textbackslash{}", "_": r"\_", "^": r"\^{}", "#": r"\#", "$": r"\$"}
    table |= {"%": r"\%", "&": r"\&", "{": r"\{", "}": r"\}", "~": r"\~{}"}
    return "".join(table.get(c, c) for c in text)


def _signature(f: sg.Function) -> str:
    params = "; " + ", ".join(f"{k}={v:g}" for k, v in f.params.items()) if f.params else ""
    return f"f({', '.join(variable_names(f))}{params})"


def _point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_number(v)}" for k, v in point.items())


def _label(wrt: Sequence[str], output: int | None = None) -> str:
    """`df/dx`, `d2f/dx dy`, `df[1]/dx` (an output of a Jacobian)."""
    order = str(len(wrt)) if len(wrt) > 1 else ""
    target = "f" if output is None else f"f[{output}]"
    return f"d{order}{target}/" + " ".join(f"d{w}" for w in wrt)


def _latex_label(wrt: Sequence[str], output: int | None = None) -> str:
    """`\\frac{\\partial^{2} f}{\\partial x \\partial y}` and the like."""
    target = "f" if output is None else f"f_{{{output}}}"
    order = len(wrt)
    runs: list[list[Any]] = []
    for name in wrt:
        if runs and runs[-1][0] == name:
            runs[-1][1] += 1
        else:
            runs.append([name, 1])
    below = " ".join(
        rf"\partial {_latex_name(n)}" + (f"^{{{k}}}" if k > 1 else "") for n, k in runs
    )
    above = r"\partial" + (f"^{{{order}}}" if order > 1 else "")
    return rf"\frac{{{above} {target}}}{{{below}}}"


# ---------------------------------------------------------------------------------------
# Results


def derivatives(
    f: sg.Function, rows: Sequence[Row], points: Sequence[Mapping[str, Any]], fmt: Format
) -> None:
    """The closed forms of `rows` (and their values at `points`, when given)."""
    if fmt == Format.json:
        partials = []
        for row in rows:
            entry: dict[str, Any] = {} if row.output is None else {"output": row.output}
            entry |= {"wrt": list(row.wrt), "expr": str(row.function)}
            entry["latex"] = row.function.latex()
            if points:
                entry["value"] = row.value
            partials.append(entry)
        _json({"function": str(f), "variables": variable_names(f), "partials": partials})
        return

    if fmt == Format.latex:
        where = "; ".join(_point_text(p) for p in points)
        _out(f"% {_signature(f)}" + (f" at {where}" if where else ""))
        lines = [rf"f &= {f.latex()}"]
        for row in rows:
            line = rf"{_latex_label(row.wrt, row.output)} &= {row.function.latex()}"
            if points:
                line += f" = {_latex_number(row.value)}"
            lines.append(line)
        _out("\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}")
        return

    _out(f"{_style(_signature(f), bold=True)} = {f}")
    if points:
        _out("at " + "; ".join(_point_text(p) for p in points))
    labels = [_label(r.wrt, r.output) for r in rows]
    exprs = [str(r.function) for r in rows]
    label_width = max(map(len, labels), default=0)
    expr_width = max(map(len, exprs), default=0) if points else 0
    for label, expr, row in zip(labels, exprs, rows):
        line = f"  {_style(label.ljust(label_width), fg='cyan')} = {expr.ljust(expr_width)}"
        if points:
            line += " = " + _style(_number(row.value), fg="green", bold=True)
        _out(line.rstrip())


def value(f: sg.Function, result: Any, points: Sequence[Mapping[str, Any]], fmt: Format) -> None:
    """The value of `f` at `points` (`result` is a list over the points when there are several)."""
    each = result if len(points) > 1 else [result]
    if fmt == Format.json:
        document = {"function": str(f), "variables": variable_names(f), "latex": f.latex()}
        document["points"] = list(points)
        document["value"] = result
        _json(document)
        return
    if fmt == Format.latex:
        for point, number in zip(points or [{}], each):
            where = f"  % at {_point_text(point)}" if point else ""
            _out(f"{f.latex()} = {_latex_number(number)}{where}")
        return
    _out(f"{_style(_signature(f), bold=True)} = {f}")
    texts = [_point_text(p) or "(no variables)" for p in points or [{}]]
    width = max(map(len, texts))
    for text, number in zip(texts, each):
        _out(f"  at {text.ljust(width)} = " + _style(_number(number), fg="green", bold=True))


def report(result: sg.CheckReport, fmt: Format) -> None:
    """A `CheckReport`: the contract's JSON, a Markdown table, or a LaTeX table."""
    if fmt == Format.json:
        _json(result.to_dict())
        return
    verdict = result.summary()
    if fmt == Format.latex:
        lines = [
            r"\begin{tabular}{llrrl}",
            r"partial & formula & max abs error & max rel error & verdict \\ \hline",
        ]
        for row in result.rows:
            label = _latex_label(row.wrt)
            lines.append(
                f"${label}$ & \\texttt{{{_tex_escape(row.formula)}}} & "
                f"{row.max_abs_error:.2e} & {row.max_rel_error:.2e} & "
                f"{'ok' if row.ok else 'mismatch'} \\\\"
            )
        lines.append(r"\end{tabular}")
        _out("\n".join(lines))
        _out(f"% {verdict}")
        return
    markdown = result.to_markdown().rstrip("\n")
    _out(markdown)
    last = markdown.splitlines()[-1] if markdown else ""
    color = "green" if result.ok else "red"
    if not last.startswith(verdict):  # the table's last line is normally the verdict already
        _out(_style(verdict, fg=color, bold=True))


def source(f: sg.Function, code: str, fmt: Format) -> None:
    """Generated torch source for `f`."""
    if fmt == Format.json:
        _json({"function": str(f), "variables": variable_names(f), "source": code})
    elif fmt == Format.latex:
        _out(f"% generated torch source for {_signature(f)}")
        _out("\\begin{verbatim}\n" + code.rstrip("\n") + "\n\\end{verbatim}")
    else:
        _out(code.rstrip("\n"))


def written(paths: Any, fmt: Format) -> None:
    """The files a documentation run wrote."""
    if paths is None:
        items: list[str] = []
    elif isinstance(paths, str | os.PathLike):
        items = [str(paths)]
    else:
        items = [str(p) for p in paths]
    if fmt == Format.json:
        _json({"written": items})
    else:
        for item in items:
            _out(item)


# ---------------------------------------------------------------------------------------
# Messages (stderr)


def version(number: str) -> None:
    _out(f"symgrad {number}")


def error(message: str) -> None:
    """One line on stderr."""
    line = " ".join(str(message).split())
    typer.echo(_style("error:", fg="red", bold=True) + " " + line, err=True, color=_color())


@contextlib.contextmanager
def progress(message: str, fmt: Format) -> Iterator[None]:
    """A transient status line on stderr, only on a terminal and never in JSON mode."""
    show = fmt != Format.json and sys.stderr.isatty()
    if show:
        sys.stderr.write(f"{message}…")
        sys.stderr.flush()
    try:
        yield
    finally:
        if show:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()

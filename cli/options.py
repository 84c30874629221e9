"""Options shared by the commands, and the parsing of what users type into them.

Every value a user types is parsed here by hand: numbers with `float()`, lists with a tiny
bracket-aware splitter. Nothing typed is ever passed to `eval` or `ast.literal_eval`.
Malformed input raises `OptionError` (a `ValueError`), which the app turns into exit
code 2 and a one-line message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any

import torch
import typer

import symgrad as sg

__all__ = [
    "DEBUG_KEY",
    "AtOpt",
    "CompileOpt",
    "DebugOpt",
    "Device",
    "DeviceOpt",
    "Dtype",
    "DtypeOpt",
    "ExprArg",
    "Format",
    "FormatOpt",
    "Numeric",
    "OptionError",
    "ParamOpt",
    "Points",
    "VarsOpt",
    "VectorOpt",
    "WrtOpt",
    "claims",
    "inputs",
    "numeric",
    "points",
    "variable_names",
    "wrt_names",
]

DEBUG_KEY = "symgrad.debug"  # in ctx.meta, shared by every context of one invocation
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WRT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?\Z")


class OptionError(ValueError):
    """A malformed option value; the message says what to type instead."""


class Format(str, Enum):
    text = "text"
    latex = "latex"
    json = "json"


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"


class Dtype(str, Enum):
    float32 = "float32"
    float64 = "float64"


def _remember_debug(ctx: typer.Context, value: bool) -> bool:
    if value:
        ctx.meta[DEBUG_KEY] = True
    return value


_INPUTS = "Inputs"
_OUTPUT = "Output"
_NUMBERS = "Numbers"

ExprArg = Annotated[
    str,
    typer.Argument(
        help="The expression, e.g. 'x**2 + y**3' (quote it for the shell).",
        metavar="EXPR",
        show_default=False,
    ),
]
WrtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--wrt",
        help="Differentiate by this variable (or a component such as x[0]); repeatable.",
        metavar="NAME",
        show_default=False,
        rich_help_panel=_INPUTS,
    ),
]
VarsOpt = Annotated[
    str | None,
    typer.Option(
        "--vars",
        help='The variables in order, e.g. "x y" (default: the free symbols that are not '
        "parameters, sorted).",
        metavar="NAMES",
        show_default=False,
        rich_help_panel=_INPUTS,
    ),
]
VectorOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--vector",
        help="Declare a vector variable and its length, e.g. x=2; repeatable.",
        metavar="NAME=LENGTH",
        show_default=False,
        rich_help_panel=_INPUTS,
    ),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="A named constant and its value, e.g. a=1.5; repeatable.",
        metavar="NAME=VALUE",
        show_default=False,
        rich_help_panel=_INPUTS,
    ),
]
AtOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--at",
        help="A point, e.g. x=2,y=3 (vectors as x=[2,3]); repeat for several points.",
        metavar="POINT",
        show_default=False,
        rich_help_panel=_INPUTS,
    ),
]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        help="text for people, latex to paste, json for programs.",
        case_sensitive=False,
        rich_help_panel=_OUTPUT,
    ),
]
DeviceOpt = Annotated[
    Device,
    typer.Option("--device", help="Where numbers are computed.", rich_help_panel=_NUMBERS),
]
DtypeOpt = Annotated[
    Dtype,
    typer.Option("--dtype", help="The floating dtype of the numbers.", rich_help_panel=_NUMBERS),
]
CompileOpt = Annotated[
    bool,
    typer.Option(
        "--compile", help="Run the generated code through torch.compile.", rich_help_panel=_NUMBERS
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="Show the full traceback when something goes wrong.",
        callback=_remember_debug,
        is_eager=True,
        rich_help_panel=_OUTPUT,
    ),
]


# ---------------------------------------------------------------------------------------
# Parsing what was typed


def _number(text: str, where: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        raise OptionError(f"{where}: {text!r} is not a number") from None


def _split(text: str, where: str) -> list[str]:
    """Split on commas outside brackets: `x=[2,3],y=1` -> `['x=[2,3]', 'y=1']`."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise OptionError(f"{where}: unbalanced ']' in {text!r}")
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise OptionError(f"{where}: unbalanced '[' in {text!r}")
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _assignment(text: str, option: str, example: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name) or not value.strip():
        raise OptionError(f"{option} {text!r}: write NAME=VALUE, e.g. {option} {example}")
    return name, value.strip()


def _value(text: str, where: str) -> float | list[float]:
    """A number, or a bracketed list of numbers: `2`, `-1.5e3`, `[2, 3]`."""
    if text.startswith("[") or text.endswith("]"):
        if not (text.startswith("[") and text.endswith("]")):
            raise OptionError(f"{where}: write a vector as [2,3], got {text!r}")
        inner = text[1:-1]
        if "[" in inner or "]" in inner:
            raise OptionError(f"{where}: nested lists are not supported, got {text!r}")
        if not inner.strip():
            raise OptionError(f"{where}: the vector {text!r} is empty")
        return [_number(item, where) for item in inner.split(",")]
    return _number(text, where)


def variable_names(f: sg.Function) -> list[str]:
    """The declared variable names in order: vector components fold into their vector."""
    return list(dict.fromkeys(s.name.split("[")[0] for s in f.variables))


def inputs(vars: str | None, vector: list[str] | None, param: list[str] | None) -> dict[str, Any]:
    """`--vars`, `--vector`, `--param` as keywords for `sg.function`."""
    vectors: dict[str, int] = {}
    for item in vector or ():
        name, value = _assignment(item, "--vector", "x=2")
        if not re.fullmatch(r"\d+", value) or int(value) < 1:
            raise OptionError(f"--vector {item!r}: the length must be a positive integer")
        if name in vectors:
            raise OptionError(f"--vector {name!r} is given twice")
        vectors[name] = int(value)
    params: dict[str, float] = {}
    for item in param or ():
        name, value = _assignment(item, "--param", "a=1.5")
        number = _number(value, f"--param {item!r}")
        if not math.isfinite(number):
            raise OptionError(f"--param {item!r}: the value must be finite")
        if name in params:
            raise OptionError(f"--param {name!r} is given twice")
        params[name] = number
    return {"variables": vars, "vectors": vectors, "params": params}


def wrt_names(wrt: list[str] | None) -> list[str] | None:
    """`--wrt` names, checked for shape (the function checks that they exist)."""
    if not wrt:
        return None
    for name in wrt:
        if not _WRT.match(name):
            raise OptionError(f"--wrt {name!r}: give a variable name such as x or x[0]")
    return list(wrt)


@dataclass(frozen=True)
class Numeric:
    """Where and how numbers are computed."""

    device: str
    dtype: Any  # a torch.dtype
    compile: bool = False


def numeric(device: Device, dtype: Dtype, compile: bool = False) -> Numeric:
    """`--device`, `--dtype`, `--compile` checked up front (CUDA must be there if asked)."""
    if device == Device.cuda and not torch.cuda.is_available():
        raise OptionError("--device cuda: CUDA is not available here; use --device cpu")
    return Numeric(device.value, getattr(torch, dtype.value), compile)


@dataclass(frozen=True)
class Points:
    """The `--at` points: `each` one dict per point, in the order given."""

    each: tuple[dict[str, float | list[float]], ...]

    def values(self) -> dict[str, Any]:
        """One point as it is; several stacked by name (a batch on the first axis)."""
        if len(self.each) == 1:
            return dict(self.each[0])
        return {name: [p[name] for p in self.each] for name in self.each[0]}

    def tensors(self, numbers: Numeric) -> dict[str, torch.Tensor]:
        """The values as tensors of `--dtype` on `--device`."""
        return {
            name: torch.tensor(value, dtype=numbers.dtype, device=numbers.device)
            for name, value in self.values().items()
        }


def points(at: list[str] | None) -> Points | None:
    """Parse every `--at`; several points must name the same variables with the same shapes."""
    if not at:
        return None
    parsed: list[dict[str, float | list[float]]] = []
    for text in at:
        where = f"--at {text!r}"
        point: dict[str, float | list[float]] = {}
        for part in _split(text, where):
            if not part:
                raise OptionError(f"{where}: empty entry; write --at x=2,y=3")
            name, value = _assignment(part, "--at", "x=2,y=3")
            if name in point:
                raise OptionError(f"{where}: {name!r} is given twice")
            point[name] = _value(value, f"{where}, {name}")
        parsed.append(point)
    first = parsed[0]
    for point in parsed[1:]:
        if set(point) != set(first):
            raise OptionError(
                f"every --at must give the same variables: {', '.join(first)} vs {', '.join(point)}"
            )
        for name, value in point.items():
            if _length(value) != _length(first[name]):
                raise OptionError(f"--at gives {name!r} different lengths at different points")
    return Points(tuple(parsed))


def _length(value: float | list[float]) -> int | None:
    return len(value) if isinstance(value, list) else None


def claims(claim: list[str] | None) -> dict[tuple[str, ...], str] | None:
    """`--claim "x:3*x"`, `--claim "x,y:0"`: the user's own partials, by variables."""
    if not claim:
        return None
    result: dict[tuple[str, ...], str] = {}
    for item in claim:
        head, sep, formula = item.partition(":")
        names = tuple(n.strip() for n in head.split(","))
        if not sep or not formula.strip() or not all(_WRT.match(n) for n in names):
            raise OptionError(
                f"--claim {item!r}: write VARS:FORMULA, e.g. --claim 'x:2*x' or "
                "--claim 'x,y:0' for d2f/dxdy"
            )
        if names in result:
            raise OptionError(f"--claim for {','.join(names)} is given twice")
        result[names] = formula.strip()
    return result

"""`symgrad eval`: the value of an expression at one or several points."""

from __future__ import annotations

from typing import Any

import symgrad as sg

from . import render
from .options import (
    AtOpt,
    CompileOpt,
    DebugOpt,
    Device,
    DeviceOpt,
    Dtype,
    DtypeOpt,
    ExprArg,
    Format,
    FormatOpt,
    Numeric,
    OptionError,
    ParamOpt,
    Points,
    VarsOpt,
    VectorOpt,
    inputs,
    numeric,
    points,
    variable_names,
)

__all__ = ["EXAMPLES", "at_points", "eval_command"]

EXAMPLES = """Examples:

\b
  symgrad eval "x**2 + y**3" --at x=2,y=3
  symgrad eval "x**2 + y**3" --at x=2,y=3 --at x=1,y=1
  symgrad eval "dot(x, y)" --vector x=2 --vector y=2 --at "x=[2,3],y=[1,4]"
  symgrad eval "a*sin(x)" --param a=2 --at x=0.5 --format json
"""


def at_points(f: sg.Function, at: Points, numbers: Numeric) -> Any:
    """`f` evaluated at the `--at` points: a float or nested lists (points first)."""
    module = f.to_torch(device=numbers.device, dtype=numbers.dtype, compile=numbers.compile)
    return module(**at.tensors(numbers)).tolist()


def eval_command(
    expr: ExprArg,
    at: AtOpt = None,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    compile: CompileOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The value of EXPR at the --at point(s); several --at make a batch."""
    numbers = numeric(device, dtype, compile)
    given = points(at)
    f = sg.function(expr, **inputs(vars, vector, param))
    if given is None:
        if f.variables:
            raise OptionError(
                "eval needs a point: add --at with a value for each of "
                f"{', '.join(variable_names(f))}, e.g. --at x=2"
            )
        given = Points(({},))
    render.value(f, at_points(f, given, numbers), given.each, fmt)

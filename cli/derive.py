"""`symgrad diff`, `grad`, `jacobian`, `hessian`: closed-form derivatives, with values at --at.

Each command builds the function, asks the library for its derivative (which checks the
shape and the names), lists it as rows, one per variable (a vector variable's block in one
row), and hands them to the printer.
"""

from __future__ import annotations

from typing import Annotated

import typer

import symgrad as sg

from . import render
from .evaluate import at_points
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
    WrtOpt,
    inputs,
    numeric,
    points,
    variable_names,
    wrt_names,
)

__all__ = ["EXAMPLES", "diff", "grad", "hessian", "jacobian"]

EXAMPLES = {
    "diff": """Examples:

\b
  symgrad diff "x**2*sin(y)" --wrt x
  symgrad diff "x**2*sin(y)" --wrt x --wrt y --at x=1,y=0
  symgrad diff "x**3" --wrt x --wrt x --format latex
""",
    "grad": """Examples:

\b
  symgrad grad "x**2 + y**3" --at x=2,y=3
  symgrad grad "sum(x*y)" --vector x=2 --vector y=2 --at "x=[2,3],y=[1,4]"
  symgrad grad "a*x**2" --param a=1.5 --wrt x --wrt a --format json
""",
    "jacobian": """Examples:

\b
  symgrad jacobian "x*y" "x+y"
  symgrad jacobian "x*y" "x+y" --vector x=2 --vector y=2 --format json
  symgrad jacobian "r*cos(t)" "r*sin(t)" --at r=1,t=0
""",
    "hessian": """Examples:

\b
  symgrad hessian "x**2*y + y**3"
  symgrad hessian "x**2*y + y**3" --at x=1,y=2 --format latex
""",
}


ExprsArg = Annotated[
    list[str],
    typer.Argument(
        help="The outputs, e.g. 'x*y' 'x+y' (quote each for the shell).",
        metavar="EXPR",
        show_default=False,
    ),
]


def _show(
    f: sg.Function,
    rows: list[render.Row],
    given: Points | None,
    numbers: Numeric,
    fmt: Format,
) -> None:
    if given is not None:
        rows = [row.with_value(at_points(row.function, given, numbers)) for row in rows]
    render.derivatives(f, rows, given.each if given else (), fmt)


def diff(
    expr: ExprArg,
    wrt: WrtOpt = None,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    compile: CompileOpt = False,
    debug: DebugOpt = False,
) -> None:
    """One partial derivative of EXPR; repeat --wrt for higher orders (--wrt x --wrt y)."""
    names = wrt_names(wrt)
    if names is None:
        raise OptionError("diff needs --wrt, e.g. --wrt x (repeat it for higher orders)")
    numbers, given = numeric(device, dtype, compile), points(at)
    f = sg.function(expr, **inputs(vars, vector, param))
    _show(f, [render.Row(tuple(names), f.partial(*names))], given, numbers, fmt)


def grad(
    expr: ExprArg,
    wrt: WrtOpt = None,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    compile: CompileOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The gradient of a scalar EXPR: one partial per variable (or per --wrt)."""
    numbers, given = numeric(device, dtype, compile), points(at)
    f = sg.function(expr, **inputs(vars, vector, param))
    names = wrt_names(wrt)
    f.gradient(names)  # the library checks the shape and the names
    rows = [render.Row((name,), f.partial(name)) for name in names or variable_names(f)]
    _show(f, rows, given, numbers, fmt)


def jacobian(
    exprs: ExprsArg,
    wrt: WrtOpt = None,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    compile: CompileOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The Jacobian of the outputs EXPR... (vector outputs expand into their components)."""
    numbers, given = numeric(device, dtype, compile), points(at)
    declared = inputs(vars, vector, param)
    f = sg.function(exprs if len(exprs) > 1 else exprs[0], **declared)
    names = wrt_names(wrt)
    f.jacobian(names)  # the library checks the shape and the names
    outputs = [f] if f.shape == () else [f[i] for i in range(len(f))]
    rows = [
        render.Row((n,), output.partial(n), i)
        for i, output in enumerate(outputs)
        for n in names or variable_names(f)
    ]
    _show(f, rows, given, numbers, fmt)


def hessian(
    expr: ExprArg,
    wrt: WrtOpt = None,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    compile: CompileOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The Hessian of a scalar EXPR: every second partial, row by row."""
    numbers, given = numeric(device, dtype, compile), points(at)
    f = sg.function(expr, **inputs(vars, vector, param))
    names = wrt_names(wrt)
    f.hessian(names)  # the library checks the shape and the names
    names = names or variable_names(f)
    rows = [render.Row((a, b), f.partial(a, b)) for a in names for b in names]
    _show(f, rows, given, numbers, fmt)

"""`symgrad codegen`: the generated torch source of a function, its gradient or Hessian."""

from __future__ import annotations

from typing import Annotated

import typer

import symgrad as sg

from . import render
from .options import (
    DebugOpt,
    Device,
    DeviceOpt,
    Dtype,
    DtypeOpt,
    ExprArg,
    Format,
    FormatOpt,
    OptionError,
    ParamOpt,
    VarsOpt,
    VectorOpt,
    inputs,
    numeric,
)

__all__ = ["EXAMPLES", "codegen"]

EXAMPLES = """Examples:

\b
  symgrad codegen "x**2 + y**3"
  symgrad codegen "x**2 + y**3" --grad
  symgrad codegen "sum(x**2)" --vector x=3 --hessian --format json
"""

GradOpt = Annotated[bool, typer.Option("--grad", help="The source of the gradient instead.")]
HessianOpt = Annotated[bool, typer.Option("--hessian", help="The source of the Hessian instead.")]


def codegen(
    expr: ExprArg,
    grad: GradOpt = False,
    hessian: HessianOpt = False,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    debug: DebugOpt = False,
) -> None:
    """The torch source that symgrad generates for EXPR (f.to_torch().source)."""
    if grad and hessian:
        raise OptionError("--grad and --hessian exclude each other; give one of them")
    numbers = numeric(device, dtype)
    f = sg.function(expr, **inputs(vars, vector, param))
    target = f.gradient() if grad else f.hessian() if hessian else f
    module = target.to_torch(device=numbers.device, dtype=numbers.dtype)
    render.source(target, module.source, fmt)

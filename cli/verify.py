"""`symgrad check`: closed-form partials against torch.autograd; exit 1 on a mismatch."""

from __future__ import annotations

from typing import Annotated

import typer

import symgrad as sg

from . import render
from .options import (
    AtOpt,
    DebugOpt,
    Device,
    DeviceOpt,
    Dtype,
    DtypeOpt,
    ExprArg,
    Format,
    FormatOpt,
    ParamOpt,
    VarsOpt,
    VectorOpt,
    WrtOpt,
    claims,
    inputs,
    numeric,
    points,
    wrt_names,
)

__all__ = ["EXAMPLES", "check"]

EXAMPLES = """Examples:

\b
  symgrad check "sin(x)*exp(y)" --order 2
  symgrad check "log(x)" --at x=0.5 --at x=2
  symgrad check "sum(x**2)" --vector x=3 --samples 1000 --seed 1 --format json
  symgrad check "x**2" --claim "x:3*x"      # a wrong derivative: exit code 1
"""

_CHECK = "Check"
OrderOpt = Annotated[
    int,
    typer.Option(
        "--order", min=1, help="Check every partial up to this order.", rich_help_panel=_CHECK
    ),
]
SamplesOpt = Annotated[
    int,
    typer.Option(
        "--samples",
        min=1,
        help="How many random points (uniform in [-2, 2]) when no --at is given.",
        rich_help_panel=_CHECK,
    ),
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed of the random points.", rich_help_panel=_CHECK)
]
ClaimOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--claim",
        help="Check your own partial instead of symgrad's: 'x:2*x', or 'x,y:0' for d2f/dxdy; "
        "repeatable.",
        metavar="VARS:FORMULA",
        show_default=False,
        rich_help_panel=_CHECK,
    ),
]
RtolOpt = Annotated[
    float | None,
    typer.Option(
        "--rtol", help="Relative tolerance (default: fits the dtype).", rich_help_panel=_CHECK
    ),
]
AtolOpt = Annotated[
    float | None,
    typer.Option(
        "--atol", help="Absolute tolerance (default: fits the dtype).", rich_help_panel=_CHECK
    ),
]


def check(
    expr: ExprArg,
    order: OrderOpt = 1,
    samples: SamplesOpt = 256,
    seed: SeedOpt = 0,
    wrt: WrtOpt = None,
    claim: ClaimOpt = None,
    rtol: RtolOpt = None,
    atol: AtolOpt = None,
    vars: VarsOpt = None,
    vector: VectorOpt = None,
    param: ParamOpt = None,
    at: AtOpt = None,
    fmt: FormatOpt = Format.text,
    device: DeviceOpt = Device.cpu,
    dtype: DtypeOpt = Dtype.float64,
    debug: DebugOpt = False,
) -> None:
    """Compare the closed-form partials of EXPR with torch.autograd; exit 1 on a mismatch."""
    numbers, given = numeric(device, dtype), points(at)
    f = sg.function(expr, **inputs(vars, vector, param))
    where = f"{len(given.each)} point(s)" if given else f"{samples} random points"
    with render.progress(f"checking {f} at {where}", fmt):
        report = sg.check(
            f,
            order=order,
            wrt=wrt_names(wrt),
            points=given.tensors(numbers) if given else None,
            samples=samples,
            seed=seed,
            dtype=numbers.dtype,
            device=numbers.device,
            rtol=rtol,
            atol=atol,
            claimed=claims(claim),
        )
    render.report(report, fmt)
    if not report.ok:
        raise typer.Exit(code=1)  # the contract: 1 means a check found a mismatch

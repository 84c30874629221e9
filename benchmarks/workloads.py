"""Named workloads: a function, the derivative to compute, and a torch version of it.

Each workload is a symgrad `Function` (built lazily: deriving costs time), which derivative
is asked for (`gradient`, `jacobian` or `hessian`), and a plain torch `forward` for the
peers that differentiate numerically (torch.autograd, torch.func).

`forward(x)` takes the variables stacked on the last axis, `(..., n)`, and returns
`(...)` for a scalar function or `(..., m)` for a vector one. It works on a batch and on
one point, so torch.func can `vmap` it. For REFERENCE it is written by hand (the speed
targets are stated against that); for the others it is `sympy.lambdify` of the original
expression, which is what writing the expression out in torch by hand gives.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import sympy
import torch

import symgrad as sg

from .expressions import REFERENCE, random_expression

__all__ = ["KINDS", "WORKLOADS", "Problem", "Workload", "reference_torch"]

KINDS = ("gradient", "jacobian", "hessian")


def reference_torch(x: torch.Tensor) -> torch.Tensor:
    """REFERENCE written by hand in torch: `x` is `(..., 6)`."""
    x0, x1, x2, x3, x4, x5 = x.unbind(-1)
    return (
        torch.sin(x0 * x1)
        + torch.exp(-(x2**2)) * torch.cos(x3)
        + torch.log(1 + x4**2) * x5
        + x0 * x1 * x2 / (1 + x3**2)
        + torch.tanh(x4 * x5 - x0)
    )


@dataclass(frozen=True)
class Problem:
    """A built workload: the function, its derivative, and a torch forward for the peers."""

    f: sg.Function
    derivative: sg.Function
    forward: Callable[[torch.Tensor], torch.Tensor]
    n_vars: int
    n_outputs: int
    ops: int  # sympy.count_ops of the function's outputs, summed

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.derivative.shape

    @property
    def out_numel(self) -> int:
        return math.prod(self.derivative.shape)

    @property
    def kernel_lines(self) -> int:
        """Lines of symgrad's generated kernel for the derivative (a proxy for temporaries)."""
        return self.derivative.to_torch().source.count("\n")


@dataclass(frozen=True)
class Workload:
    """A named benchmark case: `kind` of derivative of the outputs `exprs` over `variables`."""

    name: str
    kind: str
    exprs: tuple[str | sympy.Expr, ...]
    variables: tuple[str, ...]
    description: str
    hand_written: Callable[[torch.Tensor], torch.Tensor] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind != "jacobian" and len(self.exprs) != 1:
            raise ValueError(f"a {self.kind} workload needs one scalar output")

    @functools.cached_property
    def problem(self) -> Problem:
        return build(self)


def _lambdified_forward(f: sg.Function) -> Callable[[torch.Tensor], torch.Tensor]:
    body = sympy.lambdify(list(f.variables), list(f.outputs), modules="torch")
    vector = f.shape != ()

    def forward(x: torch.Tensor) -> torch.Tensor:
        outputs = body(*x.unbind(-1))
        return torch.stack(outputs, -1) if vector else outputs[0]

    return forward


def build(workload: Workload) -> Problem:
    exprs = list(workload.exprs)
    f = sg.function(exprs if workload.kind == "jacobian" else exprs[0], list(workload.variables))
    derivative = getattr(f, workload.kind)()
    forward = workload.hand_written or _lambdified_forward(f)
    return Problem(
        f=f,
        derivative=derivative,
        forward=forward,
        n_vars=len(f.variables),
        n_outputs=len(f.outputs),
        ops=sum(int(sympy.count_ops(o)) for o in f.outputs),
    )


def _xs(n: int) -> tuple[str, ...]:
    return tuple(f"x{i}" for i in range(n))


SMALL = "sin(x)*exp(y) + x**2*y"
SMALL_VECTOR = ("x*y", "sin(x)*exp(y)", "x**2 + log(1 + y**2)")
WIDE_VARS, WIDE_OPS = 50, 300


def _wide() -> tuple[sympy.Expr, ...]:
    return (random_expression(WIDE_VARS, WIDE_OPS, seed=0),)


def _wide_vector(m: int = 8, ops: int = 60) -> tuple[sympy.Expr, ...]:
    return tuple(random_expression(WIDE_VARS, ops, seed=1 + i) for i in range(m))


def _make() -> dict[str, Workload]:
    ref_vars = _xs(6)
    cases = [
        Workload("small-gradient", "gradient", (SMALL,), ("x", "y"), f"∇ of {SMALL}"),
        Workload("small-jacobian", "jacobian", SMALL_VECTOR, ("x", "y"), "3 outputs of x, y"),
        Workload("small-hessian", "hessian", (SMALL,), ("x", "y"), f"∇² of {SMALL}"),
        Workload(
            "reference-gradient",
            "gradient",
            (REFERENCE,),
            ref_vars,
            "∇ of REFERENCE (6 variables)",
            reference_torch,
        ),
        Workload(
            "reference-hessian",
            "hessian",
            (REFERENCE,),
            ref_vars,
            "∇² of REFERENCE (6 variables)",
            reference_torch,
        ),
        Workload(
            "wide-gradient",
            "gradient",
            _wide(),
            _xs(WIDE_VARS),
            f"∇ of random_expression({WIDE_VARS}, {WIDE_OPS})",
        ),
        Workload(
            "wide-jacobian",
            "jacobian",
            _wide_vector(),
            _xs(WIDE_VARS),
            f"8 outputs, each random_expression({WIDE_VARS}, 60)",
        ),
        Workload(
            "wide-hessian",
            "hessian",
            _wide(),
            _xs(WIDE_VARS),
            f"∇² of random_expression({WIDE_VARS}, {WIDE_OPS})",
        ),
    ]
    return {w.name: w for w in cases}


WORKLOADS: dict[str, Workload] = _make()

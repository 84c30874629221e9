"""Shared test data and assertions: the derivative table and torch.autograd references."""

from __future__ import annotations

from dataclasses import dataclass

import sympy
import torch
from sympy.parsing.sympy_parser import parse_expr

import symgrad as sg

NAMES = ("x", "y", "a", "b")
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in NAMES}


def known(text: str) -> sympy.Expr:
    """A reference closed form, written by hand in sympy syntax (trusted test text only)."""
    return parse_expr(text, local_dict=dict(SYMBOLS))


@dataclass(frozen=True)
class Entry:
    """One row of the derivative table: f, points inside its domain, hand-derived partials."""

    text: str
    points: dict[str, tuple[float, ...]]
    partials: dict[str, str]

    @property
    def id(self) -> str:
        return self.text

    def function(self) -> sg.Function:
        return sg.function(self.text, list(self.points))


def _e(text, points, **partials):
    return Entry(text, points, partials)


X = (-0.7, 0.3, 1.9)
UNIT = (-0.6, 0.1, 0.8)  # inside (-1, 1)
OUTSIDE = (-2.5, 1.3, 3.0)  # |x| > 1
POSITIVE = (0.4, 1.1, 2.7)
NONZERO = (-1.7, -0.4, 0.6, 2.2)

# Each derivative is written from the textbook formula, not from sympy.diff.
TABLE: tuple[Entry, ...] = (
    _e("sin(x)", {"x": X}, x="cos(x)"),
    _e("cos(x)", {"x": X}, x="-sin(x)"),
    _e("tan(x)", {"x": X}, x="1/cos(x)**2"),
    _e("cot(x)", {"x": (-0.7, 0.3, 1.9)}, x="-1/sin(x)**2"),
    _e("sec(x)", {"x": X}, x="sin(x)/cos(x)**2"),
    _e("csc(x)", {"x": (-0.7, 0.3, 1.9)}, x="-cos(x)/sin(x)**2"),
    _e("asin(x)", {"x": UNIT}, x="1/sqrt(1 - x**2)"),
    _e("acos(x)", {"x": UNIT}, x="-1/sqrt(1 - x**2)"),
    _e("atan(x)", {"x": X}, x="1/(1 + x**2)"),
    _e("acot(x)", {"x": (-0.7, 0.3, 1.9)}, x="-1/(1 + x**2)"),
    _e("asec(x)", {"x": OUTSIDE}, x="1/(Abs(x)*sqrt(x**2 - 1))"),
    _e("acsc(x)", {"x": OUTSIDE}, x="-1/(Abs(x)*sqrt(x**2 - 1))"),
    _e("sinh(x)", {"x": X}, x="cosh(x)"),
    _e("cosh(x)", {"x": X}, x="sinh(x)"),
    _e("tanh(x)", {"x": X}, x="1/cosh(x)**2"),
    _e("coth(x)", {"x": NONZERO}, x="-1/sinh(x)**2"),
    _e("sech(x)", {"x": X}, x="-sinh(x)/cosh(x)**2"),
    _e("csch(x)", {"x": NONZERO}, x="-cosh(x)/sinh(x)**2"),
    _e("asinh(x)", {"x": X}, x="1/sqrt(x**2 + 1)"),
    _e("acosh(x)", {"x": (1.2, 2.0, 3.5)}, x="1/sqrt(x**2 - 1)"),
    _e("atanh(x)", {"x": UNIT}, x="1/(1 - x**2)"),
    _e("acoth(x)", {"x": OUTSIDE}, x="1/(1 - x**2)"),
    _e("asech(x)", {"x": (0.2, 0.5, 0.9)}, x="-1/(x*sqrt(1 - x**2))"),
    _e("acsch(x)", {"x": NONZERO}, x="-1/(Abs(x)*sqrt(1 + x**2))"),
    _e("exp(x)", {"x": X}, x="exp(x)"),
    _e("exp(-x**2/2)", {"x": X}, x="-x*exp(-x**2/2)"),
    _e("log(x)", {"x": POSITIVE}, x="1/x"),
    _e(
        "log(x, b)",
        {"x": POSITIVE, "b": (2.0, 3.0, 10.0)},
        x="1/(x*log(b))",
        b="-log(x)/(b*log(b)**2)",
    ),
    _e("x**a", {"x": POSITIVE, "a": (-1.5, 0.5, 2.5)}, x="a*x**(a - 1)", a="x**a*log(x)"),
    _e("a**x", {"x": X, "a": (0.5, 2.0, 3.0)}, x="a**x*log(a)", a="x*a**(x - 1)"),
    _e("x**x", {"x": POSITIVE}, x="x**x*(log(x) + 1)"),
    _e("sqrt(x)", {"x": POSITIVE}, x="1/(2*sqrt(x))"),
    _e("x**(1/3)", {"x": POSITIVE}, x="x**(-2/3)/3"),
    _e("1/x", {"x": NONZERO}, x="-1/x**2"),
    _e("Abs(x)", {"x": NONZERO}, x="x/Abs(x)"),
    _e(
        "Abs(x*y - 1)",
        {"x": (0.5, 2.0), "y": (3.0, 0.25)},
        x="y*sign(x*y - 1)",
        y="x*sign(x*y - 1)",
    ),
    _e("erf(x)", {"x": X}, x="2*exp(-x**2)/sqrt(pi)"),
    _e("erfc(x)", {"x": X}, x="-2*exp(-x**2)/sqrt(pi)"),
    _e("erfinv(x)", {"x": UNIT}, x="sqrt(pi)*exp(erfinv(x)**2)/2"),
    _e("gamma(x)", {"x": (-1.5, -0.5, 0.7, 2.5, 4.0)}, x="gamma(x)*digamma(x)"),
    _e("loggamma(x)", {"x": POSITIVE}, x="digamma(x)"),
    _e(
        "atan2(y, x)",
        {"y": (1.0, -2.0, 0.5), "x": (2.0, 1.5, -3.0)},
        x="-y/(x**2 + y**2)",
        y="x/(x**2 + y**2)",
    ),
    _e(
        "Piecewise((x**2, x < 0), (sin(x), True))",
        {"x": (-1.3, -0.2, 0.4, 2.0)},
        x="Piecewise((2*x, x < 0), (cos(x), True))",
    ),
    _e(
        "where(x > 1, x**3, 2*x)",
        {"x": (-0.5, 0.5, 1.5, 3.0)},
        x="Piecewise((3*x**2, x > 1), (2, True))",
    ),
    _e(
        "Max(x, y)",
        {"x": (1.0, -2.0, 0.3), "y": (0.5, 1.0, -0.7)},
        x="Piecewise((1, x > y), (0, True))",
        y="Piecewise((1, y > x), (0, True))",
    ),
    _e(
        "Min(x, y)",
        {"x": (1.0, -2.0, 0.3), "y": (0.5, 1.0, -0.7)},
        x="Piecewise((1, x < y), (0, True))",
        y="Piecewise((1, y < x), (0, True))",
    ),
    _e(
        "Max(x, 1)**2 + x*Min(y, 0)",
        {"x": (2.0, 0.5), "y": (-1.0, 3.0)},
        x="Piecewise((2*x, x > 1), (0, True)) + Min(y, 0)",
        y="Piecewise((x, y < 0), (0, True))",
    ),
    _e(
        "sin(x*y)*exp(x)",
        {"x": X, "y": (0.5, -1.2, 2.0)},
        x="exp(x)*(y*cos(x*y) + sin(x*y))",
        y="x*exp(x)*cos(x*y)",
    ),
)


def point_values(entry: Entry) -> dict[str, float]:
    return {name: values[0] for name, values in entry.points.items()}


def substitute(expr: sympy.Expr, values: dict[str, float]) -> float:
    """The value of a sympy expression at a point, to high precision, as a float."""
    subs = {
        SYMBOLS.get(k, sympy.Symbol(k, real=True)): sympy.Float(v, 30) for k, v in values.items()
    }
    result = sympy.N(expr.subs(subs), 30)
    return float(result)


def autograd_partials(
    module: torch.nn.Module, values: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """torch.autograd's gradient of the summed output of `module` against each value."""
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in values.items()}
    out = module(**leaves)
    grads = torch.autograd.grad(out.sum(), list(leaves.values()), allow_unused=True)
    return {k: (g if g is not None else torch.zeros_like(leaves[k])) for k, g in zip(leaves, grads)}


def tensors(points: dict[str, tuple[float, ...]], dtype=torch.float64) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v, dtype=dtype) for k, v in points.items()}

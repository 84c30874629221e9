"""Laws checked on random expressions: closed forms agree with torch.autograd."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import symgrad as sg
from symgrad.testing import expressions

VARIABLES = "x y z"


@given(expressions())
def test_gradient_and_hessian_agree_with_autograd(expr):
    """For random finite expressions, every first and second partial matches autograd."""
    report = sg.check(sg.function(expr, VARIABLES), order=2, samples=32)
    assert report.ok, f"{expr}\n{report.to_markdown()}"


@given(expressions(max_depth=3))
def test_hessian_is_the_jacobian_of_the_gradient(expr):
    """Derivatives compose: f.gradient().jacobian() == f.hessian()."""
    f = sg.function(expr, VARIABLES)
    assert f.gradient().jacobian() == f.hessian()


@given(expressions(max_depth=3))
def test_mixed_partials_are_symmetric(expr):
    """d2f/dxdy and d2f/dydx are the same closed form, numerically."""
    f = sg.function(expr, VARIABLES)
    points = {name: torch.linspace(-1.5, 1.5, 9) + i / 7 for i, name in enumerate("xyz")}
    assert torch.allclose(f.partial("x", "y")(**points), f.partial("y", "x")(**points))


@given(expressions(max_depth=3))
def test_autograd_function_backward_is_the_closed_form(expr):
    """autograd_function's backward gives the same gradient as autograd on f's code."""
    f = sg.function(expr, VARIABLES)
    op = sg.autograd_function(f)
    inputs = [torch.linspace(-1.3, 1.1, 5, requires_grad=True) for _ in range(3)]
    ours = torch.autograd.grad(op(*inputs).sum(), inputs, allow_unused=True, materialize_grads=True)
    expected = f.gradient()(x=inputs[0], y=inputs[1], z=inputs[2]).detach()
    assert torch.allclose(torch.stack(ours, -1), expected)


# Tricky cases found by hand: each states what symgrad does and why autograd agrees.
REGRESSIONS = [
    # |x| at 0: sign(0) = 0, and autograd's subgradient of abs at 0 is 0 too.
    ("Abs(x)", {"x": [0.0, -1.0, 1.0]}),
    # sign is flat: its derivative 2*DiracDelta(x) compiles to 0, autograd says 0.
    ("sign(x)*x**2", {"x": [0.0, 1.0]}),
    # Piecewise at its boundary takes the branch whose condition holds (x > 0 is false at 0).
    ("where(x > 0, x**2, 3*x)", {"x": [0.0, -0.5, 0.5]}),
    ("Piecewise((x**3, x < 1), (2*x, True))", {"x": [1.0, 0.999, 1.001]}),
    # sqrt and log near 0, in float64.
    ("sqrt(x) + log(x)", {"x": [1e-100, 1e-12, 1e-3]}),
    # atan2 in all four quadrants and on the axes away from the origin.
    (
        "atan2(y, x)",
        {"x": [1.0, -1.0, -1.0, 1.0, 0.0, -2.0], "y": [1.0, 1.0, -1.0, -1.0, 3.0, 0.0]},
    ),
    # Max/Min at a tie: Heaviside(0) = 1/2 splits the derivative evenly, as torch does.
    ("Max(x, y) + Min(x, y**2)", {"x": [1.0, 2.0], "y": [1.0, 3.0]}),
    # Large and tiny magnitudes: tolerances are relative to each partial's scale.
    ("exp(30*x) + 1e-30*y**2", {"x": [0.5, 1.0], "y": [1.0, 2.0]}),
    ("x**-3", {"x": [1e-5, 1e5]}),
]


@pytest.mark.parametrize(("expr", "points"), REGRESSIONS)
def test_regression_corpus(expr, points):
    """Edge points where closed forms and autograd could plausibly disagree."""
    report = sg.check(sg.function(expr), order=2, points=points)
    assert report.ok, report.to_markdown()
    assert report.n_skipped == 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_regression_corpus_dtypes(dtype):
    """The smooth part of the corpus agrees in both float32 and float64."""
    f = sg.function("sin(x)*exp(y) + x/(1 + y**2)")
    assert sg.check(f, order=2, dtype=dtype, samples=500).ok


_TOKENS = [
    "x", "y", "1", "0", "2.5", "1e400", "+", "-", "*", "/", "**", "^", "(", ")", "[", "]",
    ",", "<", ">", "==", "&", "|", "~", "not", "and", "sin", "log", "Max", "sum", "dot",
    "where", "Piecewise", "gamma", "polygamma", "Heaviside", "atan2", "x[0]", "x[5]", " ",
    "True", "pi", "9", "99999", ".", "_", "'", "=", "sqrt", "floor", "DiracDelta",
]  # fmt: skip


@given(st.lists(st.sampled_from(_TOKENS), max_size=14).map("".join))
def test_token_soup_parses_or_raises_a_symgrad_error(text):
    """Any text either becomes a function whose gradient compiles and runs, or raises one
    of symgrad's own errors; never another exception."""
    try:
        f = sg.function(text, vectors={"x": 2})
        g = f.gradient()
        values = {i.name: [0.5] * i.length if i.length else 0.7 for i in f.inputs}
        f(**values), g(**values)
    except sg.SymgradError:
        pass

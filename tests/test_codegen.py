"""Generated torch source: generated identifiers only, clear errors, values equal to autograd."""

from __future__ import annotations

import ast
import re

import pytest
import sympy
import torch
from helpers import TABLE, autograd_partials, tensors

import symgrad as sg

GENERATED = re.compile(r"(a\d+(_\d+)?|p\d+|t\d+|o\d+)\Z")
RUNTIME = {"torch", "math", "ops", "ref", "batch", "out", "value", "kernel"}


def identifiers(source: str) -> set[str]:
    """Every name the generated code binds or reads (arguments, locals, globals)."""
    tree = ast.parse(source)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return names


def assert_only_generated_names(source: str) -> None:
    for name in identifiers(source):
        assert name in RUNTIME or GENERATED.match(name), (name, source)


# -- the generated source --------------------------------------------------------------


def test_source_uses_generated_names_only():
    """User names never become identifiers: variables are a0, a1..., params p0..."""
    f = sg.function(
        "velocity**2*mass/2 + spring*sin(position) + exp(mass*velocity)",
        params={"spring": 3.0},
    )
    for module in (f.to_torch(), f.gradient().to_torch(), f.hessian().to_torch()):
        source = module.source
        assert isinstance(source, str) and source.startswith("def kernel(")
        assert_only_generated_names(source)
        names = identifiers(source)
        for user in ("velocity", "mass", "position", "spring"):
            assert user not in names
        assert "def kernel(a0, a1, a2, p0):" in source


def test_vector_components_are_generated_names():
    """A vector variable is one argument; its components are a<i>_<k> locals."""
    f = sg.function("dot(x, y) + norm(x)", vectors={"x": 3, "y": 3})
    source = f.gradient().to_torch().source
    assert_only_generated_names(source)
    assert "def kernel(a0, a1):" in source
    assert "a0_2" in identifiers(source)


@pytest.mark.parametrize(
    "names",
    [
        ("torch", "math"),
        ("ops", "ref"),
        ("batch", "out"),
        ("value", "kernel"),
        ("a1", "a0"),
        ("p0", "t0"),
        ("t1", "t0"),
        ("x0", "x1"),
    ],
)
def test_user_names_that_look_like_generated_ones(names):
    """Variables called torch, ops, a1, t0, ... are renamed and compute the right values."""
    u, v = names
    f = sg.function(f"sin({u}*{v}) + cos({u}*{v}) + {u}*exp({u}*{v}) + {v}**2", [u, v])
    at = {u: torch.tensor([0.3, -0.5]), v: torch.tensor([1.2, 0.4])}
    su, sv = f.variables
    expected = torch.tensor(
        [float(f.expr.subs({su: float(at[u][i]), sv: float(at[v][i])})) for i in range(2)]
    )
    assert torch.allclose(f.to_torch()(**at), expected, rtol=1e-12)
    grad = f.gradient().to_torch()(**at)
    reference = autograd_partials(f.to_torch(), at)
    assert torch.allclose(grad, torch.stack([reference[u], reference[v]], -1), rtol=1e-12)
    assert_only_generated_names(f.gradient().to_torch().source)


def test_invalid_symbol_names_never_reach_the_source():
    """A sympy symbol whose name is code is refused before any code is generated."""
    for name in ("__import__('os').system('true')", "x; import os", "x y", "1x"):
        with pytest.raises(sg.VariableError):
            sg.function(sympy.Symbol(name) + 1)


def test_source_has_one_line_per_shared_subexpression():
    """Common subexpressions are computed once (CSE), not once per output."""
    f = sg.function("exp(sin(x*y))*x + exp(sin(x*y))*y")
    source = f.gradient().to_torch().source
    assert source.count("torch.exp(") == 1
    assert source.count("torch.sin(") == 1


def test_constant_outputs():
    """Constant partials (zeros, ones) are written directly and still have the batch shape."""
    f = sg.function("x + 2*y", "x y")
    grad = f.gradient()
    value = grad(x=torch.zeros(4), y=torch.zeros(4))
    assert torch.equal(value, torch.tensor([[1.0, 2.0]] * 4))
    hess = f.hessian()(x=torch.zeros(3), y=1.0)
    assert torch.equal(hess, torch.zeros(3, 2, 2))


def test_outputs_do_not_alias_inputs():
    """Returning an input unchanged copies it: writing to the result leaves the input alone."""
    f = sg.function("x", "x y")
    xv = torch.tensor([1.0, 2.0])
    out = f.to_torch()(x=xv, y=torch.zeros(2))
    out += 10
    assert torch.equal(xv, torch.tensor([1.0, 2.0]))


# -- unsupported functions -------------------------------------------------------------


def test_unsupported_function_is_a_clear_error():
    """A function torch lacks is an UnsupportedFunctionError naming it and what is supported."""
    x = sympy.Symbol("x", real=True)
    f = sg.function(sympy.besselj(0, x))
    with pytest.raises(sg.UnsupportedFunctionError) as info:
        f.to_torch()
    error = info.value
    assert isinstance(error, NotImplementedError)
    assert "besselj" in str(error)
    assert error.function == "besselj"
    assert "sin" in error.supported and "erf" in error.supported
    with pytest.raises(sg.UnsupportedFunctionError, match="besselj"):
        f(x=1.0)


def test_undefined_function_cannot_be_differentiated():
    """An undefined sympy Function has no closed-form derivative: UnsupportedFunctionError."""
    x = sympy.Symbol("x", real=True)
    g = sympy.Function("g")
    f = sg.function(g(x) * x)
    with pytest.raises(sg.UnsupportedFunctionError, match="g"):
        f.partial("x")
    with pytest.raises(sg.UnsupportedFunctionError, match="g"):
        f.to_torch()


def test_complex_constants_are_refused():
    """A complex constant cannot be compiled to real torch code."""
    x = sympy.Symbol("x", real=True)
    with pytest.raises(sg.UnsupportedFunctionError):
        sg.function(x + sympy.I).to_torch()


# -- values against torch.autograd -----------------------------------------------------

TOLERANCES = {
    torch.float64: {"rtol": 1e-9, "atol": 1e-10},
    torch.float32: {"rtol": 2e-4, "atol": 2e-5},
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("entry", TABLE, ids=lambda e: e.id)
def test_table_partials_equal_autograd(entry, dtype):
    """Each compiled closed-form partial equals torch.autograd on the compiled function."""
    f = entry.function()
    values = tensors(entry.points, dtype)
    reference = autograd_partials(f.to_torch(), values)
    for name in entry.points:
        ours = f.partial(name).to_torch()(**values)
        assert ours.dtype == dtype
        torch.testing.assert_close(ours, reference[name], **TOLERANCES[dtype])
    gradient = f.gradient().to_torch()(**values)
    stacked = torch.stack([reference[name] for name in entry.points], dim=-1)
    torch.testing.assert_close(gradient, stacked, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_seed_examples_equal_autograd(dtype):
    """The three seed examples agree with torch.autograd in float32 and float64."""
    tol = TOLERANCES[dtype]
    f = sg.function("x**2 + y**3")
    values = {
        "x": torch.tensor([2.0, -1.0], dtype=dtype),
        "y": torch.tensor([3.0, 0.5], dtype=dtype),
    }
    reference = autograd_partials(f.to_torch(), values)
    grad = f.gradient().to_torch()(**values)
    torch.testing.assert_close(grad, torch.stack([reference["x"], reference["y"]], -1), **tol)
    torch.testing.assert_close(grad[0], torch.tensor([4.0, 27.0], dtype=dtype), **tol)

    g = sg.function("sum(x*y)", vectors={"x": 2, "y": 2})
    values = {
        "x": torch.tensor([2.0, 3.0], dtype=dtype),
        "y": torch.tensor([1.0, 4.0], dtype=dtype),
    }
    reference = autograd_partials(g.to_torch(), values)
    torch.testing.assert_close(g.partial("x").to_torch()(**values), reference["x"], **tol)
    torch.testing.assert_close(g.partial("y").to_torch()(**values), reference["y"], **tol)

    h = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    xv, yv = values["x"], values["y"]
    module = h.to_torch()
    jx, jy = torch.autograd.functional.jacobian(lambda p, q: module(x=p, y=q), (xv, yv))
    jac = h.jacobian().to_torch()(x=xv, y=yv)
    assert jac.dtype == dtype
    torch.testing.assert_close(jac, torch.cat([jx, jy], dim=1), **tol)


@pytest.mark.parametrize(
    "text",
    [
        "sin(x*y)*exp(-x**2) + log(1 + y**2)",
        "atan2(y, x)*sqrt(x**2 + y**2)",
        "tanh(x)**3*y - x*y**4",
        "Piecewise((x**2*y, x < y), (sin(x)*y, True))",
    ],
)
def test_hessians_equal_autograd(text):
    """Compiled Hessians equal torch.autograd.functional.hessian of the compiled function."""
    f = sg.function(text, "x y")
    module = f.to_torch()
    hessian = f.hessian().to_torch()
    for point in ([0.3, 0.9], [-1.2, 0.4], [2.0, -0.7]):
        xv, yv = (torch.tensor(v) for v in point)
        h = torch.autograd.functional.hessian(lambda p, q: module(x=p, y=q), (xv, yv))
        reference = torch.stack([torch.stack(list(row)) for row in h])
        torch.testing.assert_close(hessian(x=xv, y=yv), reference, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(
    "text",
    [
        "exp(x)*x/(1 + y**2)**3 - 2*x**(1/3) + pi*x",
        "atan(atan(2)/(atan(y/(x**2 + 1))**2 + 1))",
        "Piecewise((x**2, x < y), (sin(y), True)) + 2**x",
        "sqrt(x**2 + y**2) - 1/sqrt(1 + x**2) + 1/x**2 - x*y/7",
        "gamma(1 + x**2) + loggamma(2 + y**2) + polygamma(1, 2 + x**2) + atan2(y, 1 + x**2)",
    ],
)
def test_symengine_and_sympy_printers_agree(text):
    """The direct SymEngine printer and the sympy printer compute the same values."""
    import symgrad._engine as engine

    f = sg.function(text, "x y")
    x = torch.linspace(0.2, 1.7, 11)
    y = torch.linspace(-0.9, 1.3, 11)
    fast = f.hessian().to_torch()
    with engine.using_backend("sympy"):
        slow_f = sg.function(text, "x y")
        slow = slow_f.hessian().to_torch()
    assert "t0" in fast.source or "o0" in fast.source
    assert torch.allclose(fast(x, y), slow(x, y), rtol=1e-12, atol=1e-12, equal_nan=True)

"""The symbolic engine: the SymEngine path and the sympy fallback agree; CSE round-trips."""

from __future__ import annotations

import pytest
import sympy
import torch

import symgrad as sg
from symgrad import _engine

x, y, z = sympy.symbols("x y z", real=True)

needs_symengine = pytest.mark.skipif(not _engine.HAS_SYMENGINE, reason="needs symengine")

SMOOTH = [
    "x**2 + y**3",
    "sin(x*y)*exp(x) + cos(z)/x",
    "log(x**2 + y**2) * atan2(y, x)",
    "tanh(x - y)**3 + sqrt(x**2 + 1)*z",
    "gamma(x)*loggamma(y) + erf(x*z)",
    "x**y + y**z",
    "asinh(x) + acosh(y**2 + 2) + atanh(z/3)",
    "sec(x)*csc(y) + cot(z)",
    "asech(x/2) + acsch(y) + acoth(z + 3) + erfc(x*y)",
    "Piecewise((x**2*y, x < y), (sin(x)*z, True))",
]
# SymEngine differentiates these wrongly (0) or not at all; symgrad must fall back.
NONSMOOTH = [
    "Heaviside(x - y)*x**2",
    "erfinv(x*y) + z",
    "Abs(x*y - z)**3",
    "Max(x, y)*z + Min(y, z)*x",
    "sign(x)*y**2 + z",
    "x*Abs(y) + Piecewise((Abs(z), x > 0), (z**2, True))",
    "exp(-Abs(x - 1))*erfinv(y/2)",
]
# Inside every domain above and away from the kinks of the non-smooth functions.
SAFE_POINTS = {
    "x": (0.3, 1.2, 0.45),
    "y": (0.9, 0.6, 1.3),
    "z": (0.2, 1.1, 0.7),
}


def _points() -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v, dtype=torch.float64) for k, v in SAFE_POINTS.items()}


def _derivatives(text: str, backend: str):
    with _engine.using_backend(backend):
        f = sg.function(text, "x y z")  # a fresh family: nothing cached from the other path
        return f.gradient(), f.hessian()


def _symbolically_equal(a: sympy.Expr, b: sympy.Expr) -> bool:
    return a == b or sympy.simplify(a - b) == 0


@needs_symengine
def test_default_backend_is_symengine_when_installed():
    """With symengine installed it is the preferred path; using_backend restores it."""
    assert _engine.backend() == "symengine"
    with _engine.using_backend("sympy"):
        assert _engine.backend() == "sympy"
    assert _engine.backend() == "symengine"


def test_set_backend_validates():
    """Unknown backend names are refused and leave the current choice alone."""
    before = _engine.backend()
    with pytest.raises(ValueError):
        _engine.set_backend("mathematica")
    with pytest.raises(ValueError), _engine.using_backend("nonsense"):
        pass
    assert _engine.backend() == before


def test_using_backend_restores_after_an_error():
    """The context manager restores the previous backend even when its body raises."""
    before = _engine.backend()
    with pytest.raises(RuntimeError), _engine.using_backend("sympy"):
        raise RuntimeError("boom")
    assert _engine.backend() == before


@needs_symengine
@pytest.mark.parametrize("text", SMOOTH + NONSMOOTH)
def test_paths_agree_on_gradients_and_hessians(text):
    """Gradients and Hessians are the same mathematics on both paths (symbolic and numeric)."""
    grad_se, hess_se = _derivatives(text, "symengine")
    grad_sp, hess_sp = _derivatives(text, "sympy")
    for ours, reference in zip(grad_se.outputs, grad_sp.outputs):
        assert _symbolically_equal(ours, reference), (ours, reference)
    points = _points()
    assert torch.allclose(grad_se(**points), grad_sp(**points), rtol=1e-10, atol=1e-12)
    assert torch.allclose(hess_se(**points), hess_sp(**points), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text", SMOOTH + NONSMOOTH)
def test_results_are_over_the_functions_real_symbols(text):
    """Every derivative is an expression in the function's own (real) variables."""
    f = sg.function(text, "x y z")
    allowed = set(f.variables)
    for d in (*f.gradient().outputs, *f.hessian().outputs):
        assert d.free_symbols <= allowed, (d, [(s, s.is_real) for s in d.free_symbols])
        assert not d.has(sympy.Derivative)


@pytest.mark.parametrize("text", SMOOTH + NONSMOOTH)
def test_gradient_matches_sympy_diff(text):
    """symgrad's gradient (default path) equals sympy.diff on the same expression."""
    f = sg.function(text, "x y z")
    for symbol, ours in zip((x, y, z), f.gradient().outputs):
        assert _symbolically_equal(ours, sympy.diff(f.expr, symbol)), (symbol, ours)


@pytest.mark.parametrize("backend", ["symengine", "sympy"])
@pytest.mark.parametrize(
    ("text", "wrt", "expected"),
    [
        ("Heaviside(x)*y", "x", sympy.DiracDelta(x) * y),
        (
            "Heaviside(x - y)*x**2",
            "x",
            sympy.DiracDelta(x - y) * x**2 + 2 * x * sympy.Heaviside(x - y),
        ),
        ("erfinv(x)", "x", sympy.sqrt(sympy.pi) * sympy.exp(sympy.erfinv(x) ** 2) / 2),
        ("Abs(x)", "x", sympy.sign(x)),
        ("Abs(x*y)", "y", x * sympy.sign(x * y)),
        ("Max(x, y)", "x", sympy.Heaviside(x - y)),
        ("Min(x, 2*y)", "y", 2 * sympy.Heaviside(x - 2 * y)),
        ("sin(x) + Abs(y)", "y", sympy.sign(y)),
    ],
)
def test_nonsmooth_derivatives_are_right_on_every_path(backend, text, wrt, expected):
    """Whatever path is preferred, Heaviside/erfinv/Abs/Max/Min differentiate correctly."""
    if backend == "symengine" and not _engine.HAS_SYMENGINE:
        pytest.skip("needs symengine")
    with _engine.using_backend(backend):
        ours = sg.function(text, "x y").partial(wrt).expr
    assert _symbolically_equal(ours, expected), ours


def test_nonsmooth_derivative_values():
    """Numerically, d/dx of |x - 1|*y + Max(x, y) is the one-sided slope away from the kinks."""
    f = sg.function("Abs(x - 1)*y + Max(x, y)")
    xv = torch.tensor([0.0, 2.0, 3.0])
    yv = torch.tensor([1.0, 1.0, 5.0])
    expected = torch.tensor([-1.0, 1.0, 1.0]) * yv + (xv > yv).double()
    assert torch.allclose(f.partial("x")(x=xv, y=yv), expected)


# -- common subexpressions -------------------------------------------------------------


def _rebuild(replacements, reduced):
    table = {}
    for temp, value in replacements:
        table[temp] = value.xreplace(table)
    return [r.xreplace(table) for r in reduced]


CSE_CASES = [
    [sympy.sin(x * y) + sympy.cos(x * y), sympy.exp(x * y) * sympy.sin(x * y)],
    [(x + y) ** 2, (x + y) ** 3 * z, sympy.sqrt(x + y)],
    [x, y, x * y],
    [sympy.exp(-(x**2) - y**2) * x, sympy.exp(-(x**2) - y**2) * y],
    [sympy.Piecewise((x**2 * y, x < y), (sympy.sin(x * y), True)), sympy.sin(x * y) ** 2],
    [sympy.Abs(x * y) + sympy.Heaviside(x * y), sympy.Abs(x * y) ** 2],
]


@pytest.mark.parametrize("backend", ["symengine", "sympy"])
@pytest.mark.parametrize("exprs", CSE_CASES)
def test_cse_round_trips(backend, exprs):
    """Substituting the replacements back into the reduced forms gives the originals."""
    if backend == "symengine" and not _engine.HAS_SYMENGINE:
        pytest.skip("needs symengine")
    with _engine.using_backend(backend):
        replacements, reduced = _engine.cse(exprs)
    assert len(reduced) == len(exprs)
    temps = [t for t, _ in replacements]
    assert len(set(temps)) == len(temps)
    inputs = set().union(*(e.free_symbols for e in exprs))
    assert inputs.isdisjoint(temps)
    seen: set = set()
    for temp, value in replacements:
        # each replacement only uses inputs and earlier temporaries
        assert value.free_symbols <= inputs | seen
        seen.add(temp)
    for original, rebuilt in zip(exprs, _rebuild(replacements, reduced)):
        assert _symbolically_equal(rebuilt, original), (original, rebuilt)


@pytest.mark.parametrize("backend", ["symengine", "sympy"])
@pytest.mark.parametrize("names", ["x0 x1", "t0 t1", "x1 x0", "a0 a1", "p0 t2", "t1 x0"])
def test_user_names_do_not_collide_with_temporaries(backend, names):
    """Variables named like CSE temporaries (x0, t0, ...) or generated args (a0, p0) work."""
    if backend == "symengine" and not _engine.HAS_SYMENGINE:
        pytest.skip("needs symengine")
    u, v = names.split()
    text = f"sin({u}*{v}) + cos({u}*{v}) + {u}*exp({u}*{v}) + ({u} + {v})**2*exp({u} + {v})"
    with _engine.using_backend(backend):
        f = sg.function(text, [u, v])
        exprs = [*f.gradient().outputs, f.expr]
        replacements, _ = _engine.cse(exprs)
        assert set(f.variables).isdisjoint(t for t, _ in replacements)
        at = {u: torch.tensor([0.3, -0.2]), v: torch.tensor([0.7, 1.1])}
        value = f(**at)
        grad = f.gradient()(**at)
    su, sv = f.variables
    for i in range(2):
        point = {su: float(at[u][i]), sv: float(at[v][i])}
        assert value[i].item() == pytest.approx(float(f.expr.subs(point)), rel=1e-12)
        for j, symbol in enumerate((su, sv)):
            expected = float(sympy.diff(f.expr, symbol).subs(point))
            assert grad[i, j].item() == pytest.approx(expected, rel=1e-12)


def test_repeated_derivatives_are_equal():
    """Asking twice gives equal Functions, and the Hessian equals the gradient's Jacobian."""
    f = sg.function("sin(x*y)*exp(z)")
    g1 = f.gradient()
    g2 = f.gradient()
    assert g1 == g2
    assert f.hessian() == g1.jacobian()
    assert f.hessian().exprs == sympy.hessian(f.expr, (x, y, z))

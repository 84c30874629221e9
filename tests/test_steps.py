"""Tests for `symgrad._steps`: rule-by-rule derivations that agree with the closed forms."""

from __future__ import annotations

import ast
import cmath
import doctest
import inspect
import random
import time

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from symgrad import UnsupportedFunctionError, _engine, _steps
from symgrad._steps import FALLBACK, Derivation, Step, derive_steps

x = sympy.Symbol("x", real=True)
y = sympy.Symbol("y", real=True)
POINTS = [random.Random(0).uniform(0.2, 1.8) for _ in range(4)]


def _value(expr: sympy.Expr, symbol: sympy.Symbol, point: float) -> complex | None:
    """`expr` at `symbol = point` (and `y = 0.6`), or None where it is not a finite number."""
    values = {symbol.name: sympy.Float(point, 30), y.name: sympy.Float(0.6, 30)}
    value = expr.xreplace({s: values[s.name] for s in expr.free_symbols}).evalf(30)
    try:
        number = complex(value)
    except TypeError:
        return None
    return number if cmath.isfinite(number) else None


def agree_numerically(a: sympy.Expr, b: sympy.Expr, symbol: sympy.Symbol) -> int:
    """Assert `a` and `b` agree at `POINTS`; return how many points could be checked."""
    checked = 0
    for point in POINTS:
        va, vb = _value(a, symbol, point), _value(b, symbol, point)
        if va is None or vb is None:
            continue
        assert abs(va - vb) <= 1e-12 * max(1.0, abs(va), abs(vb)), (a, b, point)
        checked += 1
    return checked


def closed_form(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """sympy's derivative, with floor and ceiling derivative 0 as in symgrad's engine."""
    return sympy.diff(expr, symbol).replace(
        lambda n: (
            isinstance(n, sympy.Derivative) and isinstance(n.expr, sympy.floor | sympy.ceiling)
        ),
        lambda n: sympy.S.Zero,
    )


def assert_closed_form(derivation: Derivation) -> None:
    """Assert the derivation's result is the closed form: by simplify, else numerically."""
    expected = closed_form(derivation.expr, derivation.symbol)
    if sympy.simplify(derivation.result - expected) == 0:
        return
    assert agree_numerically(derivation.result, expected, derivation.symbol) > 0


def rules(derivation: Derivation) -> list[str]:
    return [step.rule for step in derivation.steps()]


RULE_CASES = [
    (y**2 + 3, "constant"),
    (x, "variable"),
    (x + sympy.sin(x), "sum"),
    (3 * sympy.sin(x), "constant multiple"),
    (y * x**2, "constant multiple"),
    (x**3, "power"),
    (x**-2, "power"),
    (x**y, "power"),
    (sympy.sqrt(x), "sqrt"),
    (x * sympy.sin(x), "product"),
    (sympy.sin(x) / x, "quotient"),
    (sympy.exp(x) / (1 + x**2), "quotient"),
    (1 / (x * sympy.sin(x)), "quotient"),
    (sympy.sin(x**2), "chain"),
    (2**x, "exponential"),
    (y ** sympy.cos(x), "exponential"),
    (x**x, "general power"),
    (sympy.sin(x) ** sympy.cos(x), "general power"),
    (sympy.exp(x), "exp"),
    (sympy.log(x), "log"),
    (sympy.log(x, 2), "log"),
    *[(f(x), "trig") for f in (sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)],
    *[
        (f(x), "inverse trig")
        for f in (sympy.asin, sympy.acos, sympy.atan, sympy.acot, sympy.asec, sympy.acsc)
    ],
    (sympy.atan2(x**2, sympy.sin(x)), "inverse trig"),
    (sympy.atan2(y, x), "inverse trig"),
    *[
        (f(x), "hyperbolic")
        for f in (sympy.sinh, sympy.cosh, sympy.tanh, sympy.coth, sympy.sech, sympy.csch)
    ],
    *[
        (f(x), "inverse hyperbolic")
        for f in (sympy.asinh, sympy.acosh, sympy.atanh, sympy.acoth, sympy.asech, sympy.acsch)
    ],
    (sympy.Abs(x), "abs"),
    (sympy.Abs(sympy.sin(x)), "abs"),
    *[
        (f(x), "special function")
        for f in (sympy.erf, sympy.erfc, sympy.erfinv, sympy.gamma, sympy.loggamma)
    ],
    (sympy.polygamma(2, x), "special function"),
    (sympy.Piecewise((x**2, x > 0), (sympy.sin(x), True)), "piecewise"),
    (sympy.Heaviside(x), FALLBACK),
    (sympy.DiracDelta(x - 1), FALLBACK),
    (sympy.sign(x**2 - 1), FALLBACK),
    (x * sympy.floor(x), FALLBACK),
    (sympy.ceiling(x) + x, FALLBACK),
    (sympy.Max(x, x**2), FALLBACK),
    (sympy.Min(x, sympy.sin(x)), FALLBACK),
]


@pytest.mark.parametrize(("expr", "rule"), RULE_CASES, ids=lambda v: str(v))
def test_rule(expr, rule):
    """Each rule is named in the derivation and gives the closed-form derivative."""
    derivation = derive_steps(expr, x)
    assert rule in rules(derivation)
    assert derivation.result == derivation.root.result
    assert_closed_form(derivation)


def test_product_of_many_factors():
    """The product rule takes n factors at once, one substep per factor."""
    derivation = derive_steps(x * sympy.sin(x) * sympy.exp(x) * sympy.log(x), x)
    assert derivation.root.rule == "product"
    assert len(derivation.root.substeps) == 4
    assert_closed_form(derivation)


def test_quotient_splits_numerator_and_denominator():
    """f/g is one quotient step whose substeps differentiate f and then g."""
    root = derive_steps(sympy.sin(x) * sympy.exp(x) / (x**2 + 1), x).root
    assert root.rule == "quotient"
    assert [s.expr for s in root.substeps] == [sympy.sin(x) * sympy.exp(x), x**2 + 1]


def test_chain_rule_nesting():
    """f(g(h(x))) nests chain steps: outer derivative in u, then the inner derivation."""
    u = sympy.Symbol("u", real=True)
    derivation = derive_steps(sympy.sin(sympy.cos(x**2)), x)
    root = derivation.root
    assert root.rule == "chain"
    outer, inner = root.substeps
    assert (outer.rule, outer.expr, outer.result) == ("trig", sympy.sin(u), sympy.cos(u))
    assert inner.rule == "chain" and inner.expr == sympy.cos(x**2)
    assert [s.rule for s in inner.substeps] == ["trig", "power"]
    assert "u = cos(x**2)" in root.note
    assert rules(derivation) == ["chain", "trig", "chain", "trig", "power"]
    assert_closed_form(derivation)


def test_placeholder_avoids_the_expressions_names():
    """The chain rule's placeholder is not a name the expression already uses."""
    u = sympy.Symbol("u", real=True)
    v = sympy.Symbol("v", real=True)
    derivation = derive_steps(sympy.sin(u * x), x)
    assert derivation.root.substeps[0].expr == sympy.sin(v)
    assert "d/dv sin(v)" in derivation.to_text()
    assert_closed_form(derivation)


def test_fallback_uses_the_engine():
    """With no rule, the step says so and carries the engine's derivative."""
    expr = sympy.Heaviside(x**2 - 1)
    root = derive_steps(expr, x).root
    assert root.rule == FALLBACK
    assert "Heaviside" in root.note
    assert root.result == _engine.diff_table([expr], [x])[0][0]


def test_fallback_inside_a_chain():
    """A rule-less inner function is one fallback substep of an ordinary chain step."""
    derivation = derive_steps(sympy.exp(sympy.Max(x, 2 * x)), x)
    assert rules(derivation)[:3] == ["chain", "exp", FALLBACK]
    assert_closed_form(derivation)


def test_engine_errors_propagate():
    """A function the engine cannot differentiate raises its UnsupportedFunctionError."""
    with pytest.raises(UnsupportedFunctionError):
        derive_steps(sympy.sin(sympy.Function("f")(x)), x)


def test_steps_read_parent_first():
    """steps() lists each step before its substeps, depth first."""
    derivation = derive_steps(x * sympy.sin(x**2) + sympy.exp(x), x)
    steps = derivation.steps()
    assert steps[0] is derivation.root
    assert rules(derivation) == ["sum", "product", "variable", "chain", "trig", "power", "exp"]


def test_text_rendering():
    """to_text numbers steps 1., 1.1., ... and names each rule."""
    text = derive_steps(sympy.sin(x**2), x).to_text()
    assert text.splitlines() == [
        "1. chain: d/dx sin(x**2) = 2*x*cos(x**2)  [d/dx f(u) = f'(u)*du/dx, with u = x**2]",
        "  1.1. trig: d/du sin(u) = cos(u)  [d/du sin(u) = cos(u)]",
        "  1.2. power: d/dx x**2 = 2*x  [d/dx x**n = n*x**(n - 1)]",
    ]


def test_markdown_rendering():
    """to_markdown nests numbered lists four spaces a level, rules in bold, LaTeX maths."""
    lines = derive_steps(sympy.sin(x**2), x).to_markdown().splitlines()
    assert lines[0].startswith(
        r"1. **chain**: $\frac{\partial}{\partial x} \left(\sin{\left(x^{2} \right)}"
    )
    assert r"= 2 x \cos{\left(x^{2} \right)}$" in lines[0]
    assert lines[1].startswith(r"    1. **trig**: $\frac{d}{d u}")
    assert lines[2].startswith(
        r"    2. **power**: $\frac{\partial}{\partial x} \left(x^{2}\right) = 2 x$"
    )
    assert r"n\*x\*\*(n - 1)" in lines[2]  # notes are escaped


def test_markdown_nests_under_long_numbers():
    """Substeps of item 10 and beyond still nest: the indent is per level, not per marker."""
    expr = sympy.Add(*[x**k for k in range(1, 11)], sympy.sin(x**2))
    lines = derive_steps(expr, x).to_markdown().splitlines()
    item = next(i for i, line in enumerate(lines) if "**chain**" in line)
    assert lines[item].startswith("    11. ")
    assert lines[item + 1].startswith(" " * 8 + "1. **trig**")


def test_markdown_uses_given_symbol_names():
    """names= renders vector components as subscripts, as Function.latex() does."""
    x0 = sympy.Symbol("x[0]", real=True)
    text = derive_steps(x0**2, x0).to_markdown({x0: "x_{0}"})
    assert r"\partial x_{0}" in text and "x[0]" not in text


def test_vector_component_symbols():
    """Symbols named like x[0] are derived and rendered like any other."""
    x0 = sympy.Symbol("x[0]", real=True)
    x1 = sympy.Symbol("x[1]", real=True)
    derivation = derive_steps(x0**2 * sympy.sin(x1) + sympy.exp(x0 * x1), x0)
    assert rules(derivation) == [
        "sum", "constant multiple", "power", "chain", "exp", "constant multiple", "variable"
    ]  # fmt: skip
    assert "d/dx[0] x[0]**2" in derivation.to_text()
    assert r"\frac{\partial}{\partial x[0]}" in derivation.to_markdown()
    assert sympy.simplify(derivation.result - sympy.diff(derivation.expr, x0)) == 0


def test_inputs_are_checked():
    """Non-expressions and non-symbols are refused with a TypeError that says what to pass."""
    with pytest.raises(TypeError, match=r"symgrad\.parse"):
        derive_steps("x**2", x)
    with pytest.raises(TypeError, match="Symbol"):
        derive_steps(x**2, x**2)
    assert derive_steps(3, x).result == 0


def test_large_expressions_are_fast_and_never_simplified(monkeypatch):
    """A few hundred operations derive quickly, without simplify."""

    def refuse(*args, **kwargs):
        raise AssertionError("derive_steps called simplify")

    monkeypatch.setattr(sympy, "simplify", refuse)
    expr = sympy.Add(
        *[
            sympy.sin(k * x) * sympy.exp(x / k) / (x**2 + k) + sympy.sqrt(x + k) ** k
            for k in range(1, 30)
        ]
    )
    assert sympy.count_ops(expr) > 300
    start = time.perf_counter()
    derivation = derive_steps(expr, x)
    assert time.perf_counter() - start < 10
    assert agree_numerically(derivation.result, sympy.diff(expr, x), x) == len(POINTS)


def test_module_does_not_import_torch():
    """_steps is symbolic only: no torch import anywhere in its source."""
    tree = ast.parse(inspect.getsource(_steps))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    modules = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not any("torch" in (name or "") for name in names + modules)


def test_docstring_examples():
    """The examples in the module's docstrings run as written."""
    result = doctest.testmod(_steps, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_step_is_immutable():
    """Steps are frozen values."""
    step = derive_steps(x**2, x).root
    assert isinstance(step, Step)
    with pytest.raises(AttributeError):
        step.rule = "other"  # type: ignore[misc]


# ---------------------------------------------------------------------------------------
# Random expressions

_UNARY = [sympy.sin, sympy.cos, sympy.exp, sympy.log, sympy.sqrt, sympy.tanh, sympy.atan]
_BAD = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


_LEAVES = [x, x, x + 1, 2 * x, sympy.Integer(2), sympy.Rational(1, 3), y]


@st.composite
def expressions(draw, depth: int = 4) -> sympy.Expr:
    """Random expressions in x up to `depth` levels of functions and operators."""
    kind = draw(st.integers(0, 6)) if depth > 0 else 0
    if kind == 0:
        return draw(st.sampled_from(_LEAVES))
    a = draw(expressions(depth - 1))
    if kind <= 2:
        return draw(st.sampled_from(_UNARY))(a)
    if kind == 3:
        return a ** draw(st.integers(-3, 3))
    b = draw(expressions(depth - 1))
    return {4: a + b, 5: a * b, 6: a / b}[kind]


@given(expressions().filter(lambda e: e.has(x) and not e.has(*_BAD)))
def test_random_expressions_agree_with_sympy(expr):
    """derive_steps(...).result agrees with sympy.diff at random points."""
    derivation = derive_steps(expr, x)
    agree_numerically(derivation.result, sympy.diff(expr, x), x)

"""Step-by-step derivatives for people: which rule, applied to what, giving what.

`derive_steps(expr, x)` differentiates a sympy expression the way a person does on paper
and records every rule it applies as a `Step`: the rule's name, the expression it was
applied to, the derivative it gave, the steps it rested on and one sentence stating the
rule. The tree of steps comes back in a `Derivation`, which lists and renders it.

How it is built:

- **Dispatch on the expression's class.** `_RULES` maps sympy classes to small rule
  functions and is searched along the class's MRO, as sympy's printers find their
  `_print_<Class>` methods; a class with no entry gets the engine fallback. Two checks
  come before the table for every node: an expression free of `x` is a *constant*, and `x`
  itself is the *variable*.
- **Functions of one argument are data.** `_OUTER` gives each function class its rule
  name and its outer derivative `f'(u)`. One rule function turns an entry into a direct
  step for `f(x)`, or a *chain* step for `f(g(x))` whose two substeps are the outer
  derivative, taken in a placeholder `u` (a real symbol named `u`, `v`, `w`, `u_1`, ...:
  the first name the expression does not use), and the inner derivative `g'(x)`. The
  same chain step serves powers `g**n` and exponentials `a**g`.
- **Results are built bottom-up, never simplified.** A step's result combines its
  substeps' results using sympy's automatic evaluation only; shared subexpressions are
  derived once. The cost is linear in the size of the expression, and the result equals
  symgrad's closed form (`_engine.diff_table`) mathematically, not necessarily in form.
- **No rule, no pretence.** Heaviside, DiracDelta, sign, floor, ceiling, Max, Min, and
  anything not in the tables, get one step with rule `"no rule (engine result)"` whose
  result is the engine's derivative; an expression the engine cannot differentiate raises
  its `UnsupportedFunctionError`.

Symbols are assumed real, as everywhere in symgrad: `d|u|/du = sign(u)`.

This module is symbolic only: it imports sympy and symgrad's engine, never torch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import sympy

from . import _engine

__all__ = ["FALLBACK", "Derivation", "Step", "derive_steps"]

FALLBACK = "no rule (engine result)"


@dataclass(frozen=True)
class Step:
    """One rule applied once: `d/dv expr = result`, resting on `substeps`.

    `v` is the derivation's symbol, except in the first substep of a `"chain"` step: that
    one differentiates the outer function with respect to the chain's placeholder `u`
    (the chain's `note` says what `u` stands for).
    """

    rule: str
    expr: sympy.Expr
    result: sympy.Expr
    substeps: tuple[Step, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Derivation:
    """The steps that differentiate `expr` with respect to `symbol`.

    Read it top-down: a step first, then the steps it rests on, depth first. That is the
    order of `steps()` and of the numbered lists of `to_text()` and `to_markdown()`.

    ```python
    >>> x = sympy.Symbol("x", real=True)
    >>> print(derive_steps(sympy.sin(x**2), x).to_text())
    1. chain: d/dx sin(x**2) = 2*x*cos(x**2)  [d/dx f(u) = f'(u)*du/dx, with u = x**2]
      1.1. trig: d/du sin(u) = cos(u)  [d/du sin(u) = cos(u)]
      1.2. power: d/dx x**2 = 2*x  [d/dx x**n = n*x**(n - 1)]

    ```
    """

    expr: sympy.Expr
    symbol: sympy.Symbol
    root: Step
    result: sympy.Expr  # == root.result

    def steps(self) -> list[Step]:
        """Every step, each before its substeps, depth first: the order a person reads."""
        return [step for step, _, _ in self._walk()]

    def to_text(self) -> str:
        """Plain text: one line per step, numbered `1.`, `1.1.`, ..., indented by depth."""
        lines = []
        for step, path, v in self._walk():
            number = ".".join(map(str, path)) + "."
            line = f"{'  ' * (len(path) - 1)}{number} {step.rule}: d/d{v} {step.expr} = "
            line += str(step.result)
            if step.note:
                line += f"  [{step.note}]"
            lines.append(line)
        return "\n".join(lines)

    def to_markdown(self, names: Mapping[sympy.Symbol, str] | None = None) -> str:
        """A nested Markdown numbered list: the rule in bold, the step as inline LaTeX.

        Each level is indented by four spaces (Python-Markdown nests lists only so). The
        derivation's own symbol is written as a partial, the chain rule's placeholder `u`
        as an ordinary derivative. `names` maps symbols to LaTeX (`x[0]` -> `x_{0}`).
        """
        names = dict(names or {})

        def tex(expr) -> str:
            return sympy.latex(expr, symbol_names=names)

        lines = []
        for step, path, v in self._walk():
            d = r"\partial" if v == self.symbol else "d"
            frac = rf"\frac{{{d}}}{{{d} {tex(v)}}}"
            math = rf"${frac} \left({tex(step.expr)}\right) = {tex(step.result)}$"
            line = f"{'    ' * (len(path) - 1)}{path[-1]}. **{step.rule}**: {math}"
            if step.note:
                line += f" ({_escape_markdown(step.note)})"
            lines.append(line)
        return "\n".join(lines) + "\n"

    def _walk(self) -> Iterator[tuple[Step, tuple[int, ...], sympy.Symbol]]:
        """(step, its number path, the symbol it differentiates by), parent first."""
        placeholder = _placeholder(self.expr, self.symbol)
        stack = [(self.root, (1,), self.symbol)]
        while stack:
            step, path, v = stack.pop()
            yield step, path, v
            children = []
            for i, sub in enumerate(step.substeps):
                by = placeholder if step.rule == "chain" and i == 0 else v
                children.append((sub, (*path, i + 1), by))
            stack.extend(reversed(children))


def derive_steps(expr: sympy.Expr, symbol: sympy.Symbol) -> Derivation:
    """Differentiate `expr` with respect to `symbol`, recording each rule applied.

    **Arguments:**

    - `expr`: a sympy expression (parse text with `symgrad.parse` first).
    - `symbol`: the sympy `Symbol` to differentiate by; every other symbol is a constant.

    Returns a `Derivation` whose `result` equals symgrad's closed-form derivative.

    ```python
    >>> x = sympy.Symbol("x", real=True)
    >>> d = derive_steps(x * sympy.exp(x), x)
    >>> d.result
    x*exp(x) + exp(x)
    >>> [s.rule for s in d.steps()]
    ['product', 'variable', 'exp']

    ```
    """
    if isinstance(expr, int | float) and not isinstance(expr, bool):
        expr = sympy.sympify(expr)
    if not isinstance(expr, sympy.Expr):
        raise TypeError(
            f"derive_steps takes one sympy expression, got {type(expr).__name__}; parse text "
            "with symgrad.parse first, and derive each component of a vector on its own"
        )
    if not isinstance(symbol, sympy.Symbol):
        raise TypeError(
            f"derive_steps differentiates by a sympy Symbol, got {symbol!r} "
            f"({type(symbol).__name__}); e.g. sympy.Symbol('x', real=True)"
        )
    root = _Deriver(_placeholder(expr, symbol))(expr, symbol)
    return Derivation(expr=expr, symbol=symbol, root=root, result=root.result)


# ---------------------------------------------------------------------------------------
# The walk


def _placeholder(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Symbol:
    """The chain rule's `u`: a real symbol whose name `expr` and `symbol` do not use."""
    taken = {s.name for s in expr.free_symbols} | {symbol.name}
    names = itertools.chain(["u", "v", "w"], (f"u_{i}" for i in itertools.count(1)))
    return sympy.Symbol(next(n for n in names if n not in taken), real=True)


class _Deriver:
    """Derives nodes by the rule tables, each (node, symbol) pair once."""

    def __init__(self, placeholder: sympy.Symbol) -> None:
        self.placeholder = placeholder
        self.memo: dict[tuple[sympy.Expr, sympy.Symbol], Step] = {}

    def __call__(self, expr: sympy.Expr, v: sympy.Symbol) -> Step:
        key = (expr, v)
        step = self.memo.get(key)
        if step is None:
            step = self.memo[key] = self._derive(expr, v)
        return step

    def _derive(self, expr: sympy.Expr, v: sympy.Symbol) -> Step:
        if not expr.has(v):
            return Step("constant", expr, sympy.S.Zero, note="the derivative of a constant is 0")
        if expr == v:
            return Step("variable", expr, sympy.S.One, note=f"d/d{v} {v} = 1")
        for cls in type(expr).__mro__:
            rule = _RULES.get(cls)
            if rule is not None:
                return rule(self, expr, v)
        return _fallback(self, expr, v)


Rule = Callable[[_Deriver, sympy.Expr, sympy.Symbol], Step]


def _chain(
    d: _Deriver, expr: sympy.Expr, v: sympy.Symbol, inner: sympy.Expr, outer: sympy.Expr
) -> Step:
    """`expr` is `outer` with the placeholder `u` standing for `inner`."""
    u = d.placeholder
    outer_step = d(outer, u)
    inner_step = d(inner, v)
    result = outer_step.result.xreplace({u: inner}) * inner_step.result
    note = f"d/d{v} f({u}) = f'({u})*d{u}/d{v}, with {u} = {inner}"
    return Step("chain", expr, result, (outer_step, inner_step), note)


# ---------------------------------------------------------------------------------------
# Sums, products, quotients and powers


def _sum(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
    terms = tuple(d(term, v) for term in expr.args)
    result = sympy.Add(*[t.result for t in terms])
    return Step("sum", expr, result, terms, "the derivative of a sum is the sum of derivatives")


def _mul(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
    coeff, rest = expr.as_independent(v, as_Add=False)
    if coeff != 1:
        sub = d(rest, v)
        note = f"a constant factor stays: d/d{v} (c*f) = c*df/d{v}, with c = {coeff}"
        return Step("constant multiple", expr, coeff * sub.result, (sub,), note)
    numerator, denominator = [], []
    for factor in expr.args:
        if factor.is_Pow and not factor.exp.has(v) and factor.exp.could_extract_minus_sign():
            denominator.append(factor.base ** (-factor.exp))
        else:
            numerator.append(factor)
    if denominator:
        return _quotient(d, expr, v, sympy.Mul(*numerator), sympy.Mul(*denominator))
    return _product(d, expr, v, expr.args)


def _product(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol, factors) -> Step:
    subs = tuple(d(f, v) for f in factors)
    terms = [sympy.Mul(*factors[:i], sub.result, *factors[i + 1 :]) for i, sub in enumerate(subs)]
    note = "d(f*g) = f'*g + f*g': differentiate one factor at a time, keep the others"
    return Step("product", expr, sympy.Add(*terms), subs, note)


def _quotient(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol, f: sympy.Expr, g: sympy.Expr) -> Step:
    fs, gs = d(f, v), d(g, v)
    result = (fs.result * g - f * gs.result) / g**2
    note = f"d(f/g) = (f'*g - f*g')/g**2, with f = {f} and g = {g}"
    return Step("quotient", expr, result, (fs, gs), note)


def _pow(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
    base, exponent = expr.args
    if not exponent.has(v):
        if base != v:
            return _chain(d, expr, v, base, d.placeholder**exponent)
        if exponent == sympy.S.Half:
            note = f"d/d{v} sqrt({v}) = 1/(2*sqrt({v}))"
            return Step("sqrt", expr, 1 / (2 * sympy.sqrt(v)), note=note)
        note = f"d/d{v} {v}**n = n*{v}**(n - 1)"
        return Step("power", expr, exponent * v ** (exponent - 1), note=note)
    if not base.has(v):
        if exponent != v:
            return _chain(d, expr, v, exponent, base**d.placeholder)
        note = f"d/d{v} a**{v} = a**{v}*log(a), with a = {base}"
        return Step("exponential", expr, expr * sympy.log(base), note=note)
    fs, gs = d(base, v), d(exponent, v)
    result = expr * (gs.result * sympy.log(base) + exponent * fs.result / base)
    note = f"d(f**g) = f**g*(g'*log(f) + g*f'/f), with f = {base} and g = {exponent}"
    return Step("general power", expr, result, (fs, gs), note)


# ---------------------------------------------------------------------------------------
# Functions


class _Outer(NamedTuple):
    rule: str
    derivative: Callable[..., sympy.Expr]  # (*constant args, u) -> f'(u)
    note: str = ""  # default: "d/du f(u) = f'(u)"


def _sympy_formula(cls) -> Callable[..., sympy.Expr]:
    """sympy's own derivative of `cls` in its last argument."""
    return lambda *args: cls(*args).fdiff(len(args))


_OUTER: dict[type, _Outer] = {
    sympy.exp: _Outer("exp", sympy.exp),
    sympy.log: _Outer("log", lambda u: 1 / u),
    sympy.sin: _Outer("trig", sympy.cos),
    sympy.cos: _Outer("trig", lambda u: -sympy.sin(u)),
    sympy.tan: _Outer("trig", lambda u: sympy.sec(u) ** 2),
    sympy.cot: _Outer("trig", lambda u: -(sympy.csc(u) ** 2)),
    sympy.sec: _Outer("trig", lambda u: sympy.sec(u) * sympy.tan(u)),
    sympy.csc: _Outer("trig", lambda u: -sympy.csc(u) * sympy.cot(u)),
    sympy.asin: _Outer("inverse trig", lambda u: 1 / sympy.sqrt(1 - u**2)),
    sympy.acos: _Outer("inverse trig", lambda u: -1 / sympy.sqrt(1 - u**2)),
    sympy.atan: _Outer("inverse trig", lambda u: 1 / (1 + u**2)),
    sympy.acot: _Outer("inverse trig", lambda u: -1 / (1 + u**2)),
    sympy.asec: _Outer("inverse trig", _sympy_formula(sympy.asec), "= 1/(|u|*sqrt(u**2 - 1))"),
    sympy.acsc: _Outer("inverse trig", _sympy_formula(sympy.acsc), "= -1/(|u|*sqrt(u**2 - 1))"),
    sympy.sinh: _Outer("hyperbolic", sympy.cosh),
    sympy.cosh: _Outer("hyperbolic", sympy.sinh),
    sympy.tanh: _Outer("hyperbolic", lambda u: sympy.sech(u) ** 2),
    sympy.coth: _Outer("hyperbolic", lambda u: -(sympy.csch(u) ** 2)),
    sympy.sech: _Outer("hyperbolic", lambda u: -sympy.sech(u) * sympy.tanh(u)),
    sympy.csch: _Outer("hyperbolic", lambda u: -sympy.csch(u) * sympy.coth(u)),
    sympy.asinh: _Outer("inverse hyperbolic", lambda u: 1 / sympy.sqrt(u**2 + 1)),
    sympy.acosh: _Outer("inverse hyperbolic", _sympy_formula(sympy.acosh), "= 1/sqrt(u**2 - 1)"),
    sympy.atanh: _Outer("inverse hyperbolic", lambda u: 1 / (1 - u**2)),
    sympy.acoth: _Outer("inverse hyperbolic", lambda u: 1 / (1 - u**2)),
    sympy.asech: _Outer("inverse hyperbolic", _sympy_formula(sympy.asech)),
    sympy.acsch: _Outer("inverse hyperbolic", _sympy_formula(sympy.acsch)),
    sympy.Abs: _Outer("abs", sympy.sign, "for real u; undefined at u = 0"),
    **{
        cls: _Outer("special function", _sympy_formula(cls), "sympy's formula")
        for cls in (sympy.erf, sympy.erfc, sympy.erfinv, sympy.gamma, sympy.loggamma)
    },
    sympy.polygamma: _Outer(
        "special function", _sympy_formula(sympy.polygamma), "sympy's formula; n constant"
    ),
}


_U = sympy.Symbol("u", real=True)  # for stating rules in notes


def _outer_rule(outer: _Outer) -> Rule:
    def rule(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
        *params, arg = expr.args
        if any(p.has(v) for p in params):
            return _fallback(d, expr, v)
        if arg != v:
            return _chain(d, expr, v, arg, expr.func(*params, d.placeholder))
        result = outer.derivative(*params, v)
        note = f"d/du {expr.func(*params, _U)} = {outer.derivative(*params, _U)}"
        if outer.note:
            note += f" {outer.note}" if outer.note.startswith("=") else f" ({outer.note})"
        return Step(outer.rule, expr, result, note=note)

    return rule


def _atan2(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
    y, x = expr.args
    ys, xs = d(y, v), d(x, v)
    result = (x * ys.result - y * xs.result) / (x**2 + y**2)
    note = f"d atan2(y, x) = (x*y' - y*x')/(x**2 + y**2), with y = {y} and x = {x}"
    return Step("inverse trig", expr, result, (ys, xs), note)


def _piecewise(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
    branches = tuple(d(value, v) for value, _ in expr.args)
    result = sympy.Piecewise(
        *[(b.result, cond) for b, (_, cond) in zip(branches, expr.args, strict=True)]
    )
    note = "differentiate each branch under its own condition (not defined on the boundaries)"
    return Step("piecewise", expr, result, branches, note)


def _fallback(d: _Deriver, expr: sympy.Expr, v: sympy.Symbol) -> Step:
    result = _engine.diff_table([expr], [v])[0][0]
    name = getattr(expr.func, "__name__", type(expr).__name__)
    note = f"no step rule for {name}; the result is symgrad's engine derivative"
    return Step(FALLBACK, expr, result, note=note)


_RULES: dict[type, Rule] = {
    sympy.Add: _sum,
    sympy.Mul: _mul,
    sympy.Pow: _pow,
    sympy.atan2: _atan2,
    sympy.Piecewise: _piecewise,
    **{cls: _outer_rule(outer) for cls, outer in _OUTER.items()},
    # Named so that the table documents them: no rule a person would write applies.
    **{
        cls: _fallback
        for cls in (
            sympy.Heaviside,
            sympy.DiracDelta,
            sympy.sign,
            sympy.floor,
            sympy.ceiling,
            sympy.Max,
            sympy.Min,
        )
    },
}


def _escape_markdown(text: str) -> str:
    for ch in "\\`*_[]<>|$":
        text = text.replace(ch, "\\" + ch)
    return text

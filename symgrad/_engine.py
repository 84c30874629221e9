"""Differentiation and common-subexpression elimination, fast where it is safe.

Two paths give the same mathematics:

- **SymEngine** (the `symengine` package, optional): a C++ core, 10-50x faster than sympy for
  differentiating and eliminating common subexpressions of large expressions. It is used
  only for expressions built from functions it differentiates correctly: it treats
  functions it does not know (Heaviside, DiracDelta, erfinv) as constants and returns
  `0` for their derivatives, and leaves `Abs`, `sign`, `Max`, `Min` underived.
- **sympy**: everything else, and everything when SymEngine is not installed.

Results come back as sympy expressions over symgrad's real symbols either way, so callers
never see which path ran. `set_backend("sympy")` forces the fallback (tests compare both).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

import sympy
from sympy.functions.elementary.piecewise import ExprCondPair

from ._errors import UnsupportedFunctionError

try:  # optional accelerator
    import symengine as _se
except ImportError:  # pragma: no cover - exercised where symengine is absent
    _se = None

__all__ = [
    "HAS_SYMENGINE",
    "backend",
    "cse",
    "diff_table",
    "set_backend",
    "using_backend",
]

HAS_SYMENGINE = _se is not None

# Functions whose derivatives SymEngine gets right (checked against sympy in the tests).
_SYMENGINE_SAFE = frozenset(
    getattr(sympy, name)
    for name in (
        "exp log sin cos tan cot sec csc asin acos atan acot asec acsc sinh cosh tanh coth "
        "sech csch asinh acosh atanh acoth asech acsch atan2 erf erfc gamma loggamma polygamma"
    ).split()
)
# Piecewise conditions survive the round trip, but its derivative is only as good as its
# branches'; the branch functions are checked like any other.
_SYMENGINE_SAFE_NODES = (
    sympy.Symbol,
    sympy.Number,
    sympy.NumberSymbol,
    sympy.Add,
    sympy.Mul,
    sympy.Pow,
    sympy.Piecewise,
    sympy.core.relational.Relational,
    sympy.logic.boolalg.BooleanAtom,
    sympy.And,
    sympy.Or,
    sympy.Not,
    ExprCondPair,
)

_backend = "symengine" if HAS_SYMENGINE else "sympy"


def backend() -> str:
    """The preferred path: `"symengine"` when installed, else `"sympy"`."""
    return _backend


def set_backend(name: str) -> None:
    """Prefer `"symengine"` or `"sympy"`; SymEngine still applies only where it is safe."""
    global _backend
    if name not in ("symengine", "sympy"):
        raise ValueError(f"backend must be 'symengine' or 'sympy', got {name!r}")
    if name == "symengine" and not HAS_SYMENGINE:
        raise ValueError("the symengine backend needs `pip install symengine`")
    _backend = name


@contextmanager
def using_backend(name: str):
    """Temporarily prefer a path: `with using_backend("sympy"): ...`."""
    previous = _backend
    set_backend(name)
    try:
        yield
    finally:
        set_backend(previous)


def _symengine_safe(exprs: Sequence[sympy.Basic]) -> bool:
    if _backend != "symengine":
        return False
    for expr in exprs:
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, sympy.Function):
                if node.func not in _SYMENGINE_SAFE:
                    return False
            elif not isinstance(node, _SYMENGINE_SAFE_NODES):
                return False
    return True


class _Renaming:
    """Sends symgrad's symbols to SymEngine under neutral names and brings results back.

    SymEngine forgets assumptions (our symbols are real) and names its CSE temporaries
    `x0, x1, ...`, which a user's variables may also be called; placeholders avoid both.
    """

    def __init__(self, exprs: Sequence[sympy.Basic], extra: Sequence[sympy.Symbol] = ()):
        symbols = {s for e in exprs for s in e.free_symbols} | set(extra)
        ordered = sorted(symbols, key=lambda s: s.name)
        self.forward = {s: sympy.Symbol(f"_sg{i}") for i, s in enumerate(ordered)}
        self.backward = {v: k for k, v in self.forward.items()}

    def to_symengine(self, expr: sympy.Basic):
        return _se.sympify(expr.xreplace(self.forward))

    def symbol(self, symbol: sympy.Symbol):
        return _se.Symbol(self.forward[symbol].name)

    def to_sympy(self, value, temporaries: dict | None = None) -> sympy.Expr:
        table = self.backward if temporaries is None else {**self.backward, **temporaries}
        return sympy.sympify(value).xreplace(table)


# Derivatives sympy leaves unevaluated but that are zero almost everywhere (and whose
# torch counterparts have zero gradients).
_PIECEWISE_CONSTANT = (sympy.floor, sympy.ceiling)


def _finish(derivative: sympy.Expr) -> sympy.Expr:
    if not derivative.has(sympy.Derivative):
        return derivative
    replacements = {}
    for node in derivative.atoms(sympy.Derivative):
        if isinstance(node.expr, _PIECEWISE_CONSTANT):
            replacements[node] = sympy.S.Zero
        else:
            name = getattr(node.expr.func, "__name__", str(node.expr.func))
            raise UnsupportedFunctionError(name, context="for differentiation")
    return derivative.xreplace(replacements)


def diff_table(
    exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol]
) -> list[list[sympy.Expr]]:
    """`table[i][j]` is d exprs[i] / d symbols[j], in one pass over all of them."""
    exprs = list(exprs)
    symbols = list(symbols)
    if exprs and symbols and _symengine_safe(exprs):
        names = _Renaming(exprs, symbols)
        se_symbols = [names.symbol(s) for s in symbols]
        flat = [e.diff(s) for e in map(names.to_symengine, exprs) for s in se_symbols]
        back = [names.to_sympy(v) for v in flat]
        n = len(symbols)
        return [back[i * n : (i + 1) * n] for i in range(len(exprs))]
    return [[_finish(sympy.diff(e, s)) for s in symbols] for e in exprs]


def cse(exprs: Sequence[sympy.Expr], prefix: str = "t"):
    """Common subexpressions of `exprs`: `(replacements, reduced)` as in `sympy.cse`.

    Temporaries are named `prefix0, prefix1, ...`; each replacement only uses earlier ones.
    """
    exprs = list(exprs)
    if exprs and _symengine_safe(exprs):
        names = _Renaming(exprs)
        replacements, reduced = _se.cse([names.to_symengine(e) for e in exprs])
        temps = {
            sympy.Symbol(str(temp)): sympy.Symbol(f"{prefix}{i}", real=True)
            for i, (temp, _) in enumerate(replacements)
        }
        pairs = [(temps[sympy.Symbol(str(t))], names.to_sympy(v, temps)) for t, v in replacements]
        return pairs, [names.to_sympy(v, temps) for v in reduced]
    names = sympy.numbered_symbols(prefix, real=True)
    replacements, reduced = sympy.cse(exprs, symbols=names, order="none")
    return list(replacements), list(reduced)

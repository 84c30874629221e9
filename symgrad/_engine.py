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

import functools
from collections import OrderedDict
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
    "REAL_SYMBOL",
    "backend",
    "cse",
    "cse_symengine",
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
        "sech csch asinh acosh atanh acoth atan2 erf erfc gamma loggamma polygamma"
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


if HAS_SYMENGINE:

    class _RealSymbol(_se.Symbol):
        """A SymEngine symbol that comes back to sympy as symgrad's real symbol.

        SymEngine forgets sympy's assumptions; this subclass survives its arithmetic and
        converts back without a rebuilding pass over every result.
        """

        def __init__(self, name, *args, **kwargs):
            # store_pickle avoids the reference cycle SymEngine warns about for subclasses.
            super().__init__(name, *args, store_pickle=True)

        def __reduce__(self):
            return (_RealSymbol, (str(self),))

        def _sympy_(self):
            return sympy.Symbol(str(self), real=True)


REAL_SYMBOL = _RealSymbol if HAS_SYMENGINE else None


@functools.lru_cache(maxsize=4096)
def _real_symbol(name: str):
    return _RealSymbol(name)


# sympy expression -> its SymEngine form, so that derivatives of derivatives (a Hessian
# after a gradient) do not convert the same expressions twice.
_SE_CACHE: OrderedDict = OrderedDict()
_SE_CACHE_SIZE = 20_000


def _to_symengine(expr: sympy.Expr):
    cached = _SE_CACHE.get(expr)
    if cached is not None:
        _SE_CACHE.move_to_end(expr)
        return cached
    value = _se.sympify(expr)
    table = {_se.Symbol(s.name): _real_symbol(s.name) for s in expr.free_symbols}
    return value.xreplace(table) if table else value


def _to_sympy(value, known: dict[str, sympy.Symbol], *, cache: bool = True) -> sympy.Expr:
    expr = sympy.sympify(value)
    # Functions SymEngine delegates back to sympy (erfc, acoth, ...) can return derivatives
    # over plain symbols; put symgrad's real ones back. (Looked for on SymEngine's side,
    # where free_symbols is cheap.)
    plain = [s for s in value.free_symbols if not isinstance(s, _RealSymbol)]
    strays = {sympy.Symbol(str(s)): known[str(s)] for s in plain if str(s) in known}
    if strays:
        # Not cached: its SymEngine form holds the plain symbols, so differentiating it
        # again there would see constants.
        return expr.xreplace(strays)
    if not cache:
        return expr
    _SE_CACHE[expr] = value
    if len(_SE_CACHE) > _SE_CACHE_SIZE:
        _SE_CACHE.popitem(last=False)
    return expr


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
        se_symbols = [_real_symbol(s.name) for s in symbols]
        flat = [e.diff(s) for e in map(_to_symengine, exprs) for s in se_symbols]
        known = {s.name: s for e in exprs for s in e.free_symbols}
        known.update((s.name, s) for s in symbols)
        # Equal SymEngine results (the two halves of a symmetric Hessian, usually) are
        # converted to sympy once: the conversion, not the differentiation, is the cost.
        converted: dict = {}
        back = [
            converted[v] if v in converted else converted.setdefault(v, _to_sympy(v, known))
            for v in flat
        ]
        n = len(symbols)
        return [back[i * n : (i + 1) * n] for i in range(len(exprs))]
    return [[_finish(sympy.diff(e, s)) for s in symbols] for e in exprs]


def cse_symengine(exprs: Sequence[sympy.Expr]):
    """`cse` kept in SymEngine's objects, for printing them directly; `None` where the
    SymEngine path does not apply. Temporaries are plain SymEngine symbols, inputs are
    `REAL_SYMBOL` instances."""
    exprs = list(exprs)
    if not (exprs and _symengine_safe(exprs)):
        return None
    return _se.cse([_to_symengine(e) for e in exprs])


def cse(exprs: Sequence[sympy.Expr]):
    """Common subexpressions of `exprs`: `(replacements, reduced)` as in `sympy.cse`.

    Each replacement only uses earlier ones. The temporaries are symbols that cannot equal
    any of symgrad's (they are not real, or are Dummies); callers name them for printing.
    """
    exprs = list(exprs)
    if exprs and _symengine_safe(exprs):
        replacements, reduced = _se.cse([_to_symengine(e) for e in exprs])
        known = {s.name: s for e in exprs for s in e.free_symbols}
        # The pieces only go to the code printer, never to a user, so they need not be
        # sympy's canonical form: skipping evaluation makes the conversion ~4x faster.
        with sympy.evaluate(False):
            pairs = [(sympy.sympify(t), _to_sympy(v, known, cache=False)) for t, v in replacements]
            return pairs, [_to_sympy(v, known, cache=False) for v in reduced]
    temporaries = sympy.numbered_symbols("t", cls=sympy.Dummy)
    replacements, reduced = sympy.cse(exprs, symbols=temporaries, order="none")
    return list(replacements), list(reduced)

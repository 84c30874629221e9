"""Hypothesis strategies for symgrad expressions (needs `pip install hypothesis`).

Use them to test your own code against symgrad, or symgrad against torch.autograd:

```python
from hypothesis import given
import symgrad as sg
from symgrad.testing import expressions

@given(expressions())
def test_gradient_matches_autograd(expr):
    assert sg.check(sg.function(expr, "x y z"), order=2, samples=32).ok
```

Generated expressions stay finite on the whole real line: functions with a restricted
domain only see arguments that respect it (`log(1 + u**2)`, `sqrt(1 + u**2)`,
`1/(1 + u**2)`), and growth is tamed (`exp(tanh(u))`), so every sampled point is compared.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from hypothesis import strategies as st

from ._parse import variable_symbol

__all__ = ["DEFAULT_VARIABLES", "expression_texts", "expressions"]

DEFAULT_VARIABLES = ("x", "y", "z")


def _square_plus_one(u):
    return 1 + u**2


# Each entry builds a real-analytic (or, for Abs/Max, almost-everywhere smooth) function of
# its arguments that is finite for every real input.
_UNARY = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tanh": sympy.tanh,
    "atan": sympy.atan,
    "erf": sympy.erf,
    "exp_tanh": lambda u: sympy.exp(sympy.tanh(u)),
    "log_1p_sq": lambda u: sympy.log(_square_plus_one(u)),
    "sqrt_1p_sq": lambda u: sympy.sqrt(_square_plus_one(u)),
    "recip_1p_sq": lambda u: 1 / _square_plus_one(u),
    "square": lambda u: u**2,
    "cube": lambda u: u**3,
    "neg": lambda u: -u,
}
_NONSMOOTH = {"abs": sympy.Abs}
_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div_safe": lambda a, b: a / _square_plus_one(b),
    "atan2_safe": lambda a, b: sympy.atan2(a, _square_plus_one(b)),
}
_BINARY_NONSMOOTH = {"max": sympy.Max, "min": sympy.Min}


@st.composite
def _trees(draw, leaves, unary, binary, depth):
    # A hand-rolled recursion: st.recursive mostly yields bare leaves, and a derivative
    # test needs nesting (chain rules inside products inside quotients) to mean anything.
    if depth == 0 or draw(st.integers(min_value=0, max_value=9)) < 2:
        return draw(leaves)
    if draw(st.booleans()):
        name = draw(st.sampled_from(sorted(unary)))
        return unary[name](draw(_trees(leaves, unary, binary, depth - 1)))
    name = draw(st.sampled_from(sorted(binary)))
    left = draw(_trees(leaves, unary, binary, depth - 1))
    right = draw(_trees(leaves, unary, binary, depth - 1))
    return binary[name](left, right)


def expressions(
    variables: Sequence[str] = DEFAULT_VARIABLES,
    *,
    max_depth: int = 4,
    nonsmooth: bool = True,
) -> st.SearchStrategy[sympy.Expr]:
    """Random sympy expressions over real `variables`, finite everywhere.

    **Arguments:**

    - `variables`: names of the variables that may appear.
    - `max_depth`: the deepest nesting of operations (hypothesis shrinks towards shallow).
    - `nonsmooth`: include `Abs`, `Max` and `Min` (kinks on sets of measure zero).
    """
    symbols = [variable_symbol(v) for v in variables]
    leaves = st.one_of(
        st.sampled_from(symbols),
        st.integers(min_value=-3, max_value=3).map(sympy.Integer),
        st.fractions(min_value=-2, max_value=2, max_denominator=5).map(sympy.Rational),
    )
    unary = dict(_UNARY, **(_NONSMOOTH if nonsmooth else {}))
    binary = dict(_BINARY, **(_BINARY_NONSMOOTH if nonsmooth else {}))
    return _trees(leaves, unary, binary, max_depth)


def expression_texts(
    variables: Sequence[str] = DEFAULT_VARIABLES, *, max_depth: int = 4
) -> st.SearchStrategy[str]:
    """The same expressions as `expressions`, printed as text `symgrad.parse` accepts."""
    return expressions(variables, max_depth=max_depth).map(sympy.sstr)

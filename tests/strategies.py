"""Hypothesis strategies that build expression *text* for the parser's property tests.

The grammar: variables `x, y, z`, small integers, `+ - * / **` and the functions
`sin cos exp log sqrt tanh atan`. It is shaped so that every generated text is defined:
divisors are variables or `(e)**2 + k` with `k >= 1`, `log` and `sqrt` take `(e)**2 + k`,
and exponents are small positive integers or a variable, so nothing evaluates to `zoo`,
`nan` or a complex number while parsing.
"""

from __future__ import annotations

from hypothesis import strategies as st

VARIABLES = ("x", "y", "z")
SMOOTH = ("sin", "cos", "exp", "tanh", "atan")
POSITIVE_ONLY = ("log", "sqrt")

leaves = st.one_of(
    st.sampled_from(VARIABLES),
    st.integers(min_value=1, max_value=9).map(str),
)


def _positive(e: str, k: int) -> str:
    return f"(({e})**2 + {k})"


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    small = st.integers(min_value=1, max_value=3)
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(children, st.sampled_from(VARIABLES)).map(lambda t: f"({t[0]} / {t[1]})"),
        st.tuples(children, children, small).map(lambda t: f"({t[0]} / {_positive(t[1], t[2])})"),
        st.tuples(children, st.sampled_from(["2", "3", "x", "y"])).map(
            lambda t: f"({t[0]})**{t[1]}"
        ),
        st.tuples(children, st.sampled_from(["2", "3"])).map(lambda t: f"({t[0]})^{t[1]}"),
        children.map(lambda e: f"-({e})"),
        st.tuples(st.sampled_from(SMOOTH), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(POSITIVE_ONLY), children, small).map(
            lambda t: f"{t[0]}({_positive(t[1], t[2])})"
        ),
    )


expression_text = st.recursive(leaves, _extend, max_leaves=8)
"""Text of a well-defined expression over x, y, z (at most 8 leaves)."""


def _atom(draw) -> str:
    sign = draw(st.sampled_from(["", "", "-", "+", "--"]))
    return sign + draw(st.one_of(st.sampled_from(VARIABLES), st.sampled_from("12345")))


@st.composite
def _flat_text(draw) -> str:
    """Text without parentheses: signed atoms joined by `+ - * / ** ^` (stresses precedence)."""
    n = draw(st.integers(min_value=1, max_value=6))
    parts = [_atom(draw)]
    for _ in range(n - 1):
        parts.append(draw(st.sampled_from(["+", "-", "*", "/", "**", "^"])))
        parts.append(_atom(draw))
    return " ".join(parts)


flat_text = _flat_text()
"""Text of signed atoms and binary operators, no parentheses (e.g. `-x ^ 2 * 3 / -y`)."""

"""Deterministic random expressions of a given size, for the symbolic-phase benchmarks."""

from __future__ import annotations

import random

import sympy

REFERENCE = (
    "sin(x0*x1) + exp(-x2**2)*cos(x3) + log(1 + x4**2)*x5 + x0*x1*x2/(1 + x3**2) + tanh(x4*x5 - x0)"
)

_UNARY = (sympy.sin, sympy.cos, sympy.exp, sympy.tanh, sympy.atan)


def random_expression(n_vars: int, n_ops: int, seed: int = 0) -> sympy.Expr:
    """A sum of random terms over `x0..x{n_vars-1}` with about `n_ops` operations."""
    rng = random.Random(seed)
    xs = sympy.symbols(f"x0:{n_vars}", real=True)
    terms = []
    while sum(sympy.count_ops(t) for t in terms) + len(terms) < n_ops:
        a, b, c = (rng.choice(xs) for _ in range(3))
        inner = rng.choice([a * b, a + b * c, a * b - c, a**2 + b])
        fn = rng.choice(_UNARY)
        coefficient = sympy.Rational(rng.randint(1, 9), rng.randint(1, 9))
        terms.append(coefficient * fn(inner) * rng.choice([c, 1 + a**2, b]))
    return sympy.Add(*terms)

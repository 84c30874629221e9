"""Symbolic phase: derive, eliminate common subexpressions and generate code.

Times the Hessian (and gradient) of generated expressions through the SymEngine path and
the sympy path, each on a fresh `Function` so no cache helps.

    python -m benchmarks.symbolic            # the reference case and a size sweep
"""

from __future__ import annotations

import argparse
import time

import sympy

import symgrad as sg
from symgrad import _codegen, _engine

from .expressions import random_expression


def time_hessian(expr: sympy.Expr, backend: str) -> dict[str, float]:
    _codegen.generate.cache_clear()
    with _engine.using_backend(backend):
        start = time.perf_counter()
        f = sg.function(expr)
        hessian = f.hessian()
        derived = time.perf_counter()
        _codegen.generate(hessian.outputs, hessian.shape, hessian.inputs)
        done = time.perf_counter()
    return {"derive_s": derived - start, "codegen_s": done - derived, "total_s": done - start}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the reference case only")
    args = parser.parse_args(argv)
    cases = [(20, 600)] if args.quick else [(10, 100), (20, 600), (50, 2000), (50, 5000)]
    backends = ["symengine", "sympy"] if _engine.HAS_SYMENGINE else ["sympy"]
    print("| variables | operations | path | derive (s) | cse+codegen (s) | total (s) |")
    print("|---|---|---|---|---|---|")
    for n_vars, n_ops in cases:
        expr = random_expression(n_vars, n_ops)
        ops = sympy.count_ops(expr)
        for backend in backends:
            if backend == "sympy" and n_ops > 1000:
                continue  # minutes; the growth is already clear from the smaller cases
            t = time_hessian(expr, backend)
            print(
                f"| {n_vars} | {ops} | {backend} | {t['derive_s']:.3f} | "
                f"{t['codegen_s']:.3f} | {t['total_s']:.3f} |"
            )


if __name__ == "__main__":
    main()

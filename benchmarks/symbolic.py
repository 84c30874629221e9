"""Symbolic phase: derive, eliminate common subexpressions and generate code.

Times the Hessian (and gradient) of generated expressions through the SymEngine path and
the sympy path, each on a fresh `Function` so no cache helps.

    python -m benchmarks.symbolic            # the reference case and a size sweep
    python -m benchmarks.symbolic --gradient --repeat 3

`sweep` is what `python -m benchmarks` runs for its symbolic phase.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import sympy

import symgrad as sg
from symgrad import _codegen, _engine

from .expressions import random_expression


def _clear_caches() -> None:
    sympy.core.cache.clear_cache()  # sympy memoizes diff, subs, ... across runs
    _codegen.generate.cache_clear()
    getattr(_engine, "_SE_CACHE", {}).clear()  # SymEngine forms of earlier expressions


def time_derivative(expr: sympy.Expr, backend: str, kind: str = "hessian") -> dict[str, float]:
    """Seconds to derive `kind` of `expr` on `backend`, then to run CSE and generate code."""
    _clear_caches()
    with _engine.using_backend(backend):
        start = time.perf_counter()
        f = sg.function(expr)
        derivative = getattr(f, kind)()
        derived = time.perf_counter()
        _codegen.generate(derivative.outputs, derivative.shape, derivative.inputs)
        done = time.perf_counter()
    return {"derive_s": derived - start, "codegen_s": done - derived, "total_s": done - start}


def backends() -> list[str]:
    return ["symengine", "sympy"] if _engine.HAS_SYMENGINE else ["sympy"]


def sweep(
    cases: Sequence[tuple[int, int]],
    *,
    kinds: Sequence[str] = ("gradient", "hessian"),
    repeat: int = 3,
    sympy_max_ops: int = 1000,
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Time each case (`n_vars`, `n_ops` of `random_expression`) on every path and kind.

    Each figure is the median of `repeat` runs, each on a fresh `Function` with symgrad's
    caches cleared; a run over 2 s is not repeated. The sympy path skips cases above
    `sympy_max_ops` operations (minutes; the growth shows in the smaller cases).
    """
    records = []
    for n_vars, n_ops in cases:
        expr = random_expression(n_vars, n_ops)
        ops = int(sympy.count_ops(expr))
        for kind in kinds:
            for backend in backends():
                if backend == "sympy" and n_ops > sympy_max_ops:
                    continue
                runs = [time_derivative(expr, backend, kind)]
                while len(runs) < repeat and runs[0]["total_s"] < 2.0:
                    runs.append(time_derivative(expr, backend, kind))
                median = {
                    key: statistics.median(r[key] for r in runs)
                    for key in ("derive_s", "codegen_s", "total_s")
                }
                record = {
                    "n_vars": n_vars,
                    "requested_ops": n_ops,
                    "ops": ops,
                    "kind": kind,
                    "path": backend,
                    "repeats": len(runs),
                    **median,
                }
                records.append(record)
                if log:
                    log(
                        f"    {kind:8s} {n_vars:3d} vars {ops:5d} ops {backend:9s} "
                        f"derive {median['derive_s']:.3f} s, cse+codegen "
                        f"{median['codegen_s']:.3f} s, total {median['total_s']:.3f} s"
                    )
    return records


def markdown(records: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| derivative | variables | operations | path | derive (s) | cse+codegen (s) | total (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['kind']} | {r['n_vars']} | {r['ops']} | {r['path']} | {r['derive_s']:.3f} | "
            f"{r['codegen_s']:.3f} | {r['total_s']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the reference case only")
    parser.add_argument("--gradient", action="store_true", help="gradients too")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    cases = [(20, 600)] if args.quick else [(10, 100), (20, 600), (50, 2000), (50, 5000)]
    kinds = ("gradient", "hessian") if args.gradient else ("hessian",)
    print(markdown(sweep(cases, kinds=kinds, repeat=args.repeat)))


if __name__ == "__main__":
    main()

"""Benchmarks for symgrad, run from the repository root.

- `python -m benchmarks [--quick]`: the suite against torch.autograd, torch.func,
  sympytorch and sympy.lambdify, with reports, JSON and plots in `benchmarks/results/`
  (`suite.py`, `methods.py`, `workloads.py`, `report.py`).
- `python -m benchmarks.speed`: the compiler's targets on the reference workload.
- `python -m benchmarks.symbolic`: the symbolic phase (derive, CSE, codegen).
- `python -m benchmarks.distributed`: data-parallel evaluation with torch.distributed.
"""

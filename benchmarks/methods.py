"""The methods compared: each turns a workload into a callable on a batch of inputs.

Every method returns the derivative with shape `batch + derivative.shape`, so results can
be compared entry by entry:

- `autograd`: the torch forward, then `torch.autograd.grad` (a gradient: one backward; a
  Jacobian: one backward per output; a Hessian: a backward with `create_graph=True`, then
  one backward per variable).
- `torch.func`: `vmap(grad(forward))`, `vmap(jacrev(forward))`, `vmap(hessian(forward))`.
- `sympytorch`: sympytorch's module on symgrad's closed forms
  (`f.gradient().to_torch(backend="sympytorch")`).
- `lambdify`: `sympy.lambdify(variables, closed_forms, modules="torch")`, entries stacked.
- `symgrad`: `f.gradient().to_torch()`; `symgrad-compiled`: the same with `compile=True`.

A method that cannot handle a workload raises `NotAvailable` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy
import torch

from .workloads import Problem

__all__ = ["METHODS", "PEERS", "SYMGRAD", "Inputs", "Method", "NotAvailable"]


class NotAvailable(Exception):
    """The method cannot run this workload; the message says why."""


@dataclass(frozen=True)
class Inputs:
    """One batch of points: `columns` (one `(batch,)` tensor per variable) and `stacked`."""

    columns: tuple[torch.Tensor, ...]
    stacked: torch.Tensor  # (batch, n_vars), contiguous

    @property
    def batch(self) -> int:
        return self.stacked.shape[0]

    def head(self, k: int) -> Inputs:
        if k >= self.batch:
            return self
        return Inputs(tuple(c[:k] for c in self.columns), self.stacked[:k])

    @classmethod
    def random(cls, n_vars: int, batch: int, *, dtype, device, seed: int = 0) -> Inputs:
        """Uniform points in [-1, 1]^n, the same on every device for a given seed."""
        generator = torch.Generator().manual_seed(seed)
        columns = torch.rand(n_vars, batch, generator=generator, dtype=torch.float64)
        columns = (columns * 2 - 1).to(dtype=dtype, device=device)
        return cls(tuple(columns.unbind(0)), columns.T.contiguous())


Call = Callable[[Inputs], torch.Tensor]


@dataclass(frozen=True)
class Method:
    """A way to compute a workload's derivative.

    `build(problem, kind, device, dtype)` returns the callable; `elements_per_point(problem, kind)`
    estimates its peak working set in tensor elements per point (used to cap the batch).
    """

    name: str
    label: str
    build: Callable[[Problem, str, str, torch.dtype], Call]
    elements_per_point: Callable[[Problem, str], float]


# -- torch.autograd -----------------------------------------------------------------------


def _rows(outputs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """d outputs[:, i] / d x for each i, one backward each: `(batch, m, n)`."""
    m = outputs.shape[-1]
    if not outputs.requires_grad:  # constant in x (a linear function's gradient)
        return x.new_zeros(x.shape[:1] + (m,) + x.shape[1:])
    rows = []
    for i in range(m):
        (row,) = torch.autograd.grad(
            outputs[:, i].sum(),
            x,
            retain_graph=i < m - 1,
            allow_unused=True,
            materialize_grads=True,
        )
        rows.append(row)
    return torch.stack(rows, -2)


def _autograd(problem: Problem, kind: str, device: str, dtype: torch.dtype) -> Call:
    forward = problem.forward

    def gradient(inputs: Inputs) -> torch.Tensor:
        x = inputs.stacked.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(forward(x).sum(), x, allow_unused=True, materialize_grads=True)
        return g

    def jacobian(inputs: Inputs) -> torch.Tensor:
        x = inputs.stacked.detach().requires_grad_(True)
        return _rows(forward(x), x)

    def hessian(inputs: Inputs) -> torch.Tensor:
        x = inputs.stacked.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(
            forward(x).sum(), x, create_graph=True, allow_unused=True, materialize_grads=True
        )
        return _rows(g, x)

    return {"gradient": gradient, "jacobian": jacobian, "hessian": hessian}[kind]


def _autograd_elements(problem: Problem, kind: str) -> float:
    graph = problem.ops + problem.n_vars
    factor = {"gradient": 3, "jacobian": 3, "hessian": 10}[kind]
    return factor * graph + 2 * problem.out_numel


# -- torch.func ---------------------------------------------------------------------------


def _torch_func(problem: Problem, kind: str, device: str, dtype: torch.dtype) -> Call:
    transform = {
        "gradient": torch.func.grad,
        "jacobian": torch.func.jacrev,
        "hessian": torch.func.hessian,
    }[kind]
    batched = torch.func.vmap(transform(problem.forward))
    return lambda inputs: batched(inputs.stacked)


def _torch_func_elements(problem: Problem, kind: str) -> float:
    graph = problem.ops + problem.n_vars
    factor = {
        "gradient": 3,
        "jacobian": 3 * problem.n_outputs,
        "hessian": 10 * problem.n_vars,
    }[kind]
    return factor * graph + 2 * problem.out_numel


# -- closed forms: sympytorch, lambdify, symgrad -------------------------------------------


def _sympytorch(problem: Problem, kind: str, device: str, dtype: torch.dtype) -> Call:
    try:
        module = problem.derivative.to_torch(backend="sympytorch", device=device)
        # sympytorch keeps constants (a rational's numerator and denominator) in torch's
        # default dtype; in float32 they would cost float64 results their precision.
        module = module.to(device=device, dtype=dtype)
    except Exception as exc:  # sympytorch's table lacks a function, say
        raise NotAvailable(f"sympytorch: {type(exc).__name__}: {exc}") from None
    return lambda inputs: module(*inputs.columns)


def _lambdify(problem: Problem, kind: str, device: str, dtype: torch.dtype) -> Call:
    d = problem.derivative
    try:
        body = sympy.lambdify(list(d.variables), list(d.outputs), modules="torch")
    except Exception as exc:
        raise NotAvailable(f"lambdify: {type(exc).__name__}: {exc}") from None
    shape = d.shape

    def call(inputs: Inputs) -> torch.Tensor:
        ref = inputs.columns[0]
        entries = []
        for value in body(*inputs.columns):
            if not (isinstance(value, torch.Tensor) and value.shape == ref.shape):
                # a constant entry (a Hessian's zeros) comes back as a Python number
                value = torch.as_tensor(value, dtype=ref.dtype, device=ref.device)
                value = value.expand(ref.shape)
            entries.append(value)
        return torch.stack(entries, -1).reshape(ref.shape + shape)

    return call


def _closed_form_elements(problem: Problem, kind: str) -> float:
    return 3 * problem.out_numel + 2 * (problem.ops + problem.n_vars)


def _symgrad(problem: Problem, kind: str, device: str, dtype: torch.dtype) -> Call:
    module = problem.derivative.to_torch(device=device)
    return lambda inputs: module(*inputs.columns)


def _symgrad_compiled(problem: Problem, kind: str, device: str, dtype: torch.dtype) -> Call:
    module = problem.derivative.to_torch(device=device, compile=True)
    return lambda inputs: module(*inputs.columns)


def _symgrad_elements(problem: Problem, kind: str) -> float:
    # The generated kernel keeps every temporary alive until it returns.
    return problem.out_numel + problem.kernel_lines + problem.n_vars


METHODS: dict[str, Method] = {
    m.name: m
    for m in [
        Method("autograd", "torch.autograd", _autograd, _autograd_elements),
        Method("torch.func", "torch.func vmap", _torch_func, _torch_func_elements),
        Method("sympytorch", "sympytorch", _sympytorch, _closed_form_elements),
        Method("lambdify", "sympy.lambdify", _lambdify, _closed_form_elements),
        Method("symgrad", "symgrad", _symgrad, _symgrad_elements),
        Method("symgrad-compiled", "symgrad compile=True", _symgrad_compiled, _symgrad_elements),
    ]
}
SYMGRAD = ("symgrad", "symgrad-compiled")
PEERS = ("autograd", "torch.func", "sympytorch", "lambdify")

TORCH_FUNC_LABEL = {
    "gradient": "vmap(grad)",
    "jacobian": "vmap(jacrev)",
    "hessian": "vmap(hessian)",
}

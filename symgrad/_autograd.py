"""`autograd_function`: evaluate a function in a torch graph whose backward is closed-form.

The forward runs the generated kernel of `f`; the backward multiplies the incoming
gradient by the generated kernel of `f`'s Jacobian (against every input, parameters too).
That Jacobian is itself evaluated through the same `torch.autograd.Function`, so a
backward of the backward uses the closed-form second partials, and so on to any order.
Each order's kernel is generated once and cached with the function's family.
"""

from __future__ import annotations

from typing import Any

import torch

from ._function import Function
from ._module import _kernel, parameters, prepare

__all__ = ["ClosedFormFunction", "autograd_function"]


class _Node:
    """A function's kernel and, generated on first need, the node of its Jacobian."""

    def __init__(self, f: Function):
        self.f = f
        self.kernel = _kernel(f)
        self._jacobian: _Node | None = None
        symbols = [s for item in f.inputs for s in item.symbols]
        self.symbols = symbols

    @property
    def jacobian(self) -> _Node:
        if self._jacobian is None:
            f = self.f
            table = f._family.derive(f.outputs, self.symbols)
            flat = [d for row in table for d in row]
            jac = Function(flat, f.shape + (len(self.symbols),), f._family)
            self._jacobian = _Node(jac)
        return self._jacobian


def _sum_to(gradient: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Undo broadcasting: sum `gradient` down to an input's `shape`."""
    if gradient.shape == shape:
        return gradient
    extra = gradient.ndim - len(shape)
    if extra:
        gradient = gradient.sum(dim=tuple(range(extra)))
    dims = tuple(i for i, n in enumerate(shape) if n == 1 and gradient.shape[i] != 1)
    if dims:
        gradient = gradient.sum(dim=dims, keepdim=True)
    return gradient


class _ClosedForm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, node: _Node, *tensors: torch.Tensor) -> torch.Tensor:
        ctx.node = node
        ctx.save_for_backward(*tensors)
        return node.kernel.fn(*tensors)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        node: _Node = ctx.node
        tensors = ctx.saved_tensors
        if not any(ctx.needs_input_grad[1:]):
            return (None,) * (len(tensors) + 1)
        jacobian = _ClosedForm.apply(node.jacobian, *tensors)  # batch + shape + (N,)
        n_out = grad_output.ndim - len(node.f.shape)
        batch = grad_output.shape[:n_out]
        k = max(1, len(node.f.outputs))
        weights = grad_output.reshape(batch + (k, 1))
        contributions = (weights * jacobian.reshape(batch + (k, -1))).sum(-2)  # batch + (N,)
        grads: list[torch.Tensor | None] = [None]
        offset = 0
        for item, tensor, needed in zip(node.f.inputs, tensors, ctx.needs_input_grad[1:]):
            width = len(item.symbols)
            if needed:
                if item.length is None:
                    piece = contributions[..., offset]
                else:
                    piece = contributions[..., offset : offset + width]
                grads.append(_sum_to(piece, tensor.shape))
            else:
                grads.append(None)
            offset += width
        return tuple(grads)


class ClosedFormFunction:
    """Callable returned by `autograd_function`: `fn(*inputs, **named) -> Tensor`.

    Positional values follow `f.inputs` (variables, then parameters); parameters left out
    take the shared `nn.Parameter`s, so gradients reach them.
    """

    def __init__(self, f: Function):
        self.function = f
        self._node = _Node(f)

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        names = [i.name for i in self.function.inputs]
        values = {**dict(zip(names, args)), **kwargs}
        tensors = prepare(self.function.inputs, values, parameters(self.function))
        return _ClosedForm.apply(self._node, *tensors)

    def __repr__(self) -> str:
        return f"autograd_function({self.function!r})"


def autograd_function(f: Function) -> ClosedFormFunction:
    """`f` as a differentiable torch operation whose backward uses closed-form partials.

    Works under `torch.autograd.gradcheck` and `gradgradcheck`: the backward of the
    backward uses the closed-form second partials.

    ```python
    >>> op = sg.autograd_function(sg.function("x**2 * y"))
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> op(x, torch.tensor(3.0)).backward()
    >>> x.grad
    tensor(12.)
    ```
    """
    if not isinstance(f, Function):
        raise TypeError(f"autograd_function takes a symgrad Function, got {type(f).__name__}")
    return ClosedFormFunction(f)

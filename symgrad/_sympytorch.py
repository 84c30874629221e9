"""`backend="sympytorch"`: the same function as a `sympytorch.SymPyModule`.

sympytorch builds one torch module per expression node. It is slower than symgrad's
generated code but a familiar interop point; this module adapts it to symgrad's calling
convention (variables by name or position, vectors on the last axis, shared parameters) and
fills the functions its table lacks from `_torch_ops`.
"""

from __future__ import annotations

from typing import Any

import sympy
import sympytorch
import torch

from . import _torch_ops
from ._errors import UnsupportedFunctionError
from ._function import Function
from ._module import parameters, prepare

__all__ = ["SympytorchModule"]

# sympytorch's own table wins over extra_funcs, so only missing entries can be added here.
_EXTRA = {
    sympy.gamma: _torch_ops.gamma,
    sympy.polygamma: _torch_ops.polygamma,
    sympy.Heaviside: _torch_ops.heaviside,
    sympy.DiracDelta: _torch_ops.dirac_delta,
    sympy.erfc: torch.special.erfc,
    sympy.erfinv: torch.special.erfinv,
    sympy.cot: lambda x: 1 / torch.tan(x),
    sympy.sec: lambda x: 1 / torch.cos(x),
    sympy.csc: lambda x: 1 / torch.sin(x),
    sympy.coth: lambda x: 1 / torch.tanh(x),
    sympy.sech: lambda x: 1 / torch.cosh(x),
    sympy.csch: lambda x: 1 / torch.sinh(x),
}


def _check_supported(outputs) -> None:
    for expr in outputs:
        for node in sympy.preorder_traversal(expr):
            # sympytorch maps Max/Min to torch.max/torch.min, which take two tensors at most.
            if isinstance(node, sympy.Max | sympy.Min) and len(node.args) > 2:
                raise UnsupportedFunctionError(
                    f"{type(node).__name__} of {len(node.args)} arguments",
                    context="by the sympytorch backend; use backend='symgrad'",
                )


class SympytorchModule(sympytorch.SymPyModule):
    """A `sympytorch.SymPyModule` over a symgrad `Function`'s outputs, called like symgrad's."""

    def __init__(self, function: Function):
        _check_supported(function.outputs)
        try:
            super().__init__(expressions=list(function.outputs), extra_funcs=_EXTRA)
        except KeyError as exc:  # sympytorch's table has no entry for this class
            missing = getattr(exc.args[0], "__name__", str(exc.args[0])) if exc.args else "?"
            raise UnsupportedFunctionError(
                missing, context="by the sympytorch backend; use backend='symgrad'"
            ) from None
        self.function = function
        self.params = torch.nn.ParameterDict(parameters(function))

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        names = [i.name for i in self.function.inputs if not i.is_param]
        values = {**dict(zip(names, args)), **kwargs}
        tensors = prepare(self.function.inputs, values, dict(self.params))
        symbols: dict[str, torch.Tensor] = {}
        for item, tensor in zip(self.function.inputs, tensors):
            if item.length is None:
                symbols[item.symbols[0].name] = tensor
            else:
                for i, symbol in enumerate(item.symbols):
                    symbols[symbol.name] = tensor[..., i]
        batch = torch.broadcast_shapes(
            *(
                t.shape if i.length is None else t.shape[:-1]
                for i, t in zip(self.function.inputs, tensors)
            )
        )
        ref = tensors[0] if tensors else torch.zeros(())
        stacked = super().forward(**symbols).to(ref.dtype)
        stacked = torch.broadcast_to(stacked, batch + stacked.shape[-1:])
        return stacked.reshape(batch + self.function.shape)

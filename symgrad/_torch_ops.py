"""The table from sympy functions to torch operations.

Generated code calls torch directly where torch has the function (`torch.sin`), and the
small helpers below where it has not (`ops.gamma`) or where sympy's meaning needs care
(`Heaviside`'s value at 0, `Max` of several arguments, numbers mixed with tensors).

`TORCH_FUNCTIONS` maps a sympy function class to a template over the printed arguments.
It is the one place to look when asking "what does `f` compile to?"; a function missing
here is an `UnsupportedFunctionError` at code generation, never a bare `KeyError`.
"""

from __future__ import annotations

import functools

import sympy
import torch

__all__ = ["TORCH_FUNCTIONS", "supported_functions"]


def _tensor_like(value, ref: torch.Tensor) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    return torch.full((), value, dtype=ref.dtype, device=ref.device)


def _first_tensor(args) -> torch.Tensor:
    for arg in args:
        if isinstance(arg, torch.Tensor):
            return arg
    raise TypeError("expected at least one tensor argument")


def broadcast_all(batch, ref: torch.Tensor, values) -> list[torch.Tensor]:
    """Each value (tensor or number) as a tensor of shape `batch`, ready to stack."""
    return [torch.broadcast_to(_tensor_like(v, ref), batch) for v in values]


def maximum(*args):
    """sympy's `Max` of any number of arguments (numbers allowed)."""
    ref = _first_tensor(args)
    return functools.reduce(torch.maximum, [_tensor_like(a, ref) for a in args])


def minimum(*args):
    """sympy's `Min` of any number of arguments (numbers allowed)."""
    ref = _first_tensor(args)
    return functools.reduce(torch.minimum, [_tensor_like(a, ref) for a in args])


def atan2(y, x):
    ref = _first_tensor((y, x))
    return torch.atan2(_tensor_like(y, ref), _tensor_like(x, ref))


def heaviside(x, at_zero=0.5):
    """sympy's Heaviside: 0 below zero, 1 above, `at_zero` (sympy's default 1/2) at zero."""
    return torch.heaviside(x, _tensor_like(at_zero, x))


def dirac_delta(x, order=0):
    """DiracDelta and its derivatives: zero wherever a number can be evaluated (x != 0),
    and taken as zero at 0 too, which is what torch.autograd reports for sign and step."""
    return torch.zeros_like(x)


def gamma(x):
    """The gamma function for real x, with its sign (torch only has log|gamma|)."""
    negative = (x < 0) & (torch.remainder(torch.floor(x), 2) == 1)
    return torch.where(negative, -1.0, 1.0).to(x.dtype) * torch.exp(torch.lgamma(x))


def polygamma(n, x):
    return torch.special.polygamma(int(n), x)


def _unary(call: str):
    return lambda a: f"{call}({a[0]})"


def _reciprocal_of(call: str):
    return lambda a: f"torch.reciprocal({call}({a[0]}))"


def _of_reciprocal(call: str):
    return lambda a: f"{call}(torch.reciprocal({a[0]}))"


# sympy class -> template taking the list of printed arguments.
TORCH_FUNCTIONS = {
    **{
        getattr(sympy, name): _unary(f"torch.{name}")
        for name in (
            "sin cos tan asin acos atan sinh cosh tanh asinh acosh atanh exp log sign floor"
        ).split()
    },
    sympy.ceiling: _unary("torch.ceil"),
    sympy.Abs: _unary("torch.abs"),
    sympy.cot: _reciprocal_of("torch.tan"),
    sympy.sec: _reciprocal_of("torch.cos"),
    sympy.csc: _reciprocal_of("torch.sin"),
    sympy.coth: _reciprocal_of("torch.tanh"),
    sympy.sech: _reciprocal_of("torch.cosh"),
    sympy.csch: _reciprocal_of("torch.sinh"),
    sympy.acot: _of_reciprocal("torch.atan"),
    sympy.asec: _of_reciprocal("torch.acos"),
    sympy.acsc: _of_reciprocal("torch.asin"),
    sympy.acoth: _of_reciprocal("torch.atanh"),
    sympy.asech: _of_reciprocal("torch.acosh"),
    sympy.acsch: _of_reciprocal("torch.asinh"),
    sympy.erf: _unary("torch.special.erf"),
    sympy.erfc: _unary("torch.special.erfc"),
    sympy.erfinv: _unary("torch.special.erfinv"),
    sympy.loggamma: _unary("torch.lgamma"),  # log|gamma(x)|, the real part of sympy's
    sympy.gamma: _unary("ops.gamma"),
    sympy.polygamma: lambda a: f"ops.polygamma({a[0]}, {a[1]})",
    sympy.atan2: lambda a: f"ops.atan2({a[0]}, {a[1]})",
    sympy.Max: lambda a: f"ops.maximum({', '.join(a)})",
    sympy.Min: lambda a: f"ops.minimum({', '.join(a)})",
    sympy.Heaviside: lambda a: f"ops.heaviside({', '.join(a)})",
    sympy.DiracDelta: lambda a: f"ops.dirac_delta({a[0]})",
}


def supported_functions() -> tuple[str, ...]:
    """Names of the sympy functions symgrad compiles to torch."""
    names = {cls.__name__ for cls in TORCH_FUNCTIONS} | {"Piecewise", "Pow", "sqrt"}
    return tuple(sorted(names, key=str.lower))

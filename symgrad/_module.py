"""The torch side of a `Function`: its inputs, its shared parameters, its modules.

- `evaluate(f, values)` is `f(**values)`: it checks and converts the values, then runs the
  cached generated kernel.
- `to_torch(f, ...)` wraps the same kernel in an `nn.Module` (`.source` shows the code), or
  builds a `sympytorch.SymPyModule` computing the same values.

A function and all its derivatives share one set of `nn.Parameter`s, kept in the family's
runtime slot: train `a` through one module and every derivative module sees the new `a`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ._codegen import Kernel, generate
from ._errors import VariableError
from ._function import Function, Input

__all__ = ["FunctionModule", "evaluate", "parameters", "prepare", "to_torch"]


def parameters(f: Function) -> dict[str, torch.nn.Parameter]:
    """The `nn.Parameter`s shared by `f` and every function derived from it."""
    runtime = f._family.runtime
    if "parameters" not in runtime:
        runtime["parameters"] = {
            p.name: torch.nn.Parameter(torch.tensor(p.value, dtype=torch.get_default_dtype()))
            for p in f._family.params
        }
    return runtime["parameters"]


def _as_tensor(name: str, value: Any, device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        tensor = value
    else:
        if isinstance(value, complex):
            raise VariableError(
                f"value for {name!r} is complex; symgrad works over reals", name=name
            )
        if isinstance(value, bool | str | bytes) or value is None:
            raise VariableError(
                f"value for {name!r} must be a real number, got {value!r}", name=name
            )
        try:
            tensor = torch.as_tensor(value, device=device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise VariableError(f"value for {name!r} is not numeric: {exc}", name=name) from None
    if tensor.is_complex():
        raise VariableError(f"value for {name!r} is complex; symgrad works over reals", name=name)
    if not tensor.is_floating_point():
        tensor = tensor.to(torch.get_default_dtype())
    return tensor


def prepare(
    inputs: Sequence[Input],
    values: Mapping[str, Any],
    shared: Mapping[str, torch.Tensor],
    *,
    dtype: torch.dtype | None = None,
) -> list[torch.Tensor]:
    """Check `values` against `inputs` and return one tensor per input, same dtype/device.

    The dtype follows torch's rules: tensors decide it (promoted together); Python numbers
    and lists take it from them, or are torch's default dtype when no tensor is given.
    """
    known = {i.name for i in inputs}
    unknown = sorted(set(values) - known)
    if unknown:
        raise VariableError(
            f"unknown variable {unknown[0]!r}; the function takes "
            f"{', '.join(i.name for i in inputs) or 'no inputs'}",
            name=unknown[0],
        )
    missing = [i.name for i in inputs if not i.is_param and i.name not in values]
    if missing:
        raise VariableError(
            f"missing value for {missing[0]!r}; the function takes "
            f"{', '.join(i.name for i in inputs if not i.is_param)}",
            name=missing[0],
        )
    given = [v for v in values.values() if isinstance(v, torch.Tensor)]
    devices = {v.device for v in given}
    if len(devices) > 1:
        raise VariableError(f"values are on different devices: {sorted(map(str, devices))}")
    device = devices.pop() if devices else None
    if device is None and shared:
        device = next(iter(shared.values())).device
    if dtype is None:
        floating = [v.dtype for v in given if v.is_floating_point()]
        dtype = floating[0] if floating else torch.get_default_dtype()
        for other in floating[1:]:
            dtype = torch.promote_types(dtype, other)

    tensors = []
    for item in inputs:
        if item.name in values:
            tensor = _as_tensor(item.name, values[item.name], device)
        else:
            tensor = shared[item.name]
        if item.length is not None and (tensor.ndim == 0 or tensor.shape[-1] != item.length):
            got = tuple(tensor.shape)
            raise VariableError(
                f"{item.name!r} is a vector of length {item.length}: give its components on "
                f"the last axis (shape (..., {item.length})), got shape {got}",
                name=item.name,
            )
        tensors.append(tensor.to(dtype=dtype, device=device))
    batches = {
        i.name: t.shape if i.length is None else t.shape[:-1] for i, t in zip(inputs, tensors)
    }
    try:
        torch.broadcast_shapes(*batches.values())
    except RuntimeError:
        shapes = ", ".join(f"{name}: {tuple(shape)}" for name, shape in batches.items())
        raise VariableError(f"the values' batch shapes do not broadcast ({shapes})") from None
    return tensors


def _kernel(f: Function) -> Kernel:
    return generate(f.outputs, f.shape, f.inputs)


def _constant(f: Function, dtype, device) -> torch.Tensor:
    values = [float(o) for o in f.outputs]
    return torch.tensor(values, dtype=dtype, device=device).reshape(f.shape)


def evaluate(f: Function, values: Mapping[str, Any]) -> torch.Tensor:
    """`f(**values)`: the value of `f`, shape `batch + f.shape`.

    Parameters enter at their current values but outside the autograd graph: evaluation is
    not training (a module from `to_torch` is). Gradients still flow to input tensors.
    """
    shared = {name: p.detach() for name, p in parameters(f).items()}
    tensors = prepare(f.inputs, values, shared)
    if not tensors:
        return _constant(f, torch.get_default_dtype(), None)
    return _kernel(f).fn(*tensors)


class FunctionModule(torch.nn.Module):
    """A compiled symgrad `Function` as a torch module.

    `forward` takes the variables by position (in `function.inputs` order) or by name,
    tensors or numbers, and returns a tensor of shape `batch + function.shape`. Parameters
    are the ones shared by the function and its derivatives. `.source` is the generated code.
    """

    def __init__(self, function: Function, *, compile: bool = False):
        super().__init__()
        self.function = function
        self.kernel = _kernel(function) if function.inputs else None
        self.params = torch.nn.ParameterDict(parameters(function))
        self._fn = self.kernel.fn if self.kernel else None
        if compile and self.kernel is not None:
            self._fn = _compiled(self.kernel)

    @property
    def source(self) -> str:
        """The generated Python source of the kernel this module runs."""
        return self.kernel.source if self.kernel else "# constant function: no kernel\n"

    def _values(self, args, kwargs) -> dict[str, Any]:
        names = [i.name for i in self.function.inputs if not i.is_param]
        if len(args) > len(names):
            raise VariableError(f"expected at most {len(names)} positional values ({names})")
        values = dict(zip(names, args))
        for name in kwargs:
            if name in values:
                raise VariableError(f"{name!r} given both by position and by name", name=name)
        values.update(kwargs)
        return values

    def forward(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        values = self._values(args, kwargs)
        tensors = prepare(self.function.inputs, values, dict(self.params))
        if self._fn is None:
            return _constant(self.function, torch.get_default_dtype(), None)
        return self._fn(*tensors)

    def extra_repr(self) -> str:
        return f"function={self.function}"


_COMPILED: dict[int, Any] = {}


def _compiled(kernel: Kernel):
    key = id(kernel)
    if key not in _COMPILED:
        # dynamic=True: a new batch size reuses the compiled graph instead of recompiling.
        _COMPILED[key] = (kernel, torch.compile(kernel.fn, dynamic=True))
    return _COMPILED[key][1]


def _move_parameters(f: Function, device, dtype) -> None:
    for param in parameters(f).values():
        # In place, so every module sharing the parameter follows.
        param.data = param.data.to(device=device or param.device, dtype=dtype or param.dtype)


def to_torch(
    f: Function,
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    compile: bool = False,
    backend: str = "symgrad",
) -> torch.nn.Module:
    """`f.to_torch(...)`: a module computing `f`; see `Function.to_torch`."""
    if device is not None:
        device = torch.device(device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise VariableError("device 'cuda' was requested but CUDA is not available here")
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise VariableError(f"dtype must be a floating torch dtype, got {dtype!r}")
    if device is not None or dtype is not None:
        _move_parameters(f, device, dtype)
    if backend == "symgrad":
        return FunctionModule(f, compile=compile)
    if backend == "sympytorch":
        from ._sympytorch import SympytorchModule

        # sympytorch keeps its constants in torch's default dtype; match the one asked for
        # so float64 evaluation is not rounded through float32 constants.
        return SympytorchModule(f).to(dtype=dtype or torch.get_default_dtype())
    raise VariableError(f"backend must be 'symgrad' or 'sympytorch', got {backend!r}")

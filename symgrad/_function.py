"""`Function`: outputs, variables, parameters and shapes, and their closed-form derivatives.

A `Function` is an immutable bundle of sympy expressions (its outputs, stored flat in
row-major order with a `shape`) over an ordered list of variables. Every derivative of a
function is a `Function` of the same *family*: the same declared variables and parameters,
one derivative cache (so a Hessian reuses the gradient) and one runtime slot where the torch
layer keeps the shared `nn.Parameter`s and compiled modules.

This module is symbolic only: torch is imported lazily by the two methods that evaluate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy

from . import _engine
from ._errors import ShapeError, VariableError
from ._parse import NAME_RE, Vector, component_symbol, parse_value, variable_symbol

__all__ = ["Function", "Input", "function"]

Expression = str | sympy.Basic


@dataclass(frozen=True)
class Input:
    """One declared input: a scalar variable, a vector variable or a parameter."""

    name: str
    symbols: tuple[sympy.Symbol, ...]
    length: int | None = None  # None: scalar
    is_param: bool = False
    value: float | None = None  # a parameter's initial value


@dataclass(eq=False)
class _Family:
    """What a function shares with all its derivatives."""

    inputs: tuple[Input, ...]
    derivatives: dict = field(default_factory=dict)  # (expr, symbol) -> derivative
    runtime: dict = field(default_factory=dict)  # owned by the torch layer

    @property
    def variables(self) -> tuple[sympy.Symbol, ...]:
        return tuple(s for i in self.inputs if not i.is_param for s in i.symbols)

    @property
    def params(self) -> tuple[Input, ...]:
        return tuple(i for i in self.inputs if i.is_param)

    def lookup(self, name: str) -> tuple[tuple[sympy.Symbol, ...], bool]:
        """The symbols a `wrt` name stands for, and whether it opens a new axis."""
        for item in self.inputs:
            if item.name == name:
                return item.symbols, item.length is not None
            for symbol in item.symbols:
                if symbol.name == name:
                    return (symbol,), False
        known = ", ".join(i.name for i in self.inputs) or "none"
        raise VariableError(
            f"unknown variable {name!r}; the function's variables and parameters: {known}",
            name=name,
        )

    def derive(self, exprs: Sequence[sympy.Expr], symbols: Sequence[sympy.Symbol]):
        """`table[i][j]` = d exprs[i] / d symbols[j], computing only what is not cached."""
        missing_exprs = [
            e for e in dict.fromkeys(exprs) if any((e, s) not in self.derivatives for s in symbols)
        ]
        if missing_exprs:
            table = _engine.diff_table(missing_exprs, symbols)
            for expr, row in zip(missing_exprs, table):
                for symbol, value in zip(symbols, row):
                    self.derivatives[(expr, symbol)] = value
        return [[self.derivatives[(e, s)] for s in symbols] for e in exprs]


def _names(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.replace(",", " ").split()
    return [str(v) for v in value]


class Function:
    """A function given by closed forms, with closed-form derivatives of any order.

    Build one with `symgrad.function`. It is immutable; every derivative is a new
    `Function` over the same variables, so derivatives compose:
    `f.gradient().jacobian()` is `f.hessian()`.

    ```python
    >>> f = sg.function("x**2 + y**3")
    >>> f.gradient()
    Function([2*x, 3*y**2], variables=(x, y))
    >>> f.gradient()(x=2.0, y=3.0)
    tensor([ 4., 27.])
    ```
    """

    __slots__ = ("_family", "_outputs", "_shape")

    def __init__(self, outputs: Sequence[sympy.Expr], shape: tuple[int, ...], family: _Family):
        object.__setattr__(self, "_outputs", tuple(outputs))
        object.__setattr__(self, "_shape", tuple(shape))
        object.__setattr__(self, "_family", family)
        if math.prod(self._shape) != len(self._outputs):
            raise ShapeError(f"{len(self._outputs)} outputs do not fill shape {self._shape}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a symgrad Function is immutable")

    # -- what it is ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """`()` for a scalar, `(m,)` for a vector, `(m, n)` for a matrix of outputs."""
        return self._shape

    @property
    def outputs(self) -> tuple[sympy.Expr, ...]:
        """All outputs, flat in row-major order."""
        return self._outputs

    @property
    def exprs(self):
        """The outputs: a tuple for scalar and vector functions, a sympy matrix otherwise."""
        if len(self._shape) <= 1:
            return self._outputs
        if len(self._shape) == 2:
            return sympy.ImmutableMatrix(*self._shape, list(self._outputs))
        return sympy.ImmutableDenseNDimArray(self.nested(), self._shape)

    @property
    def expr(self) -> sympy.Expr:
        """The single output of a scalar function."""
        if self._shape != ():
            raise ShapeError(f"function has shape {self._shape}; use .exprs for its outputs")
        return self._outputs[0]

    @property
    def variables(self) -> tuple[sympy.Symbol, ...]:
        """The variables in order, each vector variable's components expanded in place."""
        return self._family.variables

    @property
    def params(self) -> Mapping[str, float]:
        """Parameter names and their initial values."""
        return MappingProxyType({p.name: p.value for p in self._family.params})

    @property
    def inputs(self) -> tuple[Input, ...]:
        """The declared inputs (variables, then parameters) as the compiled module takes them."""
        return self._family.inputs

    # -- derivatives ---------------------------------------------------------------------
    def _blocks(self, wrt: str | Iterable[str] | None) -> list[sympy.Symbol]:
        names = _names(wrt)
        if names is None:
            return list(self.variables)
        symbols: list[sympy.Symbol] = []
        for name in names:
            block, _ = self._family.lookup(name)
            symbols.extend(block)
        return symbols

    def _derived(self, outputs, symbols, shape) -> Function:
        table = self._family.derive(outputs, symbols)
        return Function([d for row in table for d in row], shape, self._family)

    def partial(self, *wrt: str) -> Function:
        """The partial derivative against `wrt`, in order; repeat a name for higher orders.

        `f.partial("x", "y")` is d2f/dxdy. A vector variable's name differentiates against
        each of its components and adds an axis of that length to the shape.
        """
        if not wrt:
            raise VariableError("partial needs at least one variable name, e.g. f.partial('x')")
        current = self
        for name in wrt:
            symbols, is_axis = self._family.lookup(str(name))
            shape = current.shape + ((len(symbols),) if is_axis else ())
            current = current._derived(current._outputs, symbols, shape)
        return current

    def gradient(self, wrt: str | Iterable[str] | None = None) -> Function:
        """The gradient of a scalar function: shape `(n,)` over `wrt` (default: all variables)."""
        if self._shape != ():
            raise ShapeError(
                f"gradient needs a scalar function, this one has shape {self._shape}; "
                "use jacobian()"
            )
        symbols = self._blocks(wrt)
        return self._derived(self._outputs, symbols, (len(symbols),))

    def jacobian(self, wrt: str | Iterable[str] | None = None) -> Function:
        """The Jacobian: shape `(m, n)` for m outputs (a scalar counts as one)."""
        if len(self._shape) > 1:
            raise ShapeError(f"jacobian needs a scalar or vector function, not shape {self._shape}")
        symbols = self._blocks(wrt)
        return self._derived(self._outputs, symbols, (len(self._outputs), len(symbols)))

    def hessian(self, wrt: str | Iterable[str] | None = None) -> Function:
        """The Hessian of a scalar function: shape `(n, n)`; reuses the cached gradient."""
        if self._shape != ():
            raise ShapeError(
                f"hessian needs a scalar function, this one has shape {self._shape}; "
                "take the Hessian of one output, e.g. f[0].hessian()"
            )
        gradient = self.gradient(wrt)
        symbols = self._blocks(wrt)
        return gradient._derived(gradient._outputs, symbols, (len(symbols), len(symbols)))

    def laplacian(self, wrt: str | Iterable[str] | None = None) -> Function:
        """The sum of unmixed second partials, for each output (same shape as the function)."""
        symbols = self._blocks(wrt)
        firsts = self._family.derive(self._outputs, symbols)
        outputs = []
        for row in firsts:
            seconds = [self._family.derive([d], [s])[0][0] for d, s in zip(row, symbols)]
            outputs.append(sympy.Add(*seconds))
        return Function(outputs, self._shape, self._family)

    def value_and_gradient(self, wrt: str | Iterable[str] | None = None) -> Function:
        """The value and the gradient of a scalar function as one function of shape `(1 + n,)`.

        Entry 0 is the value, entries 1.. the gradient. Compiled, it computes both in one
        pass, sharing their common subexpressions (a fused forward-and-backward).
        """
        gradient = self.gradient(wrt)
        return Function(
            self._outputs + gradient._outputs, (1 + len(gradient._outputs),), self._family
        )

    def __getitem__(self, index: int) -> Function:
        """Output `index` along the first axis, as a function of the same variables."""
        if self._shape == ():
            raise ShapeError("a scalar function has no outputs to index; use it as is")
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Function indices are integers, got {type(index).__name__}")
        count = self._shape[0]
        if not -count <= index < count:
            raise IndexError(f"output {index} is out of range for shape {self._shape}")
        step = len(self._outputs) // count
        start = (index % count) * step
        return Function(self._outputs[start : start + step], self._shape[1:], self._family)

    def __len__(self) -> int:
        if self._shape == ():
            raise TypeError("a scalar function has no length")
        return self._shape[0]

    # -- display -------------------------------------------------------------------------
    def nested(self, items: Sequence[Any] | None = None):
        """The outputs (or `items` given in their order) as nested lists of `shape`."""
        return _nest(list(self._outputs if items is None else items), self._shape)

    def __str__(self) -> str:
        def show(value):
            if isinstance(value, list):
                return "[" + ", ".join(show(v) for v in value) + "]"
            return str(value)

        return show(self.nested())

    def __repr__(self) -> str:
        variables = ", ".join(s.name for s in self.variables)
        body = str(self)
        return f"Function({body}, variables=({variables}{',' if len(self.variables) == 1 else ''}))"

    def _symbol_names(self) -> dict[sympy.Symbol, str]:
        names = {}
        for item in self._family.inputs:
            if item.length is not None:
                for i, symbol in enumerate(item.symbols):
                    names[symbol] = f"{sympy.latex(sympy.Symbol(item.name))}_{{{i}}}"
        return names

    def latex(self) -> str:
        """The closed form as LaTeX (vector components as subscripts)."""
        names = self._symbol_names()
        if self._shape == ():
            return sympy.latex(self._outputs[0], symbol_names=names)
        if len(self._shape) == 1:
            matrix = sympy.ImmutableMatrix(list(self._outputs))
        else:
            matrix = self.exprs
        return sympy.latex(matrix, symbol_names=names)

    def pretty(self) -> str:
        """The closed form as Unicode art."""
        if self._shape == ():
            return sympy.pretty(self._outputs[0], use_unicode=True)
        if len(self._shape) == 1:
            return sympy.pretty(sympy.ImmutableMatrix(list(self._outputs)), use_unicode=True)
        return sympy.pretty(self.exprs, use_unicode=True)

    # -- comparison ----------------------------------------------------------------------
    def _key(self):
        return (self._outputs, self._shape, self._family.inputs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Function):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # -- numbers (the torch layer, imported on first use) --------------------------------
    def __call__(self, **values: Any):
        """Evaluate numerically: keywords are the variables (and optionally parameters).

        Values are numbers, lists or tensors; they broadcast, a vector variable takes its
        components on the last axis, and the result has shape `batch + f.shape`.
        """
        from ._module import evaluate  # torch stays out of the symbolic core until needed

        return evaluate(self, values)

    def to_torch(self, *, device=None, dtype=None, compile: bool = False, backend: str = "symgrad"):
        """The function as a `torch.nn.Module` that computes it on tensors.

        The module takes the variables by position or by name, like `f(**values)`, and its
        parameters are the `nn.Parameter`s this function shares with its derivatives, so
        training one module moves them all.

        **Arguments:**

        - `device`, `dtype`: where the shared parameters live; moving them moves them for
          every module of this family (inputs decide the rest).
        - `compile`: run the generated code through `torch.compile` (dynamic batch shapes).
        - `backend`: `"symgrad"` (generated straight-line code, `.source` shows it) or
          `"sympytorch"` (a `sympytorch.SymPyModule` computing the same values).

        ```python
        >>> module = sg.function("x**2 + y**3").gradient().to_torch()
        >>> module(torch.tensor(2.0), torch.tensor(3.0))
        tensor([ 4., 27.])

        ```
        """
        from ._module import to_torch

        return to_torch(self, device=device, dtype=dtype, compile=compile, backend=backend)


def _nest(items: list, shape: tuple[int, ...]):
    if not shape:
        return items[0]
    step = len(items) // shape[0] if shape[0] else 0
    return [_nest(items[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


# ---------------------------------------------------------------------------------------
# Building functions


def _real_symbols(expr: sympy.Basic) -> sympy.Basic:
    """The same expression over real symbols (symgrad's convention), names kept."""
    table = {
        s: sympy.Symbol(s.name, real=True)
        for s in expr.free_symbols
        if isinstance(s, sympy.Symbol) and not s.is_real
    }
    return expr.xreplace(table) if table else expr


def _outputs_of(
    expr: Any, vectors: Mapping[str, int], params: Iterable[str]
) -> tuple[list[sympy.Expr], tuple[int, ...]]:
    if isinstance(expr, str):
        value = parse_value(expr, vectors=vectors, params=params)
        return (list(value), (len(value),)) if isinstance(value, Vector) else ([value], ())
    if isinstance(expr, sympy.MatrixBase | sympy.NDimArray):
        shape = tuple(expr.shape)
        if len(shape) == 2 and shape[1] == 1:
            shape = (shape[0],)
        items = list(expr) if isinstance(expr, sympy.MatrixBase) else list(expr._array)
        return [_real_symbols(sympy.sympify(e)) for e in items], shape
    if isinstance(expr, sympy.Basic):
        if not isinstance(expr, sympy.Expr):
            raise ShapeError(f"expected a numeric expression, got {type(expr).__name__}: {expr}")
        return [_real_symbols(expr)], ()
    if isinstance(expr, int | float) and not isinstance(expr, bool):
        return [sympy.nsimplify(expr, rational=True)], ()
    if isinstance(expr, Sequence):
        outputs: list[sympy.Expr] = []
        for item in expr:
            sub, _ = _outputs_of(item, vectors, params)
            outputs.extend(sub)  # vector-valued entries expand in place
        if not outputs:
            raise ShapeError("a function needs at least one output")
        return outputs, (len(outputs),)
    raise ShapeError(
        f"expected an expression string, a sympy expression or a sequence of them, "
        f"got {type(expr).__name__}"
    )


def _check_value(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise VariableError(
            f"parameter {name!r} needs a number, got {value!r}", name=name
        ) from None
    if not math.isfinite(number):
        raise VariableError(f"parameter {name!r} must be finite, got {value!r}", name=name)
    return number


def function(
    expr: Expression | Sequence[Expression],
    variables: str | Iterable[str] | None = None,
    *,
    vectors: Mapping[str, int] | None = None,
    params: Mapping[str, float] | None = None,
) -> Function:
    """Make a `Function` from text, sympy, or a sequence of them (a vector-valued function).

    **Arguments:**

    - `expr`: `"x**2 + y**3"`, a sympy expression, or a sequence of them; entries that are
      vectors (`"x*y"` for vector `x`, `y`) expand into their components.
    - `variables`: names in order (`"x y"` or `["x", "y"]`); default: every free symbol that
      is not a parameter, sorted by name.
    - `vectors`: `{"x": 2}` declares `x` a vector variable of length 2.
    - `params`: `{"a": 1.5}` declares named constants with initial values; compiled modules
      make them trainable `torch.nn.Parameter`s, and `partial("a")` differentiates by them.

    ```python
    >>> f = sg.function("sum(x*y)", vectors={"x": 2, "y": 2})
    >>> f.variables
    (x[0], x[1], y[0], y[1])
    >>> f.partial("x")
    Function([y[0], y[1]], variables=(x[0], x[1], y[0], y[1]))
    ```
    """
    vectors = dict(vectors or {})
    params = dict(params or {})
    outputs, shape = _outputs_of(expr, vectors, params)

    for name in params:
        if not NAME_RE.match(str(name)):
            raise VariableError(f"parameter name {name!r} is not a valid name", name=name)
    param_inputs = tuple(
        Input(name, (variable_symbol(name),), None, True, _check_value(name, value))
        for name, value in params.items()
    )
    param_symbols = {i.symbols[0] for i in param_inputs}

    free = set().union(*(o.free_symbols for o in outputs))
    component_names = {component_symbol(v, i).name: v for v, n in vectors.items() for i in range(n)}
    names = _names(variables)
    if names is None:
        roots = {component_names.get(s.name, s.name) for s in free if s not in param_symbols}
        names = sorted(roots | set(vectors))
    if len(set(names)) != len(names):
        raise VariableError(f"variables listed twice: {names}")

    var_inputs = []
    for name in names:
        if not NAME_RE.match(name):
            raise VariableError(f"variable name {name!r} is not a valid name", name=name)
        if name in params:
            raise VariableError(f"{name!r} is both a variable and a parameter", name=name)
        if name in vectors:
            symbols = tuple(component_symbol(name, i) for i in range(vectors[name]))
            var_inputs.append(Input(name, symbols, vectors[name]))
        else:
            var_inputs.append(Input(name, (variable_symbol(name),)))

    family = _Family(tuple(var_inputs) + param_inputs)
    known = set(family.variables) | param_symbols
    unknown = sorted(s.name for s in free - known)
    if unknown:
        raise VariableError(
            f"the expression uses {', '.join(map(repr, unknown))}, which is neither a variable "
            f"nor a parameter; add it to variables (now: {', '.join(names) or 'none'}) or params",
            name=unknown[0],
        )
    return Function(outputs, shape, family)


def all_partials(f: Function, order: int, wrt: Sequence[sympy.Symbol]):
    """Every distinct partial of order 1..`order` over `wrt` (symmetric ones once).

    Returns `[(symbols, Function), ...]` with each Function of f's shape.
    """
    result = []
    for k in range(1, order + 1):
        for combo in itertools.combinations_with_replacement(wrt, k):
            current = f._outputs
            for symbol in combo:
                current = [row[0] for row in f._family.derive(current, [symbol])]
            result.append((combo, Function(current, f.shape, f._family)))
    return result

"""Closed forms -> straight-line torch source.

All outputs of a function go through common-subexpression elimination together, then
print as one Python function over torch operations: one line per shared subexpression,
one write per distinct non-zero output. There is no per-node module tree and no loop over
batch elements, so a batch of a million points costs one kernel launch per operation.

The generated code never uses a user's text as an identifier: inputs are `a0, a1, ...`,
vector components `a1_0, ...`, parameters `p0, ...`, temporaries `t0, ...`. Only the
functions in `_torch_ops.TORCH_FUNCTIONS` can appear.

```python
def kernel(a0, a1):
    # a0: x, a1: y
    batch = torch.broadcast_shapes(a0.shape, a1.shape)
    o0 = 2*a0
    o1 = 3*torch.square(a1)
    out = torch.stack(ops.broadcast_all(batch, ref, [o0, o1]))
    out = out.movedim(0, -1)
    return out
```
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import sympy
from sympy.core.function import Application
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from . import _engine
from ._errors import UnsupportedFunctionError
from ._function import Input
from ._symengine_printer import NotNative, SymEngineTorchPrinter
from ._torch_ops import TORCH_FUNCTIONS, supported_functions

__all__ = ["Kernel", "generate"]


def _float_literal(value: float) -> str:
    if math.isnan(value):
        return "math.nan"
    if math.isinf(value):
        return "math.inf" if value > 0 else "(-math.inf)"
    return repr(value)


class TorchPrinter(StrPrinter):
    """Prints sympy expressions as torch code over generated names.

    Dispatches on the expression's class (`_print_<Class>`), like sympy's printers; every
    function goes through `TORCH_FUNCTIONS`.
    """

    printmethod = "_symgrad_torch"

    def __init__(self, names: dict[sympy.Symbol, str]):
        super().__init__({"order": "none"})
        self.names = names

    def _print(self, expr, **kwargs):
        # Table functions first: StrPrinter has its own methods for some of them (Max via
        # LatticeOp, Abs, Heaviside) that would print sympy names, not torch calls.
        if isinstance(expr, Application):
            return self._print_Function(expr)
        return super()._print(expr, **kwargs)

    # -- atoms ---------------------------------------------------------------------------
    def _print_Symbol(self, expr):
        try:
            return self.names[expr]
        except KeyError:
            raise UnsupportedFunctionError(
                f"symbol {expr.name}", context="(not an input of the function)"
            ) from None

    _print_Dummy = _print_Symbol

    def _print_Integer(self, expr):
        # Python ints beyond 2**53 overflow torch's scalar conversion; floats round instead.
        return str(expr.p) if abs(expr.p) < 2**53 else _float_literal(float(expr))

    def _print_Rational(self, expr):
        if abs(expr.p) < 2**53 and expr.q < 2**53:
            return f"({expr.p}/{expr.q})"
        return _float_literal(float(expr))

    def _print_Float(self, expr):
        return _float_literal(float(expr))

    def _print_NumberSymbol(self, expr):
        return _float_literal(float(expr))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_number(self, expr):
        value = complex(expr.evalf(17))
        if value.imag != 0:
            raise UnsupportedFunctionError(
                str(expr), context="(a complex constant cannot be compiled)"
            )
        return _float_literal(value.real)

    def _print_BooleanTrue(self, expr):
        return "True"

    def _print_BooleanFalse(self, expr):
        return "False"

    # -- operators -----------------------------------------------------------------------
    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if expr.is_number:
            return self._print_number(expr)
        printed_base = self.parenthesize(base, precedence(expr), strict=False)
        if exponent == sympy.S.Half:
            return f"torch.sqrt({self._print(base)})"
        if exponent == -sympy.S.Half:
            return f"torch.rsqrt({self._print(base)})"
        if exponent == -1:
            return f"torch.reciprocal({self._print(base)})"
        if exponent == 2:
            return f"torch.square({self._print(base)})"
        if base == sympy.E:
            return f"torch.exp({self._print(exponent)})"
        return f"{printed_base}**{self.parenthesize(exponent, precedence(expr), strict=False)}"

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return "(" + " & ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " | ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr):
        return f"(~{self._print(expr.args[0])})"

    def _print_Piecewise(self, expr):
        # Nested torch.where from the last branch up; a number branch becomes a 0-d tensor
        # of the inputs' dtype and device so the result keeps them.
        pieces = list(expr.args)
        value, condition = pieces[-1]
        result = self._branch(value)
        if condition != sympy.true:
            nan = "torch.full((), math.nan, dtype=ref.dtype, device=ref.device)"
            result = f"torch.where({self._print(condition)}, {result}, {nan})"
        for value, condition in reversed(pieces[:-1]):
            result = f"torch.where({self._print(condition)}, {self._branch(value)}, {result})"
        return result

    def _branch(self, value):
        printed = self._print(value)
        if value.is_number:
            return f"torch.full((), {printed}, dtype=ref.dtype, device=ref.device)"
        return printed

    # -- functions -----------------------------------------------------------------------
    def _print_Function(self, expr):
        if isinstance(expr, sympy.Piecewise):
            return self._print_Piecewise(expr)
        if expr.is_number and not isinstance(expr, sympy.DiracDelta):
            return self._print_number(expr)
        template = TORCH_FUNCTIONS.get(expr.func)
        if template is None:
            raise UnsupportedFunctionError(
                expr.func.__name__, supported_functions(), context="for torch"
            )
        return template([self._print(a) for a in expr.args])

    def emptyPrinter(self, expr):
        if isinstance(expr, sympy.Expr) and expr.is_number:
            return self._print_number(expr)
        name = type(expr).__name__
        raise UnsupportedFunctionError(name, supported_functions(), context="for torch")

    _print_Derivative = _print_Integral = _print_Sum = _print_Product = emptyPrinter
    _print_ImaginaryUnit = _print_ComplexInfinity = _print_Infinity = emptyPrinter
    _print_NegativeInfinity = _print_NaN = emptyPrinter


@dataclass(frozen=True)
class Kernel:
    """Generated code for some outputs: `fn(*inputs)` returns `batch + shape` values."""

    source: str
    fn: object
    shape: tuple[int, ...]
    inputs: tuple[Input, ...]


def _input_names(inputs: tuple[Input, ...]):
    names: dict[sympy.Symbol, str] = {}
    arguments, comments = [], []
    n_var = n_param = 0
    for item in inputs:
        if item.is_param:
            arg = f"p{n_param}"
            n_param += 1
        else:
            arg = f"a{n_var}"
            n_var += 1
        arguments.append(arg)
        comments.append(f"{arg}: {item.name}" + (f"[{item.length}]" if item.length else ""))
        if item.length is None:
            names[item.symbols[0]] = arg
        else:
            for i, symbol in enumerate(item.symbols):
                names[symbol] = f"{arg}_{i}"
    return names, arguments, comments


_TEMPORARY = re.compile(r"\bt\d+\b")


class _Body:
    """Straight-line assignments that release each temporary after its last use.

    Without the `del`s every temporary would live until the kernel returns: at a million
    points that is 8 MB each, and a wide Jacobian has hundreds of them.
    """

    def __init__(self) -> None:
        self.statements: list[tuple[str, str, set[str]]] = []

    def assign(self, target: str, code: str) -> None:
        # Temporaries are generated names, so the code itself says which ones it reads.
        self.statements.append((target, code, set(_TEMPORARY.findall(code))))

    def lines(self) -> list[str]:
        last_use: dict[str, int] = {}
        for i, (_, _, reads) in enumerate(self.statements):
            for name in reads:
                last_use[name] = i
        result = []
        for i, (target, code, _) in enumerate(self.statements):
            result.append(f"    {target} = {code}")
            done = sorted((n for n, last in last_use.items() if last == i), key=_natural)
            if done:
                result.append(f"    del {', '.join(done)}")
        return result


def _natural(name: str) -> tuple[str, int]:
    return name[0], int(name[1:])


def _print_sympy(distinct, names, body) -> dict:
    """CSE and printing through sympy objects (always applies)."""
    replacements, reduced = _engine.cse(distinct) if distinct else ([], [])
    printer = TorchPrinter(dict(names))
    # A temporary that is a pure number (CSE may pull out atan(2)) is folded back in: as a
    # Python float it could not be the input of torch functions further down.
    numbers: dict[sympy.Symbol, sympy.Expr] = {}
    for temp, value in replacements:
        if numbers:
            value = value.xreplace(numbers)
        if value.is_number:
            numbers[temp] = value
            continue
        name = f"t{len(printer.names) - len(names)}"
        body.assign(name, printer.doprint(value))
        printer.names[temp] = name
    if numbers:
        reduced = [r.xreplace(numbers) for r in reduced]
    return {expr: printer.doprint(r) for expr, r in zip(distinct, reduced)}


def _print_symengine(distinct, names, body) -> dict | None:
    """CSE and printing in SymEngine's objects, with no trip back through sympy.

    `None` where SymEngine does not apply; raises `NotNative` for anything its printer
    does not know (the caller then prints through sympy).
    """
    pieces = _engine.cse_symengine(distinct) if distinct else None
    if pieces is None:
        return None
    replacements, reduced = pieces
    printer = SymEngineTorchPrinter({s.name: n for s, n in names.items()}, _engine.REAL_SYMBOL)
    numbers = {}  # numeric temporaries, folded back in as in _print_sympy
    for temp, value in replacements:
        if numbers:
            value = value.xreplace(numbers)
        if not value.free_symbols:
            numbers[temp] = value
            continue
        name = f"t{len(printer.temporaries)}"
        body.assign(name, printer.doprint(value))
        printer.temporaries[str(temp)] = name
    if numbers:
        reduced = [r.xreplace(numbers) for r in reduced]
    return {expr: printer.doprint(r) for expr, r in zip(distinct, reduced)}


@functools.lru_cache(maxsize=512)
def generate(
    outputs: tuple[sympy.Expr, ...], shape: tuple[int, ...], inputs: tuple[Input, ...]
) -> Kernel:
    """Generate (and cache) the kernel computing `outputs` from `inputs`."""
    names, arguments, comments = _input_names(inputs)
    used = set().union(*(o.free_symbols for o in outputs)) if outputs else set()
    lines = [f"def kernel({', '.join(arguments)}):", f"    # {', '.join(comments) or 'no inputs'}"]
    if not arguments:
        raise UnsupportedFunctionError("a function without inputs", context="as a kernel")
    shapes = []
    for item, arg in zip(inputs, arguments):
        if item.length is None:
            shapes.append(f"{arg}.shape")
        else:
            shapes.append(f"{arg}.shape[:-1]")
            for i, symbol in enumerate(item.symbols):
                if symbol in used:
                    lines.append(f"    {arg}_{i} = {arg}[..., {i}]")
    lines.append(f"    ref = {arguments[0]}")
    lines.append(f"    batch = torch.broadcast_shapes({', '.join(shapes)})")

    # Distinct, non-constant outputs go through CSE; zeros and constants are written directly.
    distinct = list(dict.fromkeys(o for o in outputs if not o.is_number))
    body = _Body()
    try:
        printed = _print_symengine(distinct, names, body)
    except NotNative:
        body = _Body()
        printed = None
    if printed is None:
        printed = _print_sympy(distinct, names, body)

    size = len(outputs)
    if shape == () and not outputs[0].is_number:
        body.assign("value", printed[outputs[0]])
        lines += body.lines()
        # A scalar output is returned as is when it already has the batch shape; a bare
        # input is copied so callers never alias their own tensors.
        expand = "torch.broadcast_to(value, batch).clone()"
        if outputs[0].is_Symbol:
            lines.append(f"    return {expand}")
        else:
            lines.append(f"    return value if value.shape == batch else {expand}")
    else:
        # Outputs are stacked as contiguous rows of a (size, *batch) tensor and returned as
        # a view with the output axes last: writing each entry strided across the batch
        # would touch a cache line per element (~10x slower at a million points). A stack,
        # unlike writes into a buffer, is also one fusable operation for torch.compile.
        names_of: dict[str, str] = {}
        rows = []
        for expr in outputs:
            if expr.is_number:
                rows.append(TorchPrinter({}).doprint(expr))
                continue
            value = printed[expr]
            if value not in names_of:  # duplicates (a Hessian is symmetric) computed once
                names_of[value] = f"o{len(names_of)}"
                body.assign(names_of[value], value)
            rows.append(names_of[value])
        lines += body.lines()
        lines.append(f"    out = torch.stack(ops.broadcast_all(batch, ref, [{', '.join(rows)}]))")
        lines.append("    out = out.movedim(0, -1)")
        if shape != (size,):
            lines.append(f"    out = out.reshape(batch + {shape!r})")
        lines.append("    return out")
    source = "\n".join(lines) + "\n"
    return Kernel(source, _compile_source(source), shape, inputs)


def _compile_source(source: str):
    import torch

    from . import _torch_ops

    namespace = {"torch": torch, "math": math, "ops": _torch_ops}
    # The source is ours: identifiers are generated, functions come from the table above,
    # and numbers are printed from sympy numbers. No user text reaches this point.
    code = compile(source, "<symgrad kernel>", "exec")
    exec(code, namespace)
    return namespace["kernel"]

"""Torch source straight from SymEngine expressions, for the fast code-generation path.

When an expression goes through SymEngine's common-subexpression elimination, converting
every piece back to sympy only to print it costs more than the elimination itself. This
printer reads the SymEngine objects directly and writes the same torch calls as
`_codegen.TorchPrinter`, through the same `TORCH_FUNCTIONS` table. Anything it does not
know raises `NotNative`, and the caller falls back to the sympy printer, so coverage
never depends on this file.

It dispatches on the class name (`_print_Mul`, `_print_Pow`, ...), like sympy's printers,
and parenthesizes every compound operand rather than reasoning about precedence.
"""

from __future__ import annotations

import math

from ._torch_ops import TORCH_FUNCTIONS

__all__ = ["NotNative", "SymEngineTorchPrinter"]

# SymEngine names its function classes as sympy does (sin, atan2, loggamma, ...).
_FUNCTIONS = {cls.__name__: cls for cls in TORCH_FUNCTIONS}
_SPECIAL_POWERS = {
    0.5: "torch.sqrt",
    -0.5: "torch.rsqrt",
    -1.0: "torch.reciprocal",
    2.0: "torch.square",
}
_RELATIONS = {"StrictLessThan": "<", "LessThan": "<=", "Equality": "==", "Unequality": "!="}


class NotNative(Exception):
    """An expression this printer does not handle; use the sympy printer instead."""


def _literal(value) -> str:
    try:
        number = float(value)
    except (TypeError, RuntimeError, ValueError) as exc:  # complex or undefined constants
        raise NotNative(str(value)) from exc
    if math.isnan(number):
        return "math.nan"
    if math.isinf(number):
        return "math.inf" if number > 0 else "(-math.inf)"
    return repr(number)


class SymEngineTorchPrinter:
    """Prints SymEngine expressions as torch code over generated names.

    **Arguments:**

    - `inputs`: symbol name -> generated name for symgrad's (real) symbols.
    - `real_symbol`: the SymEngine class of symgrad's symbols; any other symbol is a CSE
      temporary, named in `temporaries` as the kernel assigns it.
    """

    def __init__(self, inputs: dict[str, str], real_symbol: type):
        self.inputs = inputs
        self.temporaries: dict[str, str] = {}
        self.real_symbol = real_symbol

    def doprint(self, expr) -> str:
        return self._print(expr)

    def _print(self, expr) -> str:
        kind = type(expr).__name__
        if not expr.free_symbols and kind not in ("BooleanTrue", "BooleanFalse"):
            return self._number(expr)
        method = getattr(self, f"_print_{kind}", None)
        if method is not None:
            return method(expr)
        if isinstance(expr, self.real_symbol):
            return self._symbol(expr)
        function = _FUNCTIONS.get(kind)
        if function is None:
            raise NotNative(kind)
        return TORCH_FUNCTIONS[function]([self._print(a) for a in expr.args])

    # -- atoms ---------------------------------------------------------------------------
    def _number(self, expr) -> str:
        kind = type(expr).__name__
        if kind in ("Integer", "Zero", "One", "NegativeOne") and abs(int(expr)) < 2**53:
            return str(int(expr))
        if kind in ("Rational", "Half"):
            p, q = (int(v) for v in expr.get_num_den())
            if abs(p) < 2**53 and q < 2**53:
                return f"({p}/{q})"
        return _literal(expr)

    def _symbol(self, expr) -> str:
        name = str(expr)
        table = self.inputs if isinstance(expr, self.real_symbol) else self.temporaries
        if name not in table:
            raise NotNative(f"symbol {name}")
        return table[name]

    _print_Symbol = _symbol

    def _operand(self, expr) -> str:
        """`expr` printed to sit inside a product or power."""
        text = self._print(expr)
        if type(expr).__name__ in ("Add", "Mul") or text.startswith("-"):
            return f"({text})"
        return text

    # -- arithmetic ----------------------------------------------------------------------
    def _print_Add(self, expr) -> str:
        terms = [self._print(a) for a in expr.args]
        # Terms with a numeric coefficient first, as sympy prints them: x + 1 -> 1 + x.
        text = terms[0]
        for term in terms[1:]:
            text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
        return text

    def _print_Mul(self, expr) -> str:
        coefficient = None
        numerator, denominator = [], []
        for factor in expr.args:
            if not factor.free_symbols and coefficient is None and factor.is_Number:
                coefficient = factor
            elif type(factor).__name__ == "Pow" and _negative_number(factor.args[1]):
                base, exponent = factor.args
                denominator.append(base if exponent == -1 else base ** (-exponent))
            else:
                numerator.append(factor)
        sign = ""
        parts = [self._operand(f) for f in numerator]
        if coefficient is not None:
            if coefficient == -1:
                sign = "-"
            elif coefficient != 1:
                if coefficient < 0:
                    sign = "-"
                    coefficient = -coefficient
                parts.insert(0, self._number(coefficient))
        text = "*".join(parts) if parts else "1"
        if denominator:
            below = [self._operand(f) for f in denominator]
            text += "/" + (below[0] if len(below) == 1 else f"({'*'.join(below)})")
        return sign + text

    def _print_Pow(self, expr) -> str:
        base, exponent = expr.args
        if type(base).__name__ == "Exp1":
            return f"torch.exp({self._print(exponent)})"
        if not exponent.free_symbols:
            special = _SPECIAL_POWERS.get(float(exponent))
            if special:
                return f"{special}({self._print(base)})"
        return f"{self._operand(base)}**{self._operand(exponent)}"

    # -- conditions ----------------------------------------------------------------------
    def _print_Piecewise(self, expr) -> str:
        args = list(expr.args)
        pairs = list(zip(args[0::2], args[1::2]))
        value, condition = pairs[-1]
        result = self._branch(value)
        if type(condition).__name__ != "BooleanTrue":
            nan = "torch.full((), math.nan, dtype=ref.dtype, device=ref.device)"
            result = f"torch.where({self._print(condition)}, {result}, {nan})"
        for value, condition in reversed(pairs[:-1]):
            result = f"torch.where({self._print(condition)}, {self._branch(value)}, {result})"
        return result

    def _branch(self, value) -> str:
        if not value.free_symbols:
            return f"torch.full((), {self._number(value)}, dtype=ref.dtype, device=ref.device)"
        return self._print(value)

    def _relation(self, expr) -> str:
        left, right = expr.args
        return f"({self._print(left)} {_RELATIONS[type(expr).__name__]} {self._print(right)})"

    _print_StrictLessThan = _print_LessThan = _print_Equality = _print_Unequality = _relation

    def _print_And(self, expr) -> str:
        return "(" + " & ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr) -> str:
        return "(" + " | ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr) -> str:
        return f"(~{self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr) -> str:
        return "True"

    def _print_BooleanFalse(self, expr) -> str:
        return "False"


def _negative_number(value) -> bool:
    return not value.free_symbols and value.is_Number and value < 0

"""Text -> sympy, by a small grammar of our own.

`parse` never hands the user's text to `eval`, `exec`, `sympify` or `parse_expr` (all of
which run code). It tokenizes with one regular expression and builds sympy objects with a
precedence-climbing parser whose only vocabulary is the function table below. Everything
that is not in the grammar is a `ParseError` naming the column.

Why a grammar of our own rather than Python's `ast`: `ast` builds a left-deep tree for
`x + x + ... + x` and runs out of C stack at a few thousand terms, and `^` has the wrong
precedence there. Here sums and products are loops that build one `Add`/`Mul`, `^` is
exactly `**`, and nesting is bounded by a counter, not by the interpreter's stack.

Symbols are real (`real=True`): with complex symbols `d|x|/dx` comes out in `re`/`im`
terms that nothing downstream can compile. A vector variable `x` of length n is the tuple
of component symbols named `x[0]`, ..., `x[n-1]`; arithmetic on whole vectors is
elementwise, with scalars broadcast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import sympy

from ._errors import ParseError

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Vector",
    "component_symbol",
    "parse",
    "parse_value",
    "variable_symbol",
]

MAX_LENGTH = 20_000
# Each level of nesting costs about a dozen Python frames; 50 levels stays far from the
# interpreter's recursion limit even under a deep caller.
MAX_DEPTH = 50
# 2**MAX_POWER_BITS is the largest exact power built from literals; beyond it sympy would
# spend minutes computing digits (`9**9**9**9`).
MAX_POWER_BITS = 100_000
MAX_LITERAL_DIGITS = 1_000
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def variable_symbol(name: str) -> sympy.Symbol:
    """The real sympy symbol symgrad uses for the scalar variable or parameter `name`."""
    return sympy.Symbol(name, real=True)


def component_symbol(name: str, index: int) -> sympy.Symbol:
    """The real sympy symbol for component `index` of the vector variable `name`."""
    return sympy.Symbol(f"{name}[{index}]", real=True)


class Vector(tuple):
    """The value of a vector-valued subexpression: a tuple of sympy expressions."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Vector({', '.join(map(str, self))})"


# ---------------------------------------------------------------------------------------
# The function table. Each entry says how many arguments it takes and how it meets vectors:
# "map" applies it componentwise (scalars broadcast); "reduce" folds a vector to a scalar.


@dataclass(frozen=True)
class _Fn:
    build: Callable[..., sympy.Basic]
    arity: tuple[int, int | None]  # (min, max); max None = any
    vectors: str = "map"  # "map" | "reduce" | "none"


def _log(x, base=None):
    return sympy.log(x) if base is None else sympy.log(x, base)


def _polygamma(n, x):
    if not (n.is_Integer and n >= 0):
        raise ValueError("polygamma's order must be a non-negative integer literal")
    return sympy.polygamma(n, x)


def _where(cond, a, b):
    return sympy.Piecewise((a, cond), (b, True))


def _max(*args):
    return sympy.Max(*args)


def _min(*args):
    return sympy.Min(*args)


FUNCTIONS: dict[str, _Fn] = {
    **{
        name: _Fn(getattr(sympy, name), (1, 1))
        for name in (
            "sin cos tan cot sec csc asin acos atan acot asec acsc "
            "sinh cosh tanh coth sech csch asinh acosh atanh acoth asech acsch "
            "exp sqrt sign floor ceiling erf erfc erfinv gamma loggamma digamma DiracDelta"
        ).split()
    },
    "log": _Fn(_log, (1, 2)),
    "ln": _Fn(sympy.log, (1, 1)),
    "Abs": _Fn(sympy.Abs, (1, 1)),
    "abs": _Fn(sympy.Abs, (1, 1)),
    "Heaviside": _Fn(sympy.Heaviside, (1, 2)),
    "polygamma": _Fn(_polygamma, (2, 2)),
    "atan2": _Fn(sympy.atan2, (2, 2)),
    "Max": _Fn(_max, (1, None), "reduce"),
    "Min": _Fn(_min, (1, None), "reduce"),
    "max": _Fn(_max, (1, None), "reduce"),
    "min": _Fn(_min, (1, None), "reduce"),
    "where": _Fn(_where, (3, 3)),
    "Piecewise": _Fn(sympy.Piecewise, (1, None), "none"),
    "sum": _Fn(lambda *a: sympy.Add(*a), (1, 1), "reduce"),
    "dot": _Fn(None, (2, 2), "reduce"),  # built by the parser: it pairs two vectors
    "norm": _Fn(lambda *a: sympy.sqrt(sympy.Add(*[c**2 for c in a])), (1, 1), "reduce"),
}

CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "E": sympy.E}
_BOOLEANS = {"True": sympy.true, "False": sympy.false}
_REJECTED_NAMES = {
    "I": "complex numbers are not supported",
    "oo": "infinity is not a value symgrad can differentiate",
    "nan": "nan is not a value symgrad can differentiate",
    "zoo": "complex infinity is not a value symgrad can differentiate",
}
_KEYWORDS = {"and", "or", "not"}


# These evaluate numeric arguments exactly (gamma(10**6) is a factorial of millions of
# digits), so with large literal arguments they are built unevaluated.
_COSTLY_ON_NUMBERS = {"gamma", "loggamma", "polygamma", "digamma"}
_COSTLY_LIMIT = 1000


def _is_condition(value) -> bool:
    # sympy's Symbol is also a Boolean; a condition is a Boolean that is not an Expr.
    return isinstance(value, sympy.logic.boolalg.Boolean) and not isinstance(value, sympy.Expr)


def _known_functions() -> str:
    return ", ".join(sorted(FUNCTIONS, key=str.lower))


# ---------------------------------------------------------------------------------------
# Tokens

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|//|[-+*/^()\[\],<>&|~%=.:;{}@!'"\#$?`\\])
    """,
    re.VERBOSE,
)
_SUPPORTED_OPS = set("+ - * / ** ^ ( ) [ ] , < > <= >= == != & | ~".split())


@dataclass(frozen=True)
class _Token:
    kind: str  # "number" | "name" | "op" | "end"
    text: str
    column: int  # 1-based


def _tokenize(text: str) -> list[_Token]:
    for i, ch in enumerate(text):
        if ord(ch) > 127:
            raise ParseError(
                f"non-ASCII character {ch!r} (U+{ord(ch):04X}); write names and operators "
                "in plain ASCII",
                text=text,
                column=i + 1,
            )
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:  # control characters and the like
            raise ParseError(f"unexpected character {text[pos]!r}", text=text, column=pos + 1)
        kind = match.lastgroup
        if kind != "space":
            token = _Token(kind, match.group(), pos + 1)
            if kind == "op" and token.text not in _SUPPORTED_OPS:
                raise ParseError(_unsupported_op_message(token.text), text=text, column=pos + 1)
            tokens.append(token)
        pos = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _unsupported_op_message(op: str) -> str:
    hints = {
        ".": "attribute access is not allowed",
        "=": "assignment is not allowed; use == for a comparison",
        "//": "floor division is not supported; use floor(a/b)",
        "%": "the remainder operator is not supported",
        "'": "strings are not allowed",
        '"': "strings are not allowed",
        ":": "slices and lambdas are not allowed",
        "{": "sets and dicts are not allowed",
        "}": "sets and dicts are not allowed",
    }
    return hints.get(op, f"operator {op!r} is not supported")


# ---------------------------------------------------------------------------------------
# The parser


class _Parser:
    """Precedence climbing, lowest first:
    or < and < not < comparison < + - < * / < unary - < ** ^ < call, index, atom."""

    def __init__(
        self,
        text: str,
        vectors: Mapping[str, int],
        params: Iterable[str],
        implicit_multiplication: bool,
    ) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.vectors = dict(vectors)
        self.params = set(params)
        self.implicit = implicit_multiplication

    # -- helpers -------------------------------------------------------------------------
    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def error(self, reason: str, token: _Token | None = None, hint: str = "") -> ParseError:
        token = token or self.tok
        return ParseError(reason, text=self.text, column=token.column, hint=hint)

    def advance(self) -> _Token:
        token = self.tok
        self.pos += 1
        return token

    def accept(self, *ops: str) -> _Token | None:
        if self.tok.kind in ("op", "name") and self.tok.text in ops:
            return self.advance()
        return None

    def expect(self, op: str, context: str) -> _Token:
        if self.tok.kind == "op" and self.tok.text == op:
            return self.advance()
        found = "the end of the text" if self.tok.kind == "end" else repr(self.tok.text)
        raise self.error(f"expected {op!r} {context}, found {found}")

    def nested(self):
        parser = self

        class _Guard:
            def __enter__(self):
                parser.depth += 1
                if parser.depth > MAX_DEPTH:
                    raise parser.error(
                        f"expression nested deeper than {MAX_DEPTH} levels; pass a sympy "
                        "object for machine-generated expressions"
                    )

            def __exit__(self, *exc):
                parser.depth -= 1

        return _Guard()

    # -- grammar -------------------------------------------------------------------------
    def parse(self):
        if self.tok.kind == "end":
            raise self.error("empty expression; write a formula such as x**2 + y")
        value = self.expression()
        if self.tok.kind != "end":
            raise self.error(self._unexpected_message(self.tok))
        return value

    def _unexpected_message(self, token: _Token) -> str:
        if token.kind in ("name", "number") or token.text == "(":
            return (
                f"unexpected {token.text!r}; use '*' for multiplication "
                "(or implicit_multiplication=True)"
            )
        return f"unexpected {token.text!r}"

    def expression(self):
        with self.nested():
            return self.disjunction()

    def disjunction(self):
        start = self.tok
        terms = [self.conjunction()]
        while self.accept("or", "|"):
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else self.logic(sympy.Or, terms, start)

    def conjunction(self):
        start = self.tok
        terms = [self.negation()]
        while self.accept("and", "&"):
            terms.append(self.negation())
        return terms[0] if len(terms) == 1 else self.logic(sympy.And, terms, start)

    def negation(self):
        start = self.tok
        if self.accept("not", "~"):
            with self.nested():
                return self.logic(sympy.Not, [self.negation()], start)
        return self.comparison()

    def logic(self, op, terms, token):
        for term in terms:
            if not _is_condition(term):
                raise self.error(f"'{op.__name__}' needs conditions such as x > 0", token)
        return op(*terms)

    _COMPARISONS = {
        "<": sympy.Lt,
        "<=": sympy.Le,
        ">": sympy.Gt,
        ">=": sympy.Ge,
        "==": sympy.Eq,
        "!=": sympy.Ne,
    }

    def comparison(self):
        left = self.sum()
        conditions = []
        while self.tok.kind == "op" and self.tok.text in self._COMPARISONS:
            token = self.advance()
            right = self.sum()
            for side in (left, right):
                if not isinstance(side, sympy.Expr):
                    raise self.error("comparisons take scalar expressions", token)
            conditions.append(self._COMPARISONS[token.text](left, right))
            left = right
        if not conditions:
            return left
        return conditions[0] if len(conditions) == 1 else sympy.And(*conditions)

    def sum(self):
        start = self.tok
        terms = [self.product()]
        while self.tok.kind == "op" and self.tok.text in "+-":
            sign = self.advance().text
            term = self.product()
            terms.append(self.map(lambda t: -t, term) if sign == "-" else term)
        if len(terms) == 1:
            return terms[0]
        return self.combine(sympy.Add, terms, start)

    def _starts_operand(self) -> bool:
        token = self.tok
        if token.kind in ("number", "name"):
            return token.text not in _KEYWORDS
        return token.kind == "op" and token.text == "("

    def product(self):
        start = self.tok
        factors = [self.unary()]
        while True:
            if self.tok.kind == "op" and self.tok.text in "*/":
                op = self.advance()
                factor = self.unary()
                if op.text == "/":
                    factor = self.map(lambda f, op=op: self.checked(1 / f, op), factor)
                factors.append(factor)
            elif self.implicit and self._starts_operand():
                factors.append(self.unary())
            else:
                break
        if len(factors) == 1:
            return factors[0]
        return self.combine(sympy.Mul, factors, start)

    def unary(self):
        signs = 0
        while self.tok.kind == "op" and self.tok.text in "+-":
            signs += self.advance().text == "-"
        value = self.power()
        return self.map(lambda v: -v, value) if signs % 2 else value

    def power(self):
        base = self.postfix()
        if self.tok.kind == "op" and self.tok.text in ("**", "^"):
            op = self.advance()
            with self.nested():
                exponent = self.unary()  # right-associative: x**y**z == x**(y**z)
            return self.map2(lambda b, e: self.pow(b, e, op), base, exponent, op)
        return base

    def pow(self, base, exponent, token):
        if base.is_Number and exponent.is_Number:
            magnitude = abs(float(exponent)) * math.log2(max(abs(float(base)), 2.0))
            if abs(base) != 1 and base != 0 and magnitude > MAX_POWER_BITS:
                raise self.error(
                    f"number too large: {base}**{exponent} has more than {MAX_POWER_BITS} bits",
                    token,
                )
        return self.checked(sympy.Pow(base, exponent), token)

    def checked(self, value, token):
        if value in (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise self.error(f"expression is undefined here ({value}); division by zero?", token)
        return value

    def postfix(self):
        token = self.tok
        if token.kind == "number":
            self.advance()
            return self.number(token)
        if token.kind == "name":
            self.advance()
            if self.tok.kind == "op" and self.tok.text == "(":
                return self.call(token)
            if self.tok.kind == "op" and self.tok.text == "[":
                return self.index(token)
            return self.name(token)
        if self.accept("("):
            value = self.expression()
            if self.tok.kind == "op" and self.tok.text == ",":
                items = [value]
                while self.accept(","):
                    items.append(self.expression())
                self.expect(")", "to close the tuple")
                return tuple(items)
            self.expect(")", "to close the parenthesis")
            return value
        if token.kind == "end":
            raise self.error("the expression ends too early; an operand is missing")
        if token.text == "[":
            raise self.error("list literals are not allowed; declare a vector variable instead")
        raise self.error(f"unexpected {token.text!r}")

    def number(self, token: _Token) -> sympy.Rational:
        mantissa = re.split("[eE]", token.text)[0]
        exponent = int(token.text[len(mantissa) + 1 :] or 0)
        if len(mantissa) > MAX_LITERAL_DIGITS or abs(exponent) > MAX_LITERAL_DIGITS:
            raise self.error("number literal too large", token)
        # Decimal literals become exact rationals: 0.1 is 1/10, so closed forms stay exact.
        return sympy.Rational(token.text)

    def name(self, token: _Token):
        name = token.text
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in _BOOLEANS:
            return _BOOLEANS[name]
        if name in FUNCTIONS:
            raise self.error(f"{name!r} is a function; call it as {name}(...)", token)
        self.check_name(token)
        if name in self.vectors:
            return Vector(component_symbol(name, i) for i in range(self.vectors[name]))
        return variable_symbol(name)

    def check_name(self, token: _Token) -> None:
        name = token.text
        if name.startswith("_"):
            raise self.error(f"names may not start with an underscore: {name!r}", token)
        if name in _REJECTED_NAMES:
            raise self.error(_REJECTED_NAMES[name], token)
        if name in _KEYWORDS:
            raise self.error(f"unexpected keyword {name!r}", token)
        if name in ("lambda", "import", "if", "for", "in", "is", "else", "def", "class"):
            raise self.error(f"Python keyword {name!r} is not allowed in an expression", token)

    def index(self, token: _Token):
        bracket = self.advance()
        name = token.text
        self.check_name(token)
        if name not in self.vectors:
            raise self.error(
                f"{name!r} is indexed but is not a vector; declare it with vectors={{{name!r}: n}}"
                " (CLI: --vector NAME=n)",
                token,
            )
        sign = -1 if self.accept("-") else 1
        number = self.tok
        if number.kind != "number" or not number.text.isdigit():
            raise self.error("a vector index must be an integer literal such as x[0]", number)
        self.advance()
        self.expect("]", "to close the index")
        index = sign * int(number.text)
        length = self.vectors[name]
        if not -length <= index < length:
            raise self.error(
                f"index {index} is out of range for {name!r} of length {length}", bracket
            )
        return component_symbol(name, index % length)

    def call(self, token: _Token):
        name = token.text
        self.advance()  # "("
        spec = FUNCTIONS.get(name)
        if spec is None:
            self.check_name(token)
            raise self.error(f"unknown function {name!r}", token, f"known: {_known_functions()}")
        args = []
        if not self.accept(")"):
            args.append(self.expression())
            while self.accept(","):
                args.append(self.expression())
            self.expect(")", f"to close the call of {name}")
        low, high = spec.arity
        if len(args) < low or (high is not None and len(args) > high):
            wanted = str(low) if low == high else f"{low} to {high or 'any'}"
            raise self.error(f"{name} takes {wanted} argument(s), got {len(args)}", token)
        try:
            return self.apply(name, spec, args, token)
        except ParseError:
            raise
        except (TypeError, ValueError) as exc:
            raise self.error(f"bad arguments to {name}: {exc}", token) from None

    def apply(self, name: str, spec: _Fn, args: list, token: _Token):
        if spec.vectors == "none":  # Piecewise takes (value, condition) pairs
            pairs = []
            for arg in args:
                if not (isinstance(arg, tuple) and not isinstance(arg, Vector) and len(arg) == 2):
                    raise self.error("Piecewise takes (value, condition) pairs", token)
                pairs.append(arg)
            return self.checked(sympy.Piecewise(*pairs), token)
        for arg in args:
            if isinstance(arg, tuple) and not isinstance(arg, Vector):
                raise self.error(f"{name} does not take a tuple argument", token)
        if name == "where":
            condition, if_true, if_false = args
            if not _is_condition(condition):
                raise self.error("where's first argument must be a condition such as x > 0", token)
            return self.mapn(lambda a, b: _where(condition, a, b), [if_true, if_false], token)
        if name == "dot":
            a, b = args
            a, b = (v if isinstance(v, Vector) else Vector([v]) for v in (a, b))
            if len(a) != len(b):
                raise self.error(f"dot of vectors of lengths {len(a)} and {len(b)}", token)
            return sympy.Add(*[x * y for x, y in zip(a, b)])
        if spec.vectors == "reduce" and (len(args) == 1 or name in ("sum", "norm")):
            (arg,) = args
            parts = list(arg) if isinstance(arg, Vector) else [arg]
            return self.checked(spec.build(*parts), token)
        build = spec.build
        if name in _COSTLY_ON_NUMBERS:
            build = lambda *a: _build_guarded(spec.build, *a)
        return self.mapn(lambda *a: self.checked(build(*a), token), args, token)

    # -- elementwise arithmetic on vectors -------------------------------------------------
    def map(self, fn, value):
        if isinstance(value, Vector):
            return Vector(fn(v) for v in value)
        self.scalar(value)
        return fn(value)

    def map2(self, fn, a, b, token):
        return self.mapn(fn, [a, b], token)

    def mapn(self, fn, args, token):
        lengths = {len(a) for a in args if isinstance(a, Vector)}
        for arg in args:
            if not isinstance(arg, Vector):
                self.scalar(arg, token)
        if not lengths:
            return fn(*args)
        if len(lengths) > 1:
            raise self.error(f"vectors of different lengths {sorted(lengths)} combined", token)
        (n,) = lengths
        return Vector(fn(*[a[i] if isinstance(a, Vector) else a for a in args]) for i in range(n))

    def combine(self, op, items, token):
        lengths = {len(a) for a in items if isinstance(a, Vector)}
        for item in items:
            if not isinstance(item, Vector):
                self.scalar(item, token)
        if not lengths:
            return self.checked(op(*items), token)
        if len(lengths) > 1:
            raise self.error(f"vectors of different lengths {sorted(lengths)} combined", token)
        (n,) = lengths
        return Vector(
            self.checked(op(*[a[i] if isinstance(a, Vector) else a for a in items]), token)
            for i in range(n)
        )

    def scalar(self, value, token=None):
        if isinstance(value, tuple):
            raise self.error(
                "a tuple is only allowed as a Piecewise (value, condition) pair", token
            )
        if _is_condition(value):
            raise self.error(
                "a condition is used as a number; wrap it in Piecewise or where", token
            )


def _build_guarded(build, *args):
    if all(a.is_Number for a in args) and any(abs(a) > _COSTLY_LIMIT for a in args):
        with sympy.evaluate(False):
            return build(*args)
    return build(*args)


def _check_declarations(vectors: Mapping[str, int], params: Iterable[str]) -> None:
    for name, length in vectors.items():
        if not NAME_RE.match(str(name)):
            raise ParseError(f"vector name {name!r} is not a valid name")
        if isinstance(length, bool) or not isinstance(length, int) or length < 1:
            raise ParseError(f"vector {name!r} needs a positive integer length, got {length!r}")
    for name in params:
        if not NAME_RE.match(str(name)):
            raise ParseError(f"parameter name {name!r} is not a valid name")
        if name in vectors:
            raise ParseError(f"{name!r} is declared both a vector and a parameter")


def parse_value(
    text: str,
    *,
    vectors: Mapping[str, int] | None = None,
    params: Iterable[str] | None = None,
    max_length: int = MAX_LENGTH,
    implicit_multiplication: bool = False,
) -> sympy.Expr | Vector:
    """Like `parse`, but a vector-valued expression comes back as a `Vector` tuple."""
    if not isinstance(text, str):
        raise ParseError(f"expected expression text, got {type(text).__name__}")
    if len(text) > max_length:
        raise ParseError(
            f"expression text is {len(text)} characters, more than max_length={max_length}; "
            "pass a sympy object for larger expressions"
        )
    vectors = dict(vectors or {})
    params = list(params or ())
    _check_declarations(vectors, params)
    try:
        value = _Parser(text, vectors, params, implicit_multiplication).parse()
    except RecursionError:  # a safety net under MAX_DEPTH, for very deep callers
        raise ParseError("expression nested too deeply", text=text) from None
    if isinstance(value, tuple) and not isinstance(value, Vector):
        raise ParseError("a tuple is not an expression", text=text, column=1)
    if _is_condition(value):
        raise ParseError(
            "the expression is a condition, not a number; wrap it in where(cond, a, b)",
            text=text,
            column=1,
        )
    return value


def parse(
    text: str,
    *,
    vectors: Mapping[str, int] | None = None,
    params: Iterable[str] | None = None,
    max_length: int = MAX_LENGTH,
    implicit_multiplication: bool = False,
) -> sympy.Expr | sympy.ImmutableMatrix:
    """Parse expression text into a sympy expression, safely.

    **Arguments:**

    - `text`: the formula, in Python-like syntax. `^` is exactly `**` (power,
      right-associative); decimal literals become exact rationals (`0.1` is `1/10`).
    - `vectors`: `{"x": 2}` declares `x` a vector of length 2; `x[0]`, elementwise `x*y`,
      `sum(x)`, `dot(x, y)` and `norm(x)` become available.
    - `params`: names of parameters (constants with values given elsewhere).
    - `max_length`: longer text is refused; pass a sympy object instead.
    - `implicit_multiplication`: accept `2x` and `x y` as products.

    **Returns:** a sympy expression with real symbols, or a column `ImmutableMatrix` when the
    expression is vector-valued (`x*y` for vectors `x`, `y`).

    **Raises:** `ParseError` (a `ValueError`) naming the problem and its column.

    ```python
    >>> import symgrad as sg
    >>> sg.parse("x^2 + 3*y")
    x**2 + 3*y
    >>> sg.parse("sum(x*y)", vectors={"x": 2, "y": 2})
    x[0]*y[0] + x[1]*y[1]
    ```
    """
    value = parse_value(
        text,
        vectors=vectors,
        params=params,
        max_length=max_length,
        implicit_multiplication=implicit_multiplication,
    )
    if isinstance(value, Vector):
        return sympy.ImmutableMatrix(list(value))
    return value

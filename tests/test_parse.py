"""The safe parser: grammar, functions, vectors, hostile input and error messages."""

from __future__ import annotations

import itertools
import math
import os
import string
import time

import pytest
import sympy
from hypothesis import assume, given
from strategies import expression_text, flat_text

import symgrad as sg
from symgrad._parse import CONSTANTS, FUNCTIONS, MAX_LENGTH

x, y, z, a, b = sympy.symbols("x y z a b", real=True)


def vec(name: str, n: int) -> list[sympy.Symbol]:
    return [sympy.Symbol(f"{name}[{i}]", real=True) for i in range(n)]


def parse_error(text: str, **kwargs) -> sg.ParseError:
    with pytest.raises(sg.ParseError) as info:
        sg.parse(text, **kwargs)
    return info.value


# -- grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2", x**2),
        ("x**2", x**2),
        ("-x^2", -(x**2)),
        ("-x**2", -(x**2)),
        ("2^-x", 2 ** (-x)),
        ("2**-x", 2 ** (-x)),
        ("x^y^z", x ** (y**z)),
        ("x**y^z", x ** (y**z)),
        ("x^y**z", x ** (y**z)),
        ("(x^y)^z", (x**y) ** z),
        ("2*x^2", 2 * x**2),
        ("x^2*y", x**2 * y),
        ("x/y^2", x / y**2),
        ("x - y - z", x - y - z),
        ("x / y / z", x / (y * z)),
        ("x - -y", x + y),
        ("--x", x),
        ("+x", x),
        ("x^-y^2", x ** (-(y**2))),
        ("pi*x + E", sympy.pi * x + sympy.E),
        ("E^x", sympy.exp(x)),
    ],
)
def test_precedence(text, expected):
    """`^` is exactly `**`: same precedence, right-associative, above unary minus."""
    assert sg.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.1", sympy.Rational(1, 10)),
        ("1.5*x", sympy.Rational(3, 2) * x),
        (".25", sympy.Rational(1, 4)),
        ("1e-3", sympy.Rational(1, 1000)),
        ("2.5E2", sympy.Integer(250)),
        ("1/3", sympy.Rational(1, 3)),
        ("0.1 + 0.2", sympy.Rational(3, 10)),
    ],
)
def test_decimals_are_exact_rationals(text, expected):
    """Decimal literals become exact rationals, so 0.1 + 0.2 is exactly 3/10."""
    value = sg.parse(text)
    assert value == expected
    assert not value.has(sympy.Float)


def test_symbols_are_real():
    """Every parsed symbol is real, so |x| differentiates to sign(x) and sqrt(x**2) is |x|."""
    expr = sg.parse("x + y*z")
    assert expr.free_symbols == {x, y, z}
    assert all(s.is_real for s in expr.free_symbols)
    assert sg.parse("sqrt(x^2)") == sympy.Abs(x)
    assert sympy.diff(sg.parse("abs(x)"), x) == sympy.sign(x)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sin(x) + cos(y) + tan(z)", sympy.sin(x) + sympy.cos(y) + sympy.tan(z)),
        ("asin(x) + acos(x) + atan(x)", sympy.asin(x) + sympy.acos(x) + sympy.atan(x)),
        ("sinh(x) * cosh(x) / tanh(x)", sympy.sinh(x) * sympy.cosh(x) / sympy.tanh(x)),
        ("exp(x) + sqrt(y)", sympy.exp(x) + sympy.sqrt(y)),
        ("log(x)", sympy.log(x)),
        ("ln(x)", sympy.log(x)),
        ("log(x, b)", sympy.log(x) / sympy.log(b)),
        ("log(8, 2)", sympy.Integer(3)),
        ("Abs(x)", sympy.Abs(x)),
        ("abs(x)", sympy.Abs(x)),
        ("atan2(y, x)", sympy.atan2(y, x)),
        ("erf(x) + erfc(x)", sympy.erf(x) + sympy.erfc(x)),
        ("erfinv(x)", sympy.erfinv(x)),
        ("gamma(x)", sympy.gamma(x)),
        ("loggamma(x)", sympy.loggamma(x)),
        ("gamma(5)", sympy.Integer(24)),
        ("digamma(x)", sympy.polygamma(0, x)),
        ("polygamma(2, x)", sympy.polygamma(2, x)),
        ("Heaviside(x)", sympy.Heaviside(x)),
        ("Heaviside(x, 1)", sympy.Heaviside(x, 1)),
        ("sign(x) + floor(y) + ceiling(z)", sympy.sign(x) + sympy.floor(y) + sympy.ceiling(z)),
        ("Max(x, y)", sympy.Max(x, y)),
        ("max(x, y, 1)", sympy.Max(x, y, 1)),
        ("Min(x, y)", sympy.Min(x, y)),
        ("min(x, 0)", sympy.Min(x, 0)),
        ("Max(x)", x),
        ("sec(x) + csc(x) + cot(x)", sympy.sec(x) + sympy.csc(x) + sympy.cot(x)),
    ],
)
def test_functions_use_sympy_names(text, expected):
    """Functions are sympy's, under sympy's names (and a few aliases: ln, abs, max, min)."""
    assert sg.parse(text) == expected


def test_piecewise_and_where():
    """Piecewise takes (value, condition) pairs; where(c, a, b) is a two-branch Piecewise."""
    expected = sympy.Piecewise((x**2, x < 0), (sympy.sin(x), True))
    assert sg.parse("Piecewise((x^2, x < 0), (sin(x), True))") == expected
    assert sg.parse("where(x < 0, x^2, sin(x))") == expected
    three = sg.parse("Piecewise((-1, x < -1), (x, (x >= -1) & (x <= 1)), (1, True))")
    assert three.subs(x, -3) == -1
    assert three.subs(x, sympy.Rational(1, 2)) == sympy.Rational(1, 2)
    assert three.subs(x, 7) == 1
    assert sg.parse("where(x > 0 and y > 0, x*y, 0)") == sympy.Piecewise(
        (x * y, (x > 0) & (y > 0)), (0, True)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Piecewise(x)", "Piecewise takes (value, condition) pairs"),
        ("where(x, y, z)", "condition"),
        ("x > 0", "condition"),
        ("x + (y > 0)", "condition"),
        ("(x, y)", "tuple"),
        ("sin((x, y))", "tuple"),
        ("x & y", "conditions"),
    ],
)
def test_conditions_and_tuples_in_the_wrong_place(text, message):
    """Conditions and tuples are only allowed where Piecewise and where take them."""
    assert message in str(parse_error(text))


def test_parameters_are_plain_real_symbols():
    """Declared parameters parse like variables (their values live in the Function)."""
    assert sg.parse("a*x", params=["a"]) == a * x
    with pytest.raises(sg.ParseError, match="both a vector and a parameter"):
        sg.parse("a*x", vectors={"a": 2}, params=["a"])


# -- vectors ---------------------------------------------------------------------------


def test_vector_indexing():
    """x[i] is the component symbol `x[i]`; negative indices count from the end."""
    x0, x1, x2 = vec("x", 3)
    assert sg.parse("x[0] + 2*x[2]", vectors={"x": 3}) == x0 + 2 * x2
    assert sg.parse("x[-1]", vectors={"x": 3}) == x2
    assert sg.parse("x[-3]", vectors={"x": 3}) == x0
    assert sg.parse("x[1]^2", vectors={"x": 3}) == x1**2


def test_vector_elementwise_arithmetic():
    """Arithmetic on whole vectors is elementwise with scalars broadcast; it returns a column."""
    xs, ys = vec("x", 2), vec("y", 2)
    vectors = {"x": 2, "y": 2}
    assert sg.parse("x*y", vectors=vectors) == sympy.ImmutableMatrix([xs[0] * ys[0], xs[1] * ys[1]])
    assert sg.parse("2*x + y - 1", vectors=vectors) == sympy.ImmutableMatrix(
        [2 * xs[0] + ys[0] - 1, 2 * xs[1] + ys[1] - 1]
    )
    assert sg.parse("sin(x)^2 / z", vectors=vectors) == sympy.ImmutableMatrix(
        [sympy.sin(xs[0]) ** 2 / z, sympy.sin(xs[1]) ** 2 / z]
    )
    assert sg.parse("-x", vectors=vectors) == sympy.ImmutableMatrix([-xs[0], -xs[1]])


def test_vector_reductions():
    """sum, dot, norm and one-argument max/min reduce a vector to a scalar."""
    xs, ys = vec("x", 3), vec("y", 3)
    vectors = {"x": 3, "y": 3}
    assert sg.parse("sum(x*y)", vectors=vectors) == sum(p * q for p, q in zip(xs, ys))
    assert sg.parse("dot(x, y)", vectors=vectors) == sum(p * q for p, q in zip(xs, ys))
    assert sg.parse("norm(x)", vectors=vectors) == sympy.sqrt(sum(p**2 for p in xs))
    assert sg.parse("sum(x)", vectors=vectors) == sum(xs)
    assert sg.parse("max(x)", vectors=vectors) == sympy.Max(*xs)
    assert sg.parse("Min(y)", vectors=vectors) == sympy.Min(*ys)


def test_max_min_of_several_vectors_is_elementwise():
    """Max/Min of several arguments maps over vectors componentwise (scalars broadcast)."""
    xs, ys = vec("x", 2), vec("y", 2)
    vectors = {"x": 2, "y": 2}
    assert sg.parse("max(x, y)", vectors=vectors) == sympy.ImmutableMatrix(
        [sympy.Max(xs[0], ys[0]), sympy.Max(xs[1], ys[1])]
    )
    assert sg.parse("Min(x, 0)", vectors=vectors) == sympy.ImmutableMatrix(
        [sympy.Min(xs[0], 0), sympy.Min(xs[1], 0)]
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x*y", "different lengths"),
        ("x + y", "different lengths"),
        ("max(x, y)", "different lengths"),
        ("dot(x, y)", "dot of vectors of lengths 2 and 3"),
        ("x[2]", "out of range"),
        ("x[-3]", "out of range"),
        ("z[0]", "not a vector"),
        ("x[z]", "integer literal"),
        ("x[0.5]", "integer literal"),
        ("[1, 2]", "list literals"),
    ],
)
def test_vector_errors(text, message):
    """Length mismatches, bad indices and list literals are ParseErrors with a reason."""
    assert message in str(parse_error(text, vectors={"x": 2, "y": 3}))


def test_invalid_declarations():
    """Vector lengths must be positive integers and names must be valid identifiers."""
    with pytest.raises(sg.ParseError):
        sg.parse("x", vectors={"x": 0})
    with pytest.raises(sg.ParseError):
        sg.parse("x", vectors={"x": 2.5})
    with pytest.raises(sg.ParseError):
        sg.parse("x", vectors={"x[0]": 2})
    with pytest.raises(sg.ParseError):
        sg.parse("x", params=["__class__"])


# -- implicit multiplication -----------------------------------------------------------


def test_implicit_multiplication_is_opt_in():
    """`2x y` is refused by default (the message suggests '*') and accepted when asked for."""
    error = parse_error("2x y")
    assert error.column == 2
    assert "'*'" in str(error)
    assert sg.parse("2x y", implicit_multiplication=True) == 2 * x * y
    assert sg.parse("2 sin(x)", implicit_multiplication=True) == 2 * sympy.sin(x)
    assert sg.parse("3(x + 1)", implicit_multiplication=True) == 3 * (x + 1)
    assert sg.parse("x^2 y", implicit_multiplication=True) == x**2 * y


# -- hostile input ---------------------------------------------------------------------

PWNED = "/tmp/pwned_symgrad"


@pytest.mark.parametrize(
    "text",
    [
        f"__import__('os').system('touch {PWNED}')",
        f'__import__("os").system("touch {PWNED}")',
        "__import__(os)",
        f"exec(\"open('{PWNED}', 'w')\")",
        f"eval(\"open('{PWNED}', 'w')\")",
        "open(x)",
        "getattr(x, y)",
        "Symbol(x)",
        "sympify(x)",
        "x.__class__",
        "x.real",
        "sin.__globals__",
        "().__class__.__bases__[0].__subclasses__()",
        "lambda: 0",
        "lambda x: x",
        "[x for x in y]",
        "(x for x in y)",
        "{x: y}",
        "{x}",
        "__builtins__",
        "x + __dict__",
        "_x",
        "'abc'",
        '"abc"',
        "b'abc'",
        "x if y else z",
        "x; y",
        "x = 1",
        "x := 1",
        "import os",
        "x @ y",
        "x % y",
        "x // y",
        "x[0:1]",
        "`x`",
        "x \\ y",
        "$x",
        "# comment",
        "x\x00",
        "ｘ + 1",
        "x + ｙ",
        "sin(x)\u200b",
        "ⅹ",
        "x\u2212y",
        "I*x",
        "oo",
        "nan",
        "zoo",
        "1/0",
        "0^-1",
        "log(0)",
        "",
        "   ",
        "(",
        "x +",
        "sin",
        "sin()",
        "x)",
    ],
)
def test_hostile_text_is_refused(text):
    """Anything outside the grammar is a ParseError, and nothing runs (no file appears)."""
    if os.path.exists(PWNED):
        os.remove(PWNED)
    with pytest.raises(sg.ParseError):
        sg.parse(text)
    assert not os.path.exists(PWNED)


def test_dangerous_names_are_unknown_functions():
    """Python builtins are not functions of the grammar; the message lists the known ones."""
    error = parse_error("eval(x)")
    assert "unknown function 'eval'" in str(error)
    assert "sin" in str(error) and "atan2" in str(error)
    assert error.column == 1


def test_non_ascii_lookalike_names_the_character():
    """A fullwidth 'ｘ' is refused with its code point and column, not silently normalized."""
    error = parse_error("x + ｘ")
    assert error.column == 5
    assert "U+FF58" in str(error)


def test_huge_powers_fail_fast():
    """`9**9**9**9` would take sympy hours; it is refused at once with a ParseError."""
    for text in ("9**9**9**9", "9^9^9^9", "2**(10**6)", "10**99999", "(10**5)**(10**5)"):
        start = time.perf_counter()
        with pytest.raises(sg.ParseError, match="too large"):
            sg.parse(text)
        assert time.perf_counter() - start < 2.0, text


def test_moderate_exact_powers_still_evaluate():
    """Powers below the limit stay exact integers."""
    assert sg.parse("2^64") == sympy.Integer(2**64)
    assert sg.parse("(-1)^(10^9)") == 1


def test_huge_literals_are_refused():
    """Literals with thousands of digits or exponents are refused quickly."""
    with pytest.raises(sg.ParseError, match="too large"):
        sg.parse("1e5000")
    with pytest.raises(sg.ParseError, match="too large"):
        sg.parse("9" * 1500)


@pytest.mark.parametrize("text", ["gamma(10**6)", "loggamma(10^6)", "gamma(10^6 + 1) * x"])
def test_costly_special_values_do_not_hang(text):
    """gamma of a large literal is kept unevaluated instead of computing millions of digits."""
    start = time.perf_counter()
    value = sg.parse(text)
    assert time.perf_counter() - start < 2.0
    assert value.has(sympy.gamma) or value.has(sympy.loggamma)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 200 + "x" + ")" * 200,
        "sin(" * 200 + "x" + ")" * 200,
        "x^" * 200 + "x",
        "-(" * 200 + "x" + ")" * 200,
    ],
)
def test_deep_nesting_is_a_parse_error(text):
    """Nesting beyond the limit is a ParseError, never a RecursionError or a crash."""
    error = parse_error(text)
    assert "nested" in str(error)


def test_long_unary_chains_are_fine():
    """Unary signs are a loop, not recursion: thousands of them parse."""
    assert sg.parse("-" * 5001 + "x") == -x
    assert sg.parse("-" * 5000 + "x") == x


def test_text_over_max_length_is_refused():
    """Text longer than max_length (default 20,000) is a ParseError that suggests sympy."""
    text = "x+" * (MAX_LENGTH // 2) + "x"
    assert len(text) > MAX_LENGTH
    with pytest.raises(sg.ParseError, match="max_length") as info:
        sg.parse(text)
    assert "sympy" in str(info.value)
    with pytest.raises(sg.ParseError, match="max_length=10"):
        sg.parse("x + y + z + 1", max_length=10)
    assert sg.parse("x + y + z + 1", max_length=13) == x + y + z + 1


def _three_letter_names(count: int) -> list[str]:
    reserved = set(FUNCTIONS) | set(CONSTANTS) | {"and", "not", "nan", "zoo", "for", "def"}
    names = ("".join(t) for t in itertools.product(string.ascii_lowercase, repeat=3))
    return list(itertools.islice((n for n in names if n not in reserved), count))


def test_flat_sum_of_5000_terms():
    """A 5,000-term sum (within max_length) is one flat Add, built by a loop."""
    names = _three_letter_names(5000)
    text = "+".join(names)
    assert len(text) <= MAX_LENGTH
    start = time.perf_counter()
    expr = sg.parse(text)
    assert time.perf_counter() - start < 10.0
    assert isinstance(expr, sympy.Add)
    assert len(expr.args) == 5000
    assert {s.name for s in expr.free_symbols} == set(names)


def test_long_flat_product_with_larger_max_length():
    """A 5,000-factor product with a raised max_length is one Mul."""
    text = "*".join(f"v{i}" for i in range(5000))
    expr = sg.parse(text, max_length=len(text))
    assert isinstance(expr, sympy.Mul)
    assert len(expr.args) == 5000


# -- errors ----------------------------------------------------------------------------


def test_unknown_function_message_and_column():
    """The message names the function and column (as in the contract) and lists known ones."""
    text = "x + foo(x)"
    error = parse_error(text)
    assert isinstance(error, ValueError)
    assert isinstance(error, sg.SymgradError)
    assert error.column == 5
    assert error.text == text
    message = str(error)
    assert "unknown function 'foo' at column 5" in message
    known = message.split("known:", 1)[1]
    for name in ("sin", "cos", "log", "atan2", "erf", "gamma", "loggamma", "Max", "Piecewise"):
        assert name in known


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("x + y.z", 6),
        ("x +", 4),
        ("sin(x", 6),
        ("x ** ** y", 6),
        ("1 + 'a'", 5),
        ("x * (y + )", 10),
        ("a + b + _c", 9),
    ],
)
def test_parse_errors_carry_the_column(text, column):
    """Every ParseError carries the 1-based column of the problem and the text."""
    error = parse_error(text)
    assert error.column == column
    assert error.text == text
    assert f"column {column}" in str(error)


def test_non_string_input_is_a_parse_error():
    """Only text is parsed; other objects are refused with a ParseError."""
    with pytest.raises(sg.ParseError):
        sg.parse(42)  # type: ignore[arg-type]
    with pytest.raises(sg.ParseError):
        sg.parse(b"x + 1")  # type: ignore[arg-type]


# -- properties ------------------------------------------------------------------------

POINT = {"x": 0.7, "y": 1.3, "z": 2.1}


def _python_value(text: str) -> float:
    """The text's value under Python's own precedence (test-generated text only)."""
    python = text.replace("^", "**")
    for digit in "12345":
        python = python.replace(digit, f"{digit}.0")
    return eval(python, {"__builtins__": {}}, dict(POINT))


@given(flat_text)
def test_precedence_matches_python(text):
    """Unparenthesized text means what Python means by it, with `^` read as `**`."""
    try:
        expected = _python_value(text)
    except (OverflowError, ZeroDivisionError):
        assume(False)
    try:
        expr = sg.parse(text)
    except sg.ParseError as error:
        assert "too large" in str(error)
        assume(False)
    try:
        value = float(
            expr.evalf(30, subs={sympy.Symbol(k, real=True): v for k, v in POINT.items()})
        )
    except OverflowError:
        assume(False)
    assume(math.isfinite(expected) and abs(expected) < 1e200)
    assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


@given(expression_text)
def test_parse_print_parse_is_stable(text):
    """Printing a parsed expression and parsing it again gives the same expression."""
    first = sg.parse(text)
    second = sg.parse(str(first))
    # sympy distributes a leading minus differently when the text is re-read
    # (`-((y+3)/x)` prints as `-(y + 3)/x`, read back as `(-y - 3)/x`), so the first
    # round is compared as mathematics and from then on the text is a fixed point.
    assert sympy.expand(first - second) == 0
    assert sg.parse(str(second)) == second
    assert str(sg.parse(str(second))) == str(second)

"""`Function`: the seed examples, a derivative table, shapes, variables, params, evaluation."""

from __future__ import annotations

import pytest
import sympy
import torch
from helpers import TABLE, known, substitute

import symgrad as sg

x, y, z, a, b = sympy.symbols("x y z a b", real=True)


def vec(name: str, n: int) -> list[sympy.Symbol]:
    return [sympy.Symbol(f"{name}[{i}]", real=True) for i in range(n)]


# -- the three seed examples -----------------------------------------------------------


def test_seed_gradient_of_a_scalar_function():
    """grad(x**2 + y**3) is (2x, 3y**2), which is (4, 27) at (2, 3)."""
    f = sg.function("x**2 + y**3")
    assert f.variables == (x, y)
    g = f.gradient()
    assert g.shape == (2,)
    assert g.exprs == (2 * x, 3 * y**2)
    assert f.partial("x").expr == 2 * x
    assert f.partial("y").expr == 3 * y**2
    value = g(x=2.0, y=3.0)
    assert value.dtype == torch.float64
    assert torch.equal(value, torch.tensor([4.0, 27.0]))
    assert f(x=2.0, y=3.0).item() == 31.0


def test_seed_gradient_of_a_vector_dot_product():
    """sum(x*y) at x=[2,3], y=[1,4]: the gradient is [1,4] in x and [2,3] in y."""
    f = sg.function("sum(x*y)", vectors={"x": 2, "y": 2})
    xs, ys = vec("x", 2), vec("y", 2)
    assert f.variables == (*xs, *ys)
    assert f.expr == xs[0] * ys[0] + xs[1] * ys[1]
    assert f.partial("x").exprs == tuple(ys)
    assert f.partial("y").exprs == tuple(xs)
    at = {"x": [2.0, 3.0], "y": [1.0, 4.0]}
    assert torch.equal(f.partial("x")(**at), torch.tensor([1.0, 4.0]))
    assert torch.equal(f.partial("y")(**at), torch.tensor([2.0, 3.0]))
    assert torch.equal(f.gradient()(**at), torch.tensor([1.0, 4.0, 2.0, 3.0]))
    assert f(**at).item() == 14.0


def test_seed_jacobian_of_two_vector_outputs():
    """The Jacobian of [x*y, x+y] for 2-vectors is the 4x4 matrix from the README."""
    f = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    (x0, x1), (y0, y1) = vec("x", 2), vec("y", 2)
    assert f.shape == (4,)
    assert f.exprs == (x0 * y0, x1 * y1, x0 + y0, x1 + y1)
    jac = f.jacobian()
    assert jac.shape == (4, 4)
    assert jac.exprs == sympy.Matrix([[y0, 0, x0, 0], [0, y1, 0, x1], [1, 0, 1, 0], [0, 1, 0, 1]])
    value = jac(x=[2.0, 3.0], y=[1.0, 4.0])
    expected = torch.tensor(
        [[1.0, 0.0, 2.0, 0.0], [0.0, 4.0, 0.0, 3.0], [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    )
    assert torch.equal(value, expected)


def test_plain_autograd_cannot_do_the_vector_jacobian_but_symgrad_can():
    """torch.autograd.grad needs scalar outputs (or grad_outputs); symgrad's jacobian just works."""
    xv = torch.tensor([2.0, 3.0], requires_grad=True)
    yv = torch.tensor([1.0, 4.0], requires_grad=True)
    z1, z2 = xv * yv, xv + yv
    with pytest.raises(RuntimeError, match="scalar outputs"):
        torch.autograd.grad(outputs=[z1, z2], inputs=[xv, yv])
    f = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    reference = torch.autograd.functional.jacobian(
        lambda p, q: torch.cat([p * q, p + q]), (xv.detach(), yv.detach())
    )
    expected = torch.cat(reference, dim=1)
    assert torch.equal(f.jacobian()(x=xv.detach(), y=yv.detach()), expected)


# -- the derivative table --------------------------------------------------------------


@pytest.mark.parametrize("entry", TABLE, ids=lambda e: e.id)
def test_derivative_table(entry):
    """Each first partial equals the textbook closed form at every point of its domain."""
    f = entry.function()
    for name, formula in entry.partials.items():
        ours = f.partial(name).expr
        reference = known(formula)
        for i in range(len(next(iter(entry.points.values())))):
            point = {k: v[i] for k, v in entry.points.items()}
            assert substitute(ours, point) == pytest.approx(
                substitute(reference, point), rel=1e-12, abs=1e-12
            ), (name, point, ours)


@pytest.mark.parametrize(
    ("text", "wrt", "expected"),
    [
        ("sin(x)", "x", "cos(x)"),
        ("tan(x)", "x", "1/cos(x)**2"),
        ("atan(x)", "x", "1/(1 + x**2)"),
        ("tanh(x)", "x", "1/cosh(x)**2"),
        ("asinh(x)", "x", "1/sqrt(x**2 + 1)"),
        ("exp(x)*log(x)", "x", "exp(x)*log(x) + exp(x)/x"),
        ("log(x, b)", "x", "1/(x*log(b))"),
        ("x**a", "x", "a*x**(a - 1)"),
        ("x**a", "a", "x**a*log(x)"),
        ("a**x", "x", "a**x*log(a)"),
        ("sqrt(x)", "x", "1/(2*sqrt(x))"),
        ("Abs(x)", "x", "sign(x)"),
        ("erf(x)", "x", "2*exp(-x**2)/sqrt(pi)"),
        ("gamma(x)", "x", "gamma(x)*polygamma(0, x)"),
        ("loggamma(x)", "x", "polygamma(0, x)"),
        ("atan2(y, x)", "x", "-y/(x**2 + y**2)"),
        ("atan2(y, x)", "y", "x/(x**2 + y**2)"),
        ("Max(x, y)", "x", "Heaviside(x - y)"),
        ("Min(x, y)", "x", "Heaviside(y - x)"),
        ("Heaviside(x)", "x", "DiracDelta(x)"),
    ],
)
def test_closed_forms_simplify_to_the_textbook(text, wrt, expected):
    """Symbolically, ours minus the textbook form simplifies to zero."""
    ours = sg.function(text).partial(wrt).expr
    assert sympy.simplify(ours - known(expected)) == 0


def test_piecewise_derivative_is_piecewise():
    """The derivative of a Piecewise differentiates each branch and keeps the conditions."""
    f = sg.function("Piecewise((x**2, x < 0), (sin(x), True))")
    assert f.partial("x").expr == sympy.Piecewise((2 * x, x < 0), (sympy.cos(x), True))


# -- derivative algebra ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["sin(x*y)*exp(x)", "x**3*y**2 + atan2(y, x)", "log(x**2 + y**2)", "x**y"]
)
def test_mixed_partials_are_symmetric(text):
    """d2f/dxdy == d2f/dydx (smooth functions), and both match sympy.diff."""
    f = sg.function(text)
    xy, yx = f.partial("x", "y"), f.partial("y", "x")
    assert sympy.simplify(xy.expr - yx.expr) == 0
    assert sympy.simplify(xy.expr - sympy.diff(f.expr, x, y)) == 0


def test_higher_order_partials():
    """Repeated names give higher orders: d3/dx3 x**5 y = 60 x**2 y."""
    f = sg.function("x**5*y + sin(x)")
    assert sympy.expand(f.partial("x", "x", "x").expr - (60 * x**2 * y - sympy.cos(x))) == 0
    assert f.partial("x", "x", "x", "x", "x", "x").expr == -sympy.sin(x)
    assert f.partial("x", "y", "x").expr == 20 * x**3
    assert f.partial("y", "y").expr == 0


def test_composition_gradient_jacobian_is_hessian():
    """f.gradient().jacobian() is f.hessian(), as Functions and as numbers."""
    f = sg.function("x**3*y + exp(x*z) - y*z**2")
    h = f.hessian()
    gj = f.gradient().jacobian()
    assert h.shape == gj.shape == (3, 3)
    assert gj == h
    assert h.exprs == sympy.hessian(f.expr, (x, y, z))
    at = {"x": 0.5, "y": -1.0, "z": 2.0}
    assert torch.allclose(gj(**at), h(**at))
    assert torch.allclose(h(**at), h(**at).T)


def test_hessian_of_vector_variables():
    """The Hessian of sum(x*y) over (x0, x1, y0, y1) has identity blocks off the diagonal."""
    f = sg.function("sum(x*y)", vectors={"x": 2, "y": 2})
    eye = sympy.eye(2)
    zero = sympy.zeros(2)
    assert f.hessian().exprs == sympy.Matrix(sympy.BlockMatrix([[zero, eye], [eye, zero]]))


def test_laplacian():
    """The Laplacian sums the unmixed second partials, per output, over wrt."""
    f = sg.function("x**2 + y**3 + x*y")
    assert f.laplacian().expr == 2 + 6 * y
    assert f.laplacian().shape == ()
    assert f.laplacian("x").expr == 2
    assert f.laplacian(["y"]).expr == 6 * y
    v = sg.function(["x**2*y", "sin(x) + y**2"])
    assert v.laplacian().shape == (2,)
    assert v.laplacian().exprs == (2 * y, 2 - sympy.sin(x))
    r = sg.function("norm(x)**2", vectors={"x": 3})
    assert r.laplacian().expr == 6
    assert torch.allclose(
        f.laplacian()(x=1.0, y=torch.tensor([0.0, 1.0])), torch.tensor([2.0, 8.0])
    )


def test_partial_against_a_vector_variable_adds_an_axis():
    """partial('x') for a vector x is the block of partials, one axis of x's length."""
    f = sg.function("sum(x*y)*z", vectors={"x": 2, "y": 2})
    xs, ys = vec("x", 2), vec("y", 2)
    assert f.partial("x").shape == (2,)
    assert f.partial("x").exprs == (ys[0] * z, ys[1] * z)
    assert f.partial("x", "y").shape == (2, 2)
    assert f.partial("x", "y").exprs == sympy.Matrix([[z, 0], [0, z]])
    assert f.partial("x[1]").expr == ys[1] * z
    assert f.partial("x", "z").exprs == tuple(ys)
    assert f.gradient("x z").exprs == (ys[0] * z, ys[1] * z, xs[0] * ys[0] + xs[1] * ys[1])
    v = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    assert v.partial("x").shape == (4, 2)


# -- shapes and variables --------------------------------------------------------------


def test_shapes_follow_the_mathematics():
    """Scalars are (), vectors (m,), matrices (m, n); derivatives have the documented shapes."""
    s = sg.function("x*y*z")
    assert s.shape == ()
    assert s.gradient().shape == (3,)
    assert s.jacobian().shape == (1, 3)
    assert s.hessian().shape == (3, 3)
    v = sg.function(["x", "y*z"])
    assert v.shape == (2,)
    assert v.jacobian().shape == (2, 3)
    m = sg.function(sympy.Matrix([[x, y], [z, x * y]]))
    assert m.shape == (2, 2)
    assert m.exprs == sympy.Matrix([[x, y], [z, x * y]])
    assert m.partial("x").shape == (2, 2)
    assert m.partial("x").exprs == sympy.Matrix([[1, 0], [0, y]])
    assert m(x=torch.ones(5), y=2.0, z=3.0).shape == (5, 2, 2)
    column = sg.function(sympy.Matrix([x, y]))
    assert column.shape == (2,)
    expanded = sg.function(["x*y", "z"], vectors={"x": 3, "y": 3})
    assert expanded.shape == (4,)


def test_expr_is_only_for_scalar_functions():
    """`.expr` is the single output; asking a vector function for it is a ShapeError."""
    with pytest.raises(sg.ShapeError):
        _ = sg.function(["x", "y"]).expr


def test_variables_default_to_sorted_names():
    """By default the variables are the free symbols sorted by name, vectors expanded in place."""
    assert sg.function("c + b*a").variables == (a, b, sympy.Symbol("c", real=True))
    w = sympy.Symbol("w", real=True)
    f = sg.function("z + w*sum(x)", vectors={"x": 2})
    assert f.variables == (w, *vec("x", 2), z)


def test_explicit_variable_order_is_kept():
    """An explicit order (string or list) is kept, vector components expanded in place."""
    assert sg.function("x*y + z", "z x y").variables == (z, x, y)
    assert sg.function("x*y + z", ["y", "z", "x"]).variables == (y, z, x)
    assert sg.function("x*y + z", "z, x, y").variables == (z, x, y)
    f = sg.function("y + sum(x)", ["y", "x"], vectors={"x": 2})
    assert f.variables == (y, *vec("x", 2))
    assert f.gradient().exprs == (1, 1, 1)
    g = sg.function("x**2", "x y")
    assert g.variables == (x, y)
    assert g.gradient().exprs == (2 * x, 0)


def test_declared_vector_keeps_all_components():
    """A vector variable contributes all its components even if only some appear."""
    f = sg.function("x[0]**2", vectors={"x": 3})
    assert f.variables == tuple(vec("x", 3))
    assert f.gradient().exprs == (2 * vec("x", 3)[0], 0, 0)


def test_sympy_input_with_plain_symbols():
    """A sympy expression over plain (non-real) symbols is taken over real symbols, names kept."""
    px, py = sympy.symbols("x y")
    f = sg.function(px**2 * py)
    assert f.variables == (x, y)
    assert f.partial("x").expr == 2 * x * y
    g = sg.function(sympy.Abs(px))
    assert g.partial("x").expr == sympy.sign(x)


# -- parameters ------------------------------------------------------------------------


def test_params():
    """Params have initial values, are not variables, and can be differentiated against."""
    f = sg.function("a*x**2 + b", params={"a": 1.5, "b": -2})
    assert dict(f.params) == {"a": 1.5, "b": -2.0}
    assert f.variables == (x,)
    assert f.gradient().exprs == (2 * a * x,)
    assert f.partial("a").expr == x**2
    assert f.partial("b").expr == 1
    assert f.partial("a", "x").expr == 2 * x
    assert f.gradient("x a b").exprs == (2 * a * x, x**2, 1)
    assert f(x=2.0).item() == pytest.approx(1.5 * 4 - 2)
    assert f(x=2.0, a=3.0).item() == pytest.approx(3.0 * 4 - 2)
    assert f.partial("x")(x=2.0).item() == pytest.approx(6.0)
    assert f.partial("a")(x=2.0).item() == pytest.approx(4.0)
    with pytest.raises(TypeError):
        f.params["a"] = 3.0  # type: ignore[index]


@pytest.mark.parametrize("value", ["abc", float("nan"), float("inf"), None])
def test_param_values_must_be_finite_numbers(value):
    """A parameter's value must be a finite number."""
    with pytest.raises(sg.VariableError):
        sg.function("a*x", params={"a": value})


def test_param_cannot_also_be_a_variable():
    """A name is either a variable or a parameter, not both."""
    with pytest.raises(sg.VariableError):
        sg.function("a*x", "a x", params={"a": 1.0})


# -- errors ----------------------------------------------------------------------------


def test_unknown_wrt_is_a_variable_error():
    """Differentiating by an unknown name is a VariableError (also a KeyError) naming it."""
    f = sg.function("x**2 + y")
    for call in (
        lambda: f.partial("q"),
        lambda: f.gradient("x q"),
        lambda: f.jacobian(["q"]),
        lambda: f.hessian("q"),
    ):
        with pytest.raises(sg.VariableError, match="'q'") as info:
            call()
        assert isinstance(info.value, KeyError)
        assert info.value.name == "q"
    with pytest.raises(sg.VariableError):
        f.partial()


def test_shape_errors():
    """gradient/hessian need a scalar function, jacobian a scalar or vector one."""
    v = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    with pytest.raises(sg.ShapeError, match="jacobian"):
        v.gradient()
    with pytest.raises(sg.ShapeError):
        v.hessian()
    with pytest.raises(sg.ShapeError):
        sg.function("x*y").hessian().jacobian()
    with pytest.raises(sg.ShapeError):
        sg.function(sympy.Gt(x, 0))
    with pytest.raises(sg.ShapeError):
        sg.function([])


def test_undeclared_free_symbol_is_a_variable_error():
    """A free symbol that is neither a variable nor a param is a VariableError naming it."""
    with pytest.raises(sg.VariableError, match="'y'") as info:
        sg.function("x + y", "x")
    assert info.value.name == "y"
    with pytest.raises(sg.VariableError):
        sg.function("x + y", "x x y")
    with pytest.raises(sg.VariableError):
        sg.function("x", "x[0]")


def test_parse_errors_propagate():
    """Bad text given to function() is the parser's ParseError."""
    with pytest.raises(sg.ParseError):
        sg.function("x + foo(x)")


# -- immutability and display ----------------------------------------------------------


def test_function_is_immutable():
    """Attributes cannot be set, and derivatives leave the original untouched."""
    f = sg.function("x**2 + y**3")
    with pytest.raises(AttributeError):
        f.expr = x  # type: ignore[misc]
    with pytest.raises(AttributeError):
        f.anything = 1  # type: ignore[attr-defined]
    before = (f.exprs, f.shape, f.variables)
    f.hessian()
    f.partial("x", "y")
    assert (f.exprs, f.shape, f.variables) == before
    assert f == sg.function("x**2 + y**3")
    assert hash(f) == hash(sg.function("x**2 + y**3"))
    assert f != sg.function("x**2 + y**3", "y x")
    assert isinstance(f.gradient().exprs, tuple)
    with pytest.raises(TypeError):
        f.hessian().exprs[0, 0] = 1


def test_str_repr_latex_pretty():
    """str, repr, LaTeX and Unicode art show the closed forms."""
    f = sg.function("x**2 + y**3")
    assert str(f) == "x**2 + y**3"
    assert str(f.gradient()) == "[2*x, 3*y**2]"
    assert repr(f.gradient()) == "Function([2*x, 3*y**2], variables=(x, y))"
    assert str(f.hessian()) == "[[2, 0], [0, 6*y]]"
    assert f.latex() == "x^{2} + y^{3}"
    assert f.gradient().latex() == r"\left[\begin{matrix}2 x\\3 y^{2}\end{matrix}\right]"
    assert f.hessian().latex() == r"\left[\begin{matrix}2 & 0\\0 & 6 y\end{matrix}\right]"
    assert f.pretty() == " 2    3\nx  + y "
    assert f.hessian().pretty() == "⎡2   0 ⎤\n⎢      ⎥\n⎣0  6⋅y⎦"
    g = sg.function("sum(x*y)", vectors={"x": 2, "y": 2})
    assert g.latex() == "x_{0} y_{0} + x_{1} y_{1}"
    assert str(g) == "x[0]*y[0] + x[1]*y[1]"
    assert g.pretty() == "x[0]⋅y[0] + x[1]⋅y[1]"


# -- numeric evaluation ----------------------------------------------------------------


def test_call_batches_and_broadcasts():
    """Values broadcast like torch; the result has shape batch + f.shape."""
    f = sg.function("x**2 + y**3")
    xv = torch.linspace(-1, 1, 3).reshape(3, 1)
    yv = torch.linspace(0, 2, 4)
    value = f(x=xv, y=yv)
    assert value.shape == (3, 4)
    assert torch.allclose(value, xv**2 + yv**3)
    grad = f.gradient()(x=xv, y=yv)
    assert grad.shape == (3, 4, 2)
    assert torch.allclose(grad[..., 0], (2 * xv).expand(3, 4))
    assert torch.allclose(grad[..., 1], (3 * yv**2).expand(3, 4))
    assert f.hessian()(x=xv, y=2.0).shape == (3, 1, 2, 2)
    assert f(x=[[1, 2], [3, 4]], y=0).tolist() == [[1.0, 4.0], [9.0, 16.0]]


def test_derivatives_take_the_same_keywords():
    """A derivative in which a variable no longer appears still takes (and batches over) it."""
    f = sg.function("x**2 + y")
    dy = f.partial("y")
    assert dy.expr == 1
    assert torch.equal(dy(x=torch.zeros(3), y=torch.zeros(3)), torch.ones(3))
    assert dy(x=1.0, y=torch.zeros(2, 5)).shape == (2, 5)
    assert f.partial("x")(x=torch.arange(3.0), y=torch.zeros(2, 1)).shape == (2, 3)
    with pytest.raises(sg.VariableError, match="'y'"):
        f.partial("x")(x=1.0)


def test_vector_values_on_the_last_axis():
    """A vector variable takes its components on the last axis; the rest is batch."""
    f = sg.function("sum(x*y)", vectors={"x": 3, "y": 3})
    xv = torch.randn(5, 3)
    yv = torch.randn(3)
    assert torch.allclose(f(x=xv, y=yv), (xv * yv).sum(-1))
    grad = f.gradient()(x=xv, y=yv)
    assert grad.shape == (5, 6)
    assert torch.allclose(grad[:, :3], yv.expand(5, 3))
    assert torch.allclose(grad[:, 3:], xv)
    assert f.hessian()(x=xv, y=yv).shape == (5, 6, 6)


def test_dtype_propagates():
    """float32 in gives float32 out; Python numbers and lists use torch's default dtype."""
    f = sg.function("x**2 + sin(y)")
    f32 = torch.tensor([1.0, 2.0], dtype=torch.float32)
    assert f(x=f32, y=f32).dtype == torch.float32
    assert f.gradient()(x=f32, y=f32).dtype == torch.float32
    assert f(x=2.0, y=1.0).dtype == torch.float64
    assert f(x=[1, 2], y=3).dtype == torch.float64
    assert f(x=torch.tensor([1, 2]), y=torch.tensor(3)).dtype == torch.float64
    torch.set_default_dtype(torch.float32)  # the autouse fixture restores float64
    assert f(x=2.0, y=1.0).dtype == torch.float32
    assert f.hessian()(x=[1.0], y=[0.5]).dtype == torch.float32


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"x": 1.0}, "missing value for 'y'"),
        ({"x": 1.0, "y": 2.0, "w": 3.0}, "unknown variable 'w'"),
        ({"x": "one", "y": 2.0}, "'x'"),
        ({"x": None, "y": 2.0}, "'x'"),
        ({"x": 1j, "y": 2.0}, "complex"),
    ],
)
def test_bad_values_are_variable_errors(values, message):
    """Missing, unknown and non-numeric values are VariableErrors naming the variable."""
    f = sg.function("x*y")
    with pytest.raises(sg.VariableError, match=message):
        f(**values)


def test_vector_of_the_wrong_length():
    """A vector value whose last axis is not the declared length is a VariableError."""
    f = sg.function("sum(x*y)", vectors={"x": 2, "y": 2})
    with pytest.raises(sg.VariableError, match="length 2"):
        f(x=[1.0, 2.0, 3.0], y=[1.0, 2.0])
    with pytest.raises(sg.VariableError, match="'x'"):
        f(x=2.0, y=[1.0, 2.0])
    with pytest.raises(sg.VariableError):
        f.gradient()(x=torch.ones(4, 3), y=torch.ones(2))


@pytest.mark.parametrize("entry", TABLE, ids=lambda e: e.id)
def test_table_values_match_sympy_numerically(entry):
    """f(**values) agrees with sympy's own evaluation of f at every table point."""
    f = entry.function()
    ours = f(**{k: torch.tensor(v) for k, v in entry.points.items()})
    n = len(next(iter(entry.points.values())))
    for i in range(n):
        point = {k: v[i] for k, v in entry.points.items()}
        expected = substitute(f.expr, point)
        assert ours[i].item() == pytest.approx(expected, rel=1e-10, abs=1e-12)

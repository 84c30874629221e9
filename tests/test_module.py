"""Compiled modules: shapes, dtypes, devices, shared parameters, training, sympytorch, compile."""

from __future__ import annotations

import pytest
import sympy
import sympytorch
import torch
from helpers import autograd_partials

import symgrad as sg

# -- calling convention, batching and broadcasting -------------------------------------


def test_module_takes_values_by_name_or_position():
    """forward takes the variables in f.inputs order by position, or by name."""
    f = sg.function("x**2 + 10*y")
    module = f.to_torch()
    assert isinstance(module, torch.nn.Module)
    xv, yv = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    expected = torch.tensor([31.0, 44.0])
    assert torch.equal(module(xv, yv), expected)
    assert torch.equal(module(x=xv, y=yv), expected)
    assert torch.equal(module(xv, y=yv), expected)
    assert torch.equal(module(2.0, 0.5), torch.tensor(9.0))
    with pytest.raises(sg.VariableError):
        module(xv, x=xv)
    with pytest.raises(sg.VariableError):
        module(xv, yv, xv)
    with pytest.raises(sg.VariableError, match="missing value for 'y'"):
        module(xv)


@pytest.mark.parametrize(
    ("shapes", "batch"),
    [
        (((), ()), ()),
        (((5,), ()), (5,)),
        (((5,), (5,)), (5,)),
        (((3, 1), (4,)), (3, 4)),
        (((2, 1, 6), (1, 5, 1)), (2, 5, 6)),
    ],
)
def test_batch_shapes_broadcast(shapes, batch):
    """The output of f and of each derivative has shape broadcast(batch) + f.shape."""
    f = sg.function("sin(x)*y**2 + x*y")
    xv, yv = torch.randn(shapes[0]), torch.randn(shapes[1])
    expected = torch.sin(xv) * yv**2 + xv * yv
    value = f.to_torch()(x=xv, y=yv)
    assert value.shape == batch
    assert torch.allclose(value, expected)
    assert f.gradient().to_torch()(x=xv, y=yv).shape == batch + (2,)
    assert f.hessian().to_torch()(x=xv, y=yv).shape == batch + (2, 2)
    assert f.partial("x").to_torch()(x=xv, y=yv).shape == batch


def test_incompatible_batch_shapes_raise():
    """Batch shapes that do not broadcast are a VariableError naming each shape."""
    f = sg.function("x*y")
    with pytest.raises(sg.VariableError, match=r"x: \(3,\), y: \(4,\)"):
        f.to_torch()(x=torch.ones(3), y=torch.ones(4))


def test_vector_variables_on_the_last_axis():
    """Vector variables take components on the last axis; autograd agrees with the partials."""
    f = sg.function("dot(x, y)*sin(z) + norm(x)", vectors={"x": 3, "y": 3})
    values = {"x": torch.randn(4, 3), "y": torch.randn(1, 3), "z": torch.randn(4)}
    module = f.to_torch()
    out = module(**values)
    assert out.shape == (4,)
    expected = (values["x"] * values["y"]).sum(-1) * torch.sin(values["z"]) + values["x"].norm(
        dim=-1
    )
    assert torch.allclose(out, expected)
    reference = autograd_partials(module, values)
    dx = f.partial("x").to_torch()(**values)
    assert dx.shape == (4, 3)
    assert torch.allclose(dx, reference["x"])
    dy = f.partial("y").to_torch()(**values)
    assert torch.allclose(dy.sum(0, keepdim=True), reference["y"])
    grad = f.gradient().to_torch()(**values)
    assert grad.shape == (4, 7)
    assert torch.allclose(grad[:, :3], dx)
    with pytest.raises(sg.VariableError, match="length 3"):
        module(x=torch.randn(4, 2), y=torch.randn(3), z=0.0)


def test_vector_valued_function_shapes():
    """A vector-valued function returns batch + (m,), its Jacobian batch + (m, n)."""
    f = sg.function(["x*y", "x+y", "sin(z)"], vectors={"x": 2, "y": 2})
    assert f.shape == (5,)
    values = {"x": torch.randn(6, 2), "y": torch.randn(6, 2), "z": torch.randn(6)}
    assert f.to_torch()(**values).shape == (6, 5)
    jac = f.jacobian().to_torch()(**values)
    assert jac.shape == (6, 5, 5)
    module = f.to_torch()
    for i in range(2):
        single = {k: v[i] for k, v in values.items()}
        blocks = torch.autograd.functional.jacobian(
            lambda a, b, c: module(x=a, y=b, z=c), (single["x"], single["y"], single["z"])
        )
        reference = torch.cat([blocks[0], blocks[1], blocks[2].unsqueeze(-1)], dim=-1)
        assert torch.allclose(jac[i], reference)


# -- dtypes and devices ----------------------------------------------------------------


def test_dtype_follows_the_inputs():
    """float32 in gives float32 out; Python numbers give torch's default dtype."""
    f = sg.function("a*exp(x) + y", params={"a": 2.0})
    module = f.to_torch()
    grad = f.gradient().to_torch()
    x32 = torch.tensor([0.5, 1.0], dtype=torch.float32)
    assert module(x=x32, y=x32).dtype == torch.float32
    assert grad(x=x32, y=x32).dtype == torch.float32
    assert module(x=0.5, y=1.0).dtype == torch.float64
    x64 = x32.double()
    assert module(x=x64, y=x64).dtype == torch.float64
    assert torch.allclose(module(x=x32, y=x32).double(), module(x=x64, y=x64), rtol=1e-6)


def test_to_torch_dtype_moves_parameters():
    """to_torch(dtype=...) puts the shared parameters in that dtype."""
    f = sg.function("a*x", params={"a": 1.5})
    module = f.to_torch(dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in module.parameters())
    out = module(x=torch.ones(2, dtype=torch.float32))
    assert out.dtype == torch.float32
    assert torch.equal(out, torch.full((2,), 1.5, dtype=torch.float32))
    with pytest.raises(sg.SymgradError):
        f.to_torch(dtype=torch.int64)


def test_cpu_device():
    """device='cpu' keeps parameters and outputs on the CPU."""
    f = sg.function("a*x**2", params={"a": 1.5})
    module = f.to_torch(device="cpu")
    assert all(p.device.type == "cpu" for p in module.parameters())
    assert module(x=torch.ones(3)).device.type == "cpu"
    assert f.gradient().to_torch(device=torch.device("cpu"))(x=torch.ones(3)).device.type == "cpu"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    """Asking for CUDA where there is none is a symgrad error, not a crash later."""
    with pytest.raises(sg.SymgradError, match="CUDA"):
        sg.function("x**2").to_torch(device="cuda")


@pytest.mark.gpu
def test_cuda_device():
    """On CUDA, modules and evaluation stay on the GPU and agree with the CPU values."""
    f = sg.function("a*sin(x)*y**2 + erf(x*y) + gamma(y + 2)", params={"a": 1.5})
    xv = torch.linspace(-1, 1, 11)
    yv = torch.linspace(0.5, 2, 11)
    cpu = f.gradient()(x=xv, y=yv)
    module = f.to_torch(device="cuda")
    assert all(p.device.type == "cuda" for p in module.parameters())
    xg, yg = xv.cuda(), yv.cuda()
    out = module(x=xg, y=yg)
    assert out.device.type == "cuda"
    grad = f.gradient().to_torch(device="cuda")(x=xg, y=yg)
    assert grad.device.type == "cuda"
    torch.testing.assert_close(grad.cpu(), cpu)
    assert f.hessian()(x=xg, y=yg).device.type == "cuda"
    reference = autograd_partials(module, {"x": xg, "y": yg})
    torch.testing.assert_close(grad[..., 0], reference["x"])
    torch.testing.assert_close(grad[..., 1], reference["y"])
    f32 = f.gradient().to_torch(device="cuda")(x=xg.float(), y=yg.float())
    assert f32.dtype == torch.float32 and f32.device.type == "cuda"
    op = sg.autograd_function(f)
    xr = xg.clone().requires_grad_(True)
    op(xr, yg).sum().backward()
    torch.testing.assert_close(xr.grad, reference["x"])


# -- parameters ------------------------------------------------------------------------


def test_function_and_derivatives_share_parameters():
    """f's module and its derivatives' modules hold the very same nn.Parameter objects."""
    f = sg.function("a*sin(x) + b*x**2", params={"a": 1.5, "b": -0.5})
    m = f.to_torch()
    g = f.gradient().to_torch()
    h = f.hessian().to_torch()
    p = f.partial("x").to_torch()
    params = dict(m.named_parameters())
    assert len(params) == 2
    assert all(isinstance(v, torch.nn.Parameter) for v in params.values())
    for other in (g, h, p):
        assert {id(v) for v in other.parameters()} == {id(v) for v in m.parameters()}
    assert [v.item() for v in m.parameters()] == [1.5, -0.5]


def test_sgd_step_is_seen_by_every_derivative():
    """One SGD step on f's module moves the derivative modules consistently with autograd."""
    f = sg.function("a*sin(x) + b*x**2", params={"a": 1.5, "b": -0.5})
    m = f.to_torch()
    g = f.partial("x").to_torch()
    xv = torch.linspace(-2, 2, 9)
    before = g(x=xv).detach().clone()
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    target = torch.cos(xv)
    loss = ((m(x=xv) - target) ** 2).mean()
    loss.backward()
    a_grad, b_grad = (p.grad.item() for p in m.parameters())
    assert a_grad != 0 and b_grad != 0
    opt.step()
    a, b = (p.item() for p in m.parameters())
    assert a == pytest.approx(1.5 - 0.1 * a_grad)
    assert b == pytest.approx(-0.5 - 0.1 * b_grad)
    after = g(x=xv)
    assert not torch.allclose(after, before)
    assert torch.allclose(after, a * torch.cos(xv) + 2 * b * xv)
    reference = autograd_partials(m, {"x": xv})["x"]
    assert torch.allclose(after, reference)
    assert torch.allclose(f.partial("x")(x=xv), reference)
    assert torch.allclose(f.gradient().to_torch()(x=xv)[..., 0], reference)


def test_parameter_gradients_equal_the_closed_form():
    """autograd's gradient for a parameter equals the closed-form partial against it."""
    f = sg.function("a*exp(-b*x**2)", params={"a": 2.0, "b": 0.7})
    m = f.to_torch()
    xv = torch.linspace(-1, 1, 5)
    m(x=xv).sum().backward()
    da, db = (p.grad for p in m.parameters())
    assert torch.allclose(da, f.partial("a")(x=xv).sum())
    assert torch.allclose(db, f.partial("b")(x=xv).sum())


def test_explicit_parameter_value_overrides():
    """Passing a parameter by name uses that value instead of the shared parameter."""
    f = sg.function("a*x", params={"a": 1.5})
    module = f.to_torch()
    assert module(x=2.0).item() == pytest.approx(3.0)
    assert module(x=2.0, a=4.0).item() == pytest.approx(8.0)


def test_training_a_parameter_fits_data():
    """Gradient descent through the compiled module recovers the parameters of the data."""
    f = sg.function("a*x**2 + b*sin(x)", params={"a": 1.0, "b": 0.0})
    module = f.to_torch()
    xv = torch.linspace(-2, 2, 64)
    target = 3.0 * xv**2 - 1.5 * torch.sin(xv)
    opt = torch.optim.SGD(module.parameters(), lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        loss = ((module(x=xv) - target) ** 2).mean()
        loss.backward()
        opt.step()
    a, b = (p.item() for p in module.parameters())
    assert a == pytest.approx(3.0, abs=1e-3)
    assert b == pytest.approx(-1.5, abs=1e-3)
    assert loss.item() < 1e-6
    # the derivative module sees the trained values
    assert torch.allclose(f.partial("x").to_torch()(x=xv), 2 * a * xv + b * torch.cos(xv))


# -- sympytorch backend ----------------------------------------------------------------

SYMPYTORCH_CASES = [
    "a*sin(x)*y**2 + exp(-x*y) + Abs(x) + Max(x, y)",
    "gamma(y**2 + 1) + erfinv(x/3) + sech(x) + atan2(y, x)",
    "log(x**2 + 1, 2) + sqrt(y**2 + 1)",
]


@pytest.mark.parametrize("text", SYMPYTORCH_CASES)
def test_sympytorch_backend_computes_the_same_values(text):
    """backend='sympytorch' is a sympytorch.SymPyModule computing the same values."""
    f = sg.function(text, "x y", params={"a": 1.5} if "a*" in text else None)
    module = f.to_torch(backend="sympytorch")
    assert isinstance(module, sympytorch.SymPyModule)
    xv, yv = torch.randn(7), torch.randn(7)
    torch.testing.assert_close(module(x=xv, y=yv), f.to_torch()(x=xv, y=yv))
    grad = f.gradient()
    torch.testing.assert_close(
        grad.to_torch(backend="sympytorch")(x=xv, y=yv), grad.to_torch()(x=xv, y=yv)
    )


def test_sympytorch_backend_with_vectors_and_shared_parameters():
    """The sympytorch module takes vectors on the last axis and shares f's parameters."""
    f = sg.function(["a*x*y", "x+y"], vectors={"x": 2, "y": 2}, params={"a": 2.0})
    module = f.to_torch(backend="sympytorch")
    xv, yv = torch.randn(3, 2), torch.randn(2)
    out = module(x=xv, y=yv)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out, f(x=xv, y=yv))
    jac = f.jacobian().to_torch(backend="sympytorch")(x=xv, y=yv)
    assert jac.shape == (3, 4, 4)
    torch.testing.assert_close(jac, f.jacobian()(x=xv, y=yv))
    assert {id(p) for p in module.parameters()} >= {id(p) for p in f.to_torch().parameters()}


def test_sympytorch_module_round_trips_to_a_function():
    """sg.function(module.sympy()) of a sympytorch module gives back a Function."""
    f = sg.function("sin(x)*y**2 + exp(-x*y)")
    module = f.to_torch(backend="sympytorch")
    g = sg.function(module.sympy())
    assert isinstance(g, sg.Function)
    assert g.outputs == f.outputs
    assert g.variables == f.variables
    h = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    back = sg.function(h.to_torch(backend="sympytorch").sympy(), vectors={"x": 2, "y": 2})
    assert back.outputs == h.outputs
    assert back.jacobian().exprs == h.jacobian().exprs


def test_sympytorch_limits_are_symgrad_errors():
    """What sympytorch cannot build is an UnsupportedFunctionError, never a bare KeyError."""
    with pytest.raises(sg.UnsupportedFunctionError):
        sg.function("Max(x, y, 0)").to_torch(backend="sympytorch")
    with pytest.raises(sg.SymgradError):
        sg.function("x").to_torch(backend="tensorflow")


def test_sympytorch_piecewise_works_or_is_refused_clearly():
    """A Piecewise either computes the same values or is an UnsupportedFunctionError."""
    f = sg.function("Piecewise((x**2, x < y), (sin(y), True))", "x y")
    xv, yv = torch.randn(7), torch.randn(7)
    try:
        module = f.to_torch(backend="sympytorch")
    except sg.UnsupportedFunctionError as error:
        assert "Piecewise" in str(error)
    else:
        torch.testing.assert_close(module(x=xv, y=yv), f(x=xv, y=yv))


# -- torch.compile ---------------------------------------------------------------------


@pytest.mark.slow
# torch's own inductor import warns about torch.jit.script_method (torch 2.13); not ours.
@pytest.mark.filterwarnings("ignore:.*torch.jit.script_method:DeprecationWarning")
def test_compile_matches_eager():
    """compile=True computes the same values as the eager module, across batch sizes."""
    f = sg.function("sin(x)*y**2 + exp(-x*y)")
    eager = f.gradient().to_torch()
    compiled = f.gradient().to_torch(compile=True)
    for n in (16, 33):
        xv, yv = torch.randn(n), torch.randn(n)
        torch.testing.assert_close(compiled(x=xv, y=yv), eager(x=xv, y=yv))


def test_module_from_sympy_input():
    """Modules can be built from sympy input too; the source is kept on the module."""
    x, y = sympy.symbols("x y")
    f = sg.function(x * sympy.exp(y))
    module = f.to_torch()
    assert "torch.exp" in module.source
    assert torch.allclose(module(x=2.0, y=0.0), torch.tensor(2.0))


def test_sympytorch_backend_keeps_float64_constants():
    """Rational constants are not rounded through float32 in the sympytorch backend."""
    f = sg.function("x/3 + 1/7")
    x = torch.tensor([0.1, 2.5], dtype=torch.float64)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        module = f.to_torch(backend="sympytorch", dtype=torch.float64)
    finally:
        torch.set_default_dtype(previous)
    assert torch.allclose(module(x), f(x=x), rtol=1e-14, atol=0)

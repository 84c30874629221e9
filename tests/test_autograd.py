"""autograd_function: a torch op whose backward (and backward of backward) is closed-form."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import symgrad as sg


def leaf(*shape, low=-1.0, high=1.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    value = low + (high - low) * torch.rand(*shape, generator=generator, dtype=torch.float64)
    return value.requires_grad_(True)


@pytest.mark.parametrize(
    "text",
    [
        "x**2 + y**3",
        "sin(x)*exp(y) + x**3*y",
        "atan2(y, x)*log(x**2 + y**2 + 1)",
        "tanh(x*y)**2 - erf(x - y)",
    ],
)
def test_scalar_function_gradcheck(text):
    """Scalar functions pass gradcheck and gradgradcheck in float64 (batched inputs)."""
    op = sg.autograd_function(sg.function(text, "x y"))
    inputs = (leaf(5, seed=1), leaf(5, seed=2))
    assert gradcheck(op, inputs)
    assert gradgradcheck(op, inputs)


def test_broadcast_inputs_gradcheck():
    """Inputs of different batch shapes broadcast; gradients are summed back to each shape."""
    op = sg.autograd_function(sg.function("sin(x)*y**2 + x*y"))
    inputs = (leaf(3, 1, seed=3), leaf(4, seed=4))
    assert op(*inputs).shape == (3, 4)
    assert gradcheck(op, inputs)
    assert gradgradcheck(op, inputs)


def test_vector_valued_function_gradcheck():
    """A vector-valued function (outputs on the last axis) passes both checks."""
    f = sg.function(["x*y", "sin(x) + y**2", "exp(x - y)"], "x y")
    op = sg.autograd_function(f)
    inputs = (leaf(4, seed=5), leaf(4, seed=6))
    assert op(*inputs).shape == (4, 3)
    assert gradcheck(op, inputs)
    assert gradgradcheck(op, inputs)


def test_vector_variable_gradcheck():
    """Vector variables (components on the last axis) pass both checks."""
    f = sg.function("dot(x, y)*norm(x) + sum(sin(x*y))", vectors={"x": 3, "y": 3})
    op = sg.autograd_function(f)
    inputs = (leaf(2, 3, low=0.2, seed=7), leaf(3, seed=8))
    assert op(*inputs).shape == (2,)
    assert gradcheck(op, inputs)
    assert gradgradcheck(op, inputs)


def test_vector_valued_with_vector_variables_gradcheck():
    """The README's [x*y, x+y] Jacobian example passes both checks."""
    f = sg.function(["x*y", "x+y"], vectors={"x": 2, "y": 2})
    op = sg.autograd_function(f)
    inputs = (leaf(3, 2, seed=9), leaf(3, 2, seed=10))
    assert op(*inputs).shape == (3, 4)
    assert gradcheck(op, inputs)
    assert gradgradcheck(op, inputs)


def test_parameter_gradcheck():
    """Parameters passed as tensors are differentiated like variables."""
    f = sg.function("a*sin(x) + b*x**2", params={"a": 1.5, "b": -0.5})
    op = sg.autograd_function(f)
    a = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    inputs = (leaf(4, seed=11), a, b)
    assert gradcheck(op, inputs)
    assert gradgradcheck(op, inputs)


def test_shared_parameters_receive_gradients():
    """Left out, parameters are the shared nn.Parameters, and their .grad is the closed form."""
    f = sg.function("a*sin(x) + b*x**2", params={"a": 1.5, "b": -0.5})
    op = sg.autograd_function(f)
    xv = torch.linspace(-1, 1, 5, dtype=torch.float64)
    op(xv).sum().backward()
    module = f.to_torch()
    a, b = module.parameters()
    assert torch.allclose(a.grad, torch.sin(xv).sum())
    assert torch.allclose(b.grad, (xv**2).sum())


def test_backward_uses_the_closed_form():
    """The first and second derivatives through the op equal the closed-form partials."""
    f = sg.function("x**2*y + exp(x*y)")
    op = sg.autograd_function(f)
    x = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([2.0, 0.3], dtype=torch.float64, requires_grad=True)
    (gx,) = torch.autograd.grad(op(x, y).sum(), x, create_graph=True)
    assert torch.allclose(gx, f.partial("x")(x=x.detach(), y=y.detach()))
    (gxy,) = torch.autograd.grad(gx.sum(), y)
    assert torch.allclose(gxy, f.partial("x", "y")(x=x.detach(), y=y.detach()))
    assert torch.allclose(gxy, 2 * x.detach() + torch.exp(x * y).detach() * (1 + x * y).detach())


def test_third_order_through_the_op():
    """Backward of backward of backward still agrees with the closed form."""
    f = sg.function("sin(x)*y**3")
    op = sg.autograd_function(f)
    x = torch.tensor([0.4, 1.3], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.7, -0.2], dtype=torch.float64, requires_grad=True)
    (g1,) = torch.autograd.grad(op(x, y).sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = torch.autograd.grad(g2.sum(), y)
    expected = f.partial("x", "x", "y")(x=x.detach(), y=y.detach())
    assert torch.allclose(g3, expected)


def test_autograd_function_needs_a_function():
    """Only symgrad Functions are accepted."""
    with pytest.raises(TypeError):
        sg.autograd_function("x**2")  # type: ignore[arg-type]

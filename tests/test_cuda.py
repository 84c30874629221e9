"""On a GPU: checks, the symbolic backward, compilation and training stay on the device.

Every test here is marked `gpu` and skips without CUDA (see conftest.py); run them on a
machine with a GPU with `python -m pytest -m gpu` (benchmarks/device_check.sh does that).
"""

from __future__ import annotations

import pytest
import torch

import symgrad as sg

pytestmark = pytest.mark.gpu

SEEDS = [
    ("x**2 + y**3", {}),
    ("sum(x*y)", {"x": 2, "y": 2}),
    (["x*y", "x+y"], {"x": 2, "y": 2}),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("expr", "vectors"), SEEDS)
def test_seed_examples_check_on_cuda(expr, vectors, dtype):
    """sg.check on the GPU agrees with autograd for the seed examples, both dtypes."""
    report = sg.check(sg.function(expr, vectors=vectors), order=2, device="cuda", dtype=dtype)
    assert report.ok, report.to_markdown()
    assert report.device.startswith("cuda")


def test_gradcheck_of_the_closed_form_backward_on_cuda():
    """autograd_function passes gradcheck and gradgradcheck with CUDA tensors."""
    op = sg.autograd_function(sg.function("sin(x*y) + exp(-x**2)*y"))
    x = torch.rand(6, dtype=torch.float64, device="cuda", requires_grad=True)
    y = torch.rand(6, dtype=torch.float64, device="cuda", requires_grad=True)
    assert torch.autograd.gradcheck(op, (x, y))
    assert torch.autograd.gradgradcheck(op, (x, y))


def test_compiled_module_matches_eager_on_cuda():
    """compile=True on the GPU computes what the eager module computes."""
    hessian = sg.function("sin(x*y) + tanh(x - y**2)").hessian()
    x = torch.rand(10_000, device="cuda")
    y = torch.rand(10_000, device="cuda")
    eager = hessian.to_torch()(x, y)
    compiled = hessian.to_torch(compile=True)(x, y)
    torch.testing.assert_close(compiled, eager)


def test_training_a_parameter_on_cuda():
    """Shared parameters train on the GPU and every derivative module follows them."""
    f = sg.function("a*x**2", params={"a": 0.5})
    module = f.to_torch(device="cuda")
    x = torch.linspace(-1, 1, 64, device="cuda")
    target = 2.0 * x**2
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    for _ in range(50):
        optimizer.zero_grad()
        ((module(x) - target) ** 2).mean().backward()
        optimizer.step()
    gradient = f.gradient().to_torch(device="cuda")(x)
    torch.testing.assert_close(gradient[..., 0], 2 * 2.0 * x, rtol=1e-3, atol=1e-3)

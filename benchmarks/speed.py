"""The compiler's speed targets on the reference workload, as ratios from one run.

    python -m benchmarks.speed [--n 1000000] [--no-compile]

Reference: sin(x0*x1) + exp(-x2**2)*cos(x3) + log(1 + x4**2)*x5 + x0*x1*x2/(1 + x3**2)
+ tanh(x4*x5 - x0) at n float64 points on the CPU. Every method's result is compared with
the others before its time counts. Targets: gradient eager >= 1.2x faster than autograd,
compiled >= 6x; Hessian >= 40x faster than torch.func.vmap(hessian); >= 4x faster than
sympytorch.
"""

from __future__ import annotations

import argparse

import torch

import symgrad as sg

from .expressions import REFERENCE
from .timing import median_time
from .workloads import reference_torch


def run(n: int, compile: bool, device: str = "cpu", dtype=torch.float64) -> dict[str, float]:
    torch.manual_seed(0)
    f = sg.function(REFERENCE)
    columns = torch.rand(6, n, dtype=dtype, device=device) * 2 - 1
    values = {f"x{i}": columns[i] for i in range(6)}
    stacked = columns.T.contiguous()

    def autograd_gradient():
        x = stacked.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(reference_torch(x).sum(), x)
        return g

    gradient = f.gradient().to_torch()
    hessian = f.hessian().to_torch()
    sympytorch_gradient = f.gradient().to_torch(backend="sympytorch")

    reference = autograd_gradient()
    assert torch.allclose(gradient(**values), reference, rtol=1e-10, atol=1e-12)
    assert torch.allclose(sympytorch_gradient(**values), reference, rtol=1e-10, atol=1e-12)
    times = {
        "autograd_gradient": median_time(autograd_gradient, device=device),
        "symgrad_gradient": median_time(lambda: gradient(**values), device=device),
        "sympytorch_gradient": median_time(lambda: sympytorch_gradient(**values), device=device),
        "symgrad_hessian": median_time(lambda: hessian(**values), device=device),
    }
    vmap_hessian = torch.func.vmap(torch.func.hessian(reference_torch))
    small = slice(0, min(n, 100_000))  # vmap(hessian) at 1e6 points needs tens of GB
    h_ref = vmap_hessian(stacked[small])
    assert torch.allclose(
        hessian(**{k: v[small] for k, v in values.items()}), h_ref, rtol=1e-9, atol=1e-11
    )
    scale = n / h_ref.shape[0]
    times["vmap_hessian"] = scale * median_time(
        lambda: vmap_hessian(stacked[small]), repeat=3, warmup=1, device=device
    )
    if compile:
        compiled = f.gradient().to_torch(compile=True)
        assert torch.allclose(compiled(**values), reference, rtol=1e-10, atol=1e-12)
        times["symgrad_gradient_compiled"] = median_time(lambda: compiled(**values), device=device)
        compiled_h = f.hessian().to_torch(compile=True)
        assert torch.allclose(compiled_h(**values), hessian(**values), rtol=1e-10, atol=1e-12)
        times["symgrad_hessian_compiled"] = median_time(lambda: compiled_h(**values), device=device)
    return times


RATIOS = [  # (label, peer timing, symgrad timing, target ratio)
    ("gradient eager vs autograd", "autograd_gradient", "symgrad_gradient", 1.2),
    ("gradient compiled vs autograd", "autograd_gradient", "symgrad_gradient_compiled", 6),
    ("hessian vs vmap(hessian)", "vmap_hessian", "symgrad_hessian", 40),
    ("gradient vs sympytorch", "sympytorch_gradient", "symgrad_gradient", 4),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    t = run(args.n, not args.no_compile, args.device)
    print(f"reference workload, {args.n} float64 points on {args.device}")
    for name, seconds in t.items():
        print(f"  {name:28s} {seconds * 1e3:9.2f} ms")
    print("ratios (higher is better for symgrad):")
    for label, peer, ours, target in RATIOS:
        if peer in t and ours in t:
            print(f"  {label:34s} {t[peer] / t[ours]:6.2f}x  (target >= {target})")


if __name__ == "__main__":
    main()

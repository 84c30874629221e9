"""Data-parallel evaluation of a compiled symgrad function with `torch.distributed`.

    python -m benchmarks.distributed                      # 2e6 points, 1 and 2 processes
    python -m benchmarks.distributed --n 200000 --world-sizes 2 --compile

One big batch of points is split into contiguous shards, one per process (rank). Each
rank evaluates the compiled gradient of REFERENCE (`f.gradient().to_torch()`) on its
shard, checks it against `torch.autograd` on the same points and runs `sg.check` on a
sample of them, then the shards are gathered on every rank (`all_gather`). The same run at
1 and at 2 processes measures the scaling; the gathered gradients must be identical.

Processes start with `torch.multiprocessing.spawn` and meet at MASTER_ADDR=127.0.0.1 on a
free port: gloo on the CPU, NCCL (one GPU per rank) when there are enough CUDA devices.
Each rank uses `cpu_count // world_size` torch threads (`--threads-per-rank` to choose),
so 1 and 2 processes get the same cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import symgrad as sg

from .expressions import REFERENCE
from .workloads import reference_torch

__all__ = ["available", "free_port", "run", "scaling"]

BLOCK = 4_096  # points are generated in seeded blocks: the batch is the same at any world size


def available() -> tuple[bool, str]:
    """Whether torch.distributed with gloo can run here, and why not."""
    if not dist.is_available():
        return False, "torch.distributed is not available in this torch build"
    if not dist.is_gloo_available():
        return False, "torch.distributed has no gloo backend in this build"
    return True, ""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _backend(world_size: int) -> str:
    if torch.cuda.is_available() and torch.cuda.device_count() >= world_size:
        if dist.is_nccl_available():
            return "nccl"
    return "gloo"


def _shard(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """The rows `[start, stop)` of rank `rank`: whole blocks, as even as they come."""
    blocks = math.ceil(n / BLOCK)
    first = rank * blocks // world_size
    last = (rank + 1) * blocks // world_size
    return min(first * BLOCK, n), min(last * BLOCK, n)


def _points(start: int, stop: int, n_vars: int, seed: int, dtype) -> torch.Tensor:
    """Rows `[start, stop)` of the global batch `(n, n_vars)`, uniform in [-1, 1]."""
    parts = []
    for block in range(start // BLOCK, math.ceil(stop / BLOCK)):
        generator = torch.Generator().manual_seed(seed * 1_000_003 + block)
        rows = torch.rand(BLOCK, n_vars, generator=generator, dtype=dtype) * 2 - 1
        lo = max(start - block * BLOCK, 0)
        hi = min(stop - block * BLOCK, BLOCK)
        parts.append(rows[lo:hi])
    if not parts:
        return torch.empty(0, n_vars, dtype=dtype)
    return torch.cat(parts)


def _worker(rank: int, world_size: int, port: int, options: dict[str, Any], out_path: str) -> None:
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    backend = _backend(world_size)
    if backend == "nccl":
        torch.cuda.set_device(rank)
        device = torch.device("cuda", rank)
    else:
        device = torch.device("cpu")
    threads = options.get("threads_per_rank") or (os.cpu_count() or 1) // world_size
    torch.set_num_threads(max(1, threads))
    dist.init_process_group(backend, rank=rank, world_size=world_size)
    try:
        result = _evaluate(rank, world_size, device, options)
        if rank == 0:
            result.update(backend=backend, device=str(device))
            Path(out_path).write_text(json.dumps(result), encoding="utf-8")
    finally:
        dist.destroy_process_group()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _evaluate(rank: int, world_size: int, device, options: dict[str, Any]) -> dict[str, Any]:
    n, seed, repeat = options["n"], options["seed"], options["repeat"]
    dtype = torch.float64
    f = sg.function(REFERENCE)
    gradient = f.gradient().to_torch(device=device, compile=options["compile"])
    start, stop = _shard(n, rank, world_size)
    stacked = _points(start, stop, len(f.variables), seed, dtype).to(device)
    columns = stacked.T.contiguous().unbind(0)

    gradient(*columns)  # warm-up (and compilation, with --compile)
    # The first multi-threaded op of a fresh process is occasionally inexact on the
    # project's VMs (1e-13..7e-9 relative, about one process in ten); check a later call.
    ours = gradient(*columns)
    # Check the shard: against torch.autograd on every point, and sg.check on a sample.
    x = stacked.detach().requires_grad_(True)
    (theirs,) = torch.autograd.grad(reference_torch(x).sum(), x)
    agrees = bool(torch.allclose(ours, theirs, rtol=1e-10, atol=1e-12))
    check_ok, check_error = True, 0.0
    if stop > start:  # a rank may hold no points when the batch is tiny
        sample = {str(v): c[:256] for v, c in zip(f.variables, columns)}
        report = sg.check(f, points=sample, dtype=dtype, device=device)
        check_ok, check_error = report.ok, report.max_rel_error
    flags = torch.tensor([int(agrees), int(check_ok)], device=device)
    dist.all_reduce(flags, op=dist.ReduceOp.MIN)

    # Time the data-parallel step: every rank evaluates its shard; the step ends with the
    # slowest rank.
    steps = []
    for _ in range(repeat):
        dist.barrier()
        _sync(device)
        begin = time.perf_counter()
        gradient(*columns)
        _sync(device)
        elapsed = torch.tensor([time.perf_counter() - begin], dtype=torch.float64, device=device)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        steps.append(float(elapsed))

    # Gather the shards on every rank (padded to the largest shard: all_gather needs equal
    # sizes), then trim.
    sizes = [_shard(n, r, world_size) for r in range(world_size)]
    longest = max(b - a for a, b in sizes)
    padded = ours.new_zeros((longest, ours.shape[-1]))
    padded[: ours.shape[0]] = ours
    gathered = [torch.empty_like(padded) for _ in range(world_size)]
    dist.all_gather(gathered, padded)
    full = torch.cat([g[: b - a] for g, (a, b) in zip(gathered, sizes)])
    return {
        "world_size": world_size,
        "n": n,
        "shard_sizes": [b - a for a, b in sizes],
        "threads_per_rank": torch.get_num_threads(),
        "compile": options["compile"],
        "agrees_with_autograd": bool(flags[0]),
        "check_ok": bool(flags[1]),
        "check_max_rel_error_rank0": check_error,
        "step_s": statistics.median(steps),
        "steps_s": steps,
        "gathered_shape": list(full.shape),
        "gathered_sum": float(full.double().sum()),
        "gathered_abs_sum": float(full.double().abs().sum()),
    }


def run(
    world_size: int,
    *,
    n: int = 2_000_000,
    repeat: int = 5,
    seed: int = 0,
    compile: bool = False,
    threads_per_rank: int | None = None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Evaluate, check and gather at `world_size` processes; rank 0's summary.

    Raises `RuntimeError` when a rank fails (the others are stopped) and `TimeoutError`
    after `timeout_s`.
    """
    ok, reason = available()
    if not ok:
        raise RuntimeError(reason)
    options = {
        "n": n,
        "seed": seed,
        "repeat": repeat,
        "compile": compile,
        "threads_per_rank": threads_per_rank,
    }
    with tempfile.TemporaryDirectory(prefix="symgrad-dist-") as tmp:
        out_path = str(Path(tmp) / "rank0.json")
        started = time.perf_counter()
        context = mp.spawn(
            _worker,
            args=(world_size, free_port(), options, out_path),
            nprocs=world_size,
            join=False,
        )
        try:
            while not context.join(timeout=0.5):
                if timeout_s is not None and time.perf_counter() - started > timeout_s:
                    raise TimeoutError(f"{world_size} processes ran past {timeout_s} s")
        finally:
            for process in context.processes:  # only ours: the processes spawn started
                if process.is_alive():
                    process.terminate()
                process.join(timeout=5)
        result = json.loads(Path(out_path).read_text(encoding="utf-8"))
    result["wall_s"] = time.perf_counter() - started
    return result


def scaling(
    world_sizes=(1, 2), *, n: int = 2_000_000, repeat: int = 5, compile: bool = False, **kw
) -> list[dict[str, Any]]:
    """`run` at each world size, with the throughput and the speedup over the first."""
    results = [run(w, n=n, repeat=repeat, compile=compile, **kw) for w in world_sizes]
    base = results[0]["step_s"]
    for r in results:
        r["points_per_s"] = r["n"] / r["step_s"]
        r["speedup"] = base / r["step_s"]
        r["matches_first"] = math.isclose(
            r["gathered_sum"], results[0]["gathered_sum"], rel_tol=1e-12, abs_tol=1e-9
        ) and math.isclose(r["gathered_abs_sum"], results[0]["gathered_abs_sum"], rel_tol=1e-12)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=float, default=2e6, help="points in the whole batch")
    parser.add_argument("--world-sizes", default="1,2", help="process counts, e.g. 1,2")
    parser.add_argument("--repeat", type=int, default=5, help="timed steps per run")
    parser.add_argument("--compile", action="store_true", help="to_torch(compile=True)")
    parser.add_argument(
        "--threads-per-rank",
        type=int,
        help="torch threads per process (default: cores / processes)",
    )
    args = parser.parse_args(argv)
    ok, reason = available()
    if not ok:
        print(f"skipped: {reason}")
        return 0
    sizes = tuple(int(w) for w in args.world_sizes.split(","))
    results = scaling(
        sizes,
        n=int(args.n),
        repeat=args.repeat,
        compile=args.compile,
        threads_per_rank=args.threads_per_rank,
    )
    print(
        f"gradient of REFERENCE at {int(args.n):,} float64 points, "
        f"{'compile=True' if args.compile else 'eager'}, {os.cpu_count()} CPU cores"
    )
    print(
        "| processes | backend | threads/rank | step (ms) | Mpoints/s | speedup | "
        "autograd agrees | sg.check | gathered = 1-process |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    failed = False
    for r in results:
        good = r["agrees_with_autograd"] and r["check_ok"] and r["matches_first"]
        failed |= not good
        print(
            f"| {r['world_size']} | {r['backend']} | {r['threads_per_rank']} | "
            f"{r['step_s'] * 1e3:.1f} | {r['points_per_s'] / 1e6:.1f} | {r['speedup']:.2f}x | "
            f"{r['agrees_with_autograd']} | {r['check_ok']} | {r['matches_first']} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

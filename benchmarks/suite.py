"""The suite's machinery: checked, interleaved timings of every method on every cell.

A *cell* is one workload at one batch size, dtype and device. For each cell:

1. every method is built and called once (its warm-up; a compiled method compiles here);
   a method that cannot run is recorded as `n/a` with the reason;
2. the results are compared with each other (`torch.allclose`, tolerances by dtype, over
   the first points of each result): the largest group that agrees is the consensus, and
   a method outside it is recorded as `mismatch`, never timed;
3. the remaining methods are timed in rounds, each round calling every method once in a
   rotated order, so machine noise hits all of them alike; a cell's figure is the median.

A method whose working set at the full batch would exceed the memory budget runs on a
sub-batch, and its time is scaled linearly to the full batch (`scaled_from` says so).
"""

from __future__ import annotations

import datetime
import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch

from .methods import METHODS, PEERS, SYMGRAD, TORCH_FUNC_LABEL, Inputs, Method, NotAvailable
from .timing import sync
from .workloads import WORKLOADS, Problem, Workload

__all__ = [
    "TOLERANCES",
    "CellSpec",
    "Config",
    "agreement",
    "full_config",
    "machine_info",
    "quick_config",
    "run_cell",
    "run_suite",
    "targets",
]

SCHEMA = 1
DTYPES = {"float32": torch.float32, "float64": torch.float64}
TOLERANCES = {torch.float64: (1e-7, 1e-9), torch.float32: (2e-3, 2e-4)}  # rtol, atol (scaled)
CHECK_BYTES = 32 * 2**20  # each method's result is compared over at most this many bytes

Log = Callable[[str], None]


# -- configuration -------------------------------------------------------------------------


@dataclass(frozen=True)
class CellSpec:
    """A workload at some batch sizes in one dtype; `compile` adds `symgrad-compiled`."""

    workload: str
    dtype: str
    batches: tuple[int, ...]
    compile: bool = False


@dataclass
class Config:
    """What a suite run measures; `quick_config` and `full_config` are the two presets.

    `warmup` counts the interleaved rounds after each method's first (checked) call that
    are not timed; `repeat` is the most timed rounds per cell, fewer (down to `min_repeat`)
    when a round costs more than `cell_budget_s` allows.
    """

    mode: str
    cells: list[CellSpec]
    device: str = "cpu"
    methods: tuple[str, ...] = tuple(METHODS)
    repeat: int = 7
    warmup: int = 1  # interleaved warm-up rounds after each method's first (checked) call
    cell_budget_s: float = 10.0  # fewer repeats (down to min_repeat) above this per cell
    min_repeat: int = 3
    memory_budget_bytes: int | None = None  # None: 2 GiB on CPU, a quarter of free GPU memory
    symbolic_cases: list[tuple[int, int]] = field(default_factory=list)
    symbolic_kinds: tuple[str, ...] = ("gradient", "hessian")
    symbolic_repeat: int = 3
    symbolic_sympy_max_ops: int = 1000
    seed: int = 0
    workloads: dict[str, Workload] = field(default_factory=lambda: dict(WORKLOADS))


_ALL_BATCHES = (100, 1_000, 10_000, 100_000, 1_000_000)


def quick_config(device: str = "cpu", *, compile: bool = True) -> Config:
    """Under two minutes on a 2-core CPU: the targets' cells, few sizes and repeats.

    One compile case: the reference function's gradient and Hessian kernels (a few seconds
    each), which the compiled targets need.
    """
    sparse = (100, 10_000, 1_000_000)
    cells = [
        CellSpec("reference-gradient", "float64", sparse, compile=compile),
        CellSpec("reference-hessian", "float64", sparse, compile=compile),
        CellSpec("reference-gradient", "float32", (1_000_000,)),
        CellSpec("small-jacobian", "float64", sparse),
        CellSpec("wide-gradient", "float64", (100, 10_000)),
    ]
    return Config(
        mode="quick",
        cells=cells,
        device=device,
        repeat=5,
        warmup=0,
        cell_budget_s=2.5,
        symbolic_cases=[(10, 100), (10, 300), (20, 600)],
        symbolic_kinds=("hessian",),
        symbolic_repeat=3,
        symbolic_sympy_max_ops=300,
    )


def full_config(device: str = "cpu", *, compile: bool = True) -> Config:
    """Every workload at 1e2..1e6 points in float32 and float64, compiled too."""
    # torch.compile once per kernel and dtype: the wide kernels take 15 s to 2 min each on
    # a 2-core CPU, so float32 compiles only the reference workload.
    cells = [
        CellSpec(
            name,
            dtype,
            _ALL_BATCHES,
            compile=compile and (dtype == "float64" or name.startswith("reference")),
        )
        for name in WORKLOADS
        for dtype in ("float64", "float32")
    ]
    return Config(
        mode="full",
        cells=cells,
        device=device,
        repeat=7,
        warmup=2,
        cell_budget_s=12.0,
        symbolic_cases=[(10, 100), (20, 600), (20, 1000), (50, 2000), (50, 5000)],
        symbolic_kinds=("gradient", "hessian"),
        symbolic_repeat=3,
        symbolic_sympy_max_ops=1000,
    )


# -- the machine -----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(name: str) -> str | None:
    try:
        module = __import__(name)
    except ImportError:
        return None
    return getattr(module, "__version__", "unknown")


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """Where the figures come from: platform, CPU, cores, library versions, device."""
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "sympy": sympy.__version__,
        "symengine": _version("symengine"),
        "sympytorch": _version("sympytorch"),
        "symgrad": _version("symgrad"),
        "device": device,
        "device_name": _cpu_model(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    if device.startswith("cuda"):
        info["device_name"] = torch.cuda.get_device_name(torch.device(device))
        info["cuda"] = torch.version.cuda
    return info


def _memory_budget(config: Config) -> int:
    if config.memory_budget_bytes is not None:
        return config.memory_budget_bytes
    if config.device.startswith("cuda"):
        free, _ = torch.cuda.mem_get_info(torch.device(config.device))
        return free // 4
    return 2 * 2**30


# -- agreement -----------------------------------------------------------------------------


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> tuple[bool, float]:
    """Whether `a` agrees with `b` over their common first points, and the largest error.

    Like `torch.allclose(a, b, rtol, atol * scale, equal_nan=True)` with `scale` the
    largest finite `|b|` (at least 1); a value that is finite in one and not in the other
    is a disagreement (error `inf`).
    """
    if a.shape[1:] != b.shape[1:]:
        return False, math.inf
    k = min(a.shape[0], b.shape[0])
    a, b = a[:k], b[:k]
    if a.dtype != b.dtype:
        common = torch.promote_types(a.dtype, b.dtype)
        a, b = a.to(common), b.to(common)
    finite = torch.isfinite(b)
    if not torch.equal(finite, torch.isfinite(a)):
        return False, math.inf
    magnitude = torch.where(finite, b, 0).abs()
    error = torch.where(finite, a - b, 0).abs()
    scale = max(1.0, float(magnitude.max())) if magnitude.numel() else 1.0
    ok = bool((error <= atol * scale + rtol * magnitude).all())
    return ok, float(error.max()) if error.numel() else 0.0


def agreement(results: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, dict[str, Any]]:
    """Which results agree with the consensus: the largest group of agreeing methods.

    The anchor is the method that agrees with the most others (ties: the first given);
    every method is reported as agreeing with it or not, with its largest absolute error.
    When all agree with the first, that is settled in one comparison per method.
    """
    rtol, atol = TOLERANCES.get(dtype, TOLERANCES[torch.float32])
    names = list(results)
    first = {name: _close(results[name], results[names[0]], rtol, atol) for name in names}
    anchor = names[0]
    if not all(ok for ok, _ in first.values()):
        close = {}
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                close[a, b] = close[b, a] = _close(results[a], results[b], rtol, atol)[0]
        anchor = max(
            names, key=lambda a: (sum(close[a, b] for b in names if b != a), -names.index(a))
        )
    report = {}
    for name in names:
        ok, error = (
            first[name]
            if anchor == names[0]
            else _close(results[name], results[anchor], rtol, atol)
        )
        report[name] = {"agrees": ok, "max_abs_error": error, "anchor": anchor}
    return report


# -- one cell ------------------------------------------------------------------------------


def _nice_floor(k: float) -> int:
    """The largest 1, 2 or 5 times a power of ten not above `k` (at least 1)."""
    if k < 1:
        return 1
    power = 10 ** math.floor(math.log10(k))
    for step in (5, 2, 1):
        if step * power <= k:
            return step * power
    return power


def _json_float(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


def run_cell(
    problem: Problem,
    kind: str,
    methods: Sequence[Method],
    *,
    batch: int,
    dtype: torch.dtype,
    device: str = "cpu",
    repeat: int = 7,
    warmup: int = 1,
    budget_s: float = 10.0,
    min_repeat: int = 3,
    memory_budget: int = 2 * 2**30,
    seed: int = 0,
    log: Log | None = None,
    built: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Check and time `methods` on one batch; one record per method (see the module doc).

    `built` caches each method's callable (or its `NotAvailable`) between the cells of one
    workload and dtype, so a sympytorch module or a lambdified function is built once.
    """
    built = {} if built is None else built
    inputs = Inputs.random(problem.n_vars, batch, dtype=dtype, device=device, seed=seed)
    itemsize = torch.empty((), dtype=dtype).element_size()
    check_points = max(1, CHECK_BYTES // (problem.out_numel * itemsize))
    records: dict[str, dict[str, Any]] = {}
    calls: dict[str, Callable[[], torch.Tensor]] = {}
    results: dict[str, torch.Tensor] = {}

    for method in methods:
        record: dict[str, Any] = {"status": "ok", "label": method.label}
        if method.name == "torch.func":
            record["label"] = f"torch.func {TORCH_FUNC_LABEL[kind]}"
        records[method.name] = record
        per_point = method.elements_per_point(problem, kind) * itemsize * 1.25
        points = min(batch, _nice_floor(memory_budget / per_point))
        if points < batch:
            record["scaled_from"] = points
        try:
            if method.name not in built:
                start = time.perf_counter()
                try:
                    built[method.name] = method.build(problem, kind, device, dtype)
                except NotAvailable as exc:
                    built[method.name] = exc
                record["build_s"] = time.perf_counter() - start
            fn = built[method.name]
            if isinstance(fn, NotAvailable):
                raise fn
            part = inputs.head(points)
            call = lambda fn=fn, part=part: fn(part)
            sync(device)
            start = time.perf_counter()
            result = call()
            sync(device)
            record["first_call_s"] = time.perf_counter() - start
            expected = (points, *problem.out_shape)
            if tuple(result.shape) != expected:
                raise NotAvailable(
                    f"returned shape {tuple(result.shape)}, expected {expected}"
                )  # a wrong shape cannot be compared; say so
            results[method.name] = result[:check_points].detach().clone()
            del result
            calls[method.name] = call
        except NotAvailable as exc:
            record.update(status="n/a", reason=str(exc))
        except torch.OutOfMemoryError:
            record.update(status="n/a", reason=f"out of memory at {points} points")
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
        except Exception as exc:  # a peer failing is a finding, not a crash of the suite
            record.update(status="n/a", reason=f"{type(exc).__name__}: {exc}".strip()[:300])

    if results:
        for name, verdict in agreement(results, dtype).items():
            records[name]["max_abs_error"] = _json_float(verdict["max_abs_error"])
            records[name]["checked_points"] = int(results[name].shape[0])
            records[name]["agrees_with"] = verdict["anchor"]
            if not verdict["agrees"]:
                records[name]["status"] = "mismatch"
                records[name]["reason"] = (
                    f"disagrees with {verdict['anchor']} (max abs error "
                    f"{verdict['max_abs_error']:.3g}); not timed"
                )
                calls.pop(name)
    del results

    names = list(calls)
    estimate = {name: records[name]["first_call_s"] for name in names}

    def timed_round(index: int) -> dict[str, float]:
        offset = index % len(names)
        elapsed = {}
        for name in names[offset:] + names[:offset]:  # rotated: no method always goes first
            sync(device)
            start = time.perf_counter()
            calls[name]()
            sync(device)
            elapsed[name] = time.perf_counter() - start
        return elapsed

    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: no collection pauses inside the timed calls
    try:
        if names:
            for index in range(warmup):
                estimate = timed_round(index)
            # Fewer repeats (down to min_repeat) when rounds cost more than the cell's budget.
            affordable = int(budget_s / max(sum(estimate.values()), 1e-9))
            rounds = max(min(min_repeat, repeat), min(repeat, affordable))
            for index in range(rounds):
                for name, seconds in timed_round(warmup + index).items():
                    times[name].append(seconds)
    finally:
        if gc_was_enabled:
            gc.enable()

    for name in names:
        record = records[name]
        scale = batch / record.get("scaled_from", batch)
        samples = times[name]
        record["repeats"] = len(samples)
        record["times_s"] = [t * scale for t in samples]
        record["median_s"] = statistics.median(samples) * scale
    if log:
        for name, record in records.items():
            log(f"    {name:17s} {_describe(record)}")
    return records


def _describe(record: dict[str, Any]) -> str:
    if record["status"] != "ok":
        return f"{record['status']}: {record.get('reason', '')}"
    text = f"{record['median_s'] * 1e3:10.3f} ms  (median of {record['repeats']})"
    if "scaled_from" in record:
        text += f", scaled from {record['scaled_from']} points"
    return text


def _ratios(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """`peer median / symgrad median` for each symgrad variant and peer that both ran."""
    ratios: dict[str, dict[str, float]] = {}
    for ours in SYMGRAD:
        if records.get(ours, {}).get("status") != "ok":
            continue
        row = {}
        for peer in PEERS:
            if records.get(peer, {}).get("status") == "ok":
                row[peer] = records[peer]["median_s"] / records[ours]["median_s"]
        ratios[ours] = row
    return ratios


# -- the whole suite -----------------------------------------------------------------------


def run_suite(config: Config, *, log: Log | None = print) -> dict[str, Any]:
    """Run every cell and the symbolic phase of `config`; a JSON-safe dict of all figures."""
    from . import symbolic

    log = log or (lambda _: None)
    memory_budget = _memory_budget(config)
    machine = machine_info(config.device)  # the load average as the run starts
    started = time.perf_counter()
    cells = []
    for spec in config.cells:
        workload = config.workloads[spec.workload]
        dtype = DTYPES[spec.dtype]
        problem = workload.problem
        methods = [METHODS[m] for m in config.methods if m != "symgrad-compiled" or spec.compile]
        built: dict[str, Any] = {}
        for batch in spec.batches:
            log(
                f"{workload.name} ({workload.kind}, {problem.n_vars} variables) "
                f"batch {batch:,} {spec.dtype} on {config.device}"
            )
            cell_start = time.perf_counter()
            records = run_cell(
                problem,
                workload.kind,
                methods,
                batch=batch,
                dtype=dtype,
                device=config.device,
                repeat=config.repeat,
                warmup=config.warmup,
                budget_s=config.cell_budget_s,
                min_repeat=config.min_repeat,
                memory_budget=memory_budget,
                seed=config.seed,
                log=log,
                built=built,
            )
            cells.append(
                {
                    "workload": workload.name,
                    "kind": workload.kind,
                    "description": workload.description,
                    "n_vars": problem.n_vars,
                    "n_outputs": problem.n_outputs,
                    "ops": problem.ops,
                    "batch": batch,
                    "dtype": spec.dtype,
                    "device": config.device,
                    "methods": records,
                    "ratios": _ratios(records),
                    "cell_s": time.perf_counter() - cell_start,
                }
            )
            log(f"    ({cells[-1]['cell_s']:.1f} s for this cell)")
    symbolic_records = []
    if config.symbolic_cases:
        log("symbolic phase: derive, CSE and generate code")
        symbolic_records = symbolic.sweep(
            config.symbolic_cases,
            kinds=config.symbolic_kinds,
            repeat=config.symbolic_repeat,
            sympy_max_ops=config.symbolic_sympy_max_ops,
            log=log,
        )
    results = {
        "schema": SCHEMA,
        "mode": config.mode,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "config": {
            "device": config.device,
            "methods": list(config.methods),
            "repeat": config.repeat,
            "warmup": config.warmup,
            "cell_budget_s": config.cell_budget_s,
            "min_repeat": config.min_repeat,
            "memory_budget_bytes": memory_budget,
            "check_bytes": CHECK_BYTES,
            "tolerances": {str(k).removeprefix("torch."): v for k, v in TOLERANCES.items()},
            "seed": config.seed,
        },
        "cells": cells,
        "symbolic": symbolic_records,
        "elapsed_s": time.perf_counter() - started,
    }
    if hasattr(os, "getloadavg"):
        results["machine"]["load_average_end"] = list(os.getloadavg())
    results["targets"] = targets(results)
    return results


# -- targets -------------------------------------------------------------------------------

TARGET_BATCH = 1_000_000


def _find(cells: Iterable[dict], workload: str, batch: int, dtype: str, device: str):
    for cell in cells:
        if (cell["workload"], cell["batch"], cell["dtype"], cell["device"]) == (
            workload,
            batch,
            dtype,
            device,
        ):
            return cell
    return None


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's speed targets, each with its measured value (None: not measured)."""
    cells = results["cells"]
    specs = [  # (label, workload, peer, ours, target)
        ("gradient eager vs torch.autograd", "reference-gradient", "autograd", "symgrad", 1.2),
        (
            "gradient compiled vs torch.autograd",
            "reference-gradient",
            "autograd",
            "symgrad-compiled",
            6.0,
        ),
        ("Hessian vs torch.func vmap(hessian)", "reference-hessian", "torch.func", "symgrad", 40.0),
        (
            "Hessian compiled vs torch.func vmap(hessian)",
            "reference-hessian",
            "torch.func",
            "symgrad-compiled",
            40.0,
        ),
        ("gradient vs sympytorch", "reference-gradient", "sympytorch", "symgrad", 4.0),
        ("Hessian vs sympytorch", "reference-hessian", "sympytorch", "symgrad", 4.0),
    ]
    out = []
    for label, workload, peer, ours, target in specs:
        cell = _find(cells, workload, TARGET_BATCH, "float64", "cpu")
        value = None
        note = f"{workload} at 1e6 float64 points on the CPU"
        if cell is None:
            note += ": not in this run"
        else:
            value = cell["ratios"].get(ours, {}).get(peer)
            if value is None:
                statuses = {
                    m: cell["methods"].get(m, {}).get("status", "not run") for m in (peer, ours)
                }
                note += f": not measured ({statuses})"
        out.append(
            {
                "target": label,
                "kind": "speedup",
                "value": value,
                "goal": f">= {target}x",
                "threshold": target,
                "met": None if value is None else value >= target,
                "note": note,
            }
        )
    symbolic_case = None
    for record in results.get("symbolic", []):
        if (
            record["n_vars"] == 20
            and record["requested_ops"] == 600
            and record["path"] == "symengine"
            and record["kind"] == "hessian"
        ):
            symbolic_case = record
    value = symbolic_case["total_s"] if symbolic_case else None
    out.append(
        {
            "target": "Hessian of a 20-variable ~600-op expression through SymEngine",
            "kind": "seconds",
            "value": value,
            "goal": "<= 0.3 s",
            "threshold": 0.3,
            "met": None if value is None else value <= 0.3,
            "note": "derive + CSE + codegen, median of repeats"
            if value is not None
            else "not in this run",
        }
    )
    return out

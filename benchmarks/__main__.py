"""symgrad against torch.autograd, torch.func, sympytorch and sympy.lambdify.

    python -m benchmarks --quick                 # under two minutes on a 2-core CPU
    python -m benchmarks                         # every workload, 1e2..1e6 points, both dtypes
    python -m benchmarks --device cuda           # the same on the GPU
    python -m benchmarks --workloads reference-hessian --batches 1000,1000000 --dtypes float64
    python -m benchmarks --from-json benchmarks/results/full-cpu.json   # re-render only

Writes `benchmarks/results/<mode>-<device>.md`, `.json`, `-batch.png` and `-size.png`
(`--out` for another folder). Every method's result is checked against the others before
its time counts. Workloads: small-, reference- and wide- gradient/jacobian/hessian (see
`benchmarks.workloads`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch

from . import report
from .methods import METHODS
from .suite import CellSpec, Config, full_config, quick_config, run_suite
from .workloads import WORKLOADS

RESULTS = Path(__file__).resolve().parent / "results"


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _batches(text: str) -> tuple[int, ...]:
    return tuple(int(float(item)) for item in _csv(text))  # "1e6" works too


def _config(args: argparse.Namespace) -> Config:
    compile = not args.no_compile
    base = (
        quick_config(args.device, compile=compile)
        if args.quick
        else full_config(args.device, compile=compile)
    )
    if args.workloads or args.batches or args.dtypes:
        names = _csv(args.workloads) if args.workloads else list(WORKLOADS)
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            raise SystemExit(f"unknown workload {unknown[0]!r}; known: {', '.join(WORKLOADS)}")
        batches = _batches(args.batches) if args.batches else (100, 10_000, 1_000_000)
        dtypes = _csv(args.dtypes) if args.dtypes else ["float64"]
        cells = [CellSpec(n, d, batches, compile=compile) for n in names for d in dtypes]
        base = dataclasses.replace(base, cells=cells, mode="custom")
    changes = {}
    if args.methods:
        methods = _csv(args.methods)
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise SystemExit(f"unknown method {unknown[0]!r}; known: {', '.join(METHODS)}")
        changes["methods"] = tuple(methods)
    if args.repeat:
        changes["repeat"] = args.repeat
    if args.no_symbolic:
        changes["symbolic_cases"] = []
    if args.memory_budget_gb:
        changes["memory_budget_bytes"] = int(args.memory_budget_gb * 2**30)
    return dataclasses.replace(base, **changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="few sizes and repeats, one compile")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    parser.add_argument("--workloads", help=f"comma-separated, from: {', '.join(WORKLOADS)}")
    parser.add_argument("--batches", help="comma-separated batch sizes, e.g. 100,1e4,1e6")
    parser.add_argument("--dtypes", help="float32,float64")
    parser.add_argument("--methods", help=f"comma-separated, from: {', '.join(METHODS)}")
    parser.add_argument("--repeat", type=int, help="timed rounds per cell (at most)")
    parser.add_argument("--no-compile", action="store_true", help="skip compile=True")
    parser.add_argument("--no-symbolic", action="store_true", help="skip the symbolic phase")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument(
        "--from-json", type=Path, help="re-render the report and plots of an earlier run"
    )
    parser.add_argument("--memory-budget-gb", type=float, help="cap per method (default 2 GiB)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda was asked for, but CUDA is not available here")

    if args.from_json:
        results = json.loads(args.from_json.read_text(encoding="utf-8"))
    else:
        if args.threads:
            torch.set_num_threads(args.threads)
        results = run_suite(_config(args), log=lambda line: print(line, flush=True))
    plots = not args.no_plots
    if plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("matplotlib is not installed: no plots (pip install -e '.[bench]')")
            plots = False
    paths = report.write(results, args.out, plots=plots)
    print()
    print(report.markdown(results))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())

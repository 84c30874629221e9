"""The benchmark suite's machinery on a tiny configuration: figures, checks, reports."""

from __future__ import annotations

import json
import math

import pytest
import torch

from benchmarks import report
from benchmarks.__main__ import main
from benchmarks.methods import METHODS, Method, NotAvailable
from benchmarks.suite import CellSpec, Config, agreement, run_cell, run_suite
from benchmarks.workloads import WORKLOADS

PEERS_AND_EAGER = ("autograd", "torch.func", "sympytorch", "lambdify", "symgrad")


def _tiny(**changes) -> Config:
    config = Config(
        mode="test",
        cells=[CellSpec("small-gradient", "float64", (100,))],
        methods=PEERS_AND_EAGER,
        repeat=1,
        warmup=0,
        min_repeat=1,
        cell_budget_s=1.0,
        symbolic_cases=[(3, 12)],
        symbolic_kinds=("gradient",),
        symbolic_repeat=1,
    )
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def _wrong(problem, kind, device, dtype):
    """symgrad's gradient, off by one part in a thousand."""
    module = problem.derivative.to_torch()
    return lambda inputs: module(*inputs.columns) * (1 + 1e-3)


def _refuses(problem, kind, device, dtype):
    raise NotAvailable("cannot do this workload")


def _crashes(problem, kind, device, dtype):
    return lambda inputs: 1 / 0


WRONG = Method("wrong", "deliberately wrong", _wrong, lambda p, k: 1.0)
REFUSES = Method("refuses", "refuses", _refuses, lambda p, k: 1.0)
CRASHES = Method("crashes", "crashes", _crashes, lambda p, k: 1.0)


def test_suite_json_has_every_figure(tmp_path):
    """A run's JSON holds the machine, each method's median and ratios, symbolic, targets."""
    results = run_suite(_tiny(), log=None)
    paths = report.write(results, tmp_path, plots=False)
    assert {p.name for p in paths} == {"test-cpu.json", "test-cpu.md"}
    data = json.loads((tmp_path / "test-cpu.json").read_text())
    assert {
        "schema",
        "mode",
        "created",
        "machine",
        "config",
        "cells",
        "symbolic",
        "targets",
    } <= set(data)
    machine = data["machine"]
    for key in ("platform", "cpu_model", "cpu_count", "torch", "sympy", "symengine", "device_name"):
        assert key in machine
    (cell,) = data["cells"]
    assert (cell["workload"], cell["batch"], cell["dtype"], cell["device"]) == (
        "small-gradient",
        100,
        "float64",
        "cpu",
    )
    for name in PEERS_AND_EAGER:
        record = cell["methods"][name]
        assert record["status"] == "ok", record
        assert record["median_s"] > 0 and len(record["times_s"]) == record["repeats"] == 1
    assert set(cell["ratios"]["symgrad"]) == {"autograd", "torch.func", "sympytorch", "lambdify"}
    assert data["symbolic"] and {r["path"] for r in data["symbolic"]} <= {"symengine", "sympy"}
    for record in data["symbolic"]:
        assert {"n_vars", "ops", "kind", "derive_s", "codegen_s", "total_s"} <= set(record)
    assert len(data["targets"]) == 7 and all(t["value"] is None for t in data["targets"][:6])
    text = (tmp_path / "test-cpu.md").read_text()
    assert "| small-gradient | 2 | 1e2 | float64 |" in text and "## Targets" in text


def test_a_wrong_method_is_reported_not_timed():
    """The agreement check catches a method that is off by 1e-3 and never times it."""
    problem = WORKLOADS["small-hessian"].problem
    methods = [METHODS["autograd"], METHODS["symgrad"], WRONG, REFUSES, CRASHES]
    records = run_cell(
        problem, "hessian", methods, batch=50, dtype=torch.float64, repeat=1, warmup=0
    )
    assert records["autograd"]["status"] == records["symgrad"]["status"] == "ok"
    assert records["symgrad"]["max_abs_error"] < 1e-12
    wrong = records["wrong"]
    assert wrong["status"] == "mismatch" and "median_s" not in wrong
    assert "disagrees with autograd" in wrong["reason"]
    assert records["refuses"]["status"] == "n/a"
    assert records["refuses"]["reason"] == "cannot do this workload"
    assert "median_s" not in records["refuses"]
    assert records["crashes"]["status"] == "n/a"
    assert "ZeroDivisionError" in records["crashes"]["reason"]


def test_agreement_follows_the_majority():
    """When the first method is the odd one out, the consensus of the others wins."""
    good = torch.linspace(0, 1, 10, dtype=torch.float64)
    verdict = agreement({"a": good + 1, "b": good, "c": good.clone()}, torch.float64)
    assert verdict["a"]["agrees"] is False and verdict["a"]["anchor"] == "b"
    assert verdict["b"]["agrees"] and verdict["c"]["agrees"]
    assert math.isclose(verdict["a"]["max_abs_error"], 1.0)
    loose = agreement({"a": good * (1 + 1e-5), "b": good}, torch.float32)
    assert loose["a"]["agrees"]  # float32 tolerances


def test_a_memory_cap_measures_a_sub_batch_and_scales():
    """Past the memory budget a method runs on fewer points and its time is scaled up."""
    problem = WORKLOADS["small-gradient"].problem
    records = run_cell(
        problem,
        "gradient",
        [METHODS["symgrad"], METHODS["torch.func"]],
        batch=1000,
        dtype=torch.float32,
        repeat=1,
        warmup=0,
        memory_budget=40_000,
    )
    for record in records.values():
        assert record["status"] == "ok"
        assert record["scaled_from"] < 1000
        assert record["times_s"][0] == pytest.approx(record["median_s"])


def test_command_line_writes_the_files(tmp_path, capsys):
    """`python -m benchmarks` with a tiny custom grid writes the report and JSON."""
    code = main(
        [
            "--workloads",
            "small-jacobian",
            "--batches",
            "1e2",
            "--repeat",
            "1",
            "--no-compile",
            "--no-symbolic",
            "--no-plots",
            "--methods",
            "autograd,symgrad",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    data = json.loads((tmp_path / "custom-cpu.json").read_text())
    assert set(data["cells"][0]["methods"]) == {"autograd", "symgrad"}
    assert "small-jacobian" in capsys.readouterr().out


def test_plots_are_written(tmp_path):
    """With matplotlib, the batch and size plots are PNG files."""
    pytest.importorskip("matplotlib")
    config = _tiny(
        cells=[CellSpec("small-gradient", "float64", (10, 100))],
        methods=("autograd", "symgrad"),
    )
    paths = report.write(run_suite(config, log=None), tmp_path)
    pngs = sorted(p.name for p in paths if p.suffix == ".png")
    assert pngs == ["test-cpu-batch.png", "test-cpu-size.png"]
    assert all((tmp_path / name).read_bytes()[:4] == b"\x89PNG" for name in pngs)

"""sg.check: closed forms against torch.autograd, and the CheckReport."""

from __future__ import annotations

import json
import math

import pytest
import torch

import symgrad as sg

SEEDS = [
    ("x**2 + y**3", {}),
    ("sum(x*y)", {"x": 2, "y": 2}),
    (["x*y", "x+y"], {"x": 2, "y": 2}),
]


@pytest.mark.parametrize(("expr", "vectors"), SEEDS)
def test_seed_examples_check_to_order_two(expr, vectors):
    """The tutorial's three examples agree with autograd up to second order."""
    report = sg.check(sg.function(expr, vectors=vectors), order=2)
    assert report.ok, report.to_markdown()
    assert report.n_points == 256 and report.n_skipped == 0
    assert report.max_abs_error < 1e-12


def test_seed_example_at_the_tutorial_point():
    """At (2, 3) the first partials of x**2 + y**3 are compared at exactly that point."""
    report = sg.check(sg.function("x**2 + y**3"), points={"x": 2.0, "y": 3.0})
    assert report.ok and report.n_points == 1
    values = {row.wrt: row.closed_form_value for row in report.rows}
    assert values == {("x",): 4.0, ("y",): 27.0}


def test_rows_cover_each_distinct_partial_once():
    """Order 2 over two variables gives 2 first and 3 distinct second partials."""
    report = sg.check(sg.function("sin(x*y)"), order=2)
    assert [row.wrt for row in report.rows] == [("x",), ("y",), ("x", "x"), ("x", "y"), ("y", "y")]


def test_planted_wrong_claim_fails_with_worst_point():
    """A wrong claimed derivative is reported with the point and both values."""
    report = sg.check(sg.function("x**2"), claimed={("x",): "3*x"})
    assert not report.ok
    (row,) = report.rows
    assert row.claimed and not row.ok
    x = row.worst_point["x"]
    assert row.closed_form_value == pytest.approx(3 * x)
    assert row.autograd_value == pytest.approx(2 * x)
    assert "MISMATCH" in report.summary() and "3*x" in report.summary()


def test_right_claim_passes_including_second_order():
    """A correct claim of first and mixed second partials passes."""
    f = sg.function("x**2*y")
    report = sg.check(f, claimed={("x",): "2*x*y", ("x", "y"): "2*x", "y": "x**2"})
    assert report.ok
    assert report.order == 2


def test_claim_with_wrong_number_of_outputs_is_an_error():
    """A scalar claim for a vector function is refused with a clear error."""
    f = sg.function(["x", "y"])
    with pytest.raises(sg.VariableError, match="outputs"):
        sg.check(f, claimed={("x",): "1"})


def test_non_finite_points_are_skipped_and_counted():
    """log(x) on (-2, 2): points with x <= 0 are skipped, never compared."""
    report = sg.check(sg.function("log(x)"))
    assert report.ok
    assert report.n_skipped > 0
    assert report.n_points + report.n_skipped == 256


def test_too_few_finite_points_does_not_pass_vacuously():
    """A function undefined on the sampled range is reported as not checked."""
    report = sg.check(sg.function("log(x)"), ranges={"x": (-3.0, -1.0)})
    assert not report.ok
    assert report.n_points == 0
    assert "NOT CHECKED" in report.summary()


def test_ranges_keep_points_in_the_domain():
    """With a range inside the domain nothing is skipped."""
    report = sg.check(sg.function("log(x) + sqrt(y)"), ranges={"x": (0.1, 3), "y": (0.1, 3)})
    assert report.ok and report.n_skipped == 0


def test_vector_valued_jacobian_is_checked_row_by_row():
    """Every output of a vector function is compared, not just the first."""
    f = sg.function(["x*y", "x+y", "sin(x[0])*y[1]"], vectors={"x": 2, "y": 2})
    report = sg.check(f, order=2)
    assert report.ok
    assert len(report.rows) == 4 + 10


def test_parameters_can_be_checked():
    """Partials against a parameter agree with autograd too."""
    f = sg.function("a*sin(x) + b*x**2", params={"a": 1.5, "b": -0.5})
    report = sg.check(f, order=2, wrt="x a b")
    assert report.ok
    assert ("x", "a") in [row.wrt for row in report.rows]


def test_float32_uses_looser_default_tolerances():
    """float32 passes with its own tolerances; the report says which were used."""
    f = sg.function("exp(-x**2)*cos(3*y) + tanh(x*y)")
    report = sg.check(f, order=2, dtype=torch.float32, samples=2000)
    assert report.ok, report.to_markdown()
    assert report.dtype == "float32"
    assert (report.rtol, report.atol) == sg._check.default_tolerances(torch.float32)


def test_finite_differences_are_a_separate_witness():
    """First partials in float64 carry a finite-difference error near rounding level."""
    report = sg.check(sg.function("sin(x)*exp(y)"))
    for row in report.rows:
        assert row.finite_difference_error is not None
        assert row.finite_difference_error < 1e-8


def test_explicit_tolerances_can_make_a_check_fail():
    """An impossible tolerance turns rounding differences into a reported mismatch."""
    f = sg.function("exp(-x**2)*cos(3*y) + tanh(x*y)")
    loose = sg.check(f, dtype=torch.float32, samples=2000)
    strict = sg.check(f, dtype=torch.float32, samples=2000, rtol=0.0, atol=0.0)
    assert loose.ok
    assert strict.max_abs_error == loose.max_abs_error
    assert not strict.ok or strict.max_abs_error == 0.0


def test_to_dict_is_json_safe_with_the_contract_keys():
    """to_dict() round-trips through json without NaN literals."""
    report = sg.check(sg.function("log(x)*y"), order=2)
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    for key in ("ok", "n_points", "n_skipped", "max_abs_error", "max_rel_error", "rows"):
        assert key in data
    for row in data["rows"]:
        assert {"wrt", "max_abs_error", "max_rel_error"} <= set(row)


def test_to_markdown_is_a_table_with_a_verdict():
    """The markdown has a header, one line per partial and the one-line verdict."""
    report = sg.check(sg.function("x*y"), order=1)
    text = report.to_markdown()
    lines = text.strip().splitlines()
    assert lines[0].startswith("| partial")
    assert sum(line.startswith("| d/") for line in lines) == 2
    assert lines[-1].startswith("OK:")


def test_points_are_batched_and_broadcast():
    """Explicit points broadcast like f(**values): a batch of x against one y."""
    report = sg.check(sg.function("x*y**2"), points={"x": torch.linspace(-1, 1, 7), "y": 2.0})
    assert report.ok and report.n_points == 7


def test_same_seed_same_report_other_seed_other_points():
    """Random points come from a seeded generator."""
    f = sg.function("sin(x)*y")
    a, b = sg.check(f, seed=3), sg.check(f, seed=3)
    c = sg.check(f, seed=4)
    assert a.rows[0].worst_point == b.rows[0].worst_point
    assert a.rows[0].worst_point != c.rows[0].worst_point


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"order": 0}, "order"),
        ({"samples": 0}, "samples"),
        ({"dtype": torch.int64}, "dtype"),
        ({"wrt": "q"}, "unknown variable"),
        ({"ranges": {"q": (0, 1)}}, "unknown variable"),
    ],
)
def test_bad_arguments_raise_variable_errors(kwargs, message):
    """Bad options are errors that say what to fix."""
    with pytest.raises(sg.VariableError, match=message):
        sg.check(sg.function("x*y"), **kwargs)


def test_cuda_request_without_cuda_is_a_clear_error():
    """Asking for CUDA where there is none is a VariableError, not a torch traceback."""
    if torch.cuda.is_available():
        pytest.skip("CUDA is present")
    with pytest.raises(sg.VariableError, match="CUDA"):
        sg.check(sg.function("x"), device="cuda")


def test_ten_thousand_points_to_order_two_runs_vectorised():
    """10,000 points of the reference workload to order 2 are checked in one pass."""
    f = sg.function(
        "sin(x0*x1) + exp(-x2**2)*cos(x3) + log(1 + x4**2)*x5 + x0*x1*x2/(1 + x3**2)"
        " + tanh(x4*x5 - x0)"
    )
    report = sg.check(f, order=2, samples=10_000)
    assert report.ok and report.n_points == 10_000
    assert len(report.rows) == 6 + 21
    assert math.isfinite(report.max_rel_error)


def test_empty_batch_is_a_clear_error():
    """An empty batch of points is refused, not a reshape error from torch."""
    with pytest.raises(sg.VariableError, match="empty"):
        sg.check(sg.function("x*y"), points={"x": torch.zeros(0), "y": 1.0})

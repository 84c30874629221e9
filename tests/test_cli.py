"""The `symgrad` command line: every command and format, the contract's JSON, exit codes."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import symgrad as sg
from symgrad import cli

runner = CliRunner()
SEED_GRAD = ["grad", "x**2 + y**3", "--at", "x=2,y=3"]
VECTORS = ["--vector", "x=2", "--vector", "y=2"]


def run(*args: str):
    """Invoke the app in-process (CliRunner is not a terminal: no colour)."""
    return runner.invoke(cli.app, list(args), env={"COLUMNS": "200"})


def ok(*args: str):
    result = run(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return result


def as_json(*args: str):
    result = ok(*args, "--format", "json")
    return json.loads(result.stdout)


def assert_contract(document: dict, *, values: bool, jacobian: bool = False) -> None:
    """The contract's JSON shape for diff/grad/jacobian/hessian, and nothing else."""
    assert list(document) == ["function", "variables", "partials"]
    assert isinstance(document["function"], str)
    assert all(isinstance(v, str) for v in document["variables"])
    assert document["partials"]
    for entry in document["partials"]:
        keys = ["wrt", "expr", "latex"] + (["value"] if values else [])
        assert list(entry) == (["output", *keys] if jacobian else keys)
        assert entry["wrt"] and all(isinstance(w, str) for w in entry["wrt"])
        assert isinstance(entry["expr"], str) and isinstance(entry["latex"], str)
        if jacobian:
            assert isinstance(entry["output"], int)


# ---------------------------------------------------------------------------------------
# The three seed examples


def test_seed_grad_text_shows_closed_forms_and_values():
    """The README's first command prints 2*x = 4 and 3*y**2 = 27."""
    out = ok(*SEED_GRAD).stdout
    assert "x**2 + y**3" in out
    lines = out.splitlines()
    assert any("2*x" in line and line.rstrip().endswith("= 4") for line in lines)
    assert any("3*y**2" in line and line.rstrip().endswith("= 27") for line in lines)
    assert "\x1b[" not in out  # no colour when not on a terminal


def test_seed_grad_json_is_exactly_the_contract():
    """The JSON document is the contract's example, key for key."""
    assert as_json(*SEED_GRAD) == {
        "function": "x**2 + y**3",
        "variables": ["x", "y"],
        "partials": [
            {"wrt": ["x"], "expr": "2*x", "latex": "2 x", "value": 4.0},
            {"wrt": ["y"], "expr": "3*y**2", "latex": "3 y^{2}", "value": 27.0},
        ],
    }


def test_seed_vector_gradient():
    """sum(x*y) at x=[2,3], y=[1,4]: [1,4] in x and [2,3] in y."""
    args = ["grad", "sum(x*y)", *VECTORS, "--at", "x=[2,3],y=[1,4]"]
    document = as_json(*args)
    assert_contract(document, values=True)
    assert [(p["wrt"], p["value"]) for p in document["partials"]] == [
        (["x"], [1.0, 4.0]),
        (["y"], [2.0, 3.0]),
    ]
    out = ok(*args).stdout
    assert "[1, 4]" in out and "[2, 3]" in out


def test_seed_jacobian_of_two_vector_outputs():
    """x*y and x+y over vectors of length 2 give the 4x4 Jacobian, rows labelled by output."""
    args = ["jacobian", "x*y", "x+y", *VECTORS]
    document = as_json(*args)
    assert_contract(document, values=False, jacobian=True)
    rows: dict[int, list[str]] = {}
    for entry in document["partials"]:
        rows.setdefault(entry["output"], []).append(entry["expr"][1:-1])
    assert [", ".join(rows[i]) for i in range(4)] == [
        "y[0], 0, x[0], 0",
        "0, y[1], 0, x[1]",
        "1, 0, 1, 0",
        "0, 1, 0, 1",
    ]
    valued = as_json(*args, "--at", "x=[2,3],y=[1,4]")
    matrix: dict[int, list[float]] = {}
    for entry in valued["partials"]:
        matrix.setdefault(entry["output"], []).extend(entry["value"])
    assert [matrix[i] for i in range(4)] == [
        [1.0, 0.0, 2.0, 0.0],
        [0.0, 4.0, 0.0, 3.0],
        [1.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 1.0],
    ]
    assert "df[3]/dy" in ok(*args).stdout


# ---------------------------------------------------------------------------------------
# Each command and format


def test_diff_higher_order_in_every_format():
    """diff --wrt x --wrt y is the mixed second partial, with its value at --at."""
    args = ["diff", "x**2*sin(y)", "--wrt", "x", "--wrt", "y", "--at", "x=1,y=0"]
    document = as_json(*args)
    assert_contract(document, values=True)
    (entry,) = document["partials"]
    assert entry["wrt"] == ["x", "y"] and entry["expr"] == "2*x*cos(y)"
    assert entry["value"] == 2.0
    assert "d2f/dx dy = 2*x*cos(y) = 2" in ok(*args).stdout
    latex = ok(*args, "--format", "latex").stdout
    assert r"\frac{\partial^{2} f}{\partial x \partial y} &= 2 x \cos{\left(y \right)} = 2" in latex
    assert latex.count(r"\begin{aligned}") == 1 and r"\end{aligned}" in latex


def test_diff_repeated_name_is_a_power_in_latex():
    """--wrt x --wrt x prints as the second derivative in x."""
    latex = ok("diff", "x**3", "--wrt", "x", "--wrt", "x", "--format", "latex").stdout
    assert r"\frac{\partial^{2} f}{\partial x^{2}} &= 6 x" in latex


def test_diff_by_a_vector_component():
    """--wrt x[0] differentiates by one component."""
    document = as_json("diff", "sum(x**2)", "--vector", "x=2", "--wrt", "x[0]")
    assert document["partials"][0]["expr"] == "2*x[0]"


def test_grad_with_params_and_wrt():
    """--param declares a constant; --wrt may name it."""
    document = as_json("grad", "a*x**2", "--param", "a=1.5", "--wrt", "x", "--wrt", "a")
    assert [(p["wrt"], p["expr"]) for p in document["partials"]] == [
        (["x"], "2*a*x"),
        (["a"], "x**2"),
    ]
    assert "a=1.5" in ok("grad", "a*x**2", "--param", "a=1.5").stdout


def test_grad_vars_orders_the_variables():
    """--vars fixes the order (and may add variables the expression does not use)."""
    document = as_json("grad", "x + 2*y", "--vars", "y x z")
    assert document["variables"] == ["y", "x", "z"]
    assert [p["expr"] for p in document["partials"]] == ["2", "1", "0"]


def test_several_points_give_lists():
    """Repeating --at evaluates a batch: one value per point."""
    document = as_json(*SEED_GRAD, "--at", "x=1,y=1")
    assert [p["value"] for p in document["partials"]] == [[4.0, 2.0], [27.0, 3.0]]


def test_float32_option():
    """--dtype float32 computes in single precision; the values are still right."""
    document = as_json(*SEED_GRAD, "--dtype", "float32")
    assert [p["value"] for p in document["partials"]] == [4.0, 27.0]


def test_grad_latex_is_an_aligned_block():
    """--format latex prints an aligned block ready to paste."""
    latex = ok(*SEED_GRAD, "--format", "latex").stdout
    assert r"f &= x^{2} + y^{3}" in latex
    assert r"\frac{\partial f}{\partial y} &= 3 y^{2} = 27" in latex


def test_hessian_lists_every_second_partial():
    """hessian prints the n x n second partials row by row."""
    args = ["hessian", "x**2*y + y**3", "--at", "x=1,y=2"]
    document = as_json(*args)
    assert_contract(document, values=True)
    assert [(p["wrt"], p["expr"], p["value"]) for p in document["partials"]] == [
        (["x", "x"], "2*y", 4.0),
        (["x", "y"], "2*x", 2.0),
        (["y", "x"], "2*x", 2.0),
        (["y", "y"], "6*y", 12.0),
    ]
    assert (
        r"\frac{\partial^{2} f}{\partial y^{2}} &= 6 y = 12"
        in ok(*args, "--format", "latex").stdout
    )


def test_eval_in_every_format():
    """eval prints the value at each point; JSON carries the points and the values."""
    out = ok("eval", "x**2 + y**3", "--at", "x=2,y=3", "--at", "x=1,y=1").stdout
    assert "x=2, y=3 = 31" in out and "x=1, y=1 = 2" in out
    document = as_json("eval", "dot(x, y)", *VECTORS, "--at", "x=[2,3],y=[1,4]")
    assert document["value"] == 14.0
    assert document["points"] == [{"x": [2.0, 3.0], "y": [1.0, 4.0]}]
    latex = ok("eval", "a*x", "--param", "a=2", "--at", "x=0.5", "--format", "latex").stdout
    assert latex.startswith("a x = 1")


def test_eval_without_variables_needs_no_point():
    """A constant expression evaluates without --at."""
    assert as_json("eval", "2 + 3")["value"] == 5.0


def test_check_passes_in_every_format():
    """check prints a Markdown table ending with the verdict; JSON has the contract keys."""
    out = ok("check", "sin(x)*exp(y)", "--order", "2", "--samples", "64").stdout
    assert "| partial |" in out and out.rstrip().splitlines()[-1].startswith("OK")
    document = as_json("check", "sin(x)*exp(y)", "--order", "2", "--samples", "64")
    for key in ("ok", "n_points", "n_skipped", "max_abs_error", "max_rel_error", "rows"):
        assert key in document
    assert document["ok"] is True and document["n_points"] == 64
    assert len(document["rows"]) == 5
    for row in document["rows"]:
        assert {"wrt", "max_abs_error", "max_rel_error"} <= set(row)
    latex = ok("check", "log(x)", "--at", "x=0.5", "--at", "x=2", "--format", "latex").stdout
    assert r"\begin{tabular}" in latex and r"\texttt{1/x}" in latex


def test_check_mismatch_exits_1():
    """A wrong claimed derivative is a mismatch: exit code 1, the verdict says so."""
    result = run("check", "x**2", "--claim", "x:3*x")
    assert result.exit_code == 1
    assert "MISMATCH" in result.stdout
    result = run("check", "x**2", "--claim", "x:3*x", "--format", "json")
    assert result.exit_code == 1 and json.loads(result.stdout)["ok"] is False
    assert run("check", "x**2*y", "--claim", "x,y:2*x").exit_code == 0


def test_codegen_prints_the_module_source():
    """codegen prints f.to_torch().source, or the gradient's / Hessian's."""
    f = sg.function("x**2 + y**3")
    assert ok("codegen", "x**2 + y**3").stdout == f.to_torch().source
    assert ok("codegen", "x**2 + y**3", "--grad").stdout == f.gradient().to_torch().source
    assert ok("codegen", "x**2 + y**3", "--hessian").stdout == f.hessian().to_torch().source
    document = as_json("codegen", "x**2")
    assert document["source"] == sg.function("x**2").to_torch().source
    assert r"\begin{verbatim}" in ok("codegen", "x**2", "--format", "latex").stdout


def test_docs_writes_the_pages_and_lists_them(tmp_path):
    """docs renders a spec: one page per derivation and an index, one path per line."""
    spec = tmp_path / "spec.toml"
    spec.write_text('[[derivation]]\ntitle = "Square"\nexpr = "x**2"\nplot = false\n')
    out = tmp_path / "pages"
    result = ok("docs", str(spec), "--out", str(out))
    assert result.stdout.splitlines() == [str(out / "square.md"), str(out / "index.md")]
    assert "2 x" in (out / "square.md").read_text()
    assert as_json("docs", str(spec), "--out", str(out)) == {
        "written": [str(out / "square.md"), str(out / "index.md")]
    }


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[derivation]]\ntitle = "Bad"\nexpr = "x**"\n', "derivation 1 ('Bad'): expr: "),
        ('[[derivation]]\ntitle = "Bad"\nexpr = "x"\nderive = ["curl"]\n', "derive: unknown"),
        ("[[derivation]\n", "not valid TOML"),
    ],
)
def test_docs_bad_spec_exits_2_with_one_line(tmp_path, text, message):
    """A malformed spec exits 2 with one line naming the entry and field."""
    spec = tmp_path / "spec.toml"
    spec.write_text(text)
    result = run("docs", str(spec), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_docs_missing_spec_exits_2(tmp_path):
    """A spec file that does not exist exits 2 and names it."""
    result = run("docs", str(tmp_path / "nope.toml"), "--out", str(tmp_path))
    assert result.exit_code == 2 and "nope.toml: cannot read the spec" in result.stderr


def test_docs_hands_over_to_generate_docs(monkeypatch, tmp_path):
    """With sg.generate_docs, docs passes the spec and folder and lists what was written."""
    calls = []

    def fake(spec, out):
        calls.append((spec, out))
        return [out / "page.md"]

    monkeypatch.setattr(sg, "generate_docs", fake, raising=False)
    result = ok("docs", "spec.toml", "--out", str(tmp_path))
    assert calls == [(Path("spec.toml"), tmp_path)]
    assert result.stdout.strip() == str(tmp_path / "page.md")


# ---------------------------------------------------------------------------------------
# Errors: one line on stderr, exit 2, no traceback


BAD_INPUT = {
    "unparsable expression": ["grad", "x**"],
    "unknown function": ["grad", "foo(x)"],
    "unknown variable in --at": ["grad", "x**2", "--at", "z=1"],
    "missing variable in --at": ["grad", "x*y", "--at", "x=1"],
    "vector of the wrong length": ["grad", "sum(x)", "--vector", "x=2", "--at", "x=[1,2,3]"],
    "non-numeric value": ["grad", "x", "--at", "x=abc"],
    "unbalanced bracket": ["grad", "x", "--at", "x=[1,2"],
    "conflicting options": ["codegen", "x", "--grad", "--hessian"],
    "bad --vector": ["grad", "x", "--vector", "x"],
    "bad --vector length": ["grad", "x", "--vector", "x=0"],
    "bad --param": ["grad", "x", "--param", "a=b"],
    "bad --param name": ["grad", "x", "--param", "=1"],
    "bad --claim": ["check", "x", "--claim", "x3x"],
    "unknown --wrt": ["diff", "x", "--wrt", "z"],
    "diff without --wrt": ["diff", "x"],
    "gradient of a vector": ["grad", "x*y", *VECTORS],
    "eval without --at": ["eval", "x + y"],
    "points that disagree": ["eval", "x", "--at", "x=1", "--at", "y=2"],
    "unknown format": ["grad", "x", "--format", "yaml"],
    "missing argument": ["grad"],
    "unknown option": ["grad", "x", "--bogus"],
    "unknown command": ["frobnicate"],
    "unknown option before the command": ["--bogus", "grad", "x"],
    "order below 1": ["check", "x", "--order", "0"],
}


@pytest.mark.parametrize("args", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_exits_2_with_one_line(args):
    """Every bad input: exit 2, one line on stderr saying what to fix, nothing on stdout."""
    result = run(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr


def test_cuda_without_cuda_exits_2(monkeypatch):
    """--device cuda on a machine without CUDA is bad input."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = run(*SEED_GRAD, "--device", "cuda")
    assert result.exit_code == 2
    assert "CUDA is not available" in result.stderr and len(result.stderr.splitlines()) == 1


def test_debug_adds_the_traceback():
    """--debug shows the traceback and keeps the exit code and the message."""
    result = run("grad", "x**", "--debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and "ParseError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: ")
    assert "Traceback" in run("--debug", "grad", "x**").stderr


def test_unexpected_error_is_an_internal_error(monkeypatch):
    """A bug (not bad input) exits 3 with one line that asks for --debug."""

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(sg, "function", broken)
    result = run("grad", "x")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "error: internal error: RuntimeError: boom (a bug in symgrad; rerun with --debug for "
        "the traceback and report it)"
    ]


# ---------------------------------------------------------------------------------------
# Help, version, completion, the installed script


@pytest.mark.parametrize(
    "command", ["diff", "grad", "jacobian", "hessian", "eval", "check", "codegen", "docs"]
)
def test_every_command_has_help_with_examples(command):
    """--help works on every command and shows runnable examples."""
    out = ok(command, "--help").stdout
    assert "Examples:" in out and f"symgrad {command} " in out


def _help_examples() -> list[str]:
    from symgrad.cli import codegen, derive, evaluate, verify

    texts = [*derive.EXAMPLES.values(), evaluate.EXAMPLES, verify.EXAMPLES, codegen.EXAMPLES]
    return [line.strip() for text in texts for line in text.splitlines() if "symgrad " in line]


@pytest.mark.parametrize("line", _help_examples())
def test_every_help_example_runs(line):
    """Each example in the help text runs as shown (exit 1 only where it says so)."""
    words = shlex.split(line, comments=True)
    assert words[0] == "symgrad"
    result = run(*words[1:])
    expected = 1 if "exit code 1" in line else 0
    assert result.exit_code == expected, (result.stdout, result.stderr)


def test_version_and_completion():
    """--version prints the version; typer's completion options are there."""
    assert ok("--version").stdout.strip() == f"symgrad {sg.__version__}"
    assert "--install-completion" in ok("--help").stdout


def test_no_arguments_shows_help():
    """Plain `symgrad` shows the commands (and exits 2, as a usage error)."""
    result = run()
    assert result.exit_code == 2
    assert "grad" in result.stdout + result.stderr


def _script(*args: str, module: bool = False) -> subprocess.CompletedProcess:
    if module:
        command = [sys.executable, "-m", "symgrad", *args]
    else:
        command = [str(Path(sys.executable).parent / "symgrad"), *args]
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_installed_console_script():
    """The `symgrad` script next to the interpreter runs the README's first command."""
    script = Path(sys.executable).parent / "symgrad"
    if not script.exists():
        pytest.skip("symgrad is not installed as a console script in this environment")
    assert _script("--version").stdout.strip() == f"symgrad {sg.__version__}"
    result = _script(*SEED_GRAD)
    assert result.returncode == 0, result.stderr
    assert "= 4" in result.stdout and "= 27" in result.stdout


def test_python_dash_m_symgrad():
    """`python -m symgrad` runs the same app; bad input still exits 2 with one line."""
    result = _script(*SEED_GRAD, "--format", "json", module=True)
    assert result.returncode == 0, result.stderr
    assert [p["value"] for p in json.loads(result.stdout)["partials"]] == [4.0, 27.0]
    bad = _script("grad", "x**", module=True)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1

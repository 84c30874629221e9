"""Every example in the README, the docs pages and the public docstrings runs, and says true.

- ```python blocks with `>>>` run as doctests; other ```python blocks run as scripts, and
  an expression statement with a trailing comment claims its result: the comment must be
  the value's `repr` or `str` (`f.gradient()  # Function([2*x, 3*y**2], ...)`), or, for a
  `print(...)` call, what it prints.
- ```bash lines that start with `symgrad` run through the CLI app and must exit 0 (paths
  under /tmp/ go to a temporary folder instead).
- ```toml blocks that hold a `[[derivation]]` are documentation specs: `load_spec` reads them.
- The ```python examples in the docstrings of everything in `symgrad.__all__` (which the
  API reference page shows) run as doctests.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import inspect
import io
import re
import shlex
import tokenize
from pathlib import Path

import pytest
import sympy
import torch
from typer.testing import CliRunner

import symgrad as sg
from symgrad import _spec, cli

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.M | re.S)


def blocks(language: str) -> list[tuple[str, str]]:
    """`(id, code)` for every fenced block in `language` in the README and the docs pages."""
    found = []
    for path in DOCUMENTS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            if match[1] == language:
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{path.relative_to(ROOT)}:{line}", match[2]))
    return found


def docstring_examples() -> list[tuple[str, str]]:
    """`(id, code)` for each ```python example in the docstrings of the public API."""
    objects = {"symgrad": sg, "symgrad._spec": _spec}
    for name in sg.__all__:
        value = getattr(sg, name)
        objects[name] = value
        if inspect.isclass(value):
            for attribute, member in vars(value).items():
                objects[f"{name}.{attribute}"] = member
    found = []
    for name, value in objects.items():
        target = value.fget if isinstance(value, property) else value
        doc = inspect.getdoc(target) if callable(target) or inspect.ismodule(target) else None
        for k, match in enumerate(FENCE.finditer(doc or "")):
            if match[1] == "python" and ">>>" in match[2]:
                found.append((f"{name}[{k}]", match[2]))
    return found


PYTHON = blocks("python")
BASH = [
    (f"{where}+{k}", line.strip())
    for where, code in blocks("bash")
    for k, line in enumerate(code.splitlines())
    if line.strip().startswith("symgrad ")
]
TOML = [(where, code) for where, code in blocks("toml") if "[[derivation]]" in code]
DOCSTRINGS = docstring_examples()


def run_doctest(name: str, code: str) -> None:
    globs = {"sg": sg, "sympy": sympy, "torch": torch}
    test = doctest.DocTestParser().get_doctest(code, globs, name, name, 0)
    output = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=output.write)
    assert runner.failures == 0, output.getvalue()


class _Claims(ast.NodeTransformer):
    """Wraps each expression statement that has a trailing comment in a check of it."""

    def __init__(self, comments: dict[int, str]):
        self.comments = comments

    def visit_Expr(self, node: ast.Expr):
        claim = self.comments.get(node.end_lineno)
        if claim is None:
            return node
        printing = (
            isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "print"
        )
        call = ast.Call(
            func=ast.Name("__claim__", ast.Load()),
            args=[
                ast.Lambda(
                    ast.arguments(
                        posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
                    ),
                    node.value,
                ),
                ast.Constant(claim),
                ast.Constant(printing),
                ast.Constant(node.lineno),
            ],
            keywords=[],
        )
        return ast.copy_location(ast.Expr(call), node)


def trailing_comments(code: str) -> dict[int, str]:
    """Line number -> the text of a comment that follows code on that line."""
    comments, code_lines = {}, set()
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            if token.start[0] in code_lines:
                comments[token.start[0]] = token.string[1:].strip()
        elif token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(token.start[0])
    return comments


def run_script(name: str, code: str) -> None:
    claims = []

    def claim(compute, expected: str, printing: bool, line: int) -> None:
        if printing:
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                compute()
            actual = [printed.getvalue().strip()]
        else:
            value = compute()
            actual = [repr(value), str(value)]
        assert expected in actual, f"{name}, line {line}: claims {expected!r}, got {actual[0]!r}"
        claims.append(line)

    tree = _Claims(trailing_comments(code)).visit(ast.parse(code))
    ast.fix_missing_locations(tree)
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(tree, name, "exec"), {"__claim__": claim, "__name__": "__example__"})


@pytest.mark.parametrize("code", [c for _, c in PYTHON], ids=[w for w, _ in PYTHON])
def test_python_examples(code):
    """A ```python block of the README or the docs runs, and each claimed result holds."""
    if ">>>" in code:
        run_doctest("example", code)
    else:
        run_script("example", code)


@pytest.mark.parametrize("line", [c for _, c in BASH], ids=[w for w, _ in BASH])
def test_command_line_examples(line, tmp_path, monkeypatch):
    """A `symgrad ...` line of the README or the docs exits 0."""
    monkeypatch.chdir(ROOT)
    args = [
        str(tmp_path / a[len("/tmp/") :]) if a.startswith("/tmp/") else a
        for a in shlex.split(line, comments=True)[1:]
    ]
    result = CliRunner().invoke(cli.app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, (line, result.stdout, result.stderr)


@pytest.mark.parametrize("code", [c for _, c in TOML], ids=[w for w, _ in TOML])
def test_spec_examples_are_valid_specs(code):
    """A documentation spec shown in the docs is one that load_spec accepts."""
    assert sg.load_spec(code).derivations


def test_the_module_docs_spec_example_is_valid():
    """The spec example in _spec's module docstring is accepted as well."""
    text = _spec.__doc__.split("```toml\n")[1].split("```")[0]
    assert sg.load_spec(text).derivations


@pytest.mark.parametrize("code", [c for _, c in DOCSTRINGS], ids=[w for w, _ in DOCSTRINGS])
def test_docstring_examples(code):
    """A docstring example of the public API (shown on the API page) passes as a doctest."""
    run_doctest("docstring", code)


def test_examples_were_found():
    """The collection above found the README's and the docs' examples."""
    assert any(w.startswith("README.md") for w, _ in PYTHON)
    assert any(w.startswith("docs/concepts.md") for w, _ in PYTHON)
    assert len(BASH) >= 6 and len(DOCSTRINGS) >= 8 and TOML


def test_ci_runs_the_readme_test_command():
    """.ci/run ends with the README's test command, character for character."""
    readme = [c for w, c in blocks("bash") if w.startswith("README.md")]
    command = next(c.strip() for c in readme if "pytest" in c)
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == command


def test_getting_started_has_the_readme_commands():
    """The getting-started page's install and test commands are the README's."""
    readme = [c.strip() for w, c in blocks("bash") if w.startswith("README.md")][:2]
    page = [c.strip() for w, c in blocks("bash") if w.startswith("docs/getting-started.md")][:2]
    assert page == readme


def test_concepts_draws_the_error_tree_of_the_errors_module():
    """The error tree on the concepts page is the one in symgrad/_errors.py's docstring."""
    from symgrad import _errors

    tree = _errors.__doc__.split("```\n")[1]
    assert f"```\n{tree}```" in (ROOT / "docs" / "concepts.md").read_text()

"""Docs: spec parsing and its errors, generated pages, determinism, the strict site build."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

import symgrad as sg

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "docs" / "gallery.toml"
HAS_MKDOCS = all(
    importlib.util.find_spec(name) is not None for name in ("mkdocs", "material", "mkdocstrings")
)
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

SIMPLE = """
[[derivation]]
title = "Square"
expr = "x**2"
plot = false
"""


def spec_text(**fields) -> str:
    """One [[derivation]] entry titled 'Entry' with `fields` (TOML values as text)."""
    lines = ["[[derivation]]", 'title = "First"', 'expr = "x"', "", "[[derivation]]"]
    fields = {"title": '"Entry"', "expr": '"x**2 + y**3"', **fields}
    lines += [f"{key} = {value}" for key, value in fields.items() if value is not None]
    return "\n".join(lines) + "\n"


@functools.cache
def gallery_files() -> dict[str, bytes]:
    """The gallery, generated once per test session."""
    return sg._docgen.render_pages(GALLERY)


@functools.cache
def build_site() -> Path:
    """`mkdocs build --strict` into a temporary folder, once per test session."""
    folder = Path(tempfile.mkdtemp(prefix="symgrad-site-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if result.returncode != 0:
        raise AssertionError(f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}")
    return folder


needs_mkdocs = pytest.mark.skipif(
    not HAS_MKDOCS, reason="mkdocs, mkdocs-material or mkdocstrings is not installed (.[docs])"
)
needs_matplotlib = pytest.mark.skipif(
    not HAS_MATPLOTLIB, reason="matplotlib is not installed (.[docs])"
)


# ---------------------------------------------------------------------------------------
# Reading a spec


def test_load_spec_reads_every_field():
    """Every field of an entry lands in its DerivationSpec."""
    spec = sg.load_spec(
        """
title = "My derivations"
intro = "Some *Markdown*."

[[derivation]]
title = "Model"
expr = "a*x**2 + y"
variables = "x y"
params = { a = 1.5 }
derive = ["gradient", "laplacian"]
partials = [["x"], "y", ["x", "x"]]
points = [{ x = 2, y = 3 }, { x = 1, y = 0, a = 2 }]
prose = "Prose."
plot = false
plot_range = [-1, 1]
check = { order = 3, samples = 16, seed = 4, ranges = { x = [0, 1] } }
steps = 1
slug = "model-page"
"""
    )
    assert spec.title == "My derivations" and spec.intro == "Some *Markdown*."
    (d,) = spec.derivations
    assert (d.index, d.title, d.slug) == (1, "Model", "model-page")
    assert d.variables == ("x", "y") and dict(d.params) == {"a": 1.5}
    assert d.derive == ("partials", "gradient", "laplacian")
    assert d.partials == (("x",), ("y",), ("x", "x"))
    assert [dict(p) for p in d.points] == [{"x": 2.0, "y": 3.0}, {"x": 1.0, "y": 0.0, "a": 2.0}]
    assert (d.check_order, d.check_samples, d.check_seed) == (3, 16, 4)
    assert dict(d.check_ranges) == {"x": (0.0, 1.0)}
    assert dict(d.plot_range) == {"x": (-1.0, 1.0), "y": (-1.0, 1.0)}
    assert (d.plot, d.steps, d.prose) == (False, 1, "Prose.")
    assert str(d.function) == "a*x**2 + y"


def test_defaults_fit_the_function():
    """Scalar functions default to the gradient, vector-valued ones to the Jacobian."""
    spec = sg.load_spec(
        """
[[derivation]]
title = "Scalar"
expr = "x*y"

[[derivation]]
title = "Vector"
expr = ["x*y", "x+y"]
vectors = { x = 2, y = 2 }

[[derivation]]
title = "Only partials"
expr = "x*y"
derive = ["partials"]
"""
    )
    scalar, vector, only = spec.derivations
    assert scalar.derive == ("gradient",) and scalar.check_order == 2 and scalar.can_plot
    assert vector.derive == ("jacobian",) and vector.expr == ("x*y", "x+y")
    assert vector.function.shape == (4,) and not vector.can_plot
    assert only.partials == (("x",), ("y",))
    assert dict(scalar.plot_range) == {} and scalar.plot is None


def test_slugs_come_from_titles_and_are_unique():
    """Titles become file names; a repeated title gets a number."""
    spec = sg.load_spec(
        '[[derivation]]\ntitle = "Gaussian bump (2-D)!"\nexpr = "x"\n'
        '[[derivation]]\ntitle = "Gaussian bump (2-D)"\nexpr = "x"\n'
        '[[derivation]]\ntitle = "Index"\nexpr = "x"\n'
    )
    assert [d.slug for d in spec.derivations] == [
        "gaussian-bump-2-d",
        "gaussian-bump-2-d-2",
        "index-2",
    ]


def test_load_spec_takes_a_path_text_or_mapping(tmp_path):
    """A Path, a path string, TOML text and a parsed mapping give the same spec."""
    path = tmp_path / "spec.toml"
    path.write_text(SIMPLE)
    mapping = {"derivation": [{"title": "Square", "expr": "x**2", "plot": False}]}
    specs = [sg.load_spec(s) for s in (path, str(path), SIMPLE, mapping)]
    assert len({s.derivations[0].function for s in specs}) == 1
    assert sg.load_spec(specs[0]) is specs[0]


BAD_ENTRIES = {
    "missing title": ({"title": None}, "derivation 2: title"),
    "missing expr": ({"expr": None}, "expr: required"),
    "unknown field": ({"derivs": '["gradient"]'}, "derivs: unknown field"),
    "expr not text": ({"expr": "3"}, "expr: expected a string"),
    "unparsable expr": ({"expr": '"x**"'}, "expr: "),
    "unknown function": ({"expr": '"foo(x)"'}, "expr: unknown function 'foo'"),
    "bad variables": ({"variables": "3"}, "variables: expected a list of names"),
    "variable missing from variables": ({"variables": '["x"]'}, "expr: the expression uses"),
    "bad vector length": ({"vectors": "{ x = 0 }"}, "vectors.x: expected an integer >= 1"),
    "bad param": ({"params": '{ a = "big" }'}, "params.a: expected a finite number"),
    "unknown derive": ({"derive": '["divergence"]'}, "derive: unknown 'divergence'"),
    "gradient of a vector": (
        {"expr": '["x", "y"]', "derive": '["gradient"]'},
        "derive: gradient needs a scalar function",
    ),
    "unknown partial": ({"partials": '[["z"]]'}, "partials[1]: unknown variable 'z'"),
    "empty partial": ({"partials": "[[]]"}, "partials[1]: expected a list of names"),
    "point misses a variable": ({"points": "[{ x = 1 }]"}, "points[1]: missing a value for 'y'"),
    "point names an unknown": (
        {"points": "[{ x = 1, y = 2, z = 3 }]"},
        "points[1]: unknown variable 'z'",
    ),
    "point not a number": ({"points": '[{ x = 1, y = "2" }]'}, "points[1].y: expected a finite"),
    "vector point of the wrong length": (
        {"expr": '"sum(x)"', "vectors": "{ x = 2 }", "points": "[{ x = [1, 2, 3] }]"},
        "points[1].x: expected a list of 2 numbers",
    ),
    "plot of a vector function": (
        {"expr": '"sum(x)"', "vectors": "{ x = 2 }", "plot": "true"},
        "plot: plots are drawn for scalar functions of one or two scalar variables",
    ),
    "plot not a bool": ({"plot": '"yes"'}, "plot: expected true or false"),
    "bad plot range": ({"plot_range": "[2, 1]"}, "plot_range: expected low < high"),
    "plot range of an unknown": ({"plot_range": "{ z = [0, 1] }"}, "plot_range.z: not a variable"),
    "unknown check option": ({"check": "{ tolerance = 1 }"}, "check.tolerance: unknown"),
    "check order 0": ({"check": "{ order = 0 }"}, "check.order: expected an integer >= 1"),
    "check range of a param": (
        {"params": "{ a = 1 }", "expr": '"a*x + y"', "check": "{ ranges = { a = [0, 1] } }"},
        "check.ranges.a: not a variable",
    ),
    "negative steps": ({"steps": "-1"}, "steps: expected an integer >= 0"),
    "bad slug": ({"slug": '"Has Spaces"'}, "slug: expected lower-case letters"),
    "taken slug": ({"slug": '"first"'}, "slug: 'first' is taken"),
    "prose not text": ({"prose": "1"}, "prose: expected Markdown text"),
}


@pytest.mark.parametrize("fields, message", BAD_ENTRIES.values(), ids=BAD_ENTRIES.keys())
def test_bad_entries_name_the_entry_and_the_field(fields, message):
    """A bad entry raises SpecError naming entry 2 ('Entry') and the field."""
    with pytest.raises(sg.SpecError) as caught:
        sg.load_spec(spec_text(**fields))
    text = str(caught.value)
    assert message in text
    if "title" not in fields:
        assert text.startswith("derivation 2 ('Entry'): ")
    assert isinstance(caught.value, ValueError)


BAD_SPECS = {
    "not TOML": ("[[derivation]\ntitle = 1", "spec: not valid TOML"),
    "no entries": ('title = "Nothing"', "spec: derivation: no [[derivation]] entries"),
    "unknown top-level field": ('titel = "x"\n[[derivation]]', "spec: titel: unknown field"),
    "derivation not a table list": ("derivation = 3", "spec: derivation: expected"),
    "title not text": ("title = 3\n[[derivation]]", "spec: title: expected a string"),
}


@pytest.mark.parametrize("text, message", BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_bad_specs_say_what_is_wrong(text, message):
    """Malformed TOML and bad top-level fields raise SpecError."""
    with pytest.raises(sg.SpecError, match=re.escape(message)):
        sg.load_spec(text)


def test_a_missing_file_is_a_spec_error(tmp_path):
    """A spec path that does not exist raises SpecError naming it."""
    with pytest.raises(sg.SpecError, match=r"missing\.toml: cannot read the spec"):
        sg.load_spec(tmp_path / "missing.toml")


def test_spec_errors_carry_the_entry_and_field():
    """SpecError has `where` and `field` for programs."""
    with pytest.raises(sg.SpecError) as caught:
        sg.load_spec(spec_text(derive='["curl"]'))
    assert caught.value.where == "derivation 2 ('Entry')" and caught.value.field == "derive"


# ---------------------------------------------------------------------------------------
# Generated pages


def page(slug: str) -> str:
    return gallery_files()[f"{slug}.md"].decode()


def test_the_gallery_has_the_three_seed_examples():
    """The gallery spec holds the README's three examples with their points."""
    spec = sg.load_spec(GALLERY)
    by_slug = {d.slug: d for d in spec.derivations}
    assert str(by_slug["polynomial"].function) == "x**2 + y**3"
    assert dict(by_slug["polynomial"].points[0]) == {"x": 2.0, "y": 3.0}
    assert dict(by_slug["vector-dot"].points[0]) == {"x": [2.0, 3.0], "y": [1.0, 4.0]}
    assert by_slug["jacobian"].function.jacobian().shape == (4, 4)
    assert len(spec.derivations) >= 5


def test_the_polynomial_page_has_closed_forms_values_code_and_verdict():
    """x**2 + y**3: 2 x and 3 y^{2}, values 4 and 27, the source and an OK verdict."""
    text = page("polynomial")
    assert text.startswith("# A polynomial in two variables\n")
    assert "f(x, y) = x^{2} + y^{3}" in text
    assert r"\nabla f = \left[\begin{matrix}2 x\\3 y^{2}\end{matrix}\right]" in text
    assert r"= 2 x$" in text and r"= 3 y^{2}$" in text  # the step-by-step results
    assert "**power**" in text and "**sum**" in text
    assert "| $\\nabla f$ | `[4, 27]` |" in text
    assert sg.function("x**2 + y**3").gradient().to_torch().source.strip() in text
    assert "\nOK: " in text and "`6*y`" in text  # the verdict; the table has d2f/dy2
    assert "![f and its first partials" in text or not HAS_MATPLOTLIB


def test_the_vector_pages_show_blocks_and_the_jacobian():
    """sum(x*y) has partials [1, 4] and [2, 3]; the Jacobian page has the 4x4 matrix."""
    text = page("vector-dot")
    block = r"\left[\begin{matrix}y_{0}\\y_{1}\end{matrix}\right]"
    assert r"\frac{\partial f}{\partial x} = " + block in text
    assert "`[1, 4]`" in text and "`[2, 3]`" in text
    assert "x \\in \\mathbb{R}^{2}" in text and "\nOK: " in text
    text = page("jacobian")
    assert r"\begin{matrix}y_{0} & 0 & x_{0} & 0\\0 & y_{1} & 0 & x_{1}\\1 & 0 & 1 & 0" in text
    assert "`[[1, 0, 2, 0], [0, 4, 0, 3], [1, 0, 1, 0], [0, 1, 0, 1]]`" in text
    assert "Not shown: " in text  # only the first few step-by-step derivations
    assert text.count("### ∂f") == 4 and "\nOK: " in text


def test_every_gallery_page_passes_its_check():
    """No gallery page reports a mismatch."""
    spec = sg.load_spec(GALLERY)
    for d in spec.derivations:
        text = page(d.slug)
        assert "\nOK: " in text and "MISMATCH" not in text, d.slug


def test_the_index_links_every_page():
    """index.md lists each derivation with its formula."""
    index = gallery_files()["index.md"].decode()
    for d in sg.load_spec(GALLERY).derivations:
        assert f"- [{d.title}]({d.slug}.md): $f(" in index


def test_parameters_and_partials_by_them():
    """A parameter's partial is listed and evaluated; points may override parameters."""
    text = page("logistic")
    assert r"\frac{\partial f}{\partial k}" in text
    assert r"\frac{\partial^{2} f}{\partial t^{2}}" in text
    assert "Parameters (constants here" in text and "$a = 2$" in text


def test_the_reproduce_snippet_runs(capsys):
    """The page's Python snippet prints the gradient and an OK summary."""
    text = page("polynomial")
    snippet = text.split("## Reproduce")[1].split("```python\n")[1].split("```")[0]
    exec(compile(snippet, "<polynomial.md>", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "[2*x, 3*y**2]" and printed[1].startswith("OK: ")


def test_steps_are_nested_four_spaces_deep():
    """Python-Markdown nests lists by four spaces: substeps are indented so."""
    text = page("log-ratio")
    assert "\n    1. **" in text and "\n        1. **" in text
    assert "\n   1. **" not in text


@needs_matplotlib
def test_generate_docs_is_deterministic(tmp_path):
    """The same spec gives the same bytes, whatever torch's default dtype."""
    first = gallery_files()
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        paths = sg.generate_docs(GALLERY, tmp_path)
    finally:
        torch.set_default_dtype(previous)
    assert [p.name for p in paths] == list(first)
    assert {p.name: p.read_bytes() for p in paths} == first
    assert any(name.endswith(".svg") for name in first)


@needs_matplotlib
def test_plots_are_svg_without_a_date():
    """Plots are SVG files with no date in their metadata."""
    svg = gallery_files()["polynomial.svg"].decode()
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "<dc:date>" not in svg


def test_generate_docs_writes_pages_and_index(tmp_path):
    """generate_docs creates the folder and returns pages then the index."""
    out = tmp_path / "deep" / "out"
    paths = sg.generate_docs(SIMPLE, out)
    assert paths == [out / "square.md", out / "index.md"]
    assert "# Square" in paths[0].read_text() and "[Square](square.md)" in paths[1].read_text()


def test_without_matplotlib_plots_are_skipped_or_refused(monkeypatch, tmp_path):
    """A default plot becomes a note; plot = true is a SpecError that says what to install."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    spec = '[[derivation]]\ntitle = "Line"\nexpr = "x**2"\nsteps = 0\n'
    paths = sg.generate_docs(spec, tmp_path)
    text = paths[0].read_text()
    assert "Plot skipped: matplotlib is not installed" in text and len(paths) == 2
    with pytest.raises(sg.SpecError, match=r"derivation 1 \('Line'\): plot: plots need matplotlib"):
        sg.generate_docs(spec + "plot = true\n", tmp_path)


def test_check_ranges_reach_the_check_and_the_plot():
    """A function defined for x > 0 is checked and plotted there."""
    text = page("log-ratio")
    assert "ranges={'x': [0.2, 3.0], 'y': [-3.0, 3.0]}" in text
    assert ", 0 skipped" in text
    if HAS_MATPLOTLIB:
        assert "x in \\[0.2, 3\\], y in \\[-3, 3\\]" in text


# ---------------------------------------------------------------------------------------
# The site


@needs_mkdocs
def test_the_site_builds_in_strict_mode():
    """`mkdocs build --strict` succeeds and writes every page, the gallery and the CLI page."""
    site = build_site()
    for page_path in (
        "index.html",
        "getting-started/index.html",
        "concepts/index.html",
        "derivation-pages/index.html",
        "api/index.html",
        "cli/index.html",
        "performance/index.html",
        "gallery/index.html",
    ):
        assert (site / page_path).is_file(), page_path
    for d in sg.load_spec(GALLERY).derivations:
        html = (site / "gallery" / d.slug / "index.html").read_text()
        assert "OK: " in html and d.title in html
    api = (site / "api" / "index.html").read_text()
    for name in ("generate_docs", "load_spec", "check", "CheckReport", "Function"):
        assert f'id="symgrad.{name}"' in api, name
    cli = (site / "cli" / "index.html").read_text()
    for command in ("diff", "grad", "jacobian", "hessian", "eval", "check", "codegen", "docs"):
        assert f"symgrad {command}" in cli, command
    assert "\b" not in cli


@needs_mkdocs
def test_the_cli_reference_is_generated_from_the_app():
    """docs/hooks.py writes the CLI page from typer's help, options included."""
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    text = hooks.cli_reference()
    assert text.startswith("# Command line reference\n")
    assert "## `symgrad docs`" in text and "* `--out DIR`: The folder the pages" in text
    assert "```bash\nsymgrad diff" in text and "x\\*\\*2" in text


def test_render_helpers():
    """Partial names group repeated variables; values show six digits and no -0."""
    render = sg._docgen.render
    assert render.partial_latex(["x", "x", "y"]) == (
        r"\frac{\partial^{3} f}{\partial x^{2} \partial y}"
    )
    assert render.partial_latex(["x[1]"]) == r"\frac{\partial f}{\partial x_{1}}"
    assert render.name_latex("sigma") == r"\sigma"
    assert render.value_text(torch.tensor([[-0.0, 1 / 3], [float("nan"), -float("inf")]])) == (
        "[[0, 0.333333], [nan, -inf]]"
    )
    assert render.point_text({"x": 2.0, "y": [1.0, 4.0]}) == "x=2, y=[1, 4]"
    assert render.escape_markdown("a*b_[c]|$") == r"a\*b\_\[c\]\|\$"

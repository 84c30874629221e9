"""Documentation-generated derivations: a TOML spec becomes one Markdown page per function.

`generate_docs(spec, out)` reads a spec (`load_spec`) and writes, for each `[[derivation]]`,
a page with the function in LaTeX, its step-by-step first partials, the closed forms it
asks for, their values at its points, the generated torch code, the verification table of
`symgrad.check` and, for a function of one or two scalar variables, a plot of it and its
first partials; then an `index.md` that links them. The same spec gives the same bytes.

The spec format is described in `_spec`; the plots come from `_plots`.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _render as render
from ._errors import SymgradError
from ._function import Function
from ._plots import load_matplotlib, plot_caption, plot_svg
from ._spec import INSTALL_HINT, DerivationSpec, Spec, entry_error, load_spec
from ._steps import derive_steps

__all__ = ["generate_docs", "render_pages"]


# ---------------------------------------------------------------------------------------
# Pages


@dataclass(frozen=True)
class _Quantity:
    label: str  # LaTeX, without $
    function: Function
    what: str  # words for the closed-forms section


def _quantities(d: DerivationSpec) -> list[_Quantity]:
    f = d.function
    result = []
    for item in d.derive:
        if item == "partials":
            for wrt in d.partials:
                result.append(_Quantity(render.partial_latex(wrt), f.partial(*wrt), "partial"))
        elif item == "gradient":
            result.append(_Quantity(r"\nabla f", f.gradient(), "gradient"))
        elif item == "jacobian":
            result.append(_Quantity(r"\mathbf{J}_f", f.jacobian(), "Jacobian"))
        elif item == "hessian":
            result.append(_Quantity(r"\mathbf{H}_f", f.hessian(), "Hessian"))
        elif item == "laplacian":
            result.append(_Quantity(r"\Delta f", f.laplacian(), "Laplacian"))
    return result


def _signature(f: Function) -> str:
    names = [render.name_latex(i.name) for i in f.inputs if not i.is_param]
    return f"f({', '.join(names)})"


def _about(f: Function) -> str:
    """One sentence on the inputs."""
    parts = []
    variables = [i for i in f.inputs if not i.is_param]
    described = []
    for item in variables:
        name = render.name_latex(item.name)
        if item.length is None:
            described.append(f"${name}$")
        else:
            described.append(rf"${name} \in \mathbb{{R}}^{{{item.length}}}$")
    if described:
        parts.append("Variables: " + ", ".join(described) + ".")
    params = [i for i in f.inputs if i.is_param]
    if params:
        values = ", ".join(
            f"${render.name_latex(p.name)} = {render.value_text(p.value)}$" for p in params
        )
        parts.append(
            f"Parameters (constants here, trainable `nn.Parameter`s in compiled modules): {values}."
        )
    if f.shape:
        parts.append(f"Shape: `{f.shape}`: {len(f.outputs)} outputs, in order.")
    return " ".join(parts)


def _steps_section(d: DerivationSpec) -> list[str]:
    f = d.function
    names = render.names_of(f)
    vector = f.shape != ()
    per_output, trivial = [], 0
    for i, output in enumerate(f.outputs):
        per_output.append([(i, output, s) for s in f.variables if output.has(s)])
        trivial += len(f.variables) - len(per_output[-1])
    # Round robin over the outputs: the first partial of each output, then the second, ...
    rounds = itertools.zip_longest(*per_output)
    targets = [target for row in rounds for target in row if target is not None]
    if d.steps == 0 or not targets:
        return []
    lines = ["## Step by step", ""]
    lines.append(
        "Each first partial, rule by rule; every other symbol is held constant. "
        "Inner derivatives of the chain rule are taken in a placeholder, as on paper."
    )
    lines.append("")
    for i, output, symbol in targets[: d.steps]:
        derivation = derive_steps(output, symbol)
        of = f"f[{i}]" if vector else "f"
        lines.append(f"### {render.escape_markdown(f'∂{of}/∂{symbol.name}')}")
        lines.append("")
        lines.append(derivation.to_markdown(names))
        closed = f._family.derive([output], [symbol])[0][0]
        if closed != derivation.result:
            lines.append(f"symgrad's closed form writes it ${render.latex(closed, names)}$.")
            lines.append("")
    rest = len(targets) - d.steps
    if rest > 0 or trivial:
        words = []
        if rest > 0:
            plural = "s follow" if rest > 1 else " follows"
            words.append(f"{rest} more first partial{plural} the same rules")
        if trivial:
            words.append(
                f"{trivial} {'are' if trivial > 1 else 'is'} 0 because the output does not "
                "involve the variable"
            )
        lines.append(f"Not shown: {'; '.join(words)}. Every closed form is listed below.")
        lines.append("")
    return lines


def _closed_forms_section(quantities: list[_Quantity], names) -> list[str]:
    if not quantities:
        return []
    lines = ["## Closed forms", ""]
    for q in quantities:
        lines.append(render.display_math(f"{q.label} = {_function_latex(q.function, names)}"))
    return lines


def _function_latex(f: Function, names) -> str:
    if f.shape == ():
        return render.latex(f.expr, names)
    return f.latex()


def _values_section(d: DerivationSpec, quantities: list[_Quantity]) -> list[str]:
    if not d.points:
        return []
    import torch

    header = "| | " + " | ".join(f"`{render.point_text(p)}`" for p in d.points) + " |"
    lines = ["## Values", "", header, "|---" * (len(d.points) + 1) + "|"]
    rows = [_Quantity("f", d.function, "function"), *quantities]
    for q in rows:
        cells = []
        for k, point in enumerate(d.points, start=1):
            values = {n: torch.tensor(v, dtype=torch.float64) for n, v in point.items()}
            try:
                with torch.no_grad():
                    value = q.function(**values)
            except SymgradError as exc:
                raise entry_error(d, f"points[{k}]", str(exc)) from exc
            cells.append(f"`{render.value_text(value)}`")
        lines.append(f"| ${q.label}$ | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def _code_section(d: DerivationSpec) -> list[str]:
    f = d.function
    which, derived = ("gradient", f.gradient()) if f.shape == () else ("jacobian", f.jacobian())
    source = derived.to_torch().source.rstrip("\n")
    return [
        "## Generated torch code",
        "",
        f"The {which}, compiled by `f.{which}().to_torch()`; the module runs this `.source`:",
        "",
        "```python",
        source,
        "```",
        "",
    ]


def _check_section(d: DerivationSpec) -> list[str]:
    from ._check import check

    ranges = dict(d.check_ranges) or None
    try:
        report = check(
            d.function,
            order=d.check_order,
            samples=d.check_samples,
            seed=d.check_seed,
            ranges=ranges,
        )
    except SymgradError as exc:
        raise entry_error(d, "check", str(exc)) from exc
    call = f"order={d.check_order}, samples={d.check_samples}, seed={d.check_seed}"
    if ranges:
        call += f", ranges={ {k: list(v) for k, v in ranges.items()} }"
    return [
        "## Verification",
        "",
        f"`sg.check(f, {call})` compares every partial of order 1 to {d.check_order} "
        "with `torch.autograd` on the compiled function:",
        "",
        report.to_markdown().rstrip("\n"),
        "",
    ]


def _reproduce_section(d: DerivationSpec) -> list[str]:
    expr = repr(list(d.expr)) if isinstance(d.expr, tuple) else repr(d.expr)
    args = [expr]
    if d.variables is not None:
        args.append(repr(list(d.variables)))
    if d.vectors:
        args.append(f"vectors={dict(d.vectors)!r}")
    if d.params:
        args.append(f"params={dict(d.params)!r}")
    derived = "f.gradient()" if d.function.shape == () else "f.jacobian()"
    check_args = f"order={d.check_order}"
    if d.check_ranges:
        check_args += f", ranges={ {k: list(v) for k, v in d.check_ranges.items()} }"
    return [
        "## Reproduce",
        "",
        "```python",
        "import symgrad as sg",
        "",
        f"f = sg.function({', '.join(args)})",
        f"print({derived})",
        f"print(sg.check(f, {check_args}).summary())",
        "```",
        "",
    ]


def _page(d: DerivationSpec, plot_file: str | None, plot_note: str) -> str:
    f = d.function
    names = render.names_of(f)
    quantities = _quantities(d)
    lines = [f"# {d.title}", ""]
    if d.prose.strip():
        lines += [d.prose.strip(), ""]
    lines += ["## The function", ""]
    lines.append(render.display_math(f"{_signature(f)} = {_function_latex(f, names)}"))
    written = ", ".join(f"`{e}`" for e in d.expr) if isinstance(d.expr, tuple) else f"`{d.expr}`"
    lines += [f"Written {written}. {_about(f)}".rstrip(), ""]
    if plot_file is not None:
        lines += [f"![{render.escape_markdown(plot_caption(d))}]({plot_file})", ""]
    elif plot_note:
        lines += [f"*{plot_note}*", ""]
    lines += _steps_section(d)
    lines += _closed_forms_section(quantities, names)
    lines += _values_section(d, quantities)
    lines += _code_section(d)
    lines += _check_section(d)
    lines += _reproduce_section(d)
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.rstrip("\n") + "\n"


def _index(spec: Spec) -> str:
    lines = [f"# {spec.title}", ""]
    if spec.intro.strip():
        lines += [spec.intro.strip(), ""]
    for d in spec.derivations:
        names = render.names_of(d.function)
        formula = f"{_signature(d.function)} = {_function_latex(d.function, names)}"
        lines.append(f"- [{d.title}]({d.slug}.md): ${formula}$")
    return "\n".join(lines).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------
# Putting it together


def render_pages(spec: Any) -> dict[str, bytes]:
    """Every file of the documentation, by relative path: the pages, plots and index."""
    spec = load_spec(spec)
    matplotlib = None
    if any(d.plot is not False and d.can_plot for d in spec.derivations):
        matplotlib = load_matplotlib()
    files: dict[str, bytes] = {}
    for d in spec.derivations:
        plot_file, note = None, ""
        if d.plot is not False and d.can_plot:
            if matplotlib is None:
                if d.plot:
                    raise entry_error(
                        d,
                        "plot",
                        f"plots need matplotlib, which is not installed; {INSTALL_HINT} "
                        "or set plot = false",
                    )
                note = f"Plot skipped: matplotlib is not installed ({INSTALL_HINT})."
            else:
                try:
                    svg = plot_svg(d, matplotlib)
                except SymgradError as exc:
                    raise entry_error(d, "plot", str(exc)) from exc
                plot_file = f"{d.slug}.svg"
        files[f"{d.slug}.md"] = _page(d, plot_file, note).encode("utf-8")
        if plot_file is not None:
            files[plot_file] = svg
    files["index.md"] = _index(spec).encode("utf-8")
    return files


def generate_docs(spec: str | os.PathLike | Mapping[str, Any] | Spec, out: str | os.PathLike):
    """Write the derivation pages a documentation spec asks for; return the paths written.

    **Arguments:**

    - `spec`: a path to the TOML spec (or anything `load_spec` takes).
    - `out`: the folder to write into (created if missing). Each derivation becomes
      `<slug>.md` (and `<slug>.svg` for its plot), and `index.md` links them all.

    **Returns:** the paths written, pages in the spec's order and the index last. The
    same spec gives the same bytes; files already in `out` are overwritten, never removed.

    ```python
    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> spec = '[[derivation]]\\ntitle = "Cube"\\nexpr = "x**3"\\nplot = false'
    >>> [p.name for p in sg.generate_docs(spec, out)]
    ['cube.md', 'index.md']
    ```
    """
    files = render_pages(spec)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = folder / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
        written.append(path)
    return written

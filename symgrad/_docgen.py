"""Documentation-generated derivations: a TOML spec becomes one Markdown page per function.

`generate_docs(spec, out)` reads a spec (`load_spec`) and writes, for each `[[derivation]]`,
a page with the function in LaTeX, its step-by-step first partials, the closed forms it
asks for, their values at its points, the generated torch code, the verification table of
`symgrad.check` and, for a function of one or two scalar variables, a plot of it and its
first partials; then an `index.md` that links them. The same spec gives the same bytes.

The spec:

```toml
title = "Derivations"              # the index page's title (optional)
intro = "Markdown for the index"   # (optional)

[[derivation]]
title = "A polynomial"             # required: the page's title and, slugged, its file name
expr = "a*x**2 + y**3"             # required: a string, or a list of strings (vector-valued)
variables = ["x", "y"]             # or "x y"; default: the free symbols, sorted by name
params = { a = 1.5 }               # named constants and their values
derive = ["gradient", "hessian"]   # any of partials, gradient, jacobian, hessian, laplacian
partials = [["x"], ["x", "y"], ["a"]]  # specific partials (then "partials" is implied)
points = [{ x = 2, y = 3 }]        # where to tabulate values (params may be set too)
prose = "Markdown shown under the title"
plot = true                        # default: plot where possible and matplotlib is installed
plot_range = [-2, 2]               # or { x = [0.1, 3], y = [-1, 1] }
check = { order = 2, samples = 256, seed = 0, ranges = { x = [0.1, 3] } }
steps = 4                          # at most this many step-by-step derivations; 0: none
slug = "polynomial"                # the page's file name (default: from the title)

[[derivation]]
title = "A dot product"
expr = "dot(w, v)"
vectors = { w = 3, v = 3 }         # vector variables and their lengths
points = [{ w = [1, 2, 3], v = [4, 5, 6] }]
```

A malformed spec raises `SpecError` naming the entry (its number, counting from 1, and
its title) and the field; so does an entry whose expression, points or requests fail.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import _render as render
from ._errors import SpecError, SymgradError, VariableError
from ._function import Function, function
from ._steps import derive_steps

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["DerivationSpec", "Spec", "generate_docs", "load_spec", "render_pages"]

DERIVE = ("partials", "gradient", "jacobian", "hessian", "laplacian")
_TOP_FIELDS = ("title", "intro", "derivation")
_FIELDS = (
    "title",
    "expr",
    "variables",
    "vectors",
    "params",
    "derive",
    "partials",
    "points",
    "prose",
    "plot",
    "plot_range",
    "check",
    "steps",
    "slug",
)
_CHECK_FIELDS = ("order", "samples", "seed", "ranges")
_DEFAULT_RANGE = (-2.0, 2.0)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_INSTALL_HINT = "pip install 'symgrad[docs]'"


@dataclass(frozen=True)
class DerivationSpec:
    """One `[[derivation]]` of a spec, checked, with its `Function` built."""

    index: int  # 1-based position in the spec
    title: str
    slug: str
    function: Function
    expr: str | tuple[str, ...]
    variables: tuple[str, ...] | None
    vectors: Mapping[str, int]
    params: Mapping[str, float]
    derive: tuple[str, ...]
    partials: tuple[tuple[str, ...], ...]
    points: tuple[Mapping[str, Any], ...]
    prose: str = ""
    plot: bool | None = None  # None: draw it where it can be drawn
    plot_range: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    check_order: int = 2
    check_samples: int = 256
    check_seed: int = 0
    check_ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    steps: int = 4

    @property
    def can_plot(self) -> bool:
        """A scalar function of one or two scalar variables."""
        inputs = [i for i in self.function.inputs if not i.is_param]
        return (
            self.function.shape == ()
            and 1 <= len(inputs) <= 2
            and all(i.length is None for i in inputs)
        )


@dataclass(frozen=True)
class Spec:
    """A documentation spec: the index page's title and intro, and the derivations."""

    title: str
    intro: str
    derivations: tuple[DerivationSpec, ...]


# ---------------------------------------------------------------------------------------
# Reading and checking a spec


def _error(where: str, field_name: str | None, message: str) -> SpecError:
    text = f"{where}: {field_name}: {message}" if field_name else f"{where}: {message}"
    return SpecError(text, where=where, field=field_name)


def _where(index: int, title: Any) -> str:
    return f"derivation {index} ({title!r})" if isinstance(title, str) else f"derivation {index}"


def _is_toml_text(source: str) -> bool:
    """Text rather than a path: several lines, or `=`/`[` in a name that is no .toml file."""
    if "\n" in source:
        return True
    return not source.strip().endswith(".toml") and ("=" in source or "[" in source)


def _read(source: Any) -> tuple[Mapping[str, Any], str]:
    """The parsed TOML and a name for messages."""
    if isinstance(source, Mapping):
        return source, "spec"
    if isinstance(source, str) and _is_toml_text(source):
        text, name = source, "spec"
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise _error(str(path), None, f"cannot read the spec: {exc.strerror or exc}") from None
        name = str(path)
    else:
        raise TypeError(
            f"load_spec takes a path, TOML text or a mapping, got {type(source).__name__}"
        )
    try:
        return tomllib.loads(text), name
    except tomllib.TOMLDecodeError as exc:
        raise _error(name, None, f"not valid TOML: {exc}") from None


def load_spec(source: str | os.PathLike | Mapping[str, Any] | Spec) -> Spec:
    """Read and check a documentation spec.

    **Arguments:**

    - `source`: a path to a TOML file (a `Path`, or a `str` naming a `.toml` file), TOML
      text (a `str` of several lines, or one with `=` or `[` in it), or the parsed mapping.

    **Returns:** a `Spec` whose derivations have their `Function`s built; a malformed spec
    raises `SpecError` naming the entry (number and title) and the field.

    ```python
    >>> spec = sg.load_spec('[[derivation]]\\ntitle = "Square"\\nexpr = "x**2"')
    >>> [(d.slug, str(d.function)) for d in spec.derivations]
    [('square', 'x**2')]
    ```
    """
    if isinstance(source, Spec):
        return source
    data, name = _read(source)
    unknown = sorted(set(data) - set(_TOP_FIELDS))
    if unknown:
        raise _error(
            name, unknown[0], f"unknown field; a spec has {', '.join(_TOP_FIELDS)} at the top"
        )
    title = data.get("title", "Derivations")
    intro = data.get("intro", "")
    if not isinstance(title, str):
        raise _error(name, "title", f"expected a string, got {title!r}")
    if not isinstance(intro, str):
        raise _error(name, "intro", f"expected Markdown text, got {intro!r}")
    entries = data.get("derivation")
    if entries is None:
        raise _error(name, "derivation", "no [[derivation]] entries; add at least one")
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise _error(name, "derivation", "expected [[derivation]] tables")
    derivations = []
    slugs: set[str] = {"index"}
    for index, entry in enumerate(entries, start=1):
        derivation = _derivation(index, entry, slugs)
        slugs.add(derivation.slug)
        derivations.append(derivation)
    return Spec(title=title, intro=intro, derivations=tuple(derivations))


def _number(where: str, field_name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _error(where, field_name, f"expected a finite number, got {value!r}")
    return float(value)


def _integer(where: str, field_name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _error(where, field_name, f"expected an integer >= {low}, got {value!r}")
    return value


def _interval(where: str, field_name: str, value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise _error(where, field_name, f"expected [low, high], got {value!r}")
    low, high = (_number(where, field_name, v) for v in value)
    if not low < high:
        raise _error(where, field_name, f"expected low < high, got {value!r}")
    return low, high


def _ranges(where: str, field_name: str, value: Any, names: Sequence[str], *, pair_ok: bool):
    """`{x = [lo, hi], ...}` (or one `[lo, hi]` for all names where `pair_ok`)."""
    if pair_ok and isinstance(value, list):
        interval = _interval(where, field_name, value)
        return {n: interval for n in names}
    if not isinstance(value, Mapping):
        shape = "[low, high] or " if pair_ok else ""
        raise _error(where, field_name, f"expected {shape}{{ name = [low, high] }}, got {value!r}")
    result = {}
    for key, interval in value.items():
        if key not in names:
            known = ", ".join(names) or "none"
            raise _error(where, f"{field_name}.{key}", f"not a variable (variables: {known})")
        result[key] = _interval(where, f"{field_name}.{key}", interval)
    return result


def _names_list(where: str, field_name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _error(where, field_name, f"expected a list of names or a string, got {value!r}")


def _derivation(index: int, entry: Mapping[str, Any], slugs: set[str]) -> DerivationSpec:
    title = entry.get("title")
    where = _where(index, title)
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        raise _error(where, unknown[0], f"unknown field; known: {', '.join(_FIELDS)}")
    if not isinstance(title, str) or not title.strip():
        raise _error(where, "title", "required: a non-empty string")

    # the function
    if "expr" not in entry:
        raise _error(where, "expr", "required: an expression or a list of them")
    expr = entry["expr"]
    if isinstance(expr, list) and expr and all(isinstance(e, str) for e in expr):
        expr = tuple(expr)
    elif not isinstance(expr, str):
        raise _error(where, "expr", f"expected a string or a list of strings, got {expr!r}")
    variables = None
    if "variables" in entry:
        variables = _names_list(where, "variables", entry["variables"])
    vectors = entry.get("vectors", {})
    if not isinstance(vectors, Mapping):
        raise _error(where, "vectors", f"expected a table like {{ x = 2 }}, got {vectors!r}")
    for name, length in vectors.items():
        _integer(where, f"vectors.{name}", length, 1)
    params = entry.get("params", {})
    if not isinstance(params, Mapping):
        raise _error(where, "params", f"expected a table like {{ a = 1.5 }}, got {params!r}")
    params = {name: _number(where, f"params.{name}", v) for name, v in params.items()}
    try:
        f = function(
            list(expr) if isinstance(expr, tuple) else expr,
            variables,
            vectors=dict(vectors),
            params=params,
        )
    except SymgradError as exc:
        raise _error(where, _blame(exc, variables, vectors, params), str(exc)) from exc
    variable_names = [i.name for i in f.inputs if not i.is_param]
    known = {i.name for i in f.inputs} | {s.name for i in f.inputs for s in i.symbols}

    # what to derive
    partials: tuple[tuple[str, ...], ...] = ()
    if "partials" in entry:
        value = entry["partials"]
        if not isinstance(value, list) or not value:
            example = "[['x'], ['x', 'y']]"
            raise _error(where, "partials", f"expected a list like {example}, got {value!r}")
        items = []
        for k, item in enumerate(value, start=1):
            names = (item,) if isinstance(item, str) else item
            if (
                not isinstance(names, list | tuple)
                or not names
                or not all(isinstance(n, str) for n in names)
            ):
                raise _error(where, f"partials[{k}]", f"expected a list of names, got {item!r}")
            for n in names:
                if n not in known:
                    raise _error(
                        where,
                        f"partials[{k}]",
                        f"unknown variable {n!r}; known: {', '.join(sorted(known))}",
                    )
            items.append(tuple(names))
        partials = tuple(items)
    default = ["gradient"] if f.shape == () else ["jacobian"]
    derive = entry.get("derive", [] if partials else default)
    if not isinstance(derive, list) or not all(isinstance(d, str) for d in derive):
        raise _error(where, "derive", f"expected a list like ['gradient'], got {derive!r}")
    for d in derive:
        if d not in DERIVE:
            raise _error(where, "derive", f"unknown {d!r}; choose from {', '.join(DERIVE)}")
        if d in ("gradient", "hessian") and f.shape != ():
            raise _error(
                where,
                "derive",
                f"{d} needs a scalar function; this one has shape {f.shape} (use jacobian)",
            )
    derive = list(dict.fromkeys(derive))
    if partials and "partials" not in derive:
        derive.insert(0, "partials")
    if "partials" in derive and not partials:
        partials = tuple((n,) for n in variable_names)

    points = _points(where, entry.get("points", []), f)

    prose = entry.get("prose", "")
    if not isinstance(prose, str):
        raise _error(where, "prose", f"expected Markdown text, got {prose!r}")
    plot = entry.get("plot")
    if plot is not None and not isinstance(plot, bool):
        raise _error(where, "plot", f"expected true or false, got {plot!r}")

    check = entry.get("check", {})
    if not isinstance(check, Mapping):
        raise _error(where, "check", f"expected a table like {{ order = 2 }}, got {check!r}")
    unknown = sorted(set(check) - set(_CHECK_FIELDS))
    if unknown:
        raise _error(where, f"check.{unknown[0]}", f"unknown; known: {', '.join(_CHECK_FIELDS)}")
    check_order = _integer(where, "check.order", check.get("order", 2), 1)
    check_samples = _integer(where, "check.samples", check.get("samples", 256), 1)
    check_seed = _integer(where, "check.seed", check.get("seed", 0), 0)
    check_ranges = _ranges(
        where, "check.ranges", check.get("ranges", {}), variable_names, pair_ok=False
    )
    plot_range = dict(check_ranges)
    if "plot_range" in entry:
        plot_range.update(
            _ranges(where, "plot_range", entry["plot_range"], variable_names, pair_ok=True)
        )
    steps = _integer(where, "steps", entry.get("steps", 4), 0)

    slug = entry.get("slug")
    if slug is None:
        base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or f"derivation-{index}"
        slug, n = base, 2
        while slug in slugs:
            slug, n = f"{base}-{n}", n + 1
    elif not isinstance(slug, str) or not _SLUG.match(slug):
        raise _error(where, "slug", f"expected lower-case letters, digits and '-', got {slug!r}")
    elif slug in slugs:
        raise _error(where, "slug", f"{slug!r} is taken by another page")

    spec = DerivationSpec(
        index=index,
        title=title.strip(),
        slug=slug,
        function=f,
        expr=expr,
        variables=variables,
        vectors=MappingProxyType(dict(vectors)),
        params=MappingProxyType(params),
        derive=tuple(derive),
        partials=partials,
        points=points,
        prose=prose,
        plot=plot,
        plot_range=MappingProxyType(plot_range),
        check_order=check_order,
        check_samples=check_samples,
        check_seed=check_seed,
        check_ranges=MappingProxyType(check_ranges),
        steps=steps,
    )
    if plot and not spec.can_plot:
        raise _error(
            where,
            "plot",
            "plots are drawn for scalar functions of one or two scalar variables only; "
            "set plot = false",
        )
    return spec


def _blame(exc: SymgradError, variables, vectors, params) -> str:
    """The field an error building the function most likely comes from."""
    name = getattr(exc, "name", None)
    if isinstance(exc, VariableError) and name is not None:
        if name in params:
            return "params"
        if name in vectors:
            return "vectors"
        if variables is not None and name in variables:
            return "variables"
    return "expr"


def _points(where: str, value: Any, f: Function) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(p, Mapping) for p in value):
        raise _error(where, "points", f"expected a list of tables like {{ x = 2 }}, got {value!r}")
    inputs = {i.name: i for i in f.inputs}
    points = []
    for k, point in enumerate(value, start=1):
        here = f"points[{k}]"
        for name in point:
            if name not in inputs:
                raise _error(
                    where, here, f"unknown variable {name!r}; known: {', '.join(inputs) or 'none'}"
                )
        clean: dict[str, Any] = {}
        for name, item in inputs.items():
            if name not in point:
                if item.is_param:
                    continue
                raise _error(where, here, f"missing a value for {name!r}")
            raw = point[name]
            if item.length is None:
                clean[name] = _number(where, f"{here}.{name}", raw)
            elif not isinstance(raw, list) or len(raw) != item.length:
                expected = f"expected a list of {item.length} numbers, got {raw!r}"
                raise _error(where, f"{here}.{name}", expected)
            else:
                clean[name] = [_number(where, f"{here}.{name}", v) for v in raw]
        points.append(MappingProxyType(clean))
    return tuple(points)


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
                raise _error(_where(d.index, d.title), f"points[{k}]", str(exc)) from exc
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
        raise _error(_where(d.index, d.title), "check", str(exc)) from exc
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
        lines += [f"![{render.escape_markdown(_plot_caption(d))}]({plot_file})", ""]
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
# Plots


def _matplotlib():
    try:
        import matplotlib
        import matplotlib.figure
        import matplotlib.style
    except ImportError:
        return None
    return matplotlib


def _plot_caption(d: DerivationSpec) -> str:
    names = [i.name for i in d.function.inputs if not i.is_param]
    spans = ", ".join(f"{n} in [{_g(lo)}, {_g(hi)}]" for n, (lo, hi) in _plot_ranges(d).items())
    what = "f and its first partial" if len(names) == 1 else "f and its first partials"
    return f"{what} for {spans}"


def _g(value: float) -> str:
    return format(value + 0.0, "g")


def _plot_ranges(d: DerivationSpec) -> dict[str, tuple[float, float]]:
    names = [i.name for i in d.function.inputs if not i.is_param]
    return {n: tuple(d.plot_range.get(n, _DEFAULT_RANGE)) for n in names}


def _plot(d: DerivationSpec, matplotlib) -> bytes:
    """An SVG of f and its first partials; the same function gives the same bytes."""
    import numpy as np
    import torch

    f = d.function
    ranges = _plot_ranges(d)
    names = list(ranges)
    panels = [("f", f)] + [(f"∂f/∂{n}", f.partial(n)) for n in names]
    rc = {
        "svg.hashsalt": "symgrad",
        "svg.fonttype": "path",
        "font.size": 9,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
    with matplotlib.style.context("default"), matplotlib.rc_context(rc):
        if len(names) == 1:
            (name,) = names
            grid = torch.linspace(*ranges[name], 401, dtype=torch.float64)
            figure = matplotlib.figure.Figure(figsize=(6.4, 3.6))
            axes = figure.add_subplot()
            for label, g in panels:
                with torch.no_grad():
                    y = np.broadcast_to(g(**{name: grid}).numpy(), grid.shape)
                axes.plot(grid.numpy(), np.where(np.isfinite(y), y, np.nan), label=label)
            axes.set_xlabel(name)
            axes.legend(loc="best")
        else:
            x_name, y_name = names
            gx = torch.linspace(*ranges[x_name], 81, dtype=torch.float64)
            gy = torch.linspace(*ranges[y_name], 81, dtype=torch.float64)
            figure = matplotlib.figure.Figure(figsize=(10.5, 3.2))
            for k, (label, g) in enumerate(panels, start=1):
                axes = figure.add_subplot(1, 3, k)
                with torch.no_grad():
                    z = g(**{x_name: gx[None, :], y_name: gy[:, None]}).numpy()
                z = np.broadcast_to(z, (gy.shape[0], gx.shape[0]))
                _contour(figure, axes, gx.numpy(), gy.numpy(), z, np)
                axes.set_title(label)
                axes.set_xlabel(x_name)
                axes.set_ylabel(y_name)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", dpi=100, metadata={"Date": None})
    return buffer.getvalue()


def _contour(figure, axes, x, y, z, np) -> None:
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        axes.text(0.5, 0.5, "not finite here", ha="center", va="center", transform=axes.transAxes)
        return
    low, high = np.percentile(finite, [1, 99])
    if not high - low > 1e-12 * max(1.0, abs(low), abs(high)):
        axes.text(
            0.5,
            0.5,
            f"constant: {float(low) + 0.0:.4g}",
            ha="center",
            va="center",
            transform=axes.transAxes,
        )
        return
    levels = np.linspace(low, high, 13)
    filled = axes.contourf(
        x, y, np.ma.masked_invalid(z), levels=levels, extend="both", rasterized=True
    )
    figure.colorbar(filled, ax=axes)


# ---------------------------------------------------------------------------------------
# Putting it together


def render_pages(spec: Any) -> dict[str, bytes]:
    """Every file of the documentation, by relative path: the pages, plots and index."""
    spec = load_spec(spec)
    matplotlib = None
    if any(d.plot is not False and d.can_plot for d in spec.derivations):
        matplotlib = _matplotlib()
    files: dict[str, bytes] = {}
    for d in spec.derivations:
        plot_file, note = None, ""
        if d.plot is not False and d.can_plot:
            if matplotlib is None:
                if d.plot:
                    raise _error(
                        _where(d.index, d.title),
                        "plot",
                        f"plots need matplotlib, which is not installed; {_INSTALL_HINT} "
                        "or set plot = false",
                    )
                note = f"Plot skipped: matplotlib is not installed ({_INSTALL_HINT})."
            else:
                try:
                    svg = _plot(d, matplotlib)
                except SymgradError as exc:
                    raise _error(_where(d.index, d.title), "plot", str(exc)) from exc
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

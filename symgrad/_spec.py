"""The documentation spec: TOML in, checked `Spec` out (`load_spec`).

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

import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._errors import SpecError, SymgradError, VariableError
from ._function import Function, function

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "DEFAULT_RANGE",
    "DERIVE",
    "INSTALL_HINT",
    "DerivationSpec",
    "Spec",
    "entry_error",
    "load_spec",
]

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
DEFAULT_RANGE = (-2.0, 2.0)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
INSTALL_HINT = "pip install 'symgrad[docs]'"


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


def entry_error(d: DerivationSpec, field_name: str | None, message: str) -> SpecError:
    """A `SpecError` about field `field_name` of derivation `d`."""
    return _error(_where(d.index, d.title), field_name, message)


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

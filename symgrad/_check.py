"""Closed forms against torch.autograd: `check` and its `CheckReport`.

`check(f, order=2)` evaluates, at the same points and all at once (no loop over points):

1. the closed-form partials of order 1..`order`, generated as one kernel with shared
   subexpressions (or the user's `claimed` formulas instead);
2. the same partials from `torch.autograd` on f's compiled code: one `autograd.grad` per
   output and per lower-order partial, with `create_graph=True` for the next order. Every
   input is expanded to the full batch first, so a sum over the batch gives per-point
   derivatives and vector-valued functions need no special case;
3. in float64, central finite differences of the first partials, as a third witness
   reported beside the comparison (it never decides `ok`).

Points where the function or any partial is not finite are skipped and counted.
Tolerances fit the dtype and scale with the magnitude of each partial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch

from ._codegen import generate
from ._errors import VariableError
from ._function import Function, all_partials, function
from ._module import parameters, prepare

__all__ = ["CheckReport", "CheckRow", "check", "default_tolerances"]

_TOLERANCES = {  # dtype -> (rtol, atol); atol is scaled by each partial's RMS magnitude
    torch.float64: (1e-7, 1e-9),
    torch.float32: (2e-3, 2e-4),
    torch.float16: (3e-2, 3e-2),
    torch.bfloat16: (6e-2, 6e-2),
}
DEFAULT_RANGE = (-2.0, 2.0)


def default_tolerances(dtype: torch.dtype) -> tuple[float, float]:
    """`(rtol, atol)` used by `check` for `dtype` when none are given."""
    return _TOLERANCES.get(dtype, _TOLERANCES[torch.float32])


def _json_float(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class CheckRow:
    """One partial derivative compared at all points."""

    wrt: tuple[str, ...]
    formula: str
    max_abs_error: float
    max_rel_error: float
    ok: bool
    worst_point: dict[str, Any] = field(default_factory=dict)
    closed_form_value: float | None = None  # at the worst point (and output)
    autograd_value: float | None = None
    output: int | None = None  # flat output index of the worst entry, for vector functions
    finite_difference_error: float | None = None  # float64 first partials only
    claimed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "wrt": list(self.wrt),
            "formula": self.formula,
            "ok": self.ok,
            "max_abs_error": _json_float(self.max_abs_error),
            "max_rel_error": _json_float(self.max_rel_error),
            "worst_point": self.worst_point,
            "closed_form_value": _json_float(self.closed_form_value),
            "autograd_value": _json_float(self.autograd_value),
            "output": self.output,
            "finite_difference_error": _json_float(self.finite_difference_error),
            "claimed": self.claimed,
        }


@dataclass(frozen=True)
class CheckReport:
    """The result of `check`: `.ok`, counts, worst errors and one row per partial."""

    ok: bool
    n_points: int
    n_skipped: int
    max_abs_error: float
    max_rel_error: float
    rows: tuple[CheckRow, ...]
    function: str
    order: int
    dtype: str
    device: str
    rtol: float
    atol: float
    message: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def summary(self) -> str:
        """A one-line verdict."""
        if self.message:
            return self.message
        if self.ok:
            return (
                f"OK: {len(self.rows)} partial(s) agree with torch.autograd at {self.n_points} "
                f"points (max abs error {self.max_abs_error:.2e}, {self.n_skipped} skipped)"
            )
        bad = [r for r in self.rows if not r.ok]
        row = max(bad, key=lambda r: r.max_abs_error)
        return (
            f"MISMATCH: {partial_name(row.wrt)}: {'claimed' if row.claimed else 'closed form'} "
            f"{row.formula} gives "
            f"{row.closed_form_value:.6g} at {_show_point(row.worst_point)}, autograd gives "
            f"{row.autograd_value:.6g} ({len(bad)} of {len(self.rows)} partials disagree)"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (no NaN, no tensors)."""
        return {
            "ok": self.ok,
            "n_points": self.n_points,
            "n_skipped": self.n_skipped,
            "max_abs_error": _json_float(self.max_abs_error),
            "max_rel_error": _json_float(self.max_rel_error),
            "rows": [row.to_dict() for row in self.rows],
            "function": self.function,
            "order": self.order,
            "dtype": self.dtype,
            "device": self.device,
            "rtol": self.rtol,
            "atol": self.atol,
            "summary": self.summary(),
        }

    def to_markdown(self) -> str:
        """A table a person reads at a glance, then the verdict."""
        lines = [
            "| partial | formula | max abs error | max rel error | worst point | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for row in self.rows:
            partial = partial_name(row.wrt)
            verdict = "ok" if row.ok else "**MISMATCH**"
            lines.append(
                f"| {partial} | `{row.formula}` | {row.max_abs_error:.2e} | "
                f"{row.max_rel_error:.2e} | {_show_point(row.worst_point)} | {verdict} |"
            )
        lines.append("")
        lines.append(
            f"{self.summary()} — {self.dtype} on {self.device}, "
            f"rtol={self.rtol:g}, atol={self.atol:g}."
        )
        return "\n".join(lines) + "\n"


def partial_name(wrt: Sequence[str]) -> str:
    """`("x",)` -> `d/dx`, `("x", "y")` -> `d2/dx dy`."""
    order = str(len(wrt)) if len(wrt) > 1 else ""
    return f"d{order}/" + " ".join(f"d{w}" for w in wrt)


def _show_point(point: Mapping[str, Any]) -> str:
    def show(value):
        if isinstance(value, list):
            return "[" + ", ".join(f"{v:.4g}" for v in value) + "]"
        return f"{value:.4g}"

    return ", ".join(f"{k}={show(v)}" for k, v in point.items()) or "-"


# ---------------------------------------------------------------------------------------


def _sample(f: Function, samples: int, seed: int, ranges, dtype, device) -> dict[str, Any]:
    generator = torch.Generator(device="cpu").manual_seed(seed)
    ranges = dict(ranges or {})
    unknown = set(ranges) - {i.name for i in f.inputs}
    if unknown:
        raise VariableError(f"ranges names unknown variable {sorted(unknown)[0]!r}")
    values = {}
    for item in f.inputs:
        if item.is_param:
            continue
        low, high = ranges.get(item.name, DEFAULT_RANGE)
        shape = (samples,) if item.length is None else (samples, item.length)
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        values[item.name] = (low + (high - low) * u).to(dtype=dtype, device=device)
    return values


def _leaves(f: Function, values, dtype, device) -> list[torch.Tensor]:
    """One leaf tensor per input, expanded to the full batch and flattened to (B, ...)."""
    shared = {k: v.detach() for k, v in parameters(f).items()}
    tensors = prepare(f.inputs, values, shared, dtype=dtype)
    tensors = [t.to(device) for t in tensors]
    batch = torch.broadcast_shapes(
        *(t.shape if i.length is None else t.shape[:-1] for i, t in zip(f.inputs, tensors))
    )
    size = math.prod(batch)
    leaves = []
    for item, tensor in zip(f.inputs, tensors):
        tail = () if item.length is None else (item.length,)
        full = torch.broadcast_to(tensor.detach(), batch + tail).reshape((size, *tail))
        leaves.append(full.clone().requires_grad_(True))
    return leaves


def _locate(f: Function) -> dict[sympy.Symbol, tuple[int, int | None]]:
    """symbol -> (input index, component or None)."""
    where = {}
    for n, item in enumerate(f.inputs):
        for i, symbol in enumerate(item.symbols):
            where[symbol] = (n, None if item.length is None else i)
    return where


def _component(grads, location) -> torch.Tensor:
    index, component = location
    grad = grads[index]
    return grad if component is None else grad[:, component]


def _autograd_partials(f, leaves, combos, order):
    """{combo: tensor (B, K)} for each combo, by repeated torch.autograd.grad."""
    where = _locate(f)
    kernel = generate(f.outputs, f.shape, f.inputs)
    values = kernel.fn(*leaves).reshape(leaves[0].shape[0], -1)
    columns: dict[tuple, list[torch.Tensor]] = {(): list(values.unbind(-1))}
    for combo in sorted(combos, key=len):
        if combo in columns:
            continue
        parent = columns[combo[:-1]]
        result = []
        for column in parent:
            if not column.requires_grad:
                result.append(torch.zeros_like(column))
                continue
            grads = torch.autograd.grad(
                column.sum(),
                leaves,
                create_graph=len(combo) < order,
                retain_graph=True,
                allow_unused=True,
                materialize_grads=True,
            )
            result.append(_component(grads, where[combo[-1]]))
        columns[combo] = result
    return values.detach(), {c: torch.stack(columns[c], -1).detach() for c in combos}


def _claimed_outputs(f: Function, claimed: Mapping, vectors) -> list[tuple[tuple, list]]:
    items = []
    for wrt, formula in claimed.items():
        names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        symbols = []
        for name in names:
            block, is_axis = f._family.lookup(str(name))
            if is_axis:
                raise VariableError(
                    f"claimed partials name components, not the vector {name!r}; "
                    f"use {block[0].name!r}, ...",
                    name=str(name),
                )
            symbols.append(block[0])
        if isinstance(formula, str | sympy.Basic):
            formulas = [formula]
        else:
            formulas = list(formula)
        claimed_f = function(
            formulas if len(formulas) > 1 else formulas[0],
            [i.name for i in f.inputs if not i.is_param],
            vectors=vectors,
            params={p.name: p.value for p in f._family.params},
        )
        if len(claimed_f.outputs) != len(f.outputs):
            raise VariableError(
                f"claimed partial {names} has {len(claimed_f.outputs)} outputs; "
                f"the function has {len(f.outputs)}"
            )
        items.append((tuple(symbols), list(claimed_f.outputs)))
    return items


def _finite_differences(f, leaves, symbol_location) -> torch.Tensor:
    """Central differences of f's outputs along one input component (float64)."""
    kernel = generate(f.outputs, f.shape, f.inputs)
    index, component = symbol_location
    base = [leaf.detach() for leaf in leaves]
    x = base[index] if component is None else base[index][:, component]
    step = torch.finfo(torch.float64).eps ** (1 / 3) * torch.clamp(x.abs(), min=1.0)

    def shifted(sign):
        moved = list(base)
        if component is None:
            moved[index] = base[index] + sign * step
        else:
            column = torch.zeros_like(base[index])
            column[:, component] = sign * step
            moved[index] = base[index] + column
        return kernel.fn(*moved).reshape(x.shape[0], -1)

    return (shifted(1) - shifted(-1)) / (2 * step[:, None])


def check(
    f: Function | str | sympy.Basic,
    *,
    order: int = 1,
    wrt: str | Sequence[str] | None = None,
    points: Mapping[str, Any] | None = None,
    samples: int = 256,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    rtol: float | None = None,
    atol: float | None = None,
    claimed: Mapping[Any, Any] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
    vectors: Mapping[str, int] | None = None,
) -> CheckReport:
    """Compare closed-form partials with torch.autograd at many points.

    **Arguments:**

    - `f`: a `Function` (or text/sympy, turned into one with `vectors`).
    - `order`: check every partial of order 1..`order` (mixed ones once each).
    - `wrt`: the variables to differentiate by (default: all; parameters may be named).
    - `points`: explicit values (batched, like `f(**points)`); else `samples` random points
      from a generator seeded with `seed`, each variable uniform in `ranges[name]`
      (default `(-2, 2)`).
    - `dtype`, `device`: where both sides are computed.
    - `rtol`, `atol`: tolerances; defaults fit the dtype (see `default_tolerances`), and
      `atol` is scaled by each partial's RMS magnitude.
    - `claimed`: `{("x",): "2*x", ("x", "y"): "..."}` checks these formulas instead of
      symgrad's own.

    **Returns:** a `CheckReport`; a mismatch is `report.ok == False`, not an exception.

    ```python
    >>> sg.check(sg.function("x**2 + y**3"), order=2).ok
    True
    >>> sg.check(sg.function("x**2"), claimed={("x",): "3*x"}).ok
    False
    ```
    """
    if not isinstance(f, Function):
        f = function(f, vectors=vectors)
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise VariableError(f"order must be a positive integer, got {order!r}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise VariableError(f"dtype must be a floating torch dtype, got {dtype!r}")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise VariableError("device 'cuda' was requested but CUDA is not available here")
    if points is None and (
        isinstance(samples, bool) or not isinstance(samples, int) or samples < 1
    ):
        raise VariableError(f"samples must be a positive integer, got {samples!r}")
    default_rtol, default_atol = default_tolerances(dtype)
    rtol = default_rtol if rtol is None else float(rtol)
    atol = default_atol if atol is None else float(atol)

    vectors = {i.name: i.length for i in f.inputs if i.length is not None}
    if claimed:
        targets = _claimed_outputs(f, claimed, vectors)
        order = max(len(c) for c, _ in targets)
    else:
        symbols = f._blocks(wrt)
        targets = [(combo, list(p.outputs)) for combo, p in all_partials(f, order, symbols)]

    values = points if points is not None else _sample(f, samples, seed, ranges, dtype, device)
    leaves = _leaves(f, values, dtype, device)
    size = leaves[0].shape[0] if leaves else 1
    if size == 0:
        raise VariableError("points is an empty batch; give at least one point")

    combos = [combo for combo, _ in targets]
    needed = {combo[:k] for combo in combos for k in range(1, len(combo) + 1)}
    f_values, autograd = _autograd_partials(f, leaves, sorted(needed, key=len), order)
    flat = [expr for _, outputs in targets for expr in outputs]
    closed_kernel = generate(tuple(flat), (len(flat),), f.inputs)
    with torch.no_grad():
        closed_all = closed_kernel.fn(*[leaf.detach() for leaf in leaves]).reshape(size, -1)
    k = len(f.outputs)
    closed = {combo: closed_all[:, i * k : (i + 1) * k] for i, combo in enumerate(combos)}

    finite = torch.isfinite(f_values).all(-1)
    for combo in combos:
        finite &= torch.isfinite(closed[combo]).all(-1) & torch.isfinite(autograd[combo]).all(-1)
    n_points = int(finite.sum())
    n_skipped = size - n_points

    location = _locate(f)
    point_values = {i.name: leaf.detach() for i, leaf in zip(f.inputs, leaves)}
    rows = []
    for combo, outputs in targets:
        ours = closed[combo][finite]
        theirs = autograd[combo][finite]
        fd_error = None
        if len(combo) == 1 and dtype == torch.float64 and n_points:
            fd = _finite_differences(f, leaves, location[combo[0]])[finite]
            fd_error = float((fd - ours).abs().max()) if fd.numel() else None
        rows.append(
            _row(
                f,
                combo,
                outputs,
                ours,
                theirs,
                finite,
                point_values,
                rtol,
                atol,
                fd_error,
                bool(claimed),
            )
        )

    message = ""
    enough = n_points >= (1 if points is not None else max(1, size // 10))
    if not enough:
        message = (
            f"NOT CHECKED: only {n_points} of {size} points are finite for the function and "
            "its partials; give ranges= (CLI: explicit --at points) inside its domain"
        )
    ok = enough and all(r.ok for r in rows)
    return CheckReport(
        ok=ok,
        n_points=n_points,
        n_skipped=n_skipped,
        max_abs_error=max((r.max_abs_error for r in rows), default=0.0),
        max_rel_error=max((r.max_rel_error for r in rows), default=0.0),
        rows=tuple(rows),
        function=str(f),
        order=order,
        dtype=str(dtype).replace("torch.", ""),
        device=str(device),
        rtol=rtol,
        atol=atol,
        message=message,
    )


def _row(f, combo, outputs, ours, theirs, finite, point_values, rtol, atol, fd_error, claimed):
    names = tuple(s.name for s in combo)
    formula = str(outputs[0]) if len(outputs) == 1 else "[" + ", ".join(map(str, outputs)) + "]"
    if ours.numel() == 0:
        return CheckRow(names, formula, 0.0, 0.0, True, claimed=claimed)
    error = (ours - theirs).abs()
    magnitude = torch.maximum(ours.abs(), theirs.abs())
    scale = max(1.0, float(theirs.pow(2).mean().sqrt()))
    allowed = atol * scale + rtol * magnitude
    relative = torch.where(magnitude > 0, error / magnitude, torch.zeros_like(error))
    excess = error / allowed
    worst = int(torch.argmax(excess))
    point_index, output = divmod(worst, ours.shape[1])
    kept = torch.nonzero(finite).flatten()[point_index]
    point = {}
    for item in f.inputs:
        value = point_values[item.name][kept]
        point[item.name] = value.tolist() if value.ndim else float(value)
    return CheckRow(
        wrt=names,
        formula=formula,
        max_abs_error=float(error.max()),
        max_rel_error=float(relative.max()),
        ok=bool((error <= allowed).all()),
        worst_point=point,
        closed_form_value=float(ours.flatten()[worst]),
        autograd_value=float(theirs.flatten()[worst]),
        output=output if ours.shape[1] > 1 else None,
        finite_difference_error=fd_error,
        claimed=claimed,
    )

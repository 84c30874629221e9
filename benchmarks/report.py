"""Writing a suite run: a Markdown report, the JSON of every figure, and PNG plots.

Files go to `<out>/<stem>.md`, `<stem>.json`, `<stem>-batch.png` (time against batch size)
and `<stem>-size.png` (symbolic phase: time against expression size); the stem is
`<mode>-<device>` (`quick-cpu`, `full-cuda`), so reruns overwrite the same files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .methods import METHODS, PEERS
from .symbolic import markdown as symbolic_markdown

__all__ = ["markdown", "plot_batch", "plot_size", "write"]

_PEER_NAMES = {
    "autograd": "torch.autograd",
    "torch.func": "torch.func",
    "sympytorch": "sympytorch",
    "lambdify": "lambdify",
}


def _ms(seconds: float) -> str:
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:,.0f} ms"
    if ms >= 1:
        return f"{ms:.2f} ms"
    return f"{ms:.3f} ms"


def _batch(n: int) -> str:
    exponent = math.log10(n)
    return f"1e{round(exponent)}" if exponent.is_integer() else f"{n:,}"


def _cell_text(record: dict[str, Any] | None, notes: list[str]) -> str:
    if record is None:
        return "–"
    if record["status"] == "ok":
        text = _ms(record["median_s"])
        if "scaled_from" in record:
            text += "†"
        return text
    notes.append(record.get("reason", record["status"]))
    return f"{record['status']} [{len(notes)}]"


def markdown(results: dict[str, Any]) -> str:
    """The report: machine, the table of medians and ratios, symbolic phase, targets."""
    m = results["machine"]
    lines = [
        f"# symgrad benchmarks ({results['mode']}, {results['config']['device']})",
        "",
        f"- Machine: {m['cpu_model']}, {m['cpu_count']} cores ({m['torch_threads']} torch "
        f"threads), {m['platform']}; device: {m['device_name']}",
        f"- Versions: Python {m['python']}, torch {m['torch']}, sympy {m['sympy']}, "
        f"symengine {m['symengine']}, sympytorch {m['sympytorch']}, symgrad {m['symgrad']}",
        f"- Run: {results['created']}, {results['elapsed_s']:.0f} s; up to "
        f"{results['config']['repeat']} interleaved repeats per cell after "
        f"{results['config']['warmup']} warm-up round(s); medians.",
        "",
        "Times are medians per call for the whole batch. `×peer` is the peer's time over "
        "symgrad's (eager; `compiled` over the compiled module): above 1, symgrad is faster. "
        "`†`: measured on a sub-batch (memory cap) and scaled linearly to the full batch. "
        "`mismatch`: the method's result disagreed with the others, so it was not timed.",
        "",
    ]
    notes: list[str] = []
    columns = [*PEERS, "symgrad", "symgrad-compiled"]
    header = (
        "| workload | vars | batch | dtype | "
        + " | ".join(_PEER_NAMES.get(c, c) for c in PEERS)
        + " | symgrad | compiled | "
        + " | ".join(f"×{_PEER_NAMES[p]}" for p in PEERS)
        + " | compiled ×autograd | compiled ×torch.func |"
    )
    lines += [header, "|" + "---|" * (4 + len(columns) + len(PEERS) + 2)]
    for cell in results["cells"]:
        methods = cell["methods"]
        texts = [_cell_text(methods.get(c), notes) for c in columns]
        eager = cell["ratios"].get("symgrad", {})
        compiled = cell["ratios"].get("symgrad-compiled", {})
        ratios = [f"{eager[p]:.2f}" if p in eager else "–" for p in PEERS]
        ratios += [
            f"{compiled[p]:.2f}" if p in compiled else "–" for p in ("autograd", "torch.func")
        ]
        lines.append(
            f"| {cell['workload']} | {cell['n_vars']} | {_batch(cell['batch'])} | "
            f"{cell['dtype']} | " + " | ".join(texts + ratios) + " |"
        )
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"{i}. {note}" for i, note in enumerate(notes, 1)]
    scaled: dict[tuple[str, str, str], list[str]] = {}
    for cell in results["cells"]:
        for name, r in cell["methods"].items():
            if "scaled_from" in r and r["status"] == "ok":
                key = (cell["workload"], cell["dtype"], name)
                scaled.setdefault(key, []).append(
                    f"{r['scaled_from']:,} of {_batch(cell['batch'])}"
                )
    if scaled:
        lines += ["", "Sub-batches (†), points measured of the batch:", ""]
        lines += [
            f"- {w} {dtype}, {name}: " + ", ".join(parts)
            for (w, dtype, name), parts in scaled.items()
        ]
    compiles = [
        f"{cell['workload']} {cell['dtype']} {r['first_call_s']:.1f} s"
        for cell in results["cells"]
        for name, r in cell["methods"].items()
        if name == "symgrad-compiled" and "build_s" in r and "first_call_s" in r
    ]
    if compiles:
        lines += [
            "",
            "`compile=True` pays for compilation once per kernel and dtype, in its first call "
            "(not in the medians; later batch sizes reuse it): " + "; ".join(compiles) + ".",
        ]
    if results.get("symbolic"):
        lines += [
            "",
            "## Symbolic phase",
            "",
            "Derive, eliminate common subexpressions and generate code for random expressions "
            "(`benchmarks.expressions.random_expression`), fresh caches each run; medians.",
            "",
            symbolic_markdown(results["symbolic"]),
        ]
    lines += ["", "## Targets", "", "| target | goal | measured | met |", "|---|---|---|---|"]
    for t in results["targets"]:
        if t["value"] is None:
            measured, met = "not measured", "–"
        elif t["kind"] == "speedup":
            measured, met = f"{t['value']:.2f}x", "yes" if t["met"] else "**no**"
        else:
            measured, met = f"{t['value']:.3f} s", "yes" if t["met"] else "**no**"
        lines.append(f"| {t['target']} ({t['note']}) | {t['goal']} | {measured} | {met} |")
    return "\n".join(lines) + "\n"


# -- plots ---------------------------------------------------------------------------------

_STYLE = {  # method -> (colour, marker)
    "autograd": ("tab:blue", "o"),
    "torch.func": ("tab:orange", "s"),
    "sympytorch": ("tab:green", "^"),
    "lambdify": ("tab:purple", "v"),
    "symgrad": ("tab:red", "D"),
    "symgrad-compiled": ("darkred", "*"),
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_batch(results: dict[str, Any], path: Path) -> bool:
    """Time against batch size, one panel per workload and dtype with several batches."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for cell in results["cells"]:
        groups.setdefault((cell["workload"], cell["dtype"]), []).append(cell)
    groups = {k: v for k, v in groups.items() if len(v) > 1}
    if not groups:
        return False
    plt = _pyplot()
    n = len(groups)
    cols = min(n, 3 if n <= 9 else 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False, layout="constrained"
    )
    for ax, ((workload, dtype), cells) in zip(axes.flat, groups.items()):
        cells = sorted(cells, key=lambda c: c["batch"])
        for name in METHODS:
            points = [
                (c["batch"], c["methods"][name]["median_s"])
                for c in cells
                if c["methods"].get(name, {}).get("status") == "ok"
            ]
            if not points:
                continue
            colour, marker = _STYLE[name]
            label = cells[-1]["methods"][name]["label"]
            ax.plot(*zip(*points), marker=marker, color=colour, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{workload} ({cells[0]['n_vars']} vars, {dtype})", fontsize=9)
        ax.set_xlabel("batch size (points)")
        ax.set_ylabel("median time per call (s)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    m = results["machine"]
    fig.suptitle(f"symgrad vs peers on {m['device_name']} ({results['mode']})", fontsize=10)
    fig.savefig(path, dpi=80 if n > 9 else 100, metadata={"Software": None})
    plt.close(fig)
    return True


def plot_size(results: dict[str, Any], path: Path) -> bool:
    """Symbolic phase: seconds against operations, per derivative kind and path."""
    records = results.get("symbolic") or []
    if not records:
        return False
    plt = _pyplot()
    kinds = list(dict.fromkeys(r["kind"] for r in records))
    fig, axes = plt.subplots(
        1, len(kinds), figsize=(4.8 * len(kinds), 3.6), squeeze=False, layout="constrained"
    )
    for ax, kind in zip(axes.flat, kinds):
        for path_name, colour in (("symengine", "tab:red"), ("sympy", "tab:blue")):
            points = sorted(
                (r["ops"], r["total_s"], r["n_vars"])
                for r in records
                if r["kind"] == kind and r["path"] == path_name
            )
            if not points:
                continue
            xs, ys, _ = zip(*points)
            ax.plot(xs, ys, marker="o", color=colour, label=f"{path_name} path")
            for x, y, n in points:
                ax.annotate(
                    f"{n} vars", (x, y), fontsize=6, xytext=(3, -8), textcoords="offset points"
                )
        if kind == "hessian":
            ax.axhline(0.3, color="grey", linestyle=":", linewidth=1, label="target (20 vars)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{kind}: derive + CSE + codegen", fontsize=9)
        ax.set_xlabel("operations in the expression")
        ax.set_ylabel("seconds")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"symbolic phase on {results['machine']['cpu_model']}", fontsize=10)
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return True


def write(
    results: dict[str, Any], out: str | Path, *, stem: str | None = None, plots: bool = True
) -> list[Path]:
    """Write the report, the JSON and (with matplotlib) the plots; the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or f"{results['mode']}-{results['config']['device'].split(':')[0]}"
    written = []
    json_path = out / f"{stem}.json"
    json_path.write_text(json.dumps(results, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    md_path = out / f"{stem}.md"
    md_path.write_text(markdown(results), encoding="utf-8")
    written += [json_path, md_path]
    if plots:
        batch_png, size_png = out / f"{stem}-batch.png", out / f"{stem}-size.png"
        if plot_batch(results, batch_png):
            written.append(batch_png)
        if plot_size(results, size_png):
            written.append(size_png)
    return written

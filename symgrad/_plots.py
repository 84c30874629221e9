"""Plots for derivation pages: a function of one or two variables and its first partials.

matplotlib (the `docs` extra) is imported only when a plot is drawn. SVG output is
deterministic: a fixed hash salt and no date, so the same spec gives the same bytes.
"""

from __future__ import annotations

import io

from ._spec import DEFAULT_RANGE, DerivationSpec

__all__ = ["load_matplotlib", "plot_caption", "plot_svg"]

# ---------------------------------------------------------------------------------------
# Plots


def load_matplotlib():
    try:
        import matplotlib
        import matplotlib.figure
        import matplotlib.style
    except ImportError:
        return None
    return matplotlib


def plot_caption(d: DerivationSpec) -> str:
    names = [i.name for i in d.function.inputs if not i.is_param]
    spans = ", ".join(f"{n} in [{_g(lo)}, {_g(hi)}]" for n, (lo, hi) in _plot_ranges(d).items())
    what = "f and its first partial" if len(names) == 1 else "f and its first partials"
    return f"{what} for {spans}"


def _g(value: float) -> str:
    return format(value + 0.0, "g")


def _plot_ranges(d: DerivationSpec) -> dict[str, tuple[float, float]]:
    names = [i.name for i in d.function.inputs if not i.is_param]
    return {n: tuple(d.plot_range.get(n, DEFAULT_RANGE)) for n in names}


def plot_svg(d: DerivationSpec, matplotlib) -> bytes:
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

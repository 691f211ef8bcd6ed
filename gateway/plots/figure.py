"""A matplotlib figure without pyplot (thread-safe, no global state) and its SVG bytes.

Text stays text (``svg.fonttype: none``), paths keep every vertex (no simplification) and
ids are fixed, so the same result always gives the same bytes and a test can read the
plotted series back from the ``<g id=...>`` of each artist (``set_gid``).
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

matplotlib.rcParams.update(
    {
        "svg.fonttype": "none",
        "svg.hashsalt": "zuhur",
        "path.simplify": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.frameon": False,
    }
)
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def num(value: Any) -> float:
    """A JSON number (null for a non-finite one) as a float."""
    return float("nan") if value is None else float(value)


def new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure in inches, laid out with constrained layout."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(fig)
    return fig


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG, without a date (same result, same bytes)."""
    out = io.BytesIO()
    fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()

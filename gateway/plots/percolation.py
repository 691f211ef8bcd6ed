"""Percolation pictures: sweep curves (several sizes on one chart) and drawn sample graphs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
from matplotlib.axes import Axes

from gateway.plots.figure import COLORS, new_figure, num, svg_bytes
from services.fitting.models.critical_point import linear_size

GRAPH_NODE = "#9aa5b1"
GIANT_NODE = "#d62728"


def _stat(points: list[dict[str, Any]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations of one observable along a sweep."""
    stats = [p.get(name) or {} for p in points]
    return (
        np.array([num(s.get("mean", 0.0)) for s in stats]),
        np.array([num(s.get("std", 0.0)) for s in stats]),
    )


def _size_label(curve: dict[str, Any]) -> str:
    if curve.get("label"):
        return str(curve["label"])
    n = int(curve["n"])
    if curve["model"].startswith("square_lattice"):
        return f"L = {round(n**0.5)}"
    return f"n = {n:,}"


def draw_sweeps(top: Axes, bottom: Axes, curves: Sequence[dict[str, Any]]) -> None:
    """S with its ±1 sd band and theory on ``top``, susceptibility on ``bottom``, the
    threshold marked on both; one colour per curve (gid ``sweep-<i>-S`` / ``-chi``)."""
    thresholds: set[float] = set()
    for i, curve in enumerate(curves):
        color = COLORS[i % len(COLORS)]
        x = np.array([num(p["control"]) for p in curve["points"]])
        s, s_sd = _stat(curve["points"], "largest_fraction")
        chi, chi_sd = _stat(curve["points"], "susceptibility")
        label = _size_label(curve)
        top.fill_between(x, s - s_sd, s + s_sd, color=color, alpha=0.2, linewidth=0)
        top.plot(x, s, color=color, lw=1.6, label=label, gid=f"sweep-{i}-S")
        bottom.fill_between(x, chi - chi_sd, chi + chi_sd, color=color, alpha=0.2, linewidth=0)
        bottom.plot(x, chi, color=color, lw=1.6, label=label, gid=f"sweep-{i}-chi")
        if curve.get("threshold") is not None:
            thresholds.add(float(curve["threshold"]))
    theory = next((c["theory"] for c in curves if c.get("theory")), None)
    if theory:
        tx = [num(t["control"]) for t in theory]
        ty = [num(t["largest_fraction"]) for t in theory]
        top.plot(tx, ty, "k--", lw=1.1, label="theory (n → ∞)", gid="theory")
    for t in sorted(thresholds):
        for ax in (top, bottom):
            ax.axvline(t, color="0.35", ls=":", lw=1.1, gid="threshold")
        top.annotate(f"threshold {t:g}", (t, 1.0), xytext=(4, -10), textcoords="offset points")
    control = curves[0].get("control", "c") if curves else "c"
    top.set_ylabel("largest component S = |C₁| / n")
    top.set_ylim(-0.02, 1.04)
    top.legend(loc="lower right")
    bottom.set_ylabel("susceptibility χ (nodes)")
    bottom.set_xlabel({"c": "mean degree c", "p": "occupation p", "phi": "bond occupation φ"}
                      .get(control, control))  # fmt: skip


def sweeps_svg(curves: Sequence[dict[str, Any]]) -> bytes:
    """Several sweep curves (e.g. sizes n) on one chart: S above, χ below."""
    fig = new_figure(7.0, 5.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    draw_sweeps(top, bottom, curves)
    model = curves[0]["model"] if curves else ""
    top.set_title(f"Giant component of {model.replace('_', ' ')}")
    return svg_bytes(fig)


def edges_of(replicate: dict[str, Any]) -> np.ndarray:
    """A replicate's flattened ``edge_list`` as (m, 2) node ids."""
    return np.asarray(replicate.get("edge_list") or [], dtype=np.int64).reshape(-1, 2)


def draw_graph(ax: Axes, n: int, edges: np.ndarray, gid: str) -> int:
    """The graph with its largest component in red (spring layout, fixed seed); returns the
    largest component's size. Node and edge groups get gids ``<gid>-nodes`` etc."""
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(map(tuple, edges.tolist()))
    giant = max(nx.connected_components(g), key=len)
    pos = nx.spring_layout(g, seed=1, k=1.6 / max(n, 1) ** 0.5)
    xy = np.array([pos[v] for v in range(n)])
    for a, b in edges.tolist():
        inside = a in giant
        ax.plot(*xy[[a, b]].T, color=GIANT_NODE if inside else GRAPH_NODE,
                lw=1.0 if inside else 0.8, zorder=1, gid=f"{gid}-edge")  # fmt: skip
    colors = [GIANT_NODE if v in giant else GRAPH_NODE for v in range(n)]
    ax.scatter(xy[:, 0], xy[:, 1], s=18, c=colors, edgecolors="white", linewidths=0.5,
               zorder=2, gid=f"{gid}-nodes")  # fmt: skip
    ax.set_axis_off()
    ax.set_aspect("equal")
    return len(giant)


def sample_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """SampleGraph: the drawn graphs when edge lists came back (up to 4 replicates), else
    each replicate's largest-component fraction against the theory value."""
    n = int(result["n"])
    reps = result.get("replicates", [])
    drawn = [r for r in reps if r.get("edge_list")][:4]
    p = result.get("p")
    c = None if p is None else float(p) * (n - 1)
    if drawn:
        fig = new_figure(2.6 * len(drawn), 2.9)
        axes = fig.subplots(1, len(drawn), squeeze=False)[0]
        for i, (ax, rep) in enumerate(zip(axes, drawn, strict=True)):
            largest = draw_graph(ax, n, edges_of(rep), f"graph-{i}")
            ax.set_title(f"replicate {i}: largest {largest} of {n}")
        fig.suptitle(f"{result['model'].replace('_', ' ')}, n = {n}" +
                     ("" if c is None else f", c = {c:.3g}"))  # fmt: skip
        return svg_bytes(fig)
    fig = new_figure(6.0, 3.4)
    ax = fig.subplots()
    frac = [int(r["largest"]) / n for r in reps]
    ax.plot(range(len(frac)), frac, "o", color=COLORS[0], label="replicates", gid="replicates")
    mean = num(result["largest_fraction"]["mean"])
    ax.axhline(mean, color=COLORS[0], lw=1, label=f"mean {mean:.4g}")
    if result.get("theory_largest_fraction") is not None:
        theory = float(result["theory_largest_fraction"])
        ax.axhline(theory, color="k", ls="--", lw=1, label=f"theory {theory:.4g}", gid="theory")
    ax.set_xlabel("replicate")
    ax.set_ylabel("largest component S")
    ax.set_ylim(-0.02, 1.04)
    ax.legend()
    ax.set_title(f"{result['model'].replace('_', ' ')}, n = {n:,}" +
                 ("" if c is None else f", c = {c:.3g}"))  # fmt: skip
    return svg_bytes(fig)


def essay_svg(curve: dict[str, Any], samples: Sequence[dict[str, Any]]) -> bytes:
    """The essay's picture: the n = 50 curve with drawn graphs at chosen c beside it, each
    graph's c and largest component marked on the curve."""
    fig = new_figure(10.5, 4.6)
    grid = fig.add_gridspec(2, 1 + len(samples), width_ratios=(2.2, *[1] * len(samples)),
                            height_ratios=(3, 2))  # fmt: skip
    top = fig.add_subplot(grid[0, 0])
    bottom = fig.add_subplot(grid[1, 0], sharex=top)
    draw_sweeps(top, bottom, [curve])
    for i, sample in enumerate(samples):
        n = int(sample["n"])
        c = float(sample["p"]) * (n - 1)
        ax = fig.add_subplot(grid[:, 1 + i])
        largest = draw_graph(ax, n, edges_of(sample["replicates"][0]), f"graph-{i}")
        ax.set_title(f"c = {c:g}: largest {largest} of {n}")
        top.plot([c], [largest / n], "o", color=GIANT_NODE, ms=6, gid=f"mark-{i}")
        top.annotate(f"c = {c:g}", (c, largest / n), xytext=(5, -12), textcoords="offset points")
    top.set_title(f"Emergence of the giant component, n = {int(curve['n'])}")
    return svg_bytes(fig)


def _critical_curves(request: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """(size s, sweep-shaped curve) of every curve a FitCriticalPoint request holds: raw
    ``curves`` as they are, ``sweeps`` (with their theory) sized as the fit sizes them."""
    out = []
    for c in request.get("curves", []):
        points = [{"control": x, "largest_fraction": {"mean": s}, "susceptibility": {"mean": chi}}
                  for x, s, chi in zip(c.get("control", []), c.get("largest_fraction", []),
                                       c.get("susceptibility", []), strict=False)]  # fmt: skip
        size = float(c.get("size", 0))
        curve = {"model": "", "n": size, "label": f"s = {size:g}", "control": "control value x"}
        out.append((size, {**curve, "points": points}))
    for sweep in request.get("sweeps", []):
        out.append((linear_size(sweep.get("model", ""), int(sweep.get("n", 0))), sweep))
    return sorted(out, key=lambda pair: pair[0])


def critical_point_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """FitCriticalPoint: the curves with each susceptibility peak and the fitted threshold
    with its 95% interval (left), and the peak positions x*(s) against s^(-1/ν) with the fitted
    x_c + b·s^(-1/ν) extrapolated to s → ∞ (right)."""
    sized = _critical_curves(request or {})
    params, extra = result.get("params", {}), result.get("extra", {})
    threshold = params.get("threshold", {})
    xc = num(threshold.get("value"))
    ci = [num(v) for v in (threshold.get("ci95") or [None, None])]
    nu = num(params.get("one_over_nu", {}).get("value", extra.get("one_over_nu_fixed")))
    fig = new_figure(11.0, 5.0)
    grid = fig.add_gridspec(2, 2, width_ratios=(1.5, 1), height_ratios=(3, 2))
    top = fig.add_subplot(grid[0, 0])
    bottom = fig.add_subplot(grid[1, 0], sharex=top)
    draw_sweeps(top, bottom, [curve for _, curve in sized])
    for ax in (top, bottom):
        if np.isfinite(ci).all():
            ax.axvspan(ci[0], ci[1], color=GIANT_NODE, alpha=0.12, gid="fitted-threshold-ci")
        ax.axvline(xc, color=GIANT_NODE, lw=1.2, gid="fitted-threshold")
    top.set_title(f"fitted threshold {xc:.5g} [{ci[0]:.5g}, {ci[1]:.5g}]", color=GIANT_NODE)
    peaks = [(s, extra.get(f"peak_position_{s:g}"), extra.get(f"peak_height_{s:g}"))
             for s, _ in sized]  # fmt: skip
    found = np.array([(s, num(x), num(h)) for s, x, h in peaks if x is not None and h is not None])
    shift = fig.add_subplot(grid[:, 1])
    if found.size:
        bottom.plot(found[:, 1], found[:, 2], "v", color="k", ms=5, label="χ peaks", gid="peaks")
        t = found[:, 0] ** -nu
        shift.plot(t, found[:, 1], "o", color="k", ms=5, label="peak positions x*(s)",
                   gid="peak-positions")  # fmt: skip
        law = np.linspace(0.0, float(t.max()) * 1.05, 60)
        b = num(extra.get("amplitude"))
        shift.plot(law, xc + b * law, color=GIANT_NODE, lw=1.4,
                   label=f"x_c + b·s^(-1/ν), 1/ν = {nu:.3g}", gid="shift-law")  # fmt: skip
        yerr = None if not np.isfinite(ci).all() else [[xc - ci[0]], [ci[1] - xc]]
        shift.errorbar([0.0], [xc], yerr=yerr, fmt="*", color=GIANT_NODE, ms=11, capsize=3,
                       label=f"x_c = {xc:.5g} (s → ∞)", gid="threshold-extrapolated")  # fmt: skip
    shift.set_xlabel("s^(-1/ν)")
    shift.set_ylabel("susceptibility peak position x*(s)")
    shift.set_title("finite-size shift of the peak")
    shift.legend(fontsize=7)
    return svg_bytes(fig)

"""Emergent-ability pictures: simulated benchmark curves against scale (with each size's
replicate spread) and the mirage analysis (exact match against the smooth per-token law, and
the k_effective reading).

The smooth law is drawn with the fitting service's own ``mirage.line`` from the returned
parameters; every other number plotted is a number of the result itself.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from gateway.plots.figure import COLORS, new_figure, num, svg_bytes
from gateway.plots.fits import param_value
from services.fitting.mirage import line

METRIC_LABELS = {
    "exact_match": "exact match",
    "token_accuracy": "per-token accuracy",
    "edit_distance": "1 − edit distance",
    "multiple_choice": "multiple choice",
}


def abilities_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """SimulateAbilities: each metric's replicate mean against size, its 95% replicate range
    as a band and the closed-form expectation dashed (gids ``<metric>-mean/-band/-expected``)."""
    fig = new_figure(6.8, 4.2)
    ax = fig.subplots()
    for i, (metric, curve) in enumerate(sorted(result.get("curves", {}).items())):
        color = COLORS[i % len(COLORS)]
        points = curve.get("points", [])
        size = np.array([num(p["size"]) for p in points])
        mean = np.array([num(p.get("mean", 0.0)) for p in points])
        ci = [p.get("ci95") or [None, None] for p in points]
        ax.fill_between(size, [num(c[0]) for c in ci], [num(c[1]) for c in ci], color=color,
                        alpha=0.18, linewidth=0, gid=f"{metric}-band")  # fmt: skip
        ax.plot(size, mean, "o-", color=color, ms=4, lw=1.5,
                label=f"{METRIC_LABELS.get(metric, metric)} (95% of replicates)",
                gid=f"{metric}-mean")  # fmt: skip
        if any(p.get("expected") is not None for p in points):
            expected = [num(p.get("expected")) for p in points]
            ax.plot(size, expected, "--", color=color, lw=1.0, gid=f"{metric}-expected")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.04)
    ax.set_xlabel("model size N (parameters)")
    ax.set_ylabel("benchmark score")
    ax.set_title(f"{result.get('k', '')}-token answers, {result.get('items', '')} items, "
                 f"{result.get('replicates', '')} replicates (dashed: expectation)")  # fmt: skip
    ax.legend(fontsize=7)
    return svg_bytes(fig)


def _smooth_law(result: dict[str, Any], scale: np.ndarray) -> np.ndarray:
    """Per-token accuracy p(N) = exp(-A·N^-alpha) of the fitted law, by the service's line."""
    params = (result.get("law") or {}).get("params", {})
    theta = np.array([np.log(param_value(params, "A")), -param_value(params, "alpha")])
    return np.asarray(np.exp(-np.exp(line(theta, np.log(scale)))))


def mirage_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """AnalyzeMirage: per-token accuracy (continuous) and exact match (discontinuous) against
    scale with the smooth law through p^k and its band, and exact match against p with the
    requested k and the fitted k_effective (with its 95% interval)."""
    points = result.get("points", [])
    scale = np.array([num(p["scale"]) for p in points])
    p = np.array([num(p["token_accuracy"]) for p in points])
    observed = np.array([num(p["observed"]) for p in points])
    k = float(result.get("k", 1))
    k_eff = num(result.get("k_effective"))
    k_ci = [num(v) for v in (result.get("k_effective_ci95") or [None, None])]
    fig = new_figure(10.5, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=(1.35, 1))
    if scale.size:
        grid = np.unique(np.concatenate([np.geomspace(scale.min(), scale.max(), 120), scale]))
        p_law = _smooth_law(result, grid)
        left.plot(grid, p_law, color=COLORS[0], lw=1.4, label="smooth per-token law p(N)",
                  gid="token-law")  # fmt: skip
        left.plot(scale, p, "s", color=COLORS[0], ms=5, label="per-token accuracy (continuous)",
                  gid="token-data")  # fmt: skip
        band = [q.get("predicted_ci95") or [None, None] for q in points]
        left.fill_between(scale, [num(b[0]) for b in band], [num(b[1]) for b in band],
                          color=COLORS[1], alpha=0.15, linewidth=0, gid="exact-band")  # fmt: skip
        left.plot(grid, p_law**k, color=COLORS[1], lw=1.4,
                  label=f"predicted p(N)^{k:g} (95% band)", gid="exact-law")  # fmt: skip
        if np.isfinite(k_eff):
            left.plot(grid, p_law**k_eff, "--", color=COLORS[2], lw=1.2,
                      label=f"p(N)^{k_eff:.3g} (k_effective)", gid="exact-keff")  # fmt: skip
        left.plot(scale, observed, "o", color=COLORS[1], ms=5,
                  label="exact match (discontinuous)", gid="exact-data")  # fmt: skip
        _k_reading(right, p, observed, k, k_eff, k_ci)
    left.set_xscale("log")
    left.set_ylim(-0.02, 1.04)
    left.set_xlabel("model scale")
    left.set_ylabel("score")
    explained = result.get("explained")
    left.set_title(("explained by the smooth per-token law" if explained else
                    "not explained by the smooth per-token law")
                   + f" (p = {num(result.get('p_value')):.3g})",
                   color=COLORS[0] if explained else COLORS[1])  # fmt: skip
    left.legend(fontsize=6.5)
    fig.suptitle(textwrap.fill(str(result.get("reason", "")), 170), fontsize=7, color="0.3")
    return svg_bytes(fig)


def _k_reading(ax: Axes, p: np.ndarray, observed: np.ndarray, k: float, k_eff: float,
               k_ci: list[float]) -> None:  # fmt: skip
    """Exact match against per-token accuracy: the data, p^k and p^k_effective with the band
    of its 95% interval (gids ``em-vs-p-data``, ``em-vs-p-k``, ``em-vs-p-keff[-band]``)."""
    lo = float(min(p.min(), 1.0))
    grid = np.linspace(lo - 0.05 * (1 - lo), 1.0, 100)
    if np.isfinite(k_ci).all():
        ax.fill_between(grid, grid ** max(k_ci), grid ** min(k_ci), color=COLORS[2], alpha=0.15,
                        linewidth=0, label="k_effective 95% interval",
                        gid="em-vs-p-keff-band")  # fmt: skip
    ax.plot(grid, grid**k, color=COLORS[1], lw=1.2, label=f"p^{k:g} (requested k)",
            gid="em-vs-p-k")  # fmt: skip
    if np.isfinite(k_eff):
        ax.plot(grid, grid**k_eff, "--", color=COLORS[2], lw=1.4,
                label=f"p^{k_eff:.3g} (k_effective)", gid="em-vs-p-keff")  # fmt: skip
    ax.plot(p, observed, "o", color="k", ms=5, label="observed", gid="em-vs-p-data")
    ax.set_ylim(-0.02, 1.04)
    ax.set_xlabel("per-token accuracy p")
    ax.set_ylabel("exact match")
    ci = "" if not np.isfinite(k_ci).all() else f" [{k_ci[0]:.3g}, {k_ci[1]:.3g}]"
    ax.set_title(f"k_effective = {k_eff:.3g}{ci} (requested k = {k:g})")
    ax.legend(fontsize=6.5)

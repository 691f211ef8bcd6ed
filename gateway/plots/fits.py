"""Fit pictures: scaling laws (data, fitted law with its 95% prediction band, extrapolation,
compute-optimal frontier) and emergence verdicts (data, competing fits, floor, threshold).

Curves come from the fitting service itself: a scaling-law picture draws the predictions
the request asked for (``predict_N``/``predict_D`` along each size, ``predict_C`` along the
frontier, each with its interval); an emergence picture evaluates each returned law with the
service's own ``laws.evaluate``. No law is written twice.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from gateway.plots.figure import COLORS, new_figure, num, svg_bytes
from services.fitting.emergence.laws import LawFit, evaluate

VERDICT_COLORS = {"emergent": "#d62728", "smooth": "#1f77b4", "flat": "#7f7f7f",
                  "declining": "#8c564b", "inconclusive": "#ff7f0e"}  # fmt: skip
LAW_STYLES = {"logistic": "-", "gompertz": "-.", "power_law": "--", "linear_log": ":",
              "constant": (0, (1, 3)), "broken_power_law": (0, (5, 2, 1, 2))}  # fmt: skip


def param_value(params: dict[str, Any], name: str) -> float:
    """The point estimate of parameter ``name`` (NaN when absent or not finite)."""
    return num(params.get(name, {}).get("value"))


def _band(ax: Axes, preds: list[dict[str, Any]], key: str, color: str, label: str, gid: str,
          lw: float = 1.5) -> None:  # fmt: skip
    """A prediction curve over ``x[key]`` with its 95% band, sorted along the input."""
    preds = sorted(preds, key=lambda p: float(p["x"][key]))
    x = np.array([float(p["x"][key]) for p in preds])
    y = np.array([float(p["value"]) for p in preds])
    ci = [p.get("ci95") or [np.nan, np.nan] for p in preds]
    lo = np.array([np.nan if c[0] is None else float(c[0]) for c in ci])
    hi = np.array([np.nan if c[1] is None else float(c[1]) for c in ci])
    ax.fill_between(x, lo, hi, color=color, alpha=0.18, linewidth=0, gid=f"{gid}-band")
    ax.plot(x, y, color=color, lw=lw, label=label, gid=gid)


def scaling_law_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """FitScalingLaw / FitPowerLaw / FitBrokenPowerLaw: data, fitted law with band from the
    predictions, extrapolation targets; Chinchilla adds the compute-optimal N and D."""
    request = request or {}
    preds = result.get("predictions", [])
    optimal = result.get("compute_optimal") or {}
    fig = new_figure(10.0 if optimal else 6.5, 4.2)
    axes = fig.subplots(1, 2 if optimal else 1, squeeze=False)[0]
    ax = axes[0]
    if "loss" in request and request.get("N") and request.get("D"):
        N, D, y = (np.asarray(request[k], dtype=float) for k in ("N", "D", "loss"))
        C = 6 * N * D
        by_n: dict[float, list[dict[str, Any]]] = defaultdict(list)
        for p in preds:  # along one size: C = 6 N D (a budget prediction also names C)
            if "C" not in p["x"] and "N" in p["x"] and "D" in p["x"]:
                C_p = 6 * float(p["x"]["N"]) * float(p["x"]["D"])
                by_n[float(p["x"]["N"])].append({**p, "x": {"C": C_p}})
        sizes = sorted(set(N.tolist()))
        for i, n in enumerate(sizes):
            color = COLORS[i % len(COLORS)]
            mask = n == N
            ax.plot(C[mask], y[mask], "o", color=color, ms=5, label=f"N = {n:.3g}",
                    gid=f"data-{i}")  # fmt: skip
            if n in by_n:
                _band(ax, by_n.pop(n), "C", color, "", f"law-{i}", lw=1.0)
        ax.set_xlabel("compute C = 6·N·D (FLOPs)")
        ax.set_ylabel("loss (nats)")
    else:
        x = np.asarray(request.get("x") or request.get("N") or request.get("D") or [], float)
        y = np.asarray(request.get("y") or request.get("loss") or [], dtype=float)
        ax.plot(x, y, "o", color=COLORS[0], ms=5, label="data", gid="data-0")
        key = "x" if "x" in request else ("N" if request.get("N") else "D")
        along = [p for p in preds if set(p["x"]) == {key}]
        if along:
            _band(ax, along, key, COLORS[1], f"fit: {result.get('model', '')} (95% band)",
                  "law-0")  # fmt: skip
            last = max(along, key=lambda p: float(p["x"][key]))
            ax.plot([float(last["x"][key])], [float(last["value"])], "D", color=COLORS[1],
                    gid="extrapolation")  # fmt: skip
        ax.set_xlabel({"x": "scale x", "N": "parameters N", "D": "tokens D"}[key])
        ax.set_ylabel("y" if key == "x" else "loss (nats)")
    frontier = [p for p in preds if "C" in p["x"]]
    if frontier:
        _band(ax, frontier, "C", "k", "compute-optimal frontier (95% band)", "frontier")
        target = max(frontier, key=lambda p: float(p["x"]["C"]))
        ci = target.get("ci95") or [None, None]
        ax.errorbar([float(target["x"]["C"])], [float(target["value"])],
                    yerr=None if None in ci else [[target["value"] - ci[0]],
                                                  [ci[1] - target["value"]]],
                    fmt="*", color="k", ms=11, capsize=3, gid="extrapolation")  # fmt: skip
        ax.annotate(f"{target['value']:.3f} at C = {float(target['x']['C']):.2g}",
                    (float(target["x"]["C"]), float(target["value"])), xytext=(-110, 12),
                    textcoords="offset points")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    params = result.get("params", {})
    shown = ", ".join(f"{k} = {param_value(params, k):.3g}" for k in sorted(params))
    ax.set_title(f"{result.get('model', '')}: {shown}", fontsize=8)
    ax.legend(fontsize=7)
    if optimal:
        _frontier_allocation(axes[1], result, request, frontier)
    return svg_bytes(fig)


def _frontier_allocation(ax: Axes, result: dict[str, Any], request: dict[str, Any],
                         frontier: list[dict[str, Any]]) -> None:  # fmt: skip
    """N_opt(C) = G (C/6)^a and D_opt(C) = G^-1 (C/6)^b over the plotted compute range."""
    opt = result["compute_optimal"]
    a, b, G = (param_value(opt, k) for k in ("a", "b", "G"))
    C_data = (
        6 * np.asarray(request.get("N", [1.0]), float) * np.asarray(request.get("D", [1.0]), float)
    )
    top = max([float(C_data.max())] + [float(p["x"]["C"]) for p in frontier])
    C = np.geomspace(float(C_data.min()), top, 60)
    ax.plot(C, G * (C / 6) ** a, color=COLORS[0], label=f"N_opt ∝ C^{a:.3f}", gid="n-opt")
    ax.plot(C, (C / 6) ** b / G, color=COLORS[2], label=f"D_opt ∝ C^{b:.3f}", gid="d-opt")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute C (FLOPs)")
    ax.set_ylabel("parameters / tokens")
    ax.set_title("compute-optimal allocation")
    ax.legend()


def law_fit(name: str, fit: dict[str, Any]) -> LawFit:
    """A returned model as the service's ``LawFit``, so its own ``evaluate`` draws it."""
    params = {k: param_value(fit.get("params", {}), k) for k in fit.get("params", {})}
    return LawFit(name, params, np.empty(0), 0.0, len(params))


def draw_emergence(ax: Axes, result: dict[str, Any], series: dict[str, Any], gid: str) -> None:
    """One series: points, each fitted law, floor, threshold with its 95% interval."""
    scale = np.asarray(series.get("scale", []), dtype=float)
    score = np.asarray(series.get("score", []), dtype=float)
    loss = result.get("scale_kind") == "loss"
    ax.plot(scale, score, "o", color="k", ms=5, label="data", zorder=3, gid=f"{gid}-data")
    if scale.size:
        x = np.linspace(np.log10(scale.min()), np.log10(scale.max()), 120)
        for name, fit in sorted(result.get("models", {}).items()):
            if name not in LAW_STYLES or name == "broken_power_law":
                continue
            axis = -x if loss else x
            y = evaluate(law_fit(name, fit), axis)
            best = name == result.get("preferred")
            ax.plot(10**x, y, ls=LAW_STYLES[name], lw=2.0 if best else 1.1,
                    label=name + (" (preferred)" if best else ""),
                    gid=f"{gid}-law-{name}")  # fmt: skip
    floor = series.get("floor")
    if floor is None:
        floor = result.get("statistics", {}).get("floor_level")
    if floor is not None:
        ax.axhline(float(floor), color="0.5", ls="--", lw=1, label="floor", gid=f"{gid}-floor")
    threshold = result.get("threshold") or {}
    if result.get("threshold_side") == "inside" and threshold.get("value") is not None:
        ci = threshold.get("ci95") or []
        if len(ci) == 2 and None not in ci:
            ax.axvspan(float(ci[0]), float(ci[1]), color=VERDICT_COLORS["emergent"], alpha=0.12,
                       label="threshold 95% interval", gid=f"{gid}-threshold-ci")  # fmt: skip
        ax.axvline(float(threshold["value"]), color=VERDICT_COLORS["emergent"], lw=1.2,
                   label=f"threshold {float(threshold['value']):.3g}",
                   gid=f"{gid}-threshold")  # fmt: skip
    ax.set_xscale("log")
    if loss:
        ax.invert_xaxis()
    ax.set_xlabel({"compute": "training compute (FLOPs)", "loss": "pretraining loss (nats)"}
                  .get(result.get("scale_kind", ""), "parameters"))  # fmt: skip
    ax.set_ylabel("score")
    verdict = result.get("verdict", "")
    ax.set_title(f"{series.get('name') or ''} — {verdict}".strip(" —"),
                 color=VERDICT_COLORS.get(verdict, "k"))  # fmt: skip
    ax.legend(fontsize=6.5)


def emergence_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """FitEmergence: the series with its verdict, the competing fits, floor and threshold."""
    fig = new_figure(6.5, 4.2)
    draw_emergence(fig.subplots(), result, request or {}, "series-0")
    fig.text(0.01, 0.0, result.get("reason", "")[:160], fontsize=6.5, va="bottom")
    return svg_bytes(fig)


def emergence_batch_svg(result: dict[str, Any], request: dict[str, Any] | None = None) -> bytes:
    """FitEmergenceBatch: one panel per series (a refused series says why)."""
    series = (request or {}).get("series", [])
    answers = result.get("results", [])
    cols = min(3, max(1, len(answers)))
    rows = -(-len(answers) // cols) or 1
    fig = new_figure(4.2 * cols, 3.4 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for i, answer in enumerate(answers):
        data = {**(series[i] if i < len(series) else {}), "name": answer.get("name", "")}
        if answer.get("result"):
            draw_emergence(axes[i], answer["result"], data, f"series-{i}")
        else:
            errors = "; ".join(f"{e['field']}: {e['message']}" for e in answer.get("errors", []))
            axes[i].text(0.5, 0.5, errors[:200], ha="center", va="center", wrap=True, fontsize=7)
            axes[i].set_title(f"{data['name']} — refused")
            axes[i].set_axis_off()
    for ax in axes[len(answers) :]:
        ax.set_axis_off()
    return svg_bytes(fig)

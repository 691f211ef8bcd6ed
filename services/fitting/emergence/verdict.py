"""The verdict rules: a pure function of the evidence, returning (verdict, reason).

In order, the first that applies:

1. fewer than 3 distinct sizes → ``inconclusive`` (no test possible);
2. ``emergent`` (Wei et al. 2022 made statistical): a flat start of >= 2 sizes near the
   floor, a rise of >= ``min_rise`` of the range far beyond the noise (z >= ``jump_z``)
   over it, every smooth law misfitting within the noise (p < ``shape_level``) and the
   sigmoid beating them by ΔAIC >= ``min_delta_aic``;
3. ``declining``: the trend test says significantly worse with size;
4. rising significantly: ``smooth`` when a smooth law fits within the noise, or when with
   no flat start a sigmoid fits within the noise with a 10–90% rise of >= ``gradual_width``
   decades (a gradual S-curve, like per-token accuracy), or, without any noise estimate,
   when a smooth law explains R² >= ``smooth_r2`` with no flat start; else ``inconclusive``
   saying what was missing for a jump;
5. no significant trend: ``flat`` when a constant fits within the noise and the 95%
   interval of the change over the observed range lies within ±``flat_margin`` of the
   range; else ``inconclusive`` (scores vary without a trend, or too noisy to exclude one).

Every reason names the test that decided and its statistic; a significant fall after the
best score is reported as non-monotone.
"""

from __future__ import annotations

import math
from typing import Literal

from services.fitting.emergence.evidence import DEFAULT_THRESHOLDS, Evidence, Thresholds

Verdict = Literal["emergent", "smooth", "flat", "declining", "inconclusive"]
VERDICTS: tuple[str, ...] = ("emergent", "smooth", "flat", "declining", "inconclusive")


def _p(p: float) -> str:
    return "n/a" if not math.isfinite(p) else f"{p:.2g}"


def _trend(e: Evidence) -> str:
    return f"slope {e.slope:+.3g}/decade, {e.trend_dist} = {e.trend_stat:.2f}, p = {_p(e.trend_p)}"


def _smooth(e: Evidence) -> str:
    stat = "X²/ĉ" if e.likelihood != "gaussian" else "F vs sigmoid"
    return f"{e.smooth} {stat} = {e.smooth_stat:.3g}, p = {_p(e.smooth_p)}"


def _emergence_gaps(e: Evidence, th: Thresholds) -> list[str]:
    """Which conditions of an emergent jump the evidence misses (empty: all met)."""
    gaps = []
    if e.plateau < th.min_plateau:
        gaps.append(f"no flat start ({e.plateau} size(s) near the floor, {th.min_plateau} needed)")
    if e.rise < th.min_rise * e.range:
        gaps.append(f"rise {e.rise:.3g} < {th.min_rise:g} of the range")
    if e.plateau and not (e.rise_z >= th.jump_z):
        gaps.append(f"jump z = {e.rise_z:.2f} < {th.jump_z:g}")
    if not e.smooth_all_rejected:
        gaps.append(
            "a smooth law is not excluded"
            + (f" ({_smooth(e)})" if math.isfinite(e.smooth_p) else " (noise unknown: give items)")
        )
    elif not (e.delta_aic >= th.min_delta_aic):
        gaps.append(f"sigmoid ΔAIC = {e.delta_aic:.1f} < {th.min_delta_aic:g}")
    if not e.sigmoid_rises:
        gaps.append("the sigmoid falls")
    return gaps


def decide(e: Evidence, th: Thresholds = DEFAULT_THRESHOLDS) -> tuple[Verdict, str]:
    """(verdict, reason) from the evidence; see the module docstring for the rules."""
    note = ""
    rose = e.early_rise_z >= th.drop_z
    if rose and e.drop_z >= th.drop_z and e.drop > 0:
        note = f"; non-monotone: falls by {e.drop:.3g} after its best size (z = {e.drop_z:.1f})"
    if e.sizes < 3:
        return "inconclusive", f"{e.sizes} distinct size(s): at least 3 are needed for any test"
    gaps = _emergence_gaps(e, th)
    if not gaps:
        return "emergent", (
            f"flat start at {e.plateau_level:.3g} over the {e.plateau} smallest sizes "
            f"(floor {e.floor_level:.3g}), then a rise of {e.rise:.3g} (z = {e.rise_z:.1f}); "
            f"no smooth law fits ({_smooth(e)}); {e.sigmoid} beats it by ΔAIC = "
            f"{e.delta_aic:.1f}" + note
        )
    significant = math.isfinite(e.trend_p) and e.trend_p < th.trend_level
    if significant and e.slope < 0:
        if rose:
            return "inconclusive", (
                f"non-monotone: rises first (z = {e.early_rise_z:.1f}), then falls by "
                f"{e.drop:.3g} (z = {e.drop_z:.1f}); overall {_trend(e)}"
            )
        return "declining", f"worse with scale: {_trend(e)}"
    if significant:
        if math.isfinite(e.smooth_p) and e.smooth_p >= th.shape_level:
            return "smooth", (
                f"rises ({_trend(e)}); {_smooth(e)}: fits within the noise; no sharp "
                f"transition: {gaps[0]}" + note
            )
        gradual = e.sigmoid_rises and e.sigmoid_width >= th.gradual_width
        if e.plateau < th.min_plateau and gradual and e.sigmoid_p >= th.shape_level:
            return "smooth", (
                f"rises ({_trend(e)}) from the smallest size on (no flat start) along a "
                f"gradual S-curve: {e.sigmoid} fits within the noise (p = {_p(e.sigmoid_p)}) "
                f"with a 10–90% rise over {e.sigmoid_width:.2g} decades (>= "
                f"{th.gradual_width:g}; per-token accuracy exp(-(N_c/N)^alpha) is such a curve)"
                + note
            )
        untested = not math.isfinite(e.smooth_p)
        if untested and e.plateau < th.min_plateau and e.smooth_r2 >= th.smooth_r2:
            return "smooth", (
                f"rises ({_trend(e)}) from the smallest size on (no flat start); "
                f"{e.smooth} explains R² = {e.smooth_r2:.3f} (noise unknown without "
                "items: shape not tested)" + note
            )
        misfit = f"no smooth law fits within the noise ({_smooth(e)})"
        if not math.isfinite(e.smooth_p):
            misfit = "noise unknown without items, too few sizes to test a smooth law"
        return "inconclusive", (
            f"rises ({_trend(e)}) but {misfit}, and no emergent jump: "
            + "; ".join(g for g in gaps if not g.startswith("a smooth law"))
            + note
        )
    if not math.isfinite(e.trend_p):
        return "inconclusive", (
            f"no trend test possible with {e.n} points and no item counts (noise unknown)"
        )
    if math.isfinite(e.constant_p) and e.constant_p < th.shape_level:
        return "inconclusive", (
            f"no monotone trend ({_trend(e)}) but the scores vary beyond the noise "
            f"(constant X² = {e.constant_x2:.3g}, p = {_p(e.constant_p)})" + note
        )
    margin = th.flat_margin * e.range
    lo, hi = e.change_ci
    if math.isfinite(lo) and max(abs(lo), abs(hi)) <= margin:
        return "flat", (
            f"no trend ({_trend(e)}): change over the range {e.change:+.3g}, 95% "
            f"[{lo:+.3g}, {hi:+.3g}], within ±{margin:.3g}; level {e.mean:.3g}" + note
        )
    return "inconclusive", (
        f"no significant trend ({_trend(e)}), but a change up to {max(abs(lo), abs(hi)):.3g} "
        f"over the range cannot be excluded (±{margin:.3g} would count as flat)" + note
    )

"""``FitEmergence``: judge one score-against-scale series and describe it.

Fits the laws (``laws``), gathers the evidence (``evidence``), applies the verdict rules
(``verdict``), and reports the BIG-bench descriptive statistics (``descriptive``) and,
for an emergent jump, its threshold: the sigmoid's half-way size with a profile-likelihood
(or, on request, parametric-bootstrap) 95% interval when it lies inside the observed sizes,
otherwise the side of the data it lies on; with too few sizes for a sigmoid (<= 4), the
pair of sizes that bracket the jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats

from services.common.errors import InvalidArgument
from services.fitting.bootstrap import parametric_bootstrap, resolve_seed
from services.fitting.emergence.descriptive import describe
from services.fitting.emergence.evidence import (
    DEFAULT_THRESHOLDS,
    SMOOTH_LAWS,
    Evidence,
    Likelihood,
    Thresholds,
    fit_laws,
    gather,
)
from services.fitting.emergence.laws import (
    LawFit,
    aic,
    evaluate,
    fit_sigmoid,
    polish_sigmoid,
    threshold_profile,
)
from services.fitting.emergence.series import Series, validate_series
from services.fitting.emergence.shapes import width_decades
from services.fitting.emergence.verdict import Verdict, decide
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.pipeline import validated
from services.fitting.results import FitResult, ParamEstimate, Prediction
from services.fitting.validation import ArrayLike, as_vector, require_positive

_NAN = math.nan
NO_ESTIMATE = ParamEstimate(_NAN, _NAN, (_NAN, _NAN))
CHI2_95 = float(stats.chi2.ppf(0.95, 1))

ThresholdSide = Literal["inside", "below", "above", "none"]


@dataclass
class EmergenceResult:
    """What ``FitEmergence`` returns (fields mirror the proto ``EmergenceResult``).

    ``threshold`` (scale, or loss for ``scale_kind`` loss) is NaN unless the verdict is
    emergent and the jump lies inside the observed sizes; ``threshold_side`` says
    "inside", "below", "above" or "none". ``statistics``: the tests' numbers by name.
    """

    verdict: Verdict
    reason: str
    models: dict[str, FitResult]
    sigmoid: str
    best_smooth: str
    preferred: str
    delta_aic: float
    delta_bic: float
    threshold: ParamEstimate
    threshold_side: ThresholdSide
    width_decades: ParamEstimate
    plateau_points: int
    predictions: list[Prediction]
    likelihood: Likelihood
    dispersion: float
    interval_method: str
    scale_kind: str
    sizes: int
    overall_improvement: float
    breakthroughness: float
    linearity: float
    statistics: dict[str, float] = field(default_factory=dict)
    bootstrap: int = 0
    bootstrap_failed: int = 0
    seed: int | None = None


def _bic(s: Series, fit: LawFit, phi: float) -> float:
    k = fit.k + (1 if s.items is None or phi > 1 else 0)
    return aic(s, fit, phi) - 2.0 * k + k * math.log(max(s.n, 1))


def _profile_interval(s: Series, fit: LawFit, phi: float) -> tuple[float, float]:
    """x_h values whose profile (excess weighted RSS, the Gauss–Newton deviance) is within
    χ²₁(0.95) of the best; NaN for an end that runs off the grid (not bounded by the data)."""
    xh, dev = threshold_profile(s, fit)
    if s.items is not None:
        inside = dev / phi <= CHI2_95
    else:
        rss = max(fit.deviance, 1e-300)
        inside = s.n * np.log1p(dev / rss) <= CHI2_95
    idx = np.flatnonzero(inside)
    if idx.size == 0:
        return fit.params["log10_threshold"], fit.params["log10_threshold"]
    lo = _NAN if idx[0] == 0 else float(xh[idx[0]])
    hi = _NAN if idx[-1] == xh.size - 1 else float(xh[idx[-1]])
    return lo, hi


def _scale_estimate(s: Series, x: float, lo: float, hi: float) -> ParamEstimate:
    """A position on the size axis as a scale (or loss), interval mapped and ordered."""
    a, b = (
        s.to_scale(lo) if math.isfinite(lo) else _NAN,
        s.to_scale(hi) if math.isfinite(hi) else _NAN,
    )
    if s.scale_kind == "loss":
        a, b = b, a
    return ParamEstimate(s.to_scale(x), _NAN, (a, b))


def _law_result(
    s: Series, fit: LawFit, phi: float, profile: tuple[float, float] | None
) -> FitResult:
    params = {k: ParamEstimate(v, _NAN, (_NAN, _NAN)) for k, v in fit.params.items()}
    if profile is not None:
        params["log10_threshold"] = ParamEstimate(fit.params["log10_threshold"], _NAN, profile)
    tss = float(np.sum((s.y - s.y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((s.y - fit.fitted) ** 2)) / tss if tss > 0 else _NAN
    kind = "binomial deviance" if s.items is not None else "residual sum of squares"
    return FitResult(
        model=fit.name, params=params, r2=r2, aic=aic(s, fit, phi), bic=_bic(s, fit, phi),
        n=s.n, converged=True, interval_method="profile" if profile else "none",
        objective=fit.deviance, message=f"grid-profile fit; objective = {kind}",
    )  # fmt: skip


def _broken_power_law(s: Series, limits: FitLimits, budget: TimeBudget) -> FitResult:
    """Caballero et al.'s broken power law (1 break) of the deficit (ceiling - y) or y;
    shown beside the verdict's laws, not part of it (a sharp break is itself a transition)."""
    deficit = s.ceiling is not None and bool(np.all(s.y < s.ceiling))
    target = (s.ceiling - s.y) if deficit and s.ceiling is not None else s.y
    try:
        if np.any(target <= 0):
            raise InvalidArgument.field("score", "broken power law needs scores > 0")
        res = fit_broken_power_law(s.scale, target, limits=limits, budget=budget)
    except (InvalidArgument, ArithmeticError, np.linalg.LinAlgError) as exc:
        return FitResult("broken_power_law", {}, _NAN, math.inf, math.inf, s.n, False,
                         message=f"not fitted: {exc}")  # fmt: skip
    res.aic = res.bic = _NAN
    res.message = ("deficit c - y fitted; " if deficit else "") + res.message
    return res


def _bootstrap_xh(
    s: Series, fit: LawFit, resamples: int, seed: int, budget: TimeBudget
) -> tuple[tuple[float, float], tuple[float, float], int]:
    """Percentile 95% intervals of (x_h, width) from refits of the sigmoid on data drawn
    from it: binomial with items, residual resampling without."""
    resid = s.y - fit.fitted

    def refit(rng: np.random.Generator) -> np.ndarray:
        if s.items is not None:
            y = rng.binomial(s.items.astype(np.int64), np.clip(fit.fitted, 0, 1)) / s.items
        else:
            y = np.clip(fit.fitted + rng.choice(resid, s.n), 0.0, s.high)
        sb = Series(s.scale, s.x, y, s.items, s.floor, s.ceiling, s.scale_kind, s.order)
        f = polish_sigmoid(sb, fit_sigmoid(sb, fit.name))
        return np.array(
            [f.params["log10_threshold"], width_decades(fit.name, f.params["sharpness"])]
        )

    boot = parametric_bootstrap(refit, resamples, seed, budget=budget)
    ok = boot.samples[np.all(np.isfinite(boot.samples), axis=1)]
    if ok.shape[0] < 2:
        return (_NAN, _NAN), (_NAN, _NAN), boot.failed
    q = np.quantile(ok, [0.025, 0.975], axis=0)
    return (float(q[0, 0]), float(q[1, 0])), (float(q[0, 1]), float(q[1, 1])), boot.failed


def _statistics(e: Evidence) -> dict[str, float]:
    noise = e.dispersion if e.likelihood == "gaussian" else _NAN
    return {
        "noise_variance": noise,
        "trend_stat": e.trend_stat, "trend_p": e.trend_p, "slope_per_decade": e.slope,
        "change": e.change, "change_ci95_low": e.change_ci[0], "change_ci95_high": e.change_ci[1],
        "constant_x2": e.constant_x2, "constant_p": e.constant_p, "rise": e.rise,
        "rise_z": e.rise_z, "plateau_level": e.plateau_level, "floor_level": e.floor_level,
        "smooth_stat": e.smooth_stat, "smooth_p": e.smooth_p, "drop": e.drop, "drop_z": e.drop_z,
    }  # fmt: skip


def fit_emergence(
    scale: ArrayLike,
    score: ArrayLike,
    *,
    floor: float | None = None,
    ceiling: float | None = None,
    items: ArrayLike | float | None = None,
    predict_scale: ArrayLike = (),
    scale_kind: str = "parameters",
    bootstrap: int = 0,
    seed: int | None = None,
    broken_power_law: bool = False,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> EmergenceResult:
    """Judge ``score`` against ``scale``: emergent, smooth, flat, declining or inconclusive.

    ``scale`` > 0: parameters, training FLOPs, or pretraining loss (``scale_kind``; lower
    loss = bigger model); ``score`` in [0, 1] (or [0, ceiling]); ``items`` one count or one
    per point makes scores binomial proportions; ``floor`` the chance level (scores below
    it are fine). Raises InvalidArgument naming the field for malformed input only.
    """
    s = validate_series(scale, score, floor=floor, ceiling=ceiling, items=items,
                        scale_kind=scale_kind, limits=limits)  # fmt: skip
    ps = as_vector(predict_scale, "predict_scale")
    require_positive(ps, "predict_scale")
    check_bootstrap(bootstrap, limits, "bootstrap")
    validated()
    used_seed = resolve_seed(seed) if bootstrap > 0 else seed
    budget = budget or TimeBudget.from_limits(limits)

    fits = fit_laws(s)
    e = gather(s, fits, thresholds)
    verdict, reason = decide(e, thresholds)
    phi = e.dispersion if s.items is not None else 1.0
    desc = describe(s.x, s.y)

    emergent = verdict == "emergent" and bool(e.sigmoid)
    if emergent:
        fits[e.sigmoid] = polish_sigmoid(s, fits[e.sigmoid])
    sig = fits.get(e.sigmoid) if e.sigmoid else None
    profile = _profile_interval(s, sig, phi) if emergent and sig is not None else None
    models = {
        name: _law_result(s, f, phi, profile if f is sig else None) for name, f in fits.items()
    }
    if broken_power_law:
        models["broken_power_law"] = _broken_power_law(s, limits, budget)
    preferred = min(fits, key=lambda k: aic(s, fits[k], phi))
    smooth = e.smooth
    delta_bic = _bic(s, fits[smooth], phi) - _bic(s, sig, phi) if sig is not None else _NAN

    side: ThresholdSide = "none"
    threshold, width, method = NO_ESTIMATE, NO_ESTIMATE, "none"
    boot_failed = 0
    if verdict == "emergent" and sig is not None:
        xh = sig.params["log10_threshold"]
        w = width_decades(sig.name, sig.params["sharpness"])
        if s.sizes <= 4:  # a sigmoid has as many parameters as points: bracket the jump
            xs = np.unique(s.x)
            a, b = float(xs[e.plateau - 1]), float(xs[e.plateau])
            ends = sorted(float(s.scale[np.flatnonzero(s.x == v)[0]]) for v in (a, b))
            mid = s.to_scale(0.5 * (a + b))
            threshold = ParamEstimate(mid, _NAN, (ends[0], ends[1]))
            side, method = "inside", "bracket"
            reason += f"; the jump lies between sizes {ends[0]:.3g} and {ends[1]:.3g}"
        elif s.x[0] <= xh <= s.x[-1]:
            lo, hi = profile if profile is not None else (_NAN, _NAN)
            wlo = whi = _NAN
            method = "profile"
            if bootstrap > 0 and used_seed is not None:
                (lo, hi), (wlo, whi), boot_failed = _bootstrap_xh(
                    s, sig, bootstrap, used_seed, budget
                )
                method = "bootstrap"
            threshold = _scale_estimate(s, xh, lo, hi)
            width = ParamEstimate(w, _NAN, (wlo, whi))
            side = "inside"
            reason += f"; half-way at {threshold.value:.3g}, 10–90% rise in {w:.2f} decades"
        else:
            side = "below" if xh < s.x[0] else "above"
            edge = "smallest" if side == "below" else "largest"
            reason += f"; the sigmoid's half-way point lies beyond the {edge} size (not reported)"

    xp = -np.log10(ps) if s.scale_kind == "loss" else np.log10(ps)
    values = evaluate(fits[preferred], xp) if ps.size else np.empty(0)
    predictions = [
        Prediction(x={"scale": float(v)}, value=float(m), ci95=(_NAN, _NAN))
        for v, m in zip(ps, values, strict=True)
    ]
    return EmergenceResult(
        verdict=verdict, reason=reason, models=models, sigmoid=e.sigmoid,
        best_smooth=smooth if smooth in SMOOTH_LAWS else "", preferred=preferred,
        delta_aic=e.delta_aic, delta_bic=delta_bic, threshold=threshold,
        threshold_side=side, width_decades=width, plateau_points=e.plateau,
        predictions=predictions, likelihood=e.likelihood,
        dispersion=phi,
        interval_method=method, scale_kind=s.scale_kind, sizes=s.sizes,
        overall_improvement=desc.overall_improvement,
        breakthroughness=desc.breakthroughness, linearity=desc.linearity,
        statistics=_statistics(e), bootstrap=bootstrap if method == "bootstrap" else 0,
        bootstrap_failed=boot_failed, seed=used_seed,
    )  # fmt: skip

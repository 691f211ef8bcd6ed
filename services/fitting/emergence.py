"""Is a benchmark score's rise with scale a sharp, emergent jump or a smooth trend? (``FitEmergence``)

Models, all fitted to the same points with the same weights (so AIC/BIC compare):

* ``logistic``  y = f + (c - f)·expit(s·(x - x_h)), x = log10(scale);
* ``gompertz``  y = f + (c - f)·exp(-ln2·e^(-s·(x - x_h))) — the shape of exact match p^k
  when per-token accuracy is p = exp(-(N_c/N)^alpha), so a metric mirage is fitted
  without the bias a symmetric logistic has;
* ``power_law`` y = c - A·scale^(-alpha) toward the known ceiling c (``E`` free when the
  ceiling is unknown or reached by the data), via ``models.power_law.fit_power_law``;
* ``linear_log`` y = a + b·x; ``constant`` y = m (the null: no change with scale).

In both sigmoids ``x_h`` is the half-way point (the threshold: scale 10^x_h) and ``s`` the
sharpness per decade; floor f and ceiling c are fixed when given, fitted otherwise. With
per-point item counts M_i the scores are binomial proportions: σ_i² = ỹ(1 - ỹ)/M_i with
the Agresti–Coull ỹ = (y·M + 2)/(M + 4), as known standard deviations; without them the
fit is unweighted with the noise variance estimated.

Verdict (``EmergenceCriteria``): ``inconclusive`` when a constant fits as well as any
trend, when the fits fail, or when the sigmoid wins but its transition is not inside the
data; ``emergent`` when the better sigmoid beats every smooth model by ΔAIC >= 10, the
curve sits on its floor for >= 2 of the smallest scales, passes half-way within the data
and rises by 10%→90% within ``max_width_decades``; otherwise ``smooth``. The threshold's
95% interval is a residual bootstrap of the chosen sigmoid (deterministic given the seed).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from services.common.errors import InvalidArgument, require
from services.fitting.bootstrap import (
    BootstrapSamples,
    bootstrap_estimates,
    resample_generator,
    resolve_seed,
)
from services.fitting.bootstrap import bootstrap as run_bootstrap
from services.fitting.least_squares import (
    LeastSquaresFit,
    curvature_fit_result,
    predict_curve,
    weighted_least_squares,
)
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.models.power_law import fit_power_law
from services.fitting.results import FitResult, ParamEstimate, Prediction
from services.fitting.uncertainty import t_quantile
from services.fitting.validation import (
    ArrayLike,
    as_vector,
    require_distinct,
    require_min_points,
    require_positive,
    require_same_length,
)

Verdict = Literal["emergent", "smooth", "inconclusive"]
SIGMOID_MODELS = ("logistic", "gompertz")
SMOOTH_MODELS = ("power_law", "linear_log")
MIN_POINTS = 5
_LN2 = math.log(2.0)
_NAN = float("nan")


@dataclass(frozen=True)
class EmergenceCriteria:
    """Thresholds of the verdict; defaults are argued in the module docstring and report."""

    min_delta_aic: float = 10.0  # sigmoid AIC below every smooth model's by at least this
    null_delta_aic: float = 2.0  # a trend must beat the constant model by more than this
    plateau_progress: float = 0.1  # "on the floor": fitted progress of the rise <= this
    min_plateau_points: int = 2  # smallest scales that must sit on the floor
    max_width_decades: float = 4.0  # 10%→90% rise of the sigmoid, in decades of scale


DEFAULT_CRITERIA = EmergenceCriteria()


@dataclass
class EmergenceResult:
    """What ``FitEmergence`` returns.

    ``models`` holds every fitted model (keys: logistic, gompertz, power_law, linear_log,
    constant). ``sigmoid`` names the better sigmoid, ``best_smooth`` the better smooth
    model, ``delta_aic``/``delta_bic`` = smooth minus sigmoid (positive favours the
    sigmoid). ``threshold`` is the scale where the sigmoid is half-way (interval by
    bootstrap when ``bootstrap > 0``, else curvature), ``width_decades`` its 10%→90% rise.
    ``predictions`` come from ``preferred`` (the model of lowest AIC).
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
    width_decades: ParamEstimate
    plateau_points: int
    predictions: list[Prediction]
    interval_method: str
    bootstrap: int = 0
    bootstrap_failed: int = 0
    seed: int | None = None


# --- sigmoid shapes: progress q(z) of the rise, z = s·(x - x_h), with q(0) = 1/2 ---------


@dataclass(frozen=True)
class _Shape:
    """A sigmoid's progress q(z), its derivative, and its inverse z(q)."""

    q: Callable[[np.ndarray], np.ndarray]
    dq: Callable[[np.ndarray], np.ndarray]
    z_at: Callable[[float], float]


def _gompertz_q(z: np.ndarray) -> np.ndarray:
    return np.exp(-_LN2 * np.exp(-np.clip(z, -700.0, 700.0)))


def _gompertz_dq(z: np.ndarray) -> np.ndarray:
    zc = np.clip(z, -700.0, 700.0)
    return _LN2 * np.exp(-zc - _LN2 * np.exp(-zc))


_SHAPES: dict[str, _Shape] = {
    "logistic": _Shape(
        q=special.expit,
        dq=lambda z: special.expit(z) * special.expit(-z),
        z_at=lambda q: float(special.logit(q)),
    ),
    "gompertz": _Shape(
        q=_gompertz_q,
        dq=_gompertz_dq,
        z_at=lambda q: -math.log(-math.log(q) / _LN2),
    ),
}


def width_decades(shape: str, sharpness: float) -> float:
    """10%→90% width of a sigmoid's rise in decades: (z(0.9) - z(0.1))/s."""
    sh = _SHAPES[shape]
    return (sh.z_at(0.9) - sh.z_at(0.1)) / sharpness if sharpness > 0 else math.inf


@dataclass(frozen=True)
class _Sigmoid:
    """y = f + (c - f)·q(s·(x - x_h)) with theta = (x_h, s[, f][, c]); fixed ends as given."""

    shape: _Shape
    floor: float | None
    ceiling: float | None

    def names(self) -> tuple[str, ...]:
        extra = (("floor",) if self.floor is None else ()) + (
            ("ceiling",) if self.ceiling is None else ()
        )
        return ("log10_threshold", "sharpness", *extra)

    def ends(self, theta: np.ndarray) -> tuple[float, float]:
        i = 2
        f = self.floor
        if f is None:
            f, i = float(theta[i]), i + 1
        c = self.ceiling if self.ceiling is not None else float(theta[i])
        return f, c

    def __call__(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        f, c = self.ends(theta)
        return f + (c - f) * self.shape.q(theta[1] * (x - theta[0]))

    def jac(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        f, c = self.ends(theta)
        z = theta[1] * (x - theta[0])
        q, dq = self.shape.q(z), self.shape.dq(z)
        cols = [-(c - f) * theta[1] * dq, (c - f) * (x - theta[0]) * dq]
        if self.floor is None:
            cols.append(1.0 - q)
        if self.ceiling is None:
            cols.append(q)
        return np.column_stack(cols)


# --- fitting helpers -------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    """Validated request: log10 scale, scores, weights and fixed ends."""

    scale: np.ndarray
    x: np.ndarray
    y: np.ndarray
    sigma: np.ndarray | None
    floor: float | None
    ceiling: float | None
    items: np.ndarray | None  # item counts: scores are binomial proportions

    @property
    def proportions(self) -> bool:
        return self.items is not None

    @property
    def absolute(self) -> bool:
        return self.sigma is not None


def _sigmoid_start(model: _Sigmoid, d: _Data) -> np.ndarray:
    """Grid over (x_h, s); free ends solved by weighted linear least squares at each node."""
    span = float(d.x.max() - d.x.min())
    w = np.ones_like(d.y) if d.sigma is None else 1.0 / d.sigma
    best_rss, best = math.inf, np.array([float(np.median(d.x)), 1.0])
    for xh in np.linspace(d.x.min() - 0.25 * span, d.x.max() + 0.25 * span, 41):
        for s in np.geomspace(0.2, 40.0, 16):
            q = model.shape.q(s * (d.x - xh))
            cols, rhs = [], d.y.copy()
            if model.floor is None:
                cols.append(1.0 - q)
            else:
                rhs = rhs - model.floor * (1.0 - q)
            if model.ceiling is None:
                cols.append(q)
            else:
                rhs = rhs - model.ceiling * q
            if cols:
                A = np.column_stack(cols) * w[:, None]
                coef, *_ = np.linalg.lstsq(A, rhs * w, rcond=None)
                rss = float(np.sum((A @ coef - rhs * w) ** 2))
            else:
                coef, rss = np.empty(0), float(np.sum((rhs * w) ** 2))
            if rss < best_rss:
                best_rss, best = rss, np.concatenate([[xh, s], coef])
    return best


def _sigmoid_bounds(model: _Sigmoid, d: _Data) -> tuple[list[float], list[float]]:
    """Box bounds: threshold within a span of the data, 0 < s <= 100/decade, sane ends."""
    span = float(d.x.max() - d.x.min())
    rng = float(d.y.max() - d.y.min()) or 1.0
    lo = [float(d.x.min() - span), 1e-3]
    hi = [float(d.x.max() + span), 100.0]
    end_lo = 0.0 if d.proportions else float(d.y.min() - 2.0 * rng)
    end_hi = 1.0 if d.proportions else float(d.y.max() + 2.0 * rng)
    for free in (model.floor is None, model.ceiling is None):
        if free:
            lo.append(end_lo)
            hi.append(end_hi)
    return lo, hi


def _fit_sigmoid(
    model: _Sigmoid,
    d: _Data,
    y: np.ndarray,
    budget: TimeBudget,
    theta0: np.ndarray | None = None,
) -> LeastSquaresFit:
    """Weighted least squares of one sigmoid (grid start unless ``theta0`` is given)."""
    lo, hi = _sigmoid_bounds(model, d)
    start = _sigmoid_start(model, dataclasses.replace(d, y=y)) if theta0 is None else theta0
    start = np.clip(start, np.array(lo) + 1e-12, np.array(hi) - 1e-12)
    return weighted_least_squares(
        model,
        d.x,
        y,
        start,
        jac=model.jac,
        sigma=d.sigma,
        absolute_sigma=d.absolute,
        bounds=(lo, hi),
        budget=budget,
    )


def _line(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return theta[0] + theta[1] * x


def _line_jac(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(x), x])


def _const(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.full_like(x, theta[0])


def _const_jac(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.ones((x.size, 1))


def _predictions(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    jac: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lsq: LeastSquaresFit,
    predict_scale: np.ndarray,
    x_new: np.ndarray,
) -> list[Prediction]:
    """Values with 95% prediction intervals of a new observation at ``predict_scale``."""
    if predict_scale.size == 0:
        return []
    mean, lo, hi = predict_curve(
        f, lsq.theta, lsq.cov, x_new, jac=jac, noise_var=lsq.noise_var(), dof=lsq.dof
    )
    return [
        Prediction(x={"scale": float(v)}, value=float(m), ci95=(float(a), float(b)))
        for v, m, a, b in zip(predict_scale, mean, lo, hi, strict=True)
    ]


def _linear_fit(
    d: _Data, predict_scale: np.ndarray, budget: TimeBudget, constant: bool = False
) -> FitResult:
    """y = a + b·log10(scale) (or y = m), centred for conditioning, reported uncentred."""
    xbar = float(np.mean(d.x))
    xc = d.x - xbar
    if constant:
        f, jac, names, theta0 = _const, _const_jac, ("mean",), np.array([float(np.mean(d.y))])
    else:
        slope, icpt = np.polyfit(xc, d.y, 1)
        f, jac, names, theta0 = _line, _line_jac, ("intercept", "slope"), np.array([icpt, slope])
    lsq = weighted_least_squares(
        f, xc, d.y, theta0, jac=jac, sigma=d.sigma, absolute_sigma=d.absolute, budget=budget
    )
    if not constant:  # intercept at log10(scale) = 0
        T = np.array([[1.0, -xbar], [0.0, 1.0]])
        lsq = dataclasses.replace(lsq, theta=T @ lsq.theta, cov=T @ lsq.cov @ T.T)
    result = curvature_fit_result("constant" if constant else "linear_log", names, lsq, d.y)
    result.predictions = _predictions(f, jac, lsq, predict_scale, np.log10(predict_scale))
    return result


def _power_law_fit(d: _Data, predict_scale: np.ndarray, limits: FitLimits) -> FitResult:
    """y = c - A·scale^(-alpha) toward the known ceiling, or y = E + A·scale^(-alpha).

    The deficit c - y is fitted with the shared power law when every point is below the
    known ceiling (same residuals, so AIC/BIC compare); otherwise the asymptote E is free.
    """
    sigma = None if d.sigma is None else d.sigma
    if d.ceiling is not None and np.all(d.y < d.ceiling):
        res = fit_power_law(
            d.scale,
            d.ceiling - d.y,
            sigma=sigma,
            absolute_sigma=d.absolute,
            predict_x=predict_scale,
            limits=limits,
        )
        res.predictions = [
            Prediction(
                x={"scale": p.x["x"]},
                value=d.ceiling - p.value,
                ci95=(d.ceiling - p.ci95[1], d.ceiling - p.ci95[0]),
            )
            for p in res.predictions
        ]
        res.extra["E"] = d.ceiling
        res.message = (
            f"deficit ceiling - y fitted (E = ceiling = {d.ceiling:g} fixed); {res.message}"
        )
    else:
        res = fit_power_law(
            d.scale,
            d.y,
            offset=True,
            sigma=sigma,
            absolute_sigma=d.absolute,
            predict_x=predict_scale,
            limits=limits,
        )
        res.predictions = [
            Prediction(x={"scale": p.x["x"]}, value=p.value, ci95=p.ci95) for p in res.predictions
        ]
    return res


def _ends(fit: FitResult, model: _Sigmoid) -> tuple[float, float]:
    """Floor and ceiling of a fitted sigmoid (given or fitted)."""
    f = model.floor if model.floor is not None else fit.params["floor"].value
    c = model.ceiling if model.ceiling is not None else fit.params["ceiling"].value
    return f, c


def _validate(
    scale: ArrayLike,
    score: ArrayLike,
    floor: float | None,
    ceiling: float | None,
    items: ArrayLike | float | None,
    limits: FitLimits,
) -> _Data:
    """Check the request, naming the field; return the arrays the fits use."""
    check_points(len(scale), limits, "scale")
    s = as_vector(scale, "scale")
    y = as_vector(score, "score")
    require_same_length(s, y, "score")
    require_positive(s, "scale")
    require_min_points(s.size, MIN_POINTS, "scale")
    require_distinct(s, 4, "scale")
    for name, v in (("floor", floor), ("ceiling", ceiling)):
        require(v is None or math.isfinite(v), name, f"must be a finite number, got {v}")
    if floor is not None and ceiling is not None:
        require(floor < ceiling, "ceiling", f"must exceed floor ({floor:g}), got {ceiling:g}")
    sigma = None
    if items is not None:
        m = as_vector(np.broadcast_to(np.asarray(items, dtype=np.float64), s.shape), "items")
        bad = np.flatnonzero(m < 1)
        if bad.size:
            i = int(bad[0])
            raise InvalidArgument.field(f"items[{i}]", f"must be >= 1, got {m[i]:g}")
        require(floor is None or floor >= 0.0, "floor", "must be >= 0 for proportions (items)")
        require(ceiling is None or ceiling <= 1.0, "ceiling", "must be <= 1 for proportions")
        lo, hi = 0.0, 1.0
        sigma = _binomial_sigma(y, m)
    else:
        m = None
        lo, hi = -math.inf, math.inf
    lo = lo if floor is None else max(lo, floor)
    hi = hi if ceiling is None else min(hi, ceiling)
    outside = np.flatnonzero((y < lo) | (y > hi))
    if outside.size:
        i = int(outside[0])
        raise InvalidArgument.field(
            f"score[{i}]", f"must lie in [{lo:g}, {hi:g}] (floor/ceiling/proportion), got {y[i]:g}"
        )
    return _Data(
        scale=s,
        x=np.log10(s),
        y=y,
        sigma=sigma,
        floor=floor,
        ceiling=ceiling,
        items=m,
    )


def _threshold_from_log10(xh: ParamEstimate) -> ParamEstimate:
    """Scale 10^x_h with delta-method stderr and the interval mapped from log10 units."""
    value = 10.0**xh.value
    return ParamEstimate(
        value=value,
        stderr=value * math.log(10.0) * xh.stderr,
        ci95=(10.0 ** xh.ci95[0], 10.0 ** xh.ci95[1]),
    )


def _threshold_estimates(
    fit: FitResult, lsq: LeastSquaresFit, shape: str
) -> tuple[ParamEstimate, ParamEstimate]:
    """Threshold scale 10^x_h and 10–90% width (decades) from curvature intervals."""
    s = fit.params["sharpness"]
    t = t_quantile(lsq.dof)
    thr = _threshold_from_log10(fit.params["log10_threshold"])
    w = width_decades(shape, s.value)
    w_se = w * s.stderr / s.value if s.value > 0 else _NAN
    return thr, ParamEstimate(value=w, stderr=w_se, ci95=(w - t * w_se, w + t * w_se))


def fit_emergence(
    scale: ArrayLike,
    score: ArrayLike,
    *,
    floor: float | None = None,
    ceiling: float | None = None,
    items: ArrayLike | float | None = None,
    predict_scale: ArrayLike = (),
    bootstrap: int = 200,
    seed: int | None = None,
    criteria: EmergenceCriteria = DEFAULT_CRITERIA,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> EmergenceResult:
    """Fit sigmoid and smooth models of ``score`` against ``scale`` and judge the rise.

    ``scale`` > 0 (parameters, FLOPs...), ``score`` higher-is-better within [floor,
    ceiling]; ``items`` (one count or one per point) makes scores binomial proportions.
    Raises InvalidArgument naming ``scale``/``scale[i]``, ``score``/``score[i]``,
    ``floor``, ``ceiling``, ``items``/``items[i]``, ``predict_scale[i]``, ``bootstrap``,
    ``seed``; FitTimeout past the time budget. See the module docstring for the models.
    """
    d = _validate(scale, score, floor, ceiling, items, limits)
    check_bootstrap(bootstrap, limits, "bootstrap")
    ps = as_vector(predict_scale, "predict_scale")
    require_positive(ps, "predict_scale")
    budget = budget or TimeBudget.from_limits(limits)

    models: dict[str, FitResult] = {}
    lsqs: dict[str, LeastSquaresFit] = {}
    shapes: dict[str, _Sigmoid] = {}
    for name in SIGMOID_MODELS:
        shapes[name] = _Sigmoid(_SHAPES[name], floor, ceiling)
        lsq = _fit_sigmoid(shapes[name], d, d.y, budget)
        res = curvature_fit_result(name, shapes[name].names(), lsq, d.y)
        res.predictions = _predictions(shapes[name], shapes[name].jac, lsq, ps, np.log10(ps))
        models[name], lsqs[name] = res, lsq
    try:
        models["power_law"] = _power_law_fit(d, ps, limits)
    except InvalidArgument as exc:  # e.g. a shape the power law cannot start from
        models["power_law"] = FitResult(
            model="power_law", params={}, r2=_NAN, aic=math.inf, bic=math.inf,
            n=d.y.size, converged=False, message=f"not fitted: {exc}",
        )  # fmt: skip
    models["linear_log"] = _linear_fit(d, ps, budget)
    models["constant"] = _linear_fit(d, ps, budget, constant=True)

    def aic(name: str) -> float:
        m = models[name]
        return m.aic if m.converged or name in SIGMOID_MODELS else math.inf

    sig = min(SIGMOID_MODELS, key=aic)
    smooth = min(SMOOTH_MODELS, key=aic)
    preferred = min(models, key=aic)
    delta_aic = aic(smooth) - models[sig].aic
    delta_bic = models[smooth].bic - models[sig].bic
    sig_fit, sig_lsq, sig_model = models[sig], lsqs[sig], shapes[sig]
    threshold, width = _threshold_estimates(sig_fit, sig_lsq, sig)
    f, c = _ends(sig_fit, sig_model)
    progress = sig_model.shape.q(
        sig_fit.params["sharpness"].value * (d.x - np.log10(threshold.value))
    )
    order = np.argsort(d.x)
    plateau = 0
    for i in order:  # smallest scales sitting on the floor, counted up to the first that is not
        if progress[i] > criteria.plateau_progress:
            break
        plateau += 1

    result = EmergenceResult(
        verdict="inconclusive",
        reason="",
        models=models,
        sigmoid=sig,
        best_smooth=smooth,
        preferred=preferred,
        delta_aic=float(delta_aic),
        delta_bic=float(delta_bic),
        threshold=threshold,
        width_decades=width,
        plateau_points=plateau,
        predictions=list(models[preferred].predictions),
        interval_method="curvature",
    )

    if bootstrap > 0:
        used = resolve_seed(seed)
        _bootstrap_threshold(result, d, sig_model, sig_lsq, bootstrap, used, budget)

    trend_aic = min(aic(sig), aic(smooth))
    if not np.isfinite(trend_aic):
        result.reason = "no model could be fitted"
    elif models["constant"].aic <= trend_aic + criteria.null_delta_aic:
        result.reason = (
            "no significant change with scale: a constant fits within "
            f"ΔAIC = {models['constant'].aic - trend_aic:.1f} of the best trend"
        )
    elif delta_aic < criteria.min_delta_aic:
        result.verdict = "smooth"
        result.reason = (
            f"a smooth model ({smooth}) fits as well as the sigmoid "
            f"(ΔAIC = {delta_aic:.1f} < {criteria.min_delta_aic:g})"
        )
    elif not sig_fit.converged:
        result.reason = f"the {sig} fit did not converge: {sig_fit.message}"
    elif c <= f:
        result.reason = f"the best sigmoid ({sig}) falls with scale; scores must rise"
    elif plateau < criteria.min_plateau_points:
        result.verdict = "smooth"
        result.reason = (
            f"the sigmoid ({sig}) fits better (ΔAIC = {delta_aic:.1f}) but the score already "
            f"rises at the smallest scales ({plateau} point(s) on the floor, "
            f"{criteria.min_plateau_points} needed): no flat phase before a jump"
        )
    elif np.max(progress) < 0.5:
        result.reason = (
            f"the rise begins inside the data but does not reach half-way by the largest "
            f"scale; the threshold ({threshold.value:.3g}) is an extrapolation"
        )
    elif width.value > criteria.max_width_decades:
        result.verdict = "smooth"
        result.reason = (
            f"the sigmoid ({sig}) fits better (ΔAIC = {delta_aic:.1f}) but its 10–90% rise "
            f"spans {width.value:.2f} decades (> {criteria.max_width_decades:g})"
        )
    else:
        result.verdict = "emergent"
        result.reason = (
            f"{sig} beats {smooth} by ΔAIC = {delta_aic:.1f}; floor at {plateau} smallest "
            f"scales, half-way at {threshold.value:.3g}, 10–90% rise in "
            f"{width.value:.2f} decades"
        )
    return result


def _binomial_sigma(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Binomial standard deviations of proportions y over m items (Agresti–Coull smoothed)."""
    ytil = (y * m + 2.0) / (m + 4.0)
    return np.sqrt(ytil * (1.0 - ytil) / m)


def _parametric_samples(
    refit: Callable[[np.ndarray], np.ndarray],
    draw: Callable[[np.random.Generator], np.ndarray],
    resamples: int,
    seed: int,
    budget: TimeBudget,
) -> BootstrapSamples:
    """Parametric bootstrap: ``refit(draw(rng_r))`` for r < resamples, NaN rows on failure.

    rng_r is ``bootstrap.resample_generator(seed, r)`` (the shared per-resample stream).
    LOCAL: replace by a shared parametric runner in services/fitting/bootstrap.py if added.
    """
    rows = []
    for r in range(resamples):
        budget.check()
        try:
            theta = np.asarray(refit(draw(resample_generator(seed, r))), dtype=np.float64)
        except (InvalidArgument, ArithmeticError, np.linalg.LinAlgError):
            theta = np.full(1, np.nan)
        rows.append(theta)
    width = max(row.size for row in rows)
    out = np.full((resamples, width), np.nan)
    for i, row in enumerate(rows):
        if row.size == width and np.all(np.isfinite(row)):
            out[i] = row
    failed = int(np.sum(~np.all(np.isfinite(out), axis=1)))
    return BootstrapSamples(samples=out, failed=failed, seed=seed)


def _bootstrap_threshold(
    result: EmergenceResult,
    d: _Data,
    model: _Sigmoid,
    lsq: LeastSquaresFit,
    resamples: int,
    seed: int,
    budget: TimeBudget,
) -> None:
    """Bootstrap the chosen sigmoid; percentile intervals of its parameters, threshold, width.

    With item counts: parametric, y* ~ Binomial(M, fitted)/M with σ recomputed from y* as
    for the data. Without: residual, y* = fitted + e* with e* drawn from the residuals
    inflated by sqrt(n/(n-p)). Resample r draws from ``SeedSequence(seed, spawn_key=(r,))``.
    """
    n, p = d.y.size, lsq.theta.size

    def refit_y(y_star: np.ndarray) -> np.ndarray:
        dd = (
            d if d.items is None else dataclasses.replace(d, sigma=_binomial_sigma(y_star, d.items))
        )
        fit = _fit_sigmoid(model, dd, y_star, budget, theta0=lsq.theta)
        if not fit.converged:
            return np.full(p + 1, np.nan)
        return np.append(fit.theta, width_decades(result.sigmoid, float(fit.theta[1])))

    if d.items is not None:
        items = d.items.astype(np.int64)
        prob = np.clip(lsq.fitted, 0.0, 1.0)
        boot = _parametric_samples(
            refit_y, lambda g: g.binomial(items, prob) / d.items, resamples, seed, budget
        )
    else:
        resid = lsq.residuals * math.sqrt(n / max(n - p, 1))
        boot = run_bootstrap(
            lambda idx: refit_y(lsq.fitted + resid[idx]), n, resamples, seed, budget=budget
        )
    names = (*model.names(), "width_decades")
    values = np.append(lsq.theta, result.width_decades.value)
    est = bootstrap_estimates(names, values, boot.samples)
    fit = result.models[result.sigmoid]
    fit.params = {k: est[k] for k in model.names()}
    fit.interval_method = "bootstrap"
    fit.bootstrap, fit.bootstrap_failed, fit.seed = resamples, boot.failed, seed
    result.threshold = _threshold_from_log10(est["log10_threshold"])
    result.width_decades = est["width_decades"]
    result.interval_method = "bootstrap"
    result.bootstrap, result.bootstrap_failed, result.seed = resamples, boot.failed, seed

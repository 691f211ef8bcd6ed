"""Is a score's rise with scale a sharp, emergent jump or a smooth trend? (``FitEmergence``)

Models, each fitted to the same points (x = log10 scale):

* ``logistic``  y = f + (c - f)·expit(s·(x - x_h));
* ``gompertz``  y = f + (c - f)·exp(-ln2·e^(-s·(x - x_h))): the exact shape of exact match
  p^k when per-token accuracy is p = exp(-(N_c/N)^alpha), so a metric mirage is fitted
  without the bias a symmetric logistic has (about +0.09 decade in x_h);
* ``power_law`` y = c - A·scale^(-alpha) toward the known ceiling c (the asymptote ``E``
  free when the ceiling is unknown or reached), through ``models.power_law.fit_power_law``;
* ``linear_log`` y = a + b·x, and ``constant`` y = m (the null: no change with scale);
* on request, ``broken_power_law`` (Caballero et al. 2022, one break) of the deficit c - y,
  reported beside the others but kept out of the verdict.

In both sigmoids x_h is the half-way point (threshold scale 10^x_h) and s the sharpness per
decade; floor f and ceiling c are fixed when given, fitted otherwise. Without item counts
the fits are unweighted least squares and AIC/BIC Gaussian with the noise variance
estimated. With item counts M_i the scores are binomial proportions: every model is fitted
by binomial maximum likelihood (iteratively reweighted least squares, σ_i² = f_i(1-f_i)/M_i
at the current fit, starting from Agresti–Coull ỹ = (yM+2)/(M+4)), and AIC/BIC come from
the binomial log-likelihood; f is kept within half an item of 0 and 1 in both, so models
that leave [0, 1] keep finite weights and likelihoods. Overdispersion beyond binomial
(ĉ = Pearson χ²/df of the best trend model > 1) switches to QAIC and widens intervals.

Verdict (``EmergenceCriteria``): ``inconclusive`` when a constant fits within ΔAIC 2 of
any trend, when the sigmoid fails or falls, or when the rise has not reached half-way by
the largest scale; ``emergent`` when the better sigmoid beats every smooth model by
ΔAIC >= 10, sits on its floor at >= 2 of the smallest scales and rises from 10% to 90% in
<= 4 decades; ``smooth`` otherwise. The threshold's 95% interval is a bootstrap of the
chosen sigmoid (parametric binomial with item counts, residual without), reproducible
from the seed.
"""

from __future__ import annotations

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
    parametric_bootstrap,
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
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.power_law import fit_power_law, power_law_values
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
MAX_IRLS = 50
SIGMOID_MAX_NFEV_PER_PARAM = 50  # a sigmoid on flat noise crawls; well-posed fits need < 30
IRLS_TOL = 1e-4  # settled: no fitted value moves by more than 1e-4 of its binomial sd
_LN2 = math.log(2.0)
_NAN = float("nan")


@dataclass(frozen=True)
class EmergenceCriteria:
    """Thresholds of the verdict (see the module docstring)."""

    min_delta_aic: float = 10.0  # sigmoid AIC below every smooth model's by at least this
    null_delta_aic: float = 2.0  # a trend must beat the constant model by more than this
    plateau_progress: float = 0.1  # "on the floor": fitted progress of the rise <= this
    min_plateau_points: int = 2  # smallest scales that must sit on the floor
    max_width_decades: float = 4.0  # 10%→90% rise of the sigmoid, in decades of scale


DEFAULT_CRITERIA = EmergenceCriteria()


@dataclass
class EmergenceResult:
    """What ``FitEmergence`` returns.

    ``models``: every fitted model (logistic, gompertz, power_law, linear_log, constant;
    broken_power_law when requested).
    ``sigmoid``/``best_smooth``: the better of each kind by AIC; ``preferred``: lowest AIC
    overall. ``delta_aic``/``delta_bic``: smooth minus sigmoid (positive favours the
    sigmoid). ``threshold``: scale where the sigmoid is half-way; ``width_decades``: its
    10%→90% rise; intervals by bootstrap when ``bootstrap > 0`` (``interval_method``).
    ``plateau_points``: smallest scales on the floor. ``predictions``: from ``preferred``.
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
    likelihood: Literal["gaussian", "binomial", "quasi-binomial"]
    dispersion: float  # ĉ of the quasi-binomial correction (1: none)
    interval_method: str
    bootstrap: int = 0
    bootstrap_failed: int = 0
    seed: int | None = None


# --- sigmoid shapes: progress q(z) of the rise, z = s·(x - x_h), q(0) = 1/2 ------------


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


def _logistic_dq(z: np.ndarray) -> np.ndarray:
    return special.expit(z) * special.expit(-z)


SHAPES: dict[str, _Shape] = {
    "logistic": _Shape(q=special.expit, dq=_logistic_dq, z_at=lambda q: float(special.logit(q))),
    "gompertz": _Shape(
        q=_gompertz_q, dq=_gompertz_dq, z_at=lambda q: -math.log(-math.log(q) / _LN2)
    ),
}


def width_decades(shape: str, sharpness: float) -> float:
    """10%→90% width of a sigmoid's rise in decades: (z(0.9) - z(0.1))/s."""
    sh = SHAPES[shape]
    return (sh.z_at(0.9) - sh.z_at(0.1)) / sharpness if sharpness > 0 else math.inf


@dataclass(frozen=True)
class _Sigmoid:
    """y = f + (c - f)·q(s·(x - x_h)), theta = (x_h, s[, f][, c]); given ends stay fixed."""

    shape: _Shape
    floor: float | None
    ceiling: float | None

    def names(self) -> tuple[str, ...]:
        free = (("floor",) if self.floor is None else ()) + (
            ("ceiling",) if self.ceiling is None else ()
        )
        return ("log10_threshold", "sharpness", *free)

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


# --- data, likelihood and the reweighting loop -----------------------------------------


@dataclass(frozen=True)
class _Data:
    """Validated request: scale, log10 scale, scores, item counts, fixed ends, predictions."""

    scale: np.ndarray
    x: np.ndarray
    y: np.ndarray
    items: np.ndarray | None  # item counts: scores are binomial proportions
    floor: float | None
    ceiling: float | None
    predict_scale: np.ndarray


@dataclass(frozen=True)
class _Fit:
    """One model fitted at one weighting: its result, values at the data, and raw fit."""

    result: FitResult
    fitted: np.ndarray
    lsq: LeastSquaresFit | None  # None for the shared power law (result only)


FitWith = Callable[[np.ndarray, np.ndarray | None, np.ndarray | None], _Fit]
"""fit(y, sigma, theta0) -> _Fit: one weighted fit; sigma None means unweighted."""


def _half_item_clip(p: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Probabilities kept within half an item of 0 and 1: [1/(2M), 1 - 1/(2M)]."""
    lo = 0.5 / items
    return np.clip(p, lo, 1.0 - lo)


def _binomial_sd(p: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Binomial sd of a proportion, sqrt(p̃(1-p̃)/M), with p̃ the half-item-clipped p."""
    pc = _half_item_clip(p, items)
    return np.sqrt(pc * (1.0 - pc) / items)


def _agresti_coull_sd(y: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Starting weights from the data: sd at ỹ = (yM + 2)/(M + 4)."""
    return _binomial_sd((y * items + 2.0) / (items + 4.0), items)


def binomial_log_likelihood(y: np.ndarray, fitted: np.ndarray, items: np.ndarray) -> float:
    """Σ M·(y·ln f̃ + (1-y)·ln(1-f̃)), f̃ = fitted clipped to [1/(2M), 1 - 1/(2M)].

    The half-item floor keeps every model's likelihood finite (a line may leave [0, 1])
    and changes a model that is right at the floor by less than half an item's worth.
    The combinatorial constant is dropped (the same for every model).
    """
    f = _half_item_clip(fitted, items)
    return float(np.sum(items * (special.xlogy(y, f) + special.xlogy(1.0 - y, 1.0 - f))))


def _fit_model(
    fit: FitWith,
    y: np.ndarray,
    items: np.ndarray | None,
    theta0: np.ndarray | None = None,
    sigma0: np.ndarray | None = None,
) -> _Fit:
    """Unweighted fit, or binomial maximum likelihood by reweighting until σ settles.

    The fixed point of weights σ² = f(1-f)/M at the fit solves the binomial score equations,
    so it is the binomial MLE; AIC/BIC are then replaced by the binomial ones.
    """
    if items is None:
        return fit(y, None, theta0)
    sigma = _agresti_coull_sd(y, items) if sigma0 is None else sigma0
    out = fit(y, sigma, theta0)
    for _ in range(MAX_IRLS):
        sigma = _binomial_sd(out.fitted, items)
        prev = out.fitted
        out = fit(y, sigma, None if out.lsq is None else out.lsq.theta)
        if np.max(np.abs(out.fitted - prev) / sigma) < IRLS_TOL:
            break
    else:
        out.result.message += "; reweighting did not settle"
        out.result.converged = False
    k = len(out.result.params)
    ll = binomial_log_likelihood(y, out.fitted, items)
    out.result.aic = 2.0 * k - 2.0 * ll
    out.result.bic = k * math.log(y.size) - 2.0 * ll
    out.result.objective = -ll
    return out


# --- the models --------------------------------------------------------------------------


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


def _sigmoid_start(model: _Sigmoid, d: _Data, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Grid over (x_h, s); free ends by weighted linear least squares at each node."""
    span = float(d.x.max() - d.x.min())
    best_rss, best = math.inf, np.array([float(np.median(d.x)), 1.0])
    for xh in np.linspace(d.x.min() - 0.25 * span, d.x.max() + 0.25 * span, 41):
        for s in np.geomspace(0.2, 40.0, 16):
            q = model.shape.q(s * (d.x - xh))
            cols, rhs = [], y.copy()
            if model.floor is None:
                cols.append(1.0 - q)
            else:
                rhs = rhs - model.floor * (1.0 - q)
            if model.ceiling is None:
                cols.append(q)
            else:
                rhs = rhs - model.ceiling * q
            coef = np.empty(0)
            if cols:
                A = np.column_stack(cols) * w[:, None]
                coef, *_ = np.linalg.lstsq(A, rhs * w, rcond=None)
                rhs = rhs - np.column_stack(cols) @ coef
            rss = float(np.sum((rhs * w) ** 2))
            if rss < best_rss:
                best_rss, best = rss, np.concatenate([[xh, s], coef])
    return best


def _sigmoid_bounds(model: _Sigmoid, d: _Data) -> tuple[np.ndarray, np.ndarray]:
    """Threshold within one data span of the data, 1e-3 <= s <= 100 per decade, sane ends."""
    span = float(d.x.max() - d.x.min())
    rng = float(d.y.max() - d.y.min()) or 1.0
    lo = [float(d.x.min() - span), 1e-3]
    hi = [float(d.x.max() + span), 100.0]
    props = d.items is not None
    for free in (model.floor is None, model.ceiling is None):
        if free:
            lo.append(0.0 if props else float(d.y.min() - 2.0 * rng))
            hi.append(1.0 if props else float(d.y.max() + 2.0 * rng))
    return np.array(lo), np.array(hi)


def _sigmoid_fitter(name: str, model: _Sigmoid, d: _Data, budget: TimeBudget) -> FitWith:
    """fit(y, sigma, theta0) for one sigmoid: grid start unless theta0, then bounded TRF."""
    lo, hi = _sigmoid_bounds(model, d)

    def fit(y: np.ndarray, sigma: np.ndarray | None, theta0: np.ndarray | None) -> _Fit:
        w = np.ones_like(y) if sigma is None else 1.0 / sigma
        start = _sigmoid_start(model, d, y, w) if theta0 is None else theta0
        lsq = weighted_least_squares(
            model,
            d.x,
            y,
            np.clip(start, lo + 1e-9, hi - 1e-9),
            jac=model.jac,
            sigma=sigma,
            absolute_sigma=sigma is not None,
            bounds=(lo.tolist(), hi.tolist()),
            max_nfev=SIGMOID_MAX_NFEV_PER_PARAM * lo.size,
            budget=budget,
        )
        res = curvature_fit_result(name, model.names(), lsq, y)
        res.predictions = _predictions(
            model, model.jac, lsq, d.predict_scale, np.log10(d.predict_scale)
        )
        return _Fit(res, lsq.fitted, lsq)

    return fit


def line(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Straight line theta[0] + theta[1]·x (linear-in-log model; mirage's log-log law)."""
    return theta[0] + theta[1] * x


def line_jacobian(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂line/∂theta as an (n, 2) array."""
    return np.column_stack([np.ones_like(x), x])


def _const(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.full_like(x, theta[0])


def _const_jac(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.ones((x.size, 1))


def _linear_fitter(d: _Data, budget: TimeBudget, constant: bool) -> FitWith:
    """fit(y, sigma, _) for y = a + b·log10(scale) (reported at log10 scale = 0) or y = m."""
    f, jac = (_const, _const_jac) if constant else (line, line_jacobian)
    names = ("mean",) if constant else ("intercept", "slope")

    def fit(y: np.ndarray, sigma: np.ndarray | None, theta0: np.ndarray | None) -> _Fit:
        theta_start = np.array([np.mean(y)]) if constant else np.polyfit(d.x, y, 1)[::-1]
        lsq = weighted_least_squares(
            f, d.x, y, theta_start, jac=jac, sigma=sigma, absolute_sigma=sigma is not None,
            budget=budget,
        )  # fmt: skip
        res = curvature_fit_result("constant" if constant else "linear_log", names, lsq, y)
        res.predictions = _predictions(f, jac, lsq, d.predict_scale, np.log10(d.predict_scale))
        return _Fit(res, lsq.fitted, lsq)

    return fit


def _mapped_predictions(preds: list[Prediction], c: float, sign: float) -> list[Prediction]:
    """Predictions of a fitted target t = c + sign·y mapped back to y, keyed by ``scale``."""
    out = []
    for p in preds:
        a, b = c + sign * p.ci95[0], c + sign * p.ci95[1]
        out.append(
            Prediction(x={"scale": p.x["x"]}, value=c + sign * p.value, ci95=(min(a, b), max(a, b)))
        )
    return out


def _power_law_fitter(d: _Data, limits: FitLimits, budget: TimeBudget) -> FitWith:
    """fit(y, sigma, _) for y = c - A·scale^(-alpha) (known ceiling c, every y below it:
    the deficit c - y is fitted, same residuals) or y = E + A·scale^(-alpha) (E free)."""
    deficit = d.ceiling is not None and bool(np.all(d.y < d.ceiling))

    c = float(d.ceiling) if deficit and d.ceiling is not None else 0.0
    sign = -1.0 if deficit else 1.0

    def fit(y: np.ndarray, sigma: np.ndarray | None, theta0: np.ndarray | None) -> _Fit:
        res = fit_power_law(
            d.scale, c + sign * y, offset=not deficit, sigma=sigma,
            absolute_sigma=sigma is not None, predict_x=d.predict_scale, limits=limits,
            budget=budget,
        )  # fmt: skip
        res.predictions = _mapped_predictions(res.predictions, c, sign)
        if deficit:
            res.extra["E"] = float(c)
            res.message = f"deficit c - y fitted, E = ceiling = {c:g} fixed; {res.message}"
        return _Fit(res, c + sign * power_law_values(res, d.scale), None)

    return fit


def _broken_power_law(d: _Data, limits: FitLimits, budget: TimeBudget) -> FitResult:
    """Caballero et al.'s broken power law (1 break), reported beside the verdict's models.

    It fits log of a positive target: the deficit c - y under a known ceiling, else y. Its
    Gaussian AIC/BIC on the log target become y-space ones by the change-of-variables term
    2·Σ ln target (comparable with the unweighted models); with item counts (binomial
    likelihood) they are not comparable and are NaN. Not part of the verdict: a sharp break
    is itself a transition, not a smooth alternative.
    """
    deficit = d.ceiling is not None and bool(np.all(d.y < d.ceiling))
    target = d.ceiling - d.y if deficit else d.y
    if np.any(target <= 0):
        raise InvalidArgument.field("score", "broken power law needs scores below the ceiling")
    res = fit_broken_power_law(
        d.scale, target, predict_x=d.predict_scale, limits=limits, budget=budget
    )
    c = float(d.ceiling) if deficit and d.ceiling is not None else 0.0
    res.predictions = _mapped_predictions(res.predictions, c, -1.0 if deficit else 1.0)
    if d.items is None:
        jac_term = 2.0 * float(np.sum(np.log(target)))
        res.aic, res.bic = res.aic + jac_term, res.bic + jac_term
    else:
        res.aic = res.bic = _NAN
        res.message += "; AIC/BIC (log-space Gaussian) not comparable with binomial models"
    if deficit:
        res.message = f"deficit c - y fitted (c = {c:g}); {res.message}"
    return res


def _not_fitted(name: str, n: int, why: str) -> _Fit:
    """Placeholder for a model that could not be fitted at all (never preferred)."""
    res = FitResult(
        model=name, params={}, r2=_NAN, aic=math.inf, bic=math.inf, n=n, converged=False,
        message=f"not fitted: {why}",
    )  # fmt: skip
    return _Fit(res, np.full(n, np.nan), None)


# --- validation ---------------------------------------------------------------------------


def _validate(
    scale: ArrayLike,
    score: ArrayLike,
    floor: float | None,
    ceiling: float | None,
    items: ArrayLike | float | None,
    predict_scale: ArrayLike,
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
    m = None
    lo, hi = -math.inf, math.inf
    if items is not None:
        raw = np.atleast_1d(np.asarray(items, dtype=np.float64))
        if raw.size == 1:
            raw = np.full(s.size, raw[0])
        m = as_vector(raw, "items")
        require_same_length(s, m, "items")
        bad = np.flatnonzero(m < 1)
        if bad.size:
            i = int(bad[0])
            raise InvalidArgument.field(f"items[{i}]", f"must be >= 1, got {m[i]:g}")
        require(floor is None or floor >= 0.0, "floor", "must be >= 0 for proportions (items)")
        require(ceiling is None or ceiling <= 1.0, "ceiling", "must be <= 1 for proportions")
        lo, hi = 0.0, 1.0
    lo = lo if floor is None else max(lo, floor)
    hi = hi if ceiling is None else min(hi, ceiling)
    outside = np.flatnonzero((y < lo) | (y > hi))
    if outside.size:
        i = int(outside[0])
        below = floor is not None and y[i] < floor
        hint = "; omit floor to fit it (chance-level scores scatter below chance)" if below else ""
        raise InvalidArgument.field(
            f"score[{i}]",
            f"must lie in [{lo:g}, {hi:g}] (floor, ceiling, proportion), got {y[i]:g}{hint}",
        )
    ps = as_vector(predict_scale, "predict_scale")
    require_positive(ps, "predict_scale")
    return _Data(
        scale=s, x=np.log10(s), y=y, items=m, floor=floor, ceiling=ceiling, predict_scale=ps
    )


# --- threshold and verdict ----------------------------------------------------------------


def _threshold_from_log10(xh: ParamEstimate) -> ParamEstimate:
    """Scale 10^x_h with delta-method stderr and the interval mapped from log10 units."""
    with np.errstate(over="ignore"):
        value, lo, hi = np.power(10.0, [xh.value, xh.ci95[0], xh.ci95[1]])
    return ParamEstimate(
        value=float(value),
        stderr=float(value * math.log(10.0) * xh.stderr),
        ci95=(float(lo), float(hi)),
    )


def _inflate(est: ParamEstimate, factor: float) -> ParamEstimate:
    """Widen an estimate's stderr and interval by ``factor`` about its value."""
    v = est.value
    return ParamEstimate(
        value=v,
        stderr=est.stderr * factor,
        ci95=(v + (est.ci95[0] - v) * factor, v + (est.ci95[1] - v) * factor),
    )


def _apply_dispersion(fits: dict[str, _Fit], d: _Data) -> float:
    """Quasi-binomial correction (Burnham & Anderson): ĉ = Pearson χ²/(n - k) of the best
    trend model; when ĉ > 1 every model's AIC/BIC becomes QAIC/QBIC = 2·nll/ĉ + (k+1)·{2, ln n}
    and its intervals widen by sqrt(ĉ). Returns ĉ (1 without item counts or when ĉ <= 1)."""
    if d.items is None:
        return 1.0
    trend = [f for name, f in fits.items() if name != "constant" and np.isfinite(f.result.aic)]
    if not trend:
        return 1.0
    best = min(trend, key=lambda f: f.result.aic)
    k = len(best.result.params)
    if d.y.size <= k:
        return 1.0
    chi2 = float(np.sum(((d.y - best.fitted) / _binomial_sd(best.fitted, d.items)) ** 2))
    c_hat = chi2 / (d.y.size - k)
    if c_hat <= 1.0:
        return 1.0
    for f in fits.values():
        res = f.result
        if not np.isfinite(res.aic):
            continue
        kq = len(res.params) + 1
        res.aic = 2.0 * res.objective / c_hat + 2.0 * kq
        res.bic = 2.0 * res.objective / c_hat + kq * math.log(d.y.size)
        res.params = {n: _inflate(e, math.sqrt(c_hat)) for n, e in res.params.items()}
        res.extra["dispersion"] = c_hat
        res.message += f"; overdispersed (ĉ = {c_hat:.3g}): QAIC/QBIC, intervals × sqrt(ĉ)"
    return c_hat


def _width_estimate(shape: str, sharp: ParamEstimate, dof: float) -> ParamEstimate:
    """Width in decades from the sharpness, delta-method stderr and t-interval."""
    w = width_decades(shape, sharp.value)
    se = w * sharp.stderr / sharp.value if sharp.value > 0 else _NAN
    t = t_quantile(dof)
    return ParamEstimate(value=w, stderr=se, ci95=(w - t * se, w + t * se))


def _bootstrap(
    fit_with: FitWith,
    best: _Fit,
    d: _Data,
    shape: str,
    resamples: int,
    seed: int,
    budget: TimeBudget,
    dispersion: float = 1.0,
) -> tuple[BootstrapSamples, tuple[str, ...]]:
    """Refit the chosen sigmoid on bootstrap data; rows (theta..., width_decades).

    With item counts: parametric, y* ~ Binomial(M, fitted)/M, each refit the same binomial
    MLE as the data's. Without: residual, y* = fitted + e*, e* drawn from the residuals
    inflated by sqrt(n/(n-p)). Resample r draws from ``SeedSequence(seed, spawn_key=(r,))``.
    """
    lsq = best.lsq
    assert lsq is not None
    n, p = d.y.size, lsq.theta.size
    sigma0 = None if d.items is None else _binomial_sd(best.fitted, d.items)

    def refit(y_star: np.ndarray) -> np.ndarray:
        f = fit_with(y_star, sigma0, lsq.theta)  # one step: weights of the generating fit
        if not f.result.converged or f.lsq is None:
            return np.full(p + 1, np.nan)
        return np.append(f.lsq.theta, width_decades(shape, float(f.lsq.theta[1])))

    if d.items is not None:
        counts, items = d.items.astype(np.int64), d.items
        prob = np.clip(best.fitted, 0.0, 1.0)
        boot = parametric_bootstrap(
            lambda rng: refit(rng.binomial(counts, prob) / items), resamples, seed, budget=budget
        )
        rows = boot.samples
        if dispersion > 1.0:  # quasi-binomial: deviations widened by sqrt(ĉ)
            rows[:, :p] = lsq.theta + math.sqrt(dispersion) * (rows[:, :p] - lsq.theta)
            with np.errstate(divide="ignore", invalid="ignore"):
                rows[:, p] = np.where(
                    rows[:, 1] > 0, width_decades(shape, 1.0) / rows[:, 1], np.nan
                )
    else:
        resid = lsq.residuals * math.sqrt(n / max(n - p, 1))
        boot = run_bootstrap(
            lambda idx: refit(best.fitted + resid[idx]), n, resamples, seed, budget=budget
        )
    return boot, (*best.result.params.keys(), "width_decades")


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
    broken_power_law: bool = False,
    criteria: EmergenceCriteria = DEFAULT_CRITERIA,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> EmergenceResult:
    """Fit sigmoid and smooth models of ``score`` against ``scale`` and judge the rise.

    ``scale`` > 0 (parameters, FLOPs...), ``score`` higher-is-better within [floor,
    ceiling]; ``items`` (one count, or one per point) makes scores binomial proportions.
    Raises InvalidArgument naming ``scale``/``scale[i]``, ``score``/``score[i]``,
    ``floor``, ``ceiling``, ``items``/``items[i]``, ``predict_scale[i]``, ``bootstrap``,
    ``seed``; LimitExceeded over ``limits``; FitTimeout past the time budget.
    ``broken_power_law`` adds that model to ``models`` (not to the verdict).
    """
    d = _validate(scale, score, floor, ceiling, items, predict_scale, limits)
    check_bootstrap(bootstrap, limits, "bootstrap")
    used_seed = resolve_seed(seed) if bootstrap > 0 else seed
    budget = budget or TimeBudget.from_limits(limits)

    fitters: dict[str, FitWith] = {
        name: _sigmoid_fitter(name, _Sigmoid(SHAPES[name], floor, ceiling), d, budget)
        for name in SIGMOID_MODELS
    }
    fitters["power_law"] = _power_law_fitter(d, limits, budget)
    fitters["linear_log"] = _linear_fitter(d, budget, constant=False)
    fitters["constant"] = _linear_fitter(d, budget, constant=True)
    fits: dict[str, _Fit] = {}
    for name, fitter in fitters.items():
        try:
            fits[name] = _fit_model(fitter, d.y, d.items)
        except (InvalidArgument, ArithmeticError, np.linalg.LinAlgError) as exc:
            fits[name] = _not_fitted(name, d.y.size, str(exc))
    dispersion = _apply_dispersion(fits, d)
    models = {name: f.result for name, f in fits.items()}
    if broken_power_law:
        try:
            models["broken_power_law"] = _broken_power_law(d, limits, budget)
        except (InvalidArgument, ArithmeticError, np.linalg.LinAlgError) as exc:
            models["broken_power_law"] = _not_fitted("broken_power_law", d.y.size, str(exc)).result

    def aic(name: str) -> float:
        m = models[name]
        ok = (m.converged or name in SIGMOID_MODELS) and np.isfinite(m.aic)
        return m.aic if ok else math.inf

    sig = min(SIGMOID_MODELS, key=aic)
    smooth = min(SMOOTH_MODELS, key=aic)
    preferred = min(models, key=aic)
    best = fits[sig]
    assert best.lsq is not None
    sig_model = _Sigmoid(SHAPES[sig], floor, ceiling)
    params = best.result.params
    threshold = _threshold_from_log10(params["log10_threshold"])
    width = _width_estimate(sig, params["sharpness"], best.lsq.dof)
    result = EmergenceResult(
        verdict="inconclusive",
        reason="",
        models=models,
        sigmoid=sig,
        best_smooth=smooth,
        preferred=preferred,
        delta_aic=float(aic(smooth) - models[sig].aic),
        delta_bic=float(models[smooth].bic - models[sig].bic),
        threshold=threshold,
        width_decades=width,
        plateau_points=0,
        predictions=list(models[preferred].predictions),
        likelihood="gaussian"
        if d.items is None
        else ("quasi-binomial" if dispersion > 1.0 else "binomial"),
        dispersion=dispersion,
        interval_method="curvature",
    )
    if bootstrap > 0:
        assert used_seed is not None
        boot, names = _bootstrap(
            fitters[sig], best, d, sig, bootstrap, used_seed, budget, dispersion
        )
        est = bootstrap_estimates(names, np.append(best.lsq.theta, width.value), boot.samples)
        best.result.params = {k: est[k] for k in names[:-1]}
        best.result.interval_method = "bootstrap"
        best.result.bootstrap, best.result.bootstrap_failed = bootstrap, boot.failed
        best.result.seed = used_seed
        result.threshold = _threshold_from_log10(est["log10_threshold"])
        result.width_decades = est["width_decades"]
        result.interval_method = "bootstrap"
        result.bootstrap, result.bootstrap_failed, result.seed = bootstrap, boot.failed, used_seed

    f, c = sig_model.ends(best.lsq.theta)
    progress = sig_model.shape.q(best.lsq.theta[1] * (d.x - best.lsq.theta[0]))
    for i in np.argsort(d.x, kind="stable"):  # smallest scales on the floor, in order
        if progress[i] > criteria.plateau_progress:
            break
        result.plateau_points += 1
    _judge(result, criteria, aic(sig), aic(smooth), c > f, float(np.max(progress)))
    return result


def _judge(
    r: EmergenceResult,
    crit: EmergenceCriteria,
    sig_aic: float,
    smooth_aic: float,
    rises: bool,
    max_progress: float,
) -> None:
    """Set ``verdict`` and ``reason`` from the fitted models (rules in the module docstring)."""
    trend_aic = min(sig_aic, smooth_aic)
    const_gap = r.models["constant"].aic - trend_aic
    sig_fit = r.models[r.sigmoid]
    dA, w, thr = r.delta_aic, r.width_decades.value, r.threshold.value
    if not np.isfinite(trend_aic):
        r.reason = "no model could be fitted"
    elif const_gap <= crit.null_delta_aic:
        r.reason = (
            f"no significant change with scale: a constant fits within ΔAIC = {const_gap:.1f} "
            "of the best trend"
        )
    elif dA < crit.min_delta_aic:
        r.verdict = "smooth"
        r.reason = (
            f"a smooth model ({r.best_smooth}) fits "
            + ("better than" if dA < 0 else "about as well as")
            + f" the sigmoid (ΔAIC = {dA:.1f} < {crit.min_delta_aic:g})"
        )
    elif not sig_fit.converged:
        r.reason = f"the {r.sigmoid} fit is preferred but did not converge: {sig_fit.message}"
    elif not rises:
        r.reason = f"the preferred sigmoid ({r.sigmoid}) falls with scale; scores must rise"
    elif r.plateau_points < crit.min_plateau_points:
        r.verdict = "smooth"
        r.reason = (
            f"the {r.sigmoid} fits better (ΔAIC = {dA:.1f}) but the score already rises at the "
            f"smallest scales ({r.plateau_points} on the floor, {crit.min_plateau_points} "
            "needed): no flat phase before a jump"
        )
    elif max_progress < 0.5:
        r.reason = (
            "the rise begins inside the data but is not half-way by the largest scale; "
            f"the threshold ({thr:.3g}) is an extrapolation"
        )
    elif w > crit.max_width_decades:
        r.verdict = "smooth"
        r.reason = (
            f"the {r.sigmoid} fits better (ΔAIC = {dA:.1f}) but its 10–90% rise spans "
            f"{w:.2f} decades (> {crit.max_width_decades:g})"
        )
    else:
        r.verdict = "emergent"
        r.reason = (
            f"{r.sigmoid} beats {r.best_smooth} by ΔAIC = {dA:.1f}; on its floor at the "
            f"{r.plateau_points} smallest scales, half-way at {thr:.3g}, 10–90% rise in "
            f"{w:.2f} decades"
        )

"""Power law y = A·x^(-alpha) (+ E) by weighted nonlinear least squares.

API
---
``fit_power_law(x, y, *, offset=False, sigma=None, absolute_sigma=False, predict_x=(),
bootstrap=0, seed=None, holdout_largest=0, limits=DEFAULT_LIMITS, budget=None) -> FitResult``
    ``params``: ``A``, ``alpha`` (and ``E`` when ``offset``), each value, stderr and 95%
    interval — curvature intervals (t quantile, n - p degrees of freedom) or, when
    ``bootstrap = K > 0``, percentile intervals of K case resamples drawn from ``seed``
    (``interval_method`` says which; with a bootstrap the prediction intervals use the
    resamples' covariance of (A, alpha[, E])). ``r2``, ``aic``, ``bic`` (Gaussian, see criteria.py),
    ``objective`` = weighted RSS, ``residuals`` (y - fit), ``predictions`` at ``predict_x``
    (``x={"x": ...}``, 95% prediction interval of a new observation), ``holdout`` when
    ``holdout_largest = k > 0``; ``extra``: ``residual_std`` (s), ``dof``.

    Start: a weighted log-log line (no offset) or a variable-projection scan over alpha
    with (A, E) solved linearly (offset); then Levenberg–Marquardt on x/x_ref (x_ref the
    geometric mean of x) to 1e-12 tolerances, mapped back to A exactly.

    Raises InvalidArgument naming: ``x``/``y`` (too many points: LimitExceeded), ``x[i]``,
    ``y[i]`` (non-finite), ``y`` (length differs from x; constant y with an offset),
    ``sigma``/``sigma[i]``, ``x[i]`` (x <= 0), ``y[i]`` (y <= 0 without offset; with an
    offset y may be any finite value since E absorbs the shift), ``x`` (fewer than p + 1
    points or fewer than p distinct x), ``bootstrap``, ``seed``, ``holdout_largest``,
    ``predict_x[i]``. Raises FitTimeout past ``limits.time_budget_s``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from services.fitting.least_squares import (
    LeastSquaresFit,
    curvature_fit_result,
    predict_curve,
    weighted_least_squares,
)
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.pipeline import Tails, finish_fit, validated
from services.fitting.results import FitResult, Prediction
from services.fitting.validation import (
    ArrayLike,
    as_sigma,
    as_vector,
    require_distinct,
    require_min_points,
    require_positive,
    require_same_length,
)

MODEL = "power_law"


def param_names(offset: bool) -> tuple[str, ...]:
    """Symbols of the law's parameters in their reported order."""
    return ("A", "alpha", "E") if offset else ("A", "alpha")


def power_law(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A·x^(-alpha) (+ E when theta has three entries)."""
    y = theta[0] * np.power(x, -theta[1])
    return y + theta[2] if theta.size == 3 else y


def power_law_jacobian(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂y/∂(A, alpha[, E]) as an (n, p) array."""
    xp = np.power(x, -theta[1])
    cols = [xp, -theta[0] * np.log(x) * xp]
    if theta.size == 3:
        cols.append(np.ones_like(x))
    return np.column_stack(cols)


def _start_no_offset(u: np.ndarray, y: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
    """(A, alpha) from a log-log line weighted by 1/σ_log = y/σ."""
    w = y if sigma is None else y / sigma
    slope, intercept = np.polyfit(np.log(u), np.log(y), 1, w=w)
    return np.array([np.exp(intercept), -slope])


def _start_offset(u: np.ndarray, y: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
    """(A, alpha, E) by variable projection: for each alpha on a grid, (A, E) by linear LS."""
    span = float(np.log(u.max() / u.min()))
    steps = np.geomspace(0.05, 60.0, 120) / span
    alphas = np.concatenate([-steps[::-1], steps])
    w = np.ones_like(y) if sigma is None else sigma**-2.0
    z = np.power(u[None, :], -alphas[:, None])  # (grid, n) regressor of A
    # Weighted normal equations of y ≈ A·z + E, solved in closed form for every alpha.
    sw, swy = w.sum(), (w * y).sum()
    szz, sz, szy = (w * z * z).sum(axis=1), (w * z).sum(axis=1), (w * z * y).sum(axis=1)
    det = szz * sw - sz * sz
    with np.errstate(divide="ignore", invalid="ignore"):
        A = (szy * sw - sz * swy) / det
        E = (szz * swy - sz * szy) / det
        rss = (w * (y - A[:, None] * z - E[:, None]) ** 2).sum(axis=1)
    rss[~np.isfinite(rss)] = np.inf
    i = int(np.argmin(rss))
    return np.array([A[i], alphas[i], E[i]])


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    sigma: np.ndarray | None,
    offset: bool,
    absolute_sigma: bool,
    budget: TimeBudget | None,
) -> LeastSquaresFit:
    """Least-squares fit in the reported parameters (A, alpha[, E]) with their covariance."""
    x_ref = float(np.exp(np.mean(np.log(x))))
    u = x / x_ref
    theta0 = _start_offset(u, y, sigma) if offset else _start_no_offset(u, y, sigma)
    lsq = weighted_least_squares(
        power_law,
        u,
        y,
        theta0,
        jac=power_law_jacobian,
        sigma=sigma,
        absolute_sigma=absolute_sigma,
        budget=budget,
    )
    # Exact reparametrisation A = Ã·x_ref^alpha; Gauss-Newton covariance maps by its Jacobian.
    theta = lsq.theta.copy()
    scale = x_ref ** theta[1]
    theta[0] = lsq.theta[0] * scale
    T = np.eye(theta.size)
    T[0, 0] = scale
    T[0, 1] = theta[0] * np.log(x_ref)
    with np.errstate(invalid="ignore"):
        cov = T @ lsq.cov @ T.T
    return dataclasses.replace(lsq, theta=theta, cov=cov)


def _validate(
    x: ArrayLike,
    y: ArrayLike,
    sigma: ArrayLike | None,
    offset: bool,
    limits: FitLimits,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Check the request; return x, y and sigma as float arrays."""
    check_points(len(x), limits, "x")
    xa = as_vector(x, "x")
    ya = as_vector(y, "y")
    require_same_length(xa, ya, "y")
    s = as_sigma(sigma, xa.size)
    require_positive(xa, "x")
    if not offset:
        require_positive(ya, "y")
    p = len(param_names(offset))
    require_min_points(xa.size, p + 1, "x")
    require_distinct(xa, p, "x")
    if offset:
        require_distinct(ya, 2, "y")
    return xa, ya, s


def _predictions(
    fit: LeastSquaresFit, xs: np.ndarray, noise_sigma: np.ndarray | None = None
) -> list[Prediction]:
    """Predictions with 95% prediction intervals of a new observation at ``xs``."""
    if xs.size == 0:
        return []
    mean, lo, hi = predict_curve(
        power_law,
        fit.theta,
        fit.cov,
        xs,
        jac=power_law_jacobian,
        noise_var=fit.noise_var(noise_sigma),
        dof=fit.dof,
    )
    return [
        Prediction(x={"x": float(v)}, value=float(m), ci95=(float(a), float(b)))
        for v, m, a, b in zip(xs, mean, lo, hi, strict=True)
    ]


def fit_power_law(
    x: ArrayLike,
    y: ArrayLike,
    *,
    offset: bool = False,
    sigma: ArrayLike | None = None,
    absolute_sigma: bool = False,
    predict_x: ArrayLike = (),
    bootstrap: int = 0,
    seed: int | None = None,
    holdout_largest: int = 0,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> FitResult:
    """Fit y = A·x^(-alpha) (+ E); see the module docstring for inputs, outputs and errors."""
    xa, ya, s = _validate(x, y, sigma, offset, limits)
    check_bootstrap(bootstrap, limits)
    xs = as_vector(predict_x, "predict_x")
    require_positive(xs, "predict_x")
    validated(holdout_largest)
    budget = budget or TimeBudget.from_limits(limits)
    names = param_names(offset)

    fit = _fit(xa, ya, s, offset, absolute_sigma, budget)
    result = curvature_fit_result(MODEL, names, fit, ya)
    result.extra = {"residual_std": float(np.sqrt(fit.scale2)), "dof": float(fit.dof)}
    p = len(names)

    def rows_sigma(idx: np.ndarray) -> np.ndarray | None:
        return None if s is None else s[idx]

    def refit(idx: np.ndarray) -> np.ndarray:
        f = _fit(xa[idx], ya[idx], rows_sigma(idx), offset, absolute_sigma, budget)
        return np.concatenate([f.theta, f.theta]) if f.converged else np.full(2 * p, np.nan)

    def holdout_predict(train: np.ndarray, test: np.ndarray) -> list[Prediction]:
        sub = _fit(xa[train], ya[train], rows_sigma(train), offset, absolute_sigma, budget)
        return _predictions(sub, xa[test], rows_sigma(test))

    def identifiable(idx: np.ndarray) -> None:
        require_distinct(xa[idx], p, "x")

    tails = Tails(
        names=names,
        n_params=p,
        n_theta=p,
        refit=refit,
        predict=lambda cov: _predictions(dataclasses.replace(fit, cov=cov), xs),
        holdout_predict=holdout_predict,
        holdout_scale=xa,
        observed=ya,
        min_train=p + 1,
        identifiable=identifiable,
    )
    return finish_fit(
        result,
        tails,
        point=fit.theta,
        cov=fit.cov,
        bootstrap=bootstrap,
        seed=seed,
        holdout_largest=holdout_largest,
        budget=budget,
    )

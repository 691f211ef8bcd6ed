"""A declarative curve fit: multi-start least squares + intervals + predictions + holdout.

Models whose parameters are fitted by (weighted) least squares, possibly in log space and
possibly with some parameters fitted as their logarithms, describe themselves once as a
``CurveSpec`` and get the whole response (curvature or bootstrap intervals, criteria,
predictions with prediction intervals, holdout extrapolation) from ``fit_curve``.

API
---
``CurveSpec(model, names, x_names, f, jac=None, starts=..., log_params=(), log_response=False,
bounds=None)``
    ``f(theta, X)`` predicts the *fit-space* response (log y when ``log_response``) at rows
    of X ((n,) for one input, (n, d) for several, columns named by ``x_names``);
    ``starts(X, z) -> list of theta`` gives initial values (z = fit-space response);
    ``theta[i]`` for i in ``log_params`` is the log of reported parameter ``names[i]``.
``multistart_least_squares(spec, X, z, *, sigma=None, budget=None) -> LeastSquaresFit``
    Levenberg–Marquardt (trf when ``bounds``) from every start; the converged fit with the
    smallest RSS wins (the smallest RSS overall when none converged, flagged not converged).
``fit_curve(spec, X, y, *, sigma=None, predict_X=None, bootstrap=0, seed=None,
holdout_scale=None, holdout_largest=0, budget) -> FitResult``
    ``y`` in data units (> 0 when ``log_response``); ``sigma`` in fit-space units. Curvature
    intervals (t, n - p dof): symmetric for plain parameters, exp-mapped for log parameters.
    Bootstrap: percentile intervals of case resamples (``bootstrap`` > 0, seed resolved and
    reported). R², AIC, BIC, residuals, ``objective`` (weighted RSS): in fit space.
    Predictions (data units) at rows of ``predict_X`` with 95% prediction intervals of a new
    observation (delta method in fit space, then exp when ``log_response``); ``holdout``:
    refit without the ``holdout_largest`` rows of largest ``holdout_scale``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from services.common.errors import InvalidArgument
from services.fitting.least_squares import (
    Curve,
    CurveJacobian,
    LeastSquaresFit,
    curvature_fit_result,
    predict_curve,
    weighted_least_squares,
)
from services.fitting.limits import TimeBudget
from services.fitting.pipeline import Tails, finish_fit
from services.fitting.results import FitResult, ParamEstimate, Prediction
from services.fitting.uncertainty import estimate, log_estimate, t_quantile

StartFn = Callable[[np.ndarray, np.ndarray], list[np.ndarray]]


@dataclass(frozen=True)
class CurveSpec:
    """How to fit one law: prediction function, parameter names, starts and transforms."""

    model: str
    names: tuple[str, ...]
    x_names: tuple[str, ...]
    f: Curve
    jac: CurveJacobian | None = None
    starts: StartFn = field(default=lambda X, z: [])
    log_params: tuple[int, ...] = ()
    log_response: bool = False
    bounds: tuple[Sequence[float], Sequence[float]] | None = None

    def reported(self, theta: np.ndarray) -> np.ndarray:
        """Reported parameter values from theta (exp of the log parameters)."""
        out = np.array(theta, dtype=np.float64)
        for i in self.log_params:
            out[i] = math.exp(out[i]) if out[i] < 709.0 else math.inf
        return out


def multistart_least_squares(
    spec: CurveSpec,
    X: np.ndarray,
    z: np.ndarray,
    *,
    sigma: np.ndarray | None = None,
    budget: TimeBudget | None = None,
) -> LeastSquaresFit:
    """Best least-squares fit over the spec's starting points."""
    best: LeastSquaresFit | None = None
    for theta0 in spec.starts(X, z):
        if budget is not None:
            budget.check()
        if not np.all(np.isfinite(theta0)):
            continue
        try:
            fit = weighted_least_squares(
                spec.f, X, z, theta0, jac=spec.jac, sigma=sigma, bounds=spec.bounds, budget=budget
            )
        except ArithmeticError:  # this start overflowed; another may not
            continue
        if not np.isfinite(fit.rss):
            continue
        if best is None or (fit.converged, -fit.rss) > (best.converged, -best.rss):
            best = fit
    if best is None:
        raise ArithmeticError(f"{spec.model}: no starting point gave a finite fit")
    return best


def _curvature_params(spec: CurveSpec, fit: LeastSquaresFit) -> dict[str, ParamEstimate]:
    t = t_quantile(fit.dof)
    out: dict[str, ParamEstimate] = {}
    for i, name in enumerate(spec.names):
        var = fit.cov[i, i]
        se = math.sqrt(var) if np.isfinite(var) and var >= 0 else math.nan
        if i in spec.log_params:
            out[name] = log_estimate(fit.theta[i], se, fit.dof)
        else:
            out[name] = estimate(fit.theta[i], se, t)
    return out


def _x_dict(spec: CurveSpec, row: np.ndarray) -> dict[str, float]:
    return {k: float(v) for k, v in zip(spec.x_names, np.atleast_1d(row), strict=True)}


def predictions(
    spec: CurveSpec,
    fit: LeastSquaresFit,
    X_new: np.ndarray,
    cov: np.ndarray | None = None,
    noise_sigma: np.ndarray | None = None,
) -> list[Prediction]:
    """Data-space predictions with 95% prediction intervals at the rows of ``X_new``."""
    if X_new.shape[0] == 0:
        return []
    mean, lo, hi = predict_curve(
        spec.f,
        fit.theta,
        fit.cov if cov is None else cov,
        X_new,
        jac=spec.jac,
        noise_var=fit.noise_var(noise_sigma),
        dof=fit.dof,
    )
    if spec.log_response:
        mean, lo, hi = np.exp(mean), np.exp(lo), np.exp(hi)
    return [
        Prediction(
            x=_x_dict(spec, X_new[i]), value=float(mean[i]), ci95=(float(lo[i]), float(hi[i]))
        )
        for i in range(X_new.shape[0])
    ]


def fit_curve(
    spec: CurveSpec,
    X: np.ndarray,
    y: np.ndarray,
    *,
    sigma: np.ndarray | None = None,
    predict_X: np.ndarray | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    holdout_scale: np.ndarray | None = None,
    holdout_largest: int = 0,
    min_distinct: Callable[[np.ndarray], None] | None = None,
    budget: TimeBudget | None = None,
    response_field: str = "y",
) -> FitResult:
    """Fit, then intervals, predictions and holdout; see the module docstring.

    When no starting point gives a finite fit the request is refused naming
    ``response_field`` (the data, not the service, is at fault).

    ``min_distinct(idx)`` (optional) raises InvalidArgument when rows ``idx`` cannot identify
    the model; bootstrap resamples that fail it count as failed. The bootstrap, prediction
    and holdout tails are the shared ``pipeline.finish_fit``.
    """
    z = np.log(y) if spec.log_response else y
    try:
        fit = multistart_least_squares(spec, X, z, sigma=sigma, budget=budget)
    except ArithmeticError as exc:  # e.g. values so extreme the model overflows everywhere
        detail = f"no finite fit to these values ({exc})"
        raise InvalidArgument.field(response_field, detail) from None
    result = curvature_fit_result(
        spec.model, spec.names, fit, z, params=_curvature_params(spec, fit)
    )
    result.extra = {"residual_std": float(math.sqrt(fit.scale2)), "dof": float(fit.dof)}
    p = len(spec.names)

    def rows_sigma(idx: np.ndarray) -> np.ndarray | None:
        return None if sigma is None else sigma[idx]

    def refit(idx: np.ndarray) -> np.ndarray:
        sub = multistart_least_squares(spec, X[idx], z[idx], sigma=rows_sigma(idx), budget=budget)
        if not sub.converged:
            return np.full(2 * p, np.nan)
        return np.concatenate([sub.theta, spec.reported(sub.theta)])

    def predict(cov: np.ndarray) -> list[Prediction]:
        return [] if predict_X is None else predictions(spec, fit, predict_X, cov)

    def holdout_predict(train: np.ndarray, test: np.ndarray) -> list[Prediction]:
        sub = multistart_least_squares(
            spec, X[train], z[train], sigma=rows_sigma(train), budget=budget
        )
        return predictions(spec, sub, X[test], None, rows_sigma(test))

    tails = Tails(
        names=spec.names,
        n_params=p,
        n_theta=p,
        refit=refit,
        predict=predict,
        holdout_predict=holdout_predict,
        holdout_scale=np.arange(y.size) if holdout_scale is None else holdout_scale,
        observed=y,
        min_train=p + 1,
        identifiable=min_distinct,
    )
    return finish_fit(
        result,
        tails,
        point=spec.reported(fit.theta),
        cov=fit.cov,
        bootstrap=bootstrap,
        seed=seed,
        holdout_largest=holdout_largest if holdout_scale is not None else 0,
        budget=budget,
    )

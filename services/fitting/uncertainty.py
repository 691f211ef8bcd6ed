"""Curvature (covariance) intervals, the delta method, and prediction intervals.

API
---
``t_quantile(dof, level=0.95) -> float``
    Two-sided Student-t quantile (normal when ``dof`` is infinite or huge).
``curvature_estimates(names, values, cov, dof, level=0.95) -> dict[str, ParamEstimate]``
    ``value ± t·sqrt(diag cov)``; NaN stderr/interval where the variance is not finite.
``log_estimate(log_value, log_se, dof, level=0.95) -> ParamEstimate``
    For a parameter fitted as its logarithm (E = exp(e)): stderr by the delta method
    (``exp(e)·se(e)``), interval ``exp(e ± t·se(e))`` (positive, asymmetric).
``numeric_jacobian(g, theta, rel_step=1e-6) -> ndarray``   central differences of a vector map.
``prediction_interval(mean, grad, cov, noise_var, dof, level=0.95) -> (lo, hi)``
    Delta-method interval for a NEW observation: ``mean ± t·sqrt(g·Σ·gᵀ + noise_var)``
    (``noise_var = 0`` gives the confidence interval of the mean curve instead).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

from services.fitting.results import ParamEstimate

_NAN = float("nan")


def t_quantile(dof: float, level: float = 0.95) -> float:
    """Two-sided quantile of Student's t with ``dof`` degrees of freedom."""
    q = 0.5 + level / 2.0
    if not np.isfinite(dof) or dof > 1e7:
        return float(stats.norm.ppf(q))
    if dof <= 0:
        return _NAN
    return float(stats.t.ppf(q, dof))


def _stderr(var: float) -> float:
    return float(np.sqrt(var)) if np.isfinite(var) and var >= 0.0 else _NAN


def estimate(value: float, stderr: float, t: float) -> ParamEstimate:
    """A symmetric ``value ± t·stderr`` estimate (NaN interval when stderr is NaN)."""
    if not np.isfinite(stderr):
        return ParamEstimate(value=float(value), stderr=_NAN, ci95=(_NAN, _NAN))
    return ParamEstimate(
        value=float(value),
        stderr=float(stderr),
        ci95=(float(value - t * stderr), float(value + t * stderr)),
    )


def curvature_estimates(
    names: Sequence[str],
    values: np.ndarray,
    cov: np.ndarray,
    dof: float,
    level: float = 0.95,
) -> dict[str, ParamEstimate]:
    """Per-parameter estimates with t-intervals from a covariance matrix."""
    t = t_quantile(dof, level)
    return {name: estimate(values[i], _stderr(cov[i, i]), t) for i, name in enumerate(names)}


def log_estimate(log_value: float, log_se: float, dof: float, level: float = 0.95) -> ParamEstimate:
    """Estimate of exp(θ) from θ's value and stderr: delta-method stderr, exp-mapped interval."""
    t = t_quantile(dof, level)
    with np.errstate(over="ignore"):
        value = float(np.exp(log_value))
    if not np.isfinite(log_se):
        return ParamEstimate(value=value, stderr=_NAN, ci95=(_NAN, _NAN))
    with np.errstate(over="ignore"):
        lo, hi = np.exp(log_value - t * log_se), np.exp(log_value + t * log_se)
    return ParamEstimate(value=value, stderr=value * float(log_se), ci95=(float(lo), float(hi)))


def numeric_jacobian(
    g: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, rel_step: float = 1e-6
) -> np.ndarray:
    """Central-difference Jacobian (m, p) of ``g: R^p -> R^m`` at ``theta``."""
    theta = np.asarray(theta, dtype=np.float64)
    g0 = np.atleast_1d(np.asarray(g(theta), dtype=np.float64))
    jac = np.empty((g0.size, theta.size))
    for j in range(theta.size):
        h = rel_step * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        jac[:, j] = (np.atleast_1d(g(tp)) - np.atleast_1d(g(tm))) / (2.0 * h)
    return jac


def prediction_interval(
    mean: np.ndarray,
    grad: np.ndarray,
    cov: np.ndarray,
    noise_var: float | np.ndarray,
    dof: float,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Delta-method interval ``mean ± t·sqrt(g Σ gᵀ + noise_var)`` per prediction row."""
    grad = np.atleast_2d(grad)
    var_mean = np.einsum("ij,jk,ik->i", grad, cov, grad)
    half = t_quantile(dof, level) * np.sqrt(np.maximum(var_mean + noise_var, 0.0))
    return mean - half, mean + half

"""Weighted nonlinear least squares: the core every curve fit (power law, sigmoid, ...) uses.

API
---
A *curve* is ``f(theta, x) -> yhat`` with an optional analytic Jacobian
``jac(theta, x) -> (n, p)`` array of ∂yhat/∂theta; ``x`` is whatever array the model needs
((n,) or (n, d)), rows are data points.

``weighted_least_squares(f, x, y, theta0, *, jac=None, sigma=None, absolute_sigma=False,
bounds=None, budget=None, max_nfev=None, tol=1e-12) -> LeastSquaresFit``
    Minimises ``RSS = Σ((y_i - f_i)/σ_i)²`` with ``scipy.optimize.least_squares``
    (MINPACK Levenberg–Marquardt without bounds, trust-region reflective with bounds) to
    tight tolerances. The covariance is the curvature (Gauss–Newton) one,
    ``(JᵀWJ)⁻¹·s²`` with ``s² = RSS/(n-p)``, or ``(JᵀWJ)⁻¹`` when ``absolute_sigma``
    (σ are known standard deviations) — the same convention as ``scipy.optimize.curve_fit``.
    A rank-deficient Jacobian gives an infinite covariance and ``converged=False``.
    ``budget`` (a ``TimeBudget``) is checked on every function evaluation.
``LeastSquaresFit``
    theta, cov, fitted, residuals (y - f), weights (1/σ² or None), rss, n, dof, scale2,
    converged, message, nfev, absolute_sigma, log_sigma_sum; ``.criteria(k)`` gives AIC/BIC
    (see ``criteria.gaussian_criteria``), ``.r2(y)`` the weighted R², ``.noise_var(sigma_new)``
    the variance of a new observation.
``predict_curve(f, theta, cov, x_new, *, jac=None, noise_var=0.0, dof, level=0.95)
-> (mean, lo, hi)``
    Predictions and delta-method prediction intervals at new inputs.
``curvature_fit_result(model, names, lsq, y, ...) -> FitResult``
    Assembles the shared ``FitResult`` (params with t-intervals, R², AIC, BIC, residuals).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from services.fitting.criteria import Criteria, gaussian_criteria, r_squared, residual_summary
from services.fitting.limits import TimeBudget
from services.fitting.results import FitResult, ParamEstimate
from services.fitting.uncertainty import curvature_estimates, numeric_jacobian, prediction_interval

Curve = Callable[[np.ndarray, np.ndarray], np.ndarray]
CurveJacobian = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class LeastSquaresFit:
    """Optimum of a weighted least-squares fit with its curvature covariance."""

    theta: np.ndarray
    cov: np.ndarray
    fitted: np.ndarray
    residuals: np.ndarray
    weights: np.ndarray | None
    rss: float
    n: int
    dof: int
    scale2: float
    converged: bool
    message: str
    nfev: int
    absolute_sigma: bool
    log_sigma_sum: float

    def criteria(self, k: int | None = None) -> Criteria:
        """Gaussian AIC/BIC counting ``k`` model parameters (default: len(theta))."""
        return gaussian_criteria(
            self.rss,
            self.n,
            self.theta.size if k is None else k,
            log_sigma_sum=self.log_sigma_sum,
            absolute_sigma=self.absolute_sigma,
        )

    def r2(self, y: np.ndarray) -> float:
        """Weighted coefficient of determination of this fit on ``y``."""
        return r_squared(y, self.fitted, self.weights)

    def noise_var(self, sigma_new: float | np.ndarray | None = None) -> float | np.ndarray:
        """Variance of a new observation: s²·σ_new² (σ_new defaults to the median σ, or 1)."""
        if sigma_new is None:
            sigma2: float | np.ndarray = (
                1.0 if self.weights is None else float(np.median(1.0 / self.weights))
            )
        else:
            sigma2 = np.asarray(sigma_new, dtype=np.float64) ** 2
        return (1.0 if self.absolute_sigma else self.scale2) * sigma2


def covariance_from_jacobian(jw: np.ndarray, scale2: float) -> tuple[np.ndarray, bool]:
    """``(JwᵀJw)⁻¹·scale2`` by SVD (as curve_fit); returns (cov, ok) — inf when singular."""
    p = jw.shape[1]
    _, s, vt = np.linalg.svd(jw, full_matrices=False)
    if s.size == 0 or not np.all(np.isfinite(s)):
        return np.full((p, p), np.inf), False
    threshold = np.finfo(float).eps * max(jw.shape) * s[0]
    if np.any(s <= threshold):
        return np.full((p, p), np.inf), False
    vt_scaled = vt / s[:, None]
    return (vt_scaled.T @ vt_scaled) * scale2, True


def weighted_least_squares(
    f: Curve,
    x: np.ndarray,
    y: np.ndarray,
    theta0: Sequence[float] | np.ndarray,
    *,
    jac: CurveJacobian | None = None,
    sigma: np.ndarray | None = None,
    absolute_sigma: bool = False,
    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
    budget: TimeBudget | None = None,
    max_nfev: int | None = None,
    tol: float = 1e-12,
) -> LeastSquaresFit:
    """Fit ``f(theta, x)`` to ``y`` by weighted least squares; see the module docstring."""
    theta0 = np.asarray(theta0, dtype=np.float64)
    n, p = y.size, theta0.size
    inv_sigma = None if sigma is None else 1.0 / sigma

    def residual(theta: np.ndarray) -> np.ndarray:
        if budget is not None:
            budget.check()
        r = f(theta, x) - y
        return r if inv_sigma is None else r * inv_sigma

    jac_arg: Callable[[np.ndarray], np.ndarray] | str = "2-point"
    if jac is not None:
        jac_fn = jac

        def jac_w(theta: np.ndarray) -> np.ndarray:
            J = jac_fn(theta, x)
            return J if inv_sigma is None else J * inv_sigma[:, None]

        jac_arg = jac_w

    method = "lm" if bounds is None else "trf"
    kwargs: dict[str, object] = {"ftol": tol, "xtol": tol, "gtol": tol, "x_scale": "jac"}
    if bounds is not None:
        kwargs["bounds"] = bounds
    if max_nfev is not None:
        kwargs["max_nfev"] = max_nfev
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            res = optimize.least_squares(residual, theta0, jac=jac_arg, method=method, **kwargs)
        except ValueError as exc:  # scipy's checks: infs or NaNs in the Jacobian's SVD
            raise ArithmeticError(f"least squares left the finite range: {exc}") from None
        theta = res.x
        fitted = f(theta, x)
        jw = res.jac if jac is None else jac_arg(theta)  # type: ignore[operator]
    resid = y - fitted
    w = None if sigma is None else inv_sigma**2  # type: ignore[operator]
    rss = float(np.sum(resid**2) if w is None else np.sum(w * resid**2))
    dof = n - p
    scale2 = rss / dof if dof > 0 else float("nan")
    cov, ok = covariance_from_jacobian(np.asarray(jw), 1.0 if absolute_sigma else scale2)
    finite = bool(np.all(np.isfinite(theta)) and np.isfinite(rss))
    converged = bool(res.success) and finite and ok
    message = str(res.message)
    if not ok:
        message += "; covariance could not be estimated (parameters not identifiable)"
    return LeastSquaresFit(
        theta=theta,
        cov=cov,
        fitted=fitted,
        residuals=resid,
        weights=w,
        rss=rss,
        n=n,
        dof=dof,
        scale2=scale2,
        converged=converged,
        message=message,
        nfev=int(res.nfev),
        absolute_sigma=absolute_sigma,
        log_sigma_sum=0.0 if sigma is None else float(np.sum(np.log(sigma))),
    )


def predict_curve(
    f: Curve,
    theta: np.ndarray,
    cov: np.ndarray,
    x_new: np.ndarray,
    *,
    jac: CurveJacobian | None = None,
    noise_var: float | np.ndarray = 0.0,
    dof: float,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Curve values at ``x_new`` with delta-method prediction intervals."""
    mean = np.asarray(f(theta, x_new), dtype=np.float64)
    grad = jac(theta, x_new) if jac is not None else numeric_jacobian(lambda t: f(t, x_new), theta)
    lo, hi = prediction_interval(mean, grad, cov, noise_var, dof, level)
    return mean, lo, hi


def curvature_fit_result(
    model: str,
    names: Sequence[str],
    lsq: LeastSquaresFit,
    y: np.ndarray,
    *,
    params: dict[str, ParamEstimate] | None = None,
    k: int | None = None,
) -> FitResult:
    """Build a ``FitResult`` from a least-squares fit (``params`` overrides the raw theta)."""
    crit = lsq.criteria(k)
    return FitResult(
        model=model,
        params=params
        if params is not None
        else curvature_estimates(names, lsq.theta, lsq.cov, lsq.dof),
        r2=lsq.r2(y),
        aic=crit.aic,
        bic=crit.bic,
        n=lsq.n,
        converged=lsq.converged,
        interval_method="curvature",
        objective=lsq.rss,
        message=lsq.message,
        residuals=residual_summary(lsq.residuals),
    )

"""Huber M-estimation pieces: the loss, its derivative, and the asymptotic covariance.

API
---
``huber(r, delta) -> ndarray``      ρ(r) = r²/2 for |r| <= δ, else δ·(|r| - δ/2) (scipy's huber).
``huber_psi(r, delta) -> ndarray``  ψ(r) = ρ'(r) = clip(r, -δ, δ).
``huber_covariance(jac, r, delta) -> ndarray``
    Asymptotic covariance of a Huber M-estimator of a (nonlinear) regression with residual
    Jacobian ``jac`` (n, p) at the optimum (Huber 1981, §7.6):
    ``Σψ(r_i)²/(n-p) / m² · (JᵀJ)⁻¹`` with m = E[ψ'(ε)] = P(|ε| <= δ).
    m is estimated by smoothing the residual distribution with a Gaussian kernel
    (Silverman's bandwidth): m̂ = mean_i[Φ((δ - r_i)/h) - Φ((-δ - r_i)/h)]. With the tiny δ
    of the Chinchilla fits (δ = 1e-3, far inside the noise) only a handful of residuals fall
    in [-δ, δ], so the raw count Σ1{|r_i| <= δ}/n would be a very noisy denominator; the
    smoothed estimate tends to LAD's 2δ·f(0) as δ → 0 and to 1 (least squares) as δ → ∞.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from services.fitting.least_squares import covariance_from_jacobian


def huber(r: np.ndarray, delta: float) -> np.ndarray:
    """Huber loss of residuals ``r`` with threshold ``delta``."""
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


def huber_psi(r: np.ndarray, delta: float) -> np.ndarray:
    """Derivative of the Huber loss: residuals clipped to [-delta, delta]."""
    return np.clip(r, -delta, delta)


def smoothed_inlier_fraction(r: np.ndarray, delta: float) -> float:
    """Kernel estimate of P(|ε| <= delta) from residuals (Gaussian kernel, Silverman bandwidth)."""
    n = r.size
    sd = float(np.std(r, ddof=1)) if n > 1 else 0.0
    q75, q25 = np.percentile(r, [75, 25])
    spread = min(sd, (q75 - q25) / 1.349) if q75 > q25 else sd
    h = 0.9 * spread * n ** (-0.2)
    if not h > 0.0:
        return float(np.mean(np.abs(r) <= delta))
    return float(np.mean(stats.norm.cdf((delta - r) / h) - stats.norm.cdf((-delta - r) / h)))


def huber_covariance(jac: np.ndarray, r: np.ndarray, delta: float) -> np.ndarray:
    """Asymptotic covariance of the Huber estimate; see the module docstring."""
    n, p = jac.shape
    psi = huber_psi(r, delta)
    var_psi = float(np.sum(psi * psi)) / max(n - p, 1)
    m = smoothed_inlier_fraction(r, delta)
    if not m > 0.0:
        return np.full((p, p), np.inf)
    cov, _ = covariance_from_jacobian(jac, var_psi / (m * m))
    return cov

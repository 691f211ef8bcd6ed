"""Goodness of fit shared by every model: Gaussian log-likelihood, AIC, BIC, R², residual summary.

API
---
``gaussian_criteria(rss, n, k, *, log_sigma_sum=0.0, absolute_sigma=False) -> Criteria``
    The Gaussian likelihood of the (weighted) residuals at their maximum.

    * relative weights (``absolute_sigma=False``, the default; also the unweighted case):
      y_i ~ N(f_i, s²·σ_i²) with s² estimated by maximum likelihood, s² = RSS/n, so
      ``log L = -n/2·(ln(2π·RSS/n) + 1) - Σ ln σ_i`` and the noise variance counts as one
      extra parameter: ``k_total = k + 1``.
    * absolute sigma: y_i ~ N(f_i, σ_i²), ``log L = -RSS/2 - n/2·ln 2π - Σ ln σ_i``,
      ``k_total = k``.

    ``AIC = 2·k_total - 2·log L``; ``BIC = k_total·ln n - 2·log L``; ``k`` counts the
    model's free parameters. ``RSS = Σ((y_i - f_i)/σ_i)²`` (σ_i = 1 when unweighted).
    Models compared by AIC/BIC must be fitted to the same data with the same weights.
``r_squared(y, fitted, weights=None) -> float``
    ``1 - Σw(y-f)² / Σw(y-ȳ_w)²`` (weighted mean ȳ_w); NaN when y is constant.
``residual_summary(residuals) -> ResidualSummary``  rmse, max |r|, mean of ``y - f``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.fitting.results import ResidualSummary


@dataclass(frozen=True)
class Criteria:
    """Maximised Gaussian log-likelihood and the information criteria derived from it."""

    log_likelihood: float
    aic: float
    bic: float
    k_total: int


def gaussian_criteria(
    rss: float,
    n: int,
    k: int,
    *,
    log_sigma_sum: float = 0.0,
    absolute_sigma: bool = False,
) -> Criteria:
    """AIC and BIC from a Gaussian likelihood of the weighted residual sum of squares."""
    if absolute_sigma:
        loglik = -0.5 * rss - 0.5 * n * math.log(2.0 * math.pi) - log_sigma_sum
        k_total = k
    else:
        # A perfect fit has an unbounded likelihood; floor RSS so the criteria stay finite.
        rss_eff = max(rss, n * 1e-300)
        loglik = -0.5 * n * (math.log(2.0 * math.pi * rss_eff / n) + 1.0) - log_sigma_sum
        k_total = k + 1
    aic = 2.0 * k_total - 2.0 * loglik
    bic = k_total * math.log(n) - 2.0 * loglik
    return Criteria(log_likelihood=loglik, aic=aic, bic=bic, k_total=k_total)


def r_squared(y: np.ndarray, fitted: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Coefficient of determination, weighted when ``weights`` (1/σ²) are given."""
    w = np.ones_like(y) if weights is None else weights
    ybar = float(np.sum(w * y) / np.sum(w))
    tss = float(np.sum(w * (y - ybar) ** 2))
    if tss <= 0.0:
        return float("nan")
    return 1.0 - float(np.sum(w * (y - fitted) ** 2)) / tss


def residual_summary(residuals: np.ndarray) -> ResidualSummary:
    """Summarise residuals (data minus model) by RMS, largest magnitude and mean."""
    r = np.asarray(residuals, dtype=np.float64)
    if r.size == 0:
        nan = float("nan")
        return ResidualSummary(rmse=nan, max_abs=nan, mean=nan)
    return ResidualSummary(
        rmse=float(np.sqrt(np.mean(r * r))),
        max_abs=float(np.max(np.abs(r))),
        mean=float(np.mean(r)),
    )

"""Is an exact-match jump explained by a smooth per-token trend? (the mirage analysis)

Schaeffer et al. (2023): if per-token loss falls smoothly, ℓ(N) = (N_c/N)^alpha, and tokens
are right independently with p = exp(-ℓ), a k-token answer is exactly right with
probability p^k = exp(-k·ℓ(N)): a sharp curve from a smooth law. Given per-size token-level
evidence (per-token accuracy, per-token loss, or normalised edit distance = 1 - p under
the substitution model) and the observed exact match over M items, this module

1. fits ln ℓ = ln A - alpha·ln N by weighted least squares (σ of ln ℓ by the delta
   method from M·k binomial tokens; unweighted for a loss), so N_c = A^(1/alpha);
2. predicts exact match π_i = exp(-k·ℓ̂(N_i)) with a 95% band from the law's intervals;
3. tests the observed exact match against π with the Pearson statistic
   X² = Σ M(y - π)²/(π̃(1 - π̃)), π̃ = π clipped to [1/(2M), 1 - 1/(2M)], calibrated by
   Monte Carlo (law parameters drawn from their fitted normal, then y* ~ Binomial(M, π*)/M),
   because expected counts M·π far below 5 make the χ² approximation useless;
4. reports k_effective, the k' whose p^k' best fits the exact match (binomial likelihood).

``explained`` when the Monte Carlo p-value is >= ``level``: the jump needs nothing beyond
the smooth per-token trend and the metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from services.common.errors import InvalidArgument, require
from services.fitting.bootstrap import resample_generator, resolve_seed
from services.fitting.emergence import binomial_log_likelihood, line, line_jacobian
from services.fitting.least_squares import curvature_fit_result, weighted_least_squares
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.results import FitResult, ParamEstimate
from services.fitting.uncertainty import log_estimate, t_quantile
from services.fitting.validation import (
    ArrayLike,
    as_vector,
    require_distinct,
    require_min_points,
    require_positive,
    require_same_length,
)

EVIDENCE = ("token_accuracy", "token_loss", "edit_distance")


@dataclass(frozen=True)
class MiragePoint:
    """One size: per-token accuracy, predicted exact match (95% band), observed, z-score."""

    scale: float
    token_accuracy: float
    predicted: float
    predicted_ci95: tuple[float, float]
    observed: float
    z: float  # (observed - predicted)/binomial sd at the prediction (π clipped as in X²)


@dataclass
class MirageResult:
    """What the mirage analysis returns (``AnalyzeAbilities``)."""

    explained: bool
    reason: str
    k: int
    law: FitResult  # per-token loss law: params N_c, alpha (and A, the loss at N = 1)
    points: list[MiragePoint]
    statistic: float  # Pearson X² of observed vs predicted exact match
    dof: int  # number of sizes (the prediction is not fitted to exact match)
    p_value: float  # Monte Carlo, (1 + #{X²* >= X²})/(1 + resamples)
    k_effective: float  # k' maximising the binomial likelihood of exact match under p^k'
    resamples: int
    seed: int
    level: float


def _evidence(
    token_accuracy: ArrayLike | None,
    token_loss: ArrayLike | None,
    edit_distance: ArrayLike | None,
    n: int,
) -> tuple[str, np.ndarray]:
    """The one token-level evidence given, validated and converted to per-token loss ℓ."""
    given = [
        (name, v)
        for name, v in zip(EVIDENCE, (token_accuracy, token_loss, edit_distance), strict=True)
        if v is not None
    ]
    require(len(given) == 1, "token_accuracy", f"give exactly one of {', '.join(EVIDENCE)}")
    name, values = given[0]
    v = as_vector(values, name)
    require(v.size == n, name, f"has {v.size} values but {n} were expected")
    if name == "token_loss":
        require_positive(v, name)
        return name, v
    p = v if name == "token_accuracy" else 1.0 - v
    bad = np.flatnonzero((p <= 0.0) | (p >= 1.0))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(
            f"{name}[{i}]",
            f"must lie strictly between 0 and 1 (a loss needs 0 < p < 1), got {v[i]:g}",
        )
    return name, -np.log(p)


def _k_effective(y: np.ndarray, loss: np.ndarray, items: np.ndarray) -> float:
    """k' > 0 maximising Σ binomial log-likelihood of y under exp(-k'·ℓ)."""

    def nll(log_k: float) -> float:
        return -binomial_log_likelihood(y, np.exp(-math.exp(log_k) * loss), items)

    res = optimize.minimize_scalar(nll, bounds=(math.log(1e-3), math.log(1e4)), method="bounded")
    return float(math.exp(res.x))


def _pearson(y: np.ndarray, pi: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Pearson X² along the last axis, π clipped to [1/(2M), 1 - 1/(2M)] in the variance."""
    lo = 0.5 / items
    pc = np.clip(pi, lo, 1.0 - lo)
    return np.sum(items * (y - pi) ** 2 / (pc * (1.0 - pc)), axis=-1)


def analyze_mirage(
    scale: ArrayLike,
    exact_match: ArrayLike,
    *,
    k: int,
    items: ArrayLike | float,
    token_accuracy: ArrayLike | None = None,
    token_loss: ArrayLike | None = None,
    edit_distance: ArrayLike | None = None,
    resamples: int = 1000,  # within the default max_bootstrap limit; p resolution 0.001
    seed: int | None = None,
    level: float = 0.05,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> MirageResult:
    """Test whether observed exact match equals p^k of the fitted smooth per-token law.

    ``scale`` > 0 per size; ``exact_match`` in [0, 1] over ``items`` items (one count or one
    per size); exactly one of ``token_accuracy`` (0 < p < 1), ``token_loss`` (nats, > 0)
    or ``edit_distance`` (normalised, 0 < d < 1); answers of ``k`` tokens. Raises
    InvalidArgument naming ``scale``/``scale[i]``, ``exact_match``/``exact_match[i]``,
    ``k``, ``items``/``items[i]``, the evidence field (``token_accuracy`` when none or
    several are given), ``resamples``, ``seed``, ``level``.
    """
    check_points(len(scale), limits, "scale")
    s = as_vector(scale, "scale")
    y = as_vector(exact_match, "exact_match")
    require_same_length(s, y, "exact_match")
    require_positive(s, "scale")
    require_min_points(s.size, 3, "scale")
    require_distinct(s, 2, "scale")
    bad = np.flatnonzero((y < 0.0) | (y > 1.0))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(f"exact_match[{i}]", f"must lie in [0, 1], got {y[i]:g}")
    require(k >= 1, "k", f"must be >= 1, got {k}")
    raw = np.atleast_1d(np.asarray(items, dtype=np.float64))
    m = as_vector(np.full(s.size, raw[0]) if raw.size == 1 else raw, "items")
    require_same_length(s, m, "items")
    bad = np.flatnonzero(m < 1)
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(f"items[{i}]", f"must be >= 1, got {m[i]:g}")
    kind, loss = _evidence(token_accuracy, token_loss, edit_distance, s.size)
    check_bootstrap(resamples, limits, "resamples")
    require(0.0 < level < 1.0, "level", f"must lie in (0, 1), got {level}")
    used_seed = resolve_seed(seed)
    budget = budget or TimeBudget.from_limits(limits)

    # 1. the smooth law, ln ℓ = a + b·ln N (alpha = -b), weighted by token counts
    ln_n, ln_l = np.log(s), np.log(loss)
    sigma = None
    if kind != "token_loss":
        p = np.exp(-loss)
        sigma = np.sqrt((1.0 - p) / (p * m * k)) / loss  # sd of ln ℓ̂ by the delta method
    start = np.polyfit(ln_n, ln_l, 1)[::-1]
    lsq = weighted_least_squares(
        line, ln_n, ln_l, start, jac=line_jacobian, sigma=sigma, budget=budget
    )
    a, b = lsq.theta
    alpha = -b
    law = curvature_fit_result("token_loss_power_law", ("log_A", "minus_alpha"), lsq, ln_l)
    se_a, se_b = (math.sqrt(v) if np.isfinite(v) else math.nan for v in np.diag(lsq.cov))
    t = t_quantile(lsq.dof)
    # N_c = exp(a/alpha): delta method on (a, b)
    g = np.array([1.0 / alpha, a / alpha**2])  # ∂ln N_c/∂(a, b) with alpha = -b
    se_lnnc = (
        float(math.sqrt(max(g @ lsq.cov @ g, 0.0))) if np.all(np.isfinite(lsq.cov)) else math.nan
    )
    law.params = {
        "N_c": log_estimate(a / alpha, se_lnnc, lsq.dof),
        "alpha": ParamEstimate(alpha, se_b, (alpha - t * se_b, alpha + t * se_b)),
        "A": log_estimate(a, se_a, lsq.dof),
    }
    law.message = f"ln ℓ = ln A - alpha·ln N fitted to {kind}; {law.message}"

    # 2. predicted exact match with a band from the law's interval of ln ℓ
    grad = np.column_stack([np.ones_like(ln_n), ln_n])
    se_fit = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", grad, lsq.cov, grad), 0.0))
    ln_l_hat = line(lsq.theta, ln_n)
    pi = np.exp(-k * np.exp(ln_l_hat))
    pi_lo = np.exp(-k * np.exp(ln_l_hat + t * se_fit))
    pi_hi = np.exp(-k * np.exp(ln_l_hat - t * se_fit))

    # 3. Monte Carlo calibration of the Pearson statistic
    x2 = float(_pearson(y, pi, m))
    counts = m.astype(np.int64)
    x2_star = np.empty(resamples)
    chol = (
        np.linalg.cholesky(lsq.cov + 1e-300 * np.eye(2)) if np.all(np.isfinite(lsq.cov)) else None
    )
    for r in range(resamples):
        if r % 256 == 0:
            budget.check()
        gen = resample_generator(used_seed, r)
        theta = lsq.theta if chol is None else lsq.theta + chol @ gen.standard_normal(2)
        pi_star = np.exp(-k * np.exp(line(theta, ln_n)))
        x2_star[r] = _pearson(gen.binomial(counts, pi_star) / m, pi, m)
    p_value = float((1 + np.sum(x2_star >= x2)) / (1 + resamples)) if resamples else math.nan

    lo = 0.5 / m
    pc = np.clip(pi, lo, 1.0 - lo)
    z = (y - pi) / np.sqrt(pc * (1.0 - pc) / m)
    points = [
        MiragePoint(
            scale=float(s[i]),
            token_accuracy=float(math.exp(-loss[i])),
            predicted=float(pi[i]),
            predicted_ci95=(float(pi_lo[i]), float(pi_hi[i])),
            observed=float(y[i]),
            z=float(z[i]),
        )
        for i in range(s.size)
    ]
    k_eff = _k_effective(y, loss, m)
    explained = bool(p_value >= level) if resamples else False
    if not resamples:
        reason = "no Monte Carlo resamples requested: no test"
    elif explained:
        reason = (
            f"exact match is consistent with p^{k} of the smooth per-token law "
            f"(alpha = {alpha:.3g}, N_c = {law.params['N_c'].value:.3g}): X² = {x2:.1f} on "
            f"{s.size} sizes, p = {p_value:.3g} >= {level:g}; k_effective = {k_eff:.3g}"
        )
    else:
        worst = int(np.argmax(np.abs(z)))
        reason = (
            f"exact match departs from p^{k} of the smooth per-token law: X² = {x2:.1f} on "
            f"{s.size} sizes, p = {p_value:.3g} < {level:g}; largest departure at scale "
            f"{s[worst]:.3g} (z = {z[worst]:.1f}); k_effective = {k_eff:.3g}"
        )
    return MirageResult(
        explained=explained,
        reason=reason,
        k=k,
        law=law,
        points=points,
        statistic=x2,
        dof=int(s.size),
        p_value=p_value,
        k_effective=k_eff,
        resamples=resamples,
        seed=used_seed,
        level=level,
    )

"""Is an exact-match jump explained by a smooth per-token trend? (the mirage analysis)

Schaeffer et al. (2023): if per-token loss falls smoothly, ℓ(N) = (N_c/N)^alpha, and tokens
are right independently with p = exp(-ℓ), a k-token answer is exactly right with
probability p^k = exp(-k·ℓ(N)): a sharp curve from a smooth law. Given per-size token-level
evidence (per-token accuracy p, per-token loss ℓ with p = exp(-ℓ), partial-credit scores
(the expected fraction of an answer's tokens right, p), or normalised edit distance = 1 - p
under the substitution model) and the observed exact match over M items, this module

1. fits ln ℓ = ln A - alpha·ln N by weighted least squares (σ of ln ℓ by the delta
   method from M·k binomial tokens; unweighted for a loss), so N_c = A^(1/alpha);
2. predicts exact match π_i = exp(-k·ℓ̂(N_i)) with a 95% band from the law's intervals;
3. tests the observed exact match against π with the Pearson statistic
   X² = Σ M(y - π)²/(π̃(1 - π̃)), π̃ = π clipped to [1/(2M), 1 - 1/(2M)], calibrated by
   Monte Carlo (law parameters drawn from their fitted normal, then y* ~ Binomial(M, π*)/M),
   because expected counts M·π far below 5 make the χ² approximation useless;
4. reports k_effective, the k' whose p^k' best fits the exact match (binomial likelihood,
   maximised over a global grid of k' in [0.01, 10^4] and refined; a search that starts
   where every prediction clips to 0 or 1 finds a flat likelihood and stalls), with its
   95% profile-likelihood interval and the likelihood-ratio statistic of the requested k.

``explained`` when the Monte Carlo p-value is >= ``level``: the jump needs nothing beyond
the smooth per-token trend and the metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from services.common.errors import InvalidArgument, require
from services.fitting.bootstrap import resample_generator, resolve_seed
from services.fitting.emergence.binomial import half_item_clip
from services.fitting.least_squares import curvature_fit_result, weighted_least_squares
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.pipeline import validated
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

EVIDENCE = ("token_accuracy", "token_loss", "edit_distance", "partial_credit")
CONVERSION = {
    "token_accuracy": "p = token_accuracy",
    "token_loss": "p = exp(-token_loss)",
    "edit_distance": "p = 1 - edit_distance",
    "partial_credit": "p = partial_credit",
}
K_RANGE = (1e-2, 1e4)
K_NODES = 2001
CHI2_95 = 3.841458820694124  # χ²₁ 95% quantile


def line(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Straight line theta[0] + theta[1]·x (the log-log per-token loss law)."""
    return theta[0] + theta[1] * x


def line_jacobian(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂line/∂theta as an (n, 2) array."""
    return np.column_stack([np.ones_like(x), x])


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
    k_effective_ci95: tuple[float, float] = (math.nan, math.nan)  # profile likelihood
    evidence: str = "token_accuracy"  # which token-level evidence was given
    evidence_conversion: str = "p = token_accuracy"
    k_statistic: float = math.nan  # 2(logL(k_effective) - logL(k)), chi-square 1 dof
    k_p_value: float = math.nan


def _evidence(
    token_accuracy: ArrayLike | None,
    token_loss: ArrayLike | None,
    edit_distance: ArrayLike | None,
    partial_credit: ArrayLike | None,
    n: int,
) -> tuple[str, np.ndarray]:
    """The one token-level evidence given, validated and converted to per-token loss ℓ."""
    evidence = (token_accuracy, token_loss, edit_distance, partial_credit)
    given = [(name, v) for name, v in zip(EVIDENCE, evidence, strict=True) if v is not None]
    require(len(given) == 1, "token_accuracy", f"give exactly one of {', '.join(EVIDENCE)}")
    name, values = given[0]
    v = as_vector(values, name)
    require(v.size == n, name, f"has {v.size} values but {n} were expected")
    if name == "token_loss":
        require_positive(v, name)
        return name, v
    p = 1.0 - v if name == "edit_distance" else v
    bad = np.flatnonzero((p <= 0.0) | (p >= 1.0))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(
            f"{name}[{i}]",
            f"must lie strictly between 0 and 1 (a loss needs 0 < p < 1), got {v[i]:g}",
        )
    return name, -np.log(p)


def _log_likelihood(y: np.ndarray, pi: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood of exact match y under predictions π (last axis summed)."""
    f = half_item_clip(pi, items)
    return np.sum(items * (special.xlogy(y, f) + special.xlogy(1.0 - y, 1.0 - f)), axis=-1)


def k_effective(
    y: np.ndarray, loss: np.ndarray, items: np.ndarray
) -> tuple[float, tuple[float, float], float]:
    """(k', 95% profile interval, max log-likelihood) of exact match under exp(-k'·ℓ).

    A global grid over ln k' (the likelihood is flat wherever every prediction clips, so a
    local search started there stalls), the best node refined between its neighbours; the
    interval ends where 2·(max - logL) = χ²₁(0.95), NaN where that is not reached in range.
    """
    log_k = np.linspace(math.log(K_RANGE[0]), math.log(K_RANGE[1]), K_NODES)
    ll = _log_likelihood(y, np.exp(-np.exp(log_k)[:, None] * loss), items)
    i = int(np.argmax(ll))

    def nll(t: float) -> float:
        return -float(_log_likelihood(y, np.exp(-math.exp(t) * loss), items))

    lo_b, hi_b = log_k[max(i - 1, 0)], log_k[min(i + 1, log_k.size - 1)]
    res = optimize.minimize_scalar(nll, bounds=(lo_b, hi_b), method="bounded",
                                   options={"xatol": 1e-10})  # fmt: skip
    t_best, ll_best = (float(res.x), -float(res.fun)) if -res.fun >= ll[i] else (log_k[i], ll[i])
    cut = ll_best - CHI2_95 / 2.0

    def end(step: int) -> float:
        j = i
        while 0 <= j + step < log_k.size and ll[j + step] > cut:
            j += step
        if not 0 <= j + step < log_k.size:
            return math.nan
        inside = t_best if j == i else float(log_k[j])
        return math.exp(optimize.brentq(lambda t: -nll(t) - cut, inside, float(log_k[j + step])))

    return math.exp(t_best), (end(-1), end(+1)), ll_best


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
    partial_credit: ArrayLike | None = None,
    resamples: int = 1000,  # within the default max_bootstrap limit; p resolution 0.001
    seed: int | None = None,
    level: float = 0.05,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> MirageResult:
    """Test whether observed exact match equals p^k of the fitted smooth per-token law.

    ``scale`` > 0 per size; ``exact_match`` in [0, 1] over ``items`` items (one count or one
    per size); exactly one of ``token_accuracy`` (0 < p < 1), ``token_loss`` (nats, > 0),
    ``edit_distance`` (normalised, 0 < d < 1) or ``partial_credit`` (expected fraction of
    tokens right, 0 < p < 1); answers of ``k`` tokens. Raises
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
    kind, loss = _evidence(token_accuracy, token_loss, edit_distance, partial_credit, s.size)
    check_bootstrap(resamples, limits, "resamples")
    require(0.0 < level < 1.0, "level", f"must lie in (0, 1), got {level}")
    used_seed = resolve_seed(seed)
    validated()
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
    k_eff, k_ci, ll_best = k_effective(y, loss, m)
    k_stat = max(2.0 * (ll_best - float(_log_likelihood(y, pi, m))), 0.0)
    k_p = float(special.chdtrc(1, k_stat))
    k_note = (
        f"k_effective = {k_eff:.3g}, 95% [{k_ci[0]:.3g}, {k_ci[1]:.3g}] "
        f"(k = {k}: LR = {k_stat:.2f}, p = {k_p:.2g}); evidence {kind}, {CONVERSION[kind]}"
    )
    explained = bool(p_value >= level) if resamples else False
    if not resamples:
        reason = f"no Monte Carlo resamples requested: no test; {k_note}"
    elif explained:
        reason = (
            f"the exact-match curve is explained by p^k at k = {k} of the smooth per-token "
            f"law (alpha = {alpha:.3g}, N_c = {law.params['N_c'].value:.3g}): X² = {x2:.1f} "
            f"on {s.size} sizes, Monte Carlo p = {p_value:.3g} >= {level:g}; {k_note}"
        )
    else:
        worst = int(np.argmax(np.abs(z)))
        reason = (
            f"the exact-match curve is not explained by p^k at k = {k}: X² = {x2:.1f} on "
            f"{s.size} sizes, Monte Carlo p = {p_value:.3g} < {level:g}; largest departure "
            f"at scale {s[worst]:.3g} (z = {z[worst]:.1f}); {k_note}"
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
        k_effective_ci95=k_ci,
        evidence=kind,
        evidence_conversion=CONVERSION[kind],
        k_statistic=k_stat,
        k_p_value=k_p,
    )

"""Shared fitting pieces: bootstrap streams, holdout split, Huber covariance, budgets, limits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from services.common.errors import InvalidArgument, LimitExceeded
from services.fitting.bootstrap import (
    bootstrap,
    bootstrap_estimates,
    resample_indices,
    resolve_seed,
)
from services.fitting.criteria import gaussian_criteria, r_squared
from services.fitting.holdout import holdout_split
from services.fitting.limits import FitLimits, FitTimeout, TimeBudget
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.chinchilla import fit_chinchilla
from services.fitting.models.critical_point import SweepCurve, fit_critical_point
from services.fitting.models.kaplan import fit_kaplan
from services.fitting.robust import huber_covariance, huber_sandwich_covariance
from services.fitting.uncertainty import prediction_interval


def test_resample_streams_depend_only_on_seed_and_index() -> None:
    a = [resample_indices(50, 7, r) for r in range(5)]
    b = [resample_indices(50, 7, r) for r in reversed(range(5))][::-1]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], a[1])
    assert not np.array_equal(resample_indices(50, 8, 0), a[0])
    assert resolve_seed(None) != resolve_seed(None)
    with pytest.raises(InvalidArgument):
        resolve_seed(-1)


def test_bootstrap_of_a_mean_matches_its_standard_error() -> None:
    """Bootstrap stderr of a sample mean ≈ s/√n (the textbook value), percentile CI covers it."""
    y = np.random.default_rng(0).normal(3.0, 2.0, 400)
    boot = bootstrap(lambda idx: np.array([y[idx].mean()]), y.size, 400, seed=1)
    est = bootstrap_estimates(["mean"], [y.mean()], boot.samples)["mean"]
    assert boot.failed == 0
    assert est.stderr == pytest.approx(y.std(ddof=1) / np.sqrt(y.size), rel=0.15)
    assert est.ci95[0] < y.mean() < est.ci95[1]


def test_bootstrap_counts_failed_refits() -> None:
    def fit(idx: np.ndarray) -> np.ndarray:
        if idx[0] % 2:
            raise InvalidArgument.field("x", "degenerate")
        return np.array([1.0])

    boot = bootstrap(fit, 10, 40, seed=3)
    assert 0 < boot.failed < 40 and np.isnan(boot.samples[:, 0]).sum() == boot.failed
    est = bootstrap_estimates(["p"], [1.0], boot.samples)
    assert np.isnan(est["p"].stderr)  # far more than 10% failed: no interval


def test_bootstrap_keeps_one_column_per_parameter_when_every_refit_fails() -> None:
    """All refits raising must still give (K, width) NaN samples and NaN estimates, not a
    single column that later slicing by parameter turns into an IndexError."""

    def fit(idx: np.ndarray) -> np.ndarray:
        raise InvalidArgument.field("x", "degenerate")

    boot = bootstrap(fit, 10, 5, seed=3, width=4)
    assert boot.samples.shape == (5, 4) and boot.failed == 5
    assert np.isnan(boot.samples).all()
    est = bootstrap_estimates(["a", "b"], [1.0, 2.0], boot.samples[:, 2:])
    assert all(np.isnan(e.stderr) and np.isnan(e.ci95[0]) for e in est.values())
    # Non-converged refits (a NaN vector) fix the width too, without ``width``.
    boot = bootstrap(lambda idx: np.full(6, np.nan), 10, 3, seed=3)
    assert boot.samples.shape == (3, 6) and boot.failed == 3
    # Too few columns for the names: nothing was estimated, never an IndexError.
    est = bootstrap_estimates(["a", "b"], [1.0, 2.0], np.zeros((4, 0)))
    assert np.isnan(est["b"].stderr)


def test_holdout_split_takes_the_largest_scales() -> None:
    train, test = holdout_split(np.array([5.0, 1.0, 9.0, 3.0, 7.0]), 2, 3)
    assert sorted(test.tolist()) == [2, 4] and train.tolist() == [0, 1, 3]
    with pytest.raises(InvalidArgument) as exc:
        holdout_split(np.arange(5.0), 3, 3)
    assert exc.value.violations[0].field == "holdout_largest"


def test_huber_covariance_is_least_squares_for_a_huge_delta() -> None:
    """With δ beyond every residual, Huber's estimator is least squares: same covariance."""
    rng = np.random.default_rng(2)
    x = np.linspace(0, 1, 50)
    y = 1.0 + 2.0 * x + rng.normal(0, 0.1, x.size)
    popt, pcov = optimize.curve_fit(lambda x, a, b: a + b * x, x, y)
    r = y - (popt[0] + popt[1] * x)
    cov = huber_covariance(np.column_stack([np.ones_like(x), x]), r, delta=1e6)
    np.testing.assert_allclose(cov, pcov, rtol=1e-6)


def test_huber_sandwich_is_the_sum_of_leave_one_out_shifts_for_a_huge_delta() -> None:
    """With δ beyond every residual the fit is least squares, and the HC3 sandwich equals
    Σ_i (β̂ - β̂₍₋ᵢ₎)(β̂ - β̂₍₋ᵢ₎)ᵀ over brute-force leave-one-out refits (exact for linear
    least squares: β̂ - β̂₍₋ᵢ₎ = (XᵀX)⁻¹xᵢeᵢ/(1 - hᵢ)). Heteroskedastic noise on purpose."""
    rng = np.random.default_rng(4)
    x = np.linspace(0, 1, 30)
    y = 1.0 + 2.0 * x + rng.normal(0, 0.05 + 0.3 * x, x.size)
    X = np.column_stack([np.ones_like(x), x])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    shifts = []
    for i in range(x.size):
        keep = np.arange(x.size) != i
        shifts.append(beta - np.linalg.lstsq(X[keep], y[keep], rcond=None)[0])
    jack = sum(np.outer(d, d) for d in shifts)
    cov = huber_sandwich_covariance(X, y - X @ beta, delta=1e6)
    np.testing.assert_allclose(cov, jack, rtol=1e-8)
    # The i.i.d. formula differs under this heteroskedasticity (slope variance understated).
    assert huber_covariance(X, y - X @ beta, delta=1e6)[1, 1] < 0.8 * cov[1, 1]


def test_prediction_interval_of_a_known_linear_model() -> None:
    """Delta-method PI of a straight line equals the textbook OLS prediction interval."""
    rng = np.random.default_rng(4)
    x = np.linspace(0, 10, 30)
    y = 2.0 - 0.5 * x + rng.normal(0, 0.3, x.size)
    X = np.column_stack([np.ones_like(x), x])
    beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    s2 = float(rss[0]) / (x.size - 2)
    cov = s2 * np.linalg.inv(X.T @ X)
    x0 = np.array([[1.0, 12.0]])
    lo, hi = prediction_interval(x0 @ beta, x0, cov, s2, x.size - 2)
    t = stats.t.ppf(0.975, x.size - 2)
    half = t * np.sqrt(s2 * (1 + x0 @ np.linalg.inv(X.T @ X) @ x0.T))[0, 0]
    assert hi[0] - (x0 @ beta)[0] == pytest.approx(half, rel=1e-12)
    assert (x0 @ beta)[0] - lo[0] == pytest.approx(half, rel=1e-12)


def test_criteria_and_r2_edge_cases() -> None:
    c = gaussian_criteria(0.0, 10, 2)  # a perfect fit stays finite
    assert np.isfinite(c.aic) and np.isfinite(c.bic) and c.k_total == 3
    absolute = gaussian_criteria(4.0, 10, 2, absolute_sigma=True)
    assert absolute.k_total == 2
    assert absolute.log_likelihood == pytest.approx(-2.0 - 5 * np.log(2 * np.pi))
    assert np.isnan(r_squared(np.ones(5), np.ones(5)))


def _curves() -> list[SweepCurve]:
    x = np.linspace(0, 1, 21)
    return [
        SweepCurve(s, x, np.full(21, 0.5), np.exp(-((x - 0.5) ** 2) * s)) for s in (4, 8, 16, 32)
    ]


CALLS = {
    "chinchilla": lambda **kw: fit_chinchilla(
        np.geomspace(1e8, 1e10, 8), np.geomspace(1e11, 1e10, 8), np.linspace(3, 2, 8), **kw
    ),
    "kaplan": lambda **kw: fit_kaplan(np.linspace(3, 2, 8), N=np.geomspace(1e6, 1e9, 8), **kw),
    "bnsl": lambda **kw: fit_broken_power_law(np.geomspace(1, 100, 8), np.linspace(3, 2, 8), **kw),
    "critical_point": lambda **kw: fit_critical_point(_curves(), **kw),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_fit_honours_its_time_budget(name: str) -> None:
    with pytest.raises(FitTimeout):
        CALLS[name](budget=TimeBudget(-1.0))


@pytest.mark.parametrize("name", sorted(CALLS))
def test_every_fit_enforces_limits(name: str) -> None:
    with pytest.raises(LimitExceeded):
        CALLS[name](limits=FitLimits(max_points=5))
    with pytest.raises(LimitExceeded) as exc:
        CALLS[name](bootstrap=11, limits=FitLimits(max_bootstrap=10))
    assert exc.value.violations[0].field == "bootstrap"

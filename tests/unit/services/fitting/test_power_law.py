"""Power law y = A·x^(-alpha) (+E): recovery, agreement with curve_fit, coverage, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from services.common.errors import InvalidArgument, LimitExceeded
from services.fitting.limits import FitLimits, FitTimeout, TimeBudget
from services.fitting.models.power_law import fit_power_law, power_law

X = np.geomspace(1e6, 1e10, 25)
TRUTH = {"A": 3.0e3, "alpha": 0.3, "E": 1.7}
NOISE = 0.03


def _draw(rng: np.random.Generator, offset: bool, x: np.ndarray = X) -> np.ndarray:
    y = TRUTH["A"] * x ** -TRUTH["alpha"] + (TRUTH["E"] if offset else 0.0)
    return y + rng.normal(0.0, NOISE, x.size)


@pytest.mark.parametrize("offset", [False, True])
def test_recovers_known_parameters_within_intervals(offset: bool) -> None:
    y = _draw(np.random.default_rng(11), offset)
    r = fit_power_law(X, y, offset=offset)
    assert r.converged and r.n == X.size and r.interval_method == "curvature"
    assert list(r.params) == (["A", "alpha", "E"] if offset else ["A", "alpha"])
    for name, est in r.params.items():
        lo, hi = est.ci95
        assert lo < TRUTH[name] < hi, (name, est)
        assert est.stderr > 0
    assert r.r2 > 0.99
    assert r.residuals is not None and r.residuals.rmse < 2 * NOISE


def _scipy_fit(x, y, offset, sigma=None, absolute_sigma=False):
    if offset:

        def f(x, A, a, E):
            return A * x**-a + E

        def jac(x, A, a, E):
            return np.column_stack([x**-a, -A * np.log(x) * x**-a, np.ones_like(x)])

        p0 = [TRUTH["A"] * 0.8, TRUTH["alpha"] * 0.9, TRUTH["E"] * 1.1]
    else:

        def f(x, A, a):
            return A * x**-a

        def jac(x, A, a):
            return np.column_stack([x**-a, -A * np.log(x) * x**-a])

        p0 = [TRUTH["A"] * 0.8, TRUTH["alpha"] * 0.9]
    return optimize.curve_fit(
        f,
        x,
        y,
        p0=p0,
        jac=jac,
        sigma=sigma,
        absolute_sigma=absolute_sigma,
        ftol=1e-15,
        xtol=1e-15,
        gtol=1e-15,
        maxfev=20000,
    )


@pytest.mark.parametrize(
    ("offset", "weighted", "absolute"),
    [(False, False, False), (True, False, False), (True, True, False), (False, True, True)],
)
def test_agrees_with_curve_fit(offset: bool, weighted: bool, absolute: bool) -> None:
    rng = np.random.default_rng(5)
    y = _draw(rng, offset)
    sigma = rng.uniform(0.5, 2.0, X.size) * NOISE if weighted else None
    ours = fit_power_law(X, y, offset=offset, sigma=sigma, absolute_sigma=absolute)
    popt, pcov = _scipy_fit(X, y, offset, sigma, absolute)
    values = np.array([e.value for e in ours.params.values()])
    stderr = np.array([e.stderr for e in ours.params.values()])
    np.testing.assert_allclose(values, popt, rtol=1e-6)
    np.testing.assert_allclose(stderr, np.sqrt(np.diag(pcov)), rtol=1e-5)


@pytest.mark.parametrize("offset", [False, True])
def test_interval_coverage(offset: bool) -> None:
    """95% curvature intervals cover the truth in ~95% of 200 draws (binomial 99.9% band)."""
    draws = 200
    rng = np.random.default_rng(2024 + offset)
    x = np.geomspace(1e6, 1e10, 15)
    names = ["A", "alpha", "E"] if offset else ["A", "alpha"]
    hits = dict.fromkeys(names, 0)
    for _ in range(draws):
        r = fit_power_law(x, _draw(rng, offset, x), offset=offset)
        assert r.converged
        for n in names:
            lo, hi = r.params[n].ci95
            hits[n] += lo <= TRUTH[n] <= hi
    lo_ok, hi_ok = stats.binom.ppf([0.0005, 0.9995], draws, 0.95)
    for n in names:
        assert lo_ok <= hits[n] <= hi_ok, (n, hits[n])


def test_prediction_interval_covers_new_observations() -> None:
    """A new observation at an extrapolated x falls in the 95% prediction interval ~95%."""
    draws, x_new = 200, 3e10
    rng = np.random.default_rng(77)
    truth_new = TRUTH["A"] * x_new ** -TRUTH["alpha"] + TRUTH["E"]
    hits = 0
    for _ in range(draws):
        r = fit_power_law(X, _draw(rng, True), offset=True, predict_x=[x_new])
        (p,) = r.predictions
        hits += p.ci95[0] <= truth_new + rng.normal(0.0, NOISE) <= p.ci95[1]
    lo_ok, hi_ok = stats.binom.ppf([0.0005, 0.9995], draws, 0.95)
    assert lo_ok <= hits <= hi_ok


def test_information_criteria_match_gaussian_likelihood() -> None:
    """AIC/BIC use the Gaussian log-likelihood at the MLE noise scale, counting sigma as a param."""
    y = _draw(np.random.default_rng(3), True)
    r = fit_power_law(X, y, offset=True)
    theta = np.array([r.params[k].value for k in ("A", "alpha", "E")])
    resid = y - power_law(theta, X)
    loglik = stats.norm.logpdf(resid, scale=np.sqrt(np.mean(resid**2))).sum()
    k = 4  # A, alpha, E and the noise variance
    assert r.aic == pytest.approx(2 * k - 2 * loglik, rel=1e-9)
    assert r.bic == pytest.approx(k * np.log(X.size) - 2 * loglik, rel=1e-9)
    assert r.objective == pytest.approx(np.sum(resid**2), rel=1e-9)


def test_aic_prefers_the_offset_only_when_there_is_one() -> None:
    rng = np.random.default_rng(8)
    with_e, without_e = _draw(rng, True), _draw(rng, False) + 0.5
    assert fit_power_law(X, with_e, offset=True).aic < fit_power_law(X, with_e).aic - 10
    # Pure power law: the extra parameter gains 2·ΔlogL ~ χ²₁, so ΔAIC = 2 - χ²₁ > -6 (p > .99).
    pure = _draw(rng, False)
    assert fit_power_law(X, pure, offset=True).aic > fit_power_law(X, pure).aic - 6
    assert fit_power_law(X, without_e, offset=True).converged


def test_bootstrap_is_deterministic_and_agrees_with_curvature() -> None:
    y = _draw(np.random.default_rng(4), True)
    a = fit_power_law(X, y, offset=True, bootstrap=200, seed=9)
    b = fit_power_law(X, y, offset=True, bootstrap=200, seed=9)
    c = fit_power_law(X, y, offset=True, bootstrap=200, seed=10)
    curv = fit_power_law(X, y, offset=True)
    assert a.interval_method == "bootstrap" and a.seed == 9 and a.bootstrap == 200
    assert a.params == b.params
    assert a.params["alpha"].ci95 != c.params["alpha"].ci95
    for name in ("A", "alpha", "E"):
        assert a.params[name].value == curv.params[name].value
        # Resampling and curvature agree to first order on a well-specified model.
        assert a.params[name].stderr == pytest.approx(curv.params[name].stderr, rel=0.35)
        assert a.params[name].ci95[0] < TRUTH[name] < a.params[name].ci95[1]


def test_holdout_largest_extrapolates_a_true_power_law() -> None:
    y = _draw(np.random.default_rng(6), True)
    r = fit_power_law(X, y, offset=True, holdout_largest=4)
    h = r.holdout
    assert h is not None and h.k == 4
    assert [p.x["x"] for p in h.predictions] == list(X[-4:])
    truth = TRUTH["A"] * X[-4:] ** -TRUTH["alpha"] + TRUTH["E"]
    for p, t in zip(h.predictions, truth, strict=True):
        assert p.ci95[0] < t < p.ci95[1]
    assert h.rmse < 3 * NOISE


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"x": [1, 2, float("nan"), 4], "y": [1, 2, 3, 4]}, "x[2]"),
        ({"x": [1, 2, 3, 4], "y": [1, float("inf"), 3, 4]}, "y[1]"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3]}, "y"),
        ({"x": [1, 2, 0, 4], "y": [1, 2, 3, 4]}, "x[2]"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, -4]}, "y[3]"),
        ({"x": [1, 2], "y": [1, 2]}, "x"),
        ({"x": [1, 2, 3], "y": [1, 2, 3], "offset": True}, "x"),
        ({"x": [2, 2, 2, 2], "y": [1, 2, 3, 4]}, "x"),
        ({"x": [1, 2, 3, 4], "y": [5, 5, 5, 5], "offset": True}, "y"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "sigma": [1, 1, 0, 1]}, "sigma[2]"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "sigma": [1, 1]}, "sigma"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "bootstrap": -1}, "bootstrap"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "predict_x": [0.0]}, "predict_x[0]"),
        ({"x": [1, 2, 3, 4], "y": [1, 2, 3, 4], "holdout_largest": 2}, "holdout_largest"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        fit_power_law(**kwargs)
    assert [v.field for v in exc.value.violations] == [field]


def test_offset_allows_non_positive_y() -> None:
    y = _draw(np.random.default_rng(12), True) - 6.0  # E = -4.3, some y < 0
    assert (y < 0).any()
    r = fit_power_law(X, y, offset=True)
    assert r.converged
    assert r.params["E"].ci95[0] < TRUTH["E"] - 6.0 < r.params["E"].ci95[1]


def test_limits_are_enforced() -> None:
    limits = FitLimits(max_points=10, max_bootstrap=5)
    with pytest.raises(LimitExceeded) as exc:
        fit_power_law(X, _draw(np.random.default_rng(1), False), limits=limits)
    assert exc.value.violations[0].field == "x"
    with pytest.raises(LimitExceeded) as exc:
        fit_power_law(X[:8], X[:8] ** -0.5, bootstrap=6, limits=limits)
    assert exc.value.violations[0].field == "bootstrap"


def test_time_budget_aborts() -> None:
    with pytest.raises(FitTimeout):
        fit_power_law(X, _draw(np.random.default_rng(1), True), offset=True, budget=TimeBudget(-1))

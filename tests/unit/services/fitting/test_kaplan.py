"""Kaplan et al. (2020) forms: recovery, agreement with curve_fit, coverage, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from services.common.errors import InvalidArgument
from services.fitting.models.kaplan import fit_kaplan

# Kaplan et al. 2020, Eq. (1.5) and Table 2.
TRUTH = {"N_c": 8.8e13, "alpha_N": 0.076, "D_c": 5.4e13, "alpha_D": 0.095}


def joint(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    ratio = TRUTH["alpha_N"] / TRUTH["alpha_D"]
    return ((TRUTH["N_c"] / N) ** ratio + TRUTH["D_c"] / D) ** TRUTH["alpha_D"]


def draw(seed: int, n: int = 60, noise: float = 0.01):
    """Model sizes and token counts over Kaplan's ranges; multiplicative noise on L."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(math.log(1e6), math.log(1.5e9), n))
    D = np.exp(rng.uniform(math.log(2.2e7), math.log(2.3e10), n))
    return N, D, joint(N, D) * np.exp(rng.normal(0.0, noise, n))


def test_joint_form_recovers_published_parameters() -> None:
    N, D, L = draw(0)
    r = fit_kaplan(L, N=N, D=D, predict_N=[1e11], predict_D=[1e12])
    assert r.model == "kaplan_nd" and r.converged
    assert list(r.params) == ["N_c", "alpha_N", "D_c", "alpha_D"]
    for k, est in r.params.items():
        assert est.ci95[0] < TRUTH[k] < est.ci95[1], (k, est)
    (p,) = r.predictions
    assert p.x == {"N": 1e11, "D": 1e12}
    assert p.ci95[0] < joint(np.array(1e11), np.array(1e12)) < p.ci95[1]


def test_single_variable_forms_agree_with_curve_fit() -> None:
    rng = np.random.default_rng(1)
    N = np.geomspace(1e6, 1e9, 20)
    L = (TRUTH["N_c"] / N) ** TRUTH["alpha_N"] * np.exp(rng.normal(0, 0.01, N.size))
    ours = fit_kaplan(L, N=N)
    assert ours.model == "kaplan_n"

    def f(n, log_nc, a):
        return a * (log_nc - np.log(n))

    popt, pcov = optimize.curve_fit(f, N, np.log(L), p0=[30.0, 0.1], ftol=1e-15, xtol=1e-15)
    assert ours.params["N_c"].value == pytest.approx(math.exp(popt[0]), rel=1e-6)
    assert ours.params["alpha_N"].value == pytest.approx(popt[1], rel=1e-6)
    assert ours.params["alpha_N"].stderr == pytest.approx(math.sqrt(pcov[1, 1]), rel=1e-5)
    # Exp-mapped interval of log N_c, delta-method stderr.
    t = stats.t.ppf(0.975, N.size - 2)
    lo = math.exp(popt[0] - t * math.sqrt(pcov[0, 0]))
    assert ours.params["N_c"].ci95[0] == pytest.approx(lo, rel=1e-5)

    D = np.geomspace(2e7, 2e10, 15)
    LD = (TRUTH["D_c"] / D) ** TRUTH["alpha_D"] * np.exp(rng.normal(0, 0.01, D.size))
    r = fit_kaplan(LD, D=D, predict_D=[1e12])
    assert r.model == "kaplan_d" and list(r.params) == ["D_c", "alpha_D"]
    assert r.params["alpha_D"].ci95[0] < TRUTH["alpha_D"] < r.params["alpha_D"].ci95[1]
    assert r.predictions[0].x == {"D": 1e12}


def test_joint_form_agrees_with_curve_fit() -> None:
    N, D, L = draw(2)
    ours = fit_kaplan(L, N=N, D=D)

    def f(X, log_nc, a_n, log_dc, a_d):
        n, d = X
        return a_d * np.logaddexp((a_n / a_d) * (log_nc - np.log(n)), log_dc - np.log(d))

    p0 = [math.log(TRUTH["N_c"]) + 1, 0.07, math.log(TRUTH["D_c"]) - 1, 0.1]
    popt, _ = optimize.curve_fit(f, (N, D), np.log(L), p0=p0, ftol=1e-15, xtol=1e-15, maxfev=50000)
    got = [math.log(ours.params["N_c"].value), ours.params["alpha_N"].value]
    got += [math.log(ours.params["D_c"].value), ours.params["alpha_D"].value]
    np.testing.assert_allclose(got, popt, rtol=1e-6)


@pytest.mark.slow
def test_joint_interval_coverage() -> None:
    draws = 100
    hits = dict.fromkeys(TRUTH, 0)
    for s in range(draws):
        N, D, L = draw(100 + s)
        r = fit_kaplan(L, N=N, D=D)
        for k in TRUTH:
            hits[k] += r.params[k].ci95[0] <= TRUTH[k] <= r.params[k].ci95[1]
    lo_ok, hi_ok = stats.binom.ppf([0.0005, 0.9995], draws, 0.95)
    for k in TRUTH:
        assert lo_ok <= hits[k] <= hi_ok, (k, hits[k])


def test_bootstrap_and_holdout() -> None:
    N, D, L = draw(3, n=40)
    r = fit_kaplan(L, N=N, D=D, bootstrap=30, seed=5, holdout_largest=5)
    again = fit_kaplan(L, N=N, D=D, bootstrap=30, seed=5)
    assert r.interval_method == "bootstrap" and r.params == again.params
    for k, est in r.params.items():
        assert est.ci95[0] < TRUTH[k] < est.ci95[1], (k, est)
    assert r.holdout is not None and r.holdout.k == 5
    held = np.argsort(N * D)[-5:]
    assert sorted(r.holdout.observed) == sorted(L[held].tolist())
    assert r.holdout.mean_abs_rel_error < 0.03


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"loss": [3.0, 2.0, 1.0]}, "N"),
        ({"loss": [3.0, 2.0, 1.0], "N": [1e6, -1e7, 1e8]}, "N[1]"),
        ({"loss": [3.0, 2.0, 0.0], "N": [1e6, 1e7, 1e8]}, "loss[2]"),
        ({"loss": [3.0, 2.0], "N": [1e6, 1e7, 1e8]}, "loss"),
        ({"loss": [3.0, 2.0, 1.0], "N": [1e6, 1e7, 1e8], "D": [1e9, 1e10]}, "D"),
        ({"loss": [3.0, 2.0], "N": [1e6, 1e7]}, "N"),
        ({"loss": [3.0, 2.0, 1.0], "N": [1e6, 1e6, 1e6]}, "N"),
        ({"loss": [3.0, 2.0, 1.0], "D": [1e9, 1e10, 1e11], "predict_D": [0.0]}, "predict_D[0]"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        fit_kaplan(**kwargs)
    assert [v.field for v in exc.value.violations] == [field]


def test_joint_prediction_needs_pairs() -> None:
    N, D, L = draw(4, n=20)
    with pytest.raises(InvalidArgument) as exc:
        fit_kaplan(L, N=N, D=D, predict_N=[1e10])
    assert exc.value.violations[0].field == "predict_D"

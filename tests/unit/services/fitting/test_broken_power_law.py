"""Broken neural scaling law: real 4-digit-addition extrapolation, recovery, coverage, peers."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, stats

from services.common.errors import InvalidArgument
from services.fitting.models.broken_power_law import fit_broken_power_law
from services.fitting.models.power_law import fit_power_law

DATA = Path(__file__).resolve().parents[3] / "data" / "bnsl_four_digit_addition.csv"
TRUTH = {"a": 0.4, "b": 2.3, "c0": 0.05, "c1": 2.0, "d1": 600.0, "f1": 0.3}
X = np.geomspace(100, 3000, 30)


def bnsl(x: np.ndarray, p: dict[str, float]) -> np.ndarray:
    y = p["b"] * x ** -p["c0"]
    for i in (1, 2):
        if f"c{i}" in p:
            y = y * (1 + (x / p[f"d{i}"]) ** (1 / p[f"f{i}"])) ** (-p[f"c{i}"] * p[f"f{i}"])
    return p["a"] + y


def addition() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with DATA.open() as fh:
        rows = list(csv.DictReader(fh))
    x = np.array([float(r["train_dataset_size"]) for r in rows])
    y = np.array([float(r["test_cross_entropy"]) for r in rows])
    return x, y, np.array([r["role"] == "heldout" for r in rows])


def test_four_digit_addition_extrapolates_where_a_power_law_cannot() -> None:
    """Caballero et al. Fig. 4 (left): fit the 14 'fit' rows, extrapolate to the 3 held out."""
    x, y, held = addition()
    r = fit_broken_power_law(x, y, breaks=1, holdout_largest=int(held.sum()))
    pl = fit_power_law(x, y, offset=True, holdout_largest=int(held.sum()))
    assert r.converged and r.holdout is not None and pl.holdout is not None
    assert sorted(r.holdout.observed) == sorted(y[held].tolist())  # held-out = largest sizes
    # The break sits in the sharp fall (544-736 examples) of the fitted range.
    assert 500 < r.params["d1"].value < 750
    assert r.holdout.mean_abs_rel_error < 0.05
    assert r.holdout.covered == 1.0
    assert r.holdout.rmse < pl.holdout.rmse / 20


@pytest.mark.parametrize("resamples", [2, 10])
def test_small_bootstrap_on_seven_points_reports_failures_not_an_index_error(
    resamples: int,
) -> None:
    """Seven points for six parameters: every case resample repeats a row, so no refit can
    identify the law. The fit must still answer (NaN intervals, every resample counted as
    failed, a message saying so) instead of raising IndexError from the bootstrap."""
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0])
    y = np.array([10.2, 4.9, 2.6, 1.24, 0.63, 0.31, 0.16])
    r = fit_broken_power_law(x, y, bootstrap=resamples, seed=1, predict_x=[128.0])
    assert r.interval_method == "bootstrap" and r.bootstrap == resamples
    assert r.bootstrap_failed == resamples
    assert all(math.isnan(e.stderr) for e in r.params.values())
    assert "resamples failed" in r.message
    assert len(r.predictions) == 1 and r.predictions[0].value > 0


def _theta(r) -> np.ndarray:
    p = {k: v.value for k, v in r.params.items()}
    return np.array(
        [p["a"], math.log(p["b"]), p["c0"], p["c1"], math.log(p["d1"]), math.log(p["f1"])]
    )


def test_recovers_parameters_and_agrees_with_curve_fit() -> None:
    rng = np.random.default_rng(3)
    y = bnsl(X, TRUTH) * np.exp(rng.normal(0, 0.01, X.size))
    r = fit_broken_power_law(X, y, predict_x=[5000.0])
    assert r.converged and list(r.params) == ["a", "b", "c0", "c1", "d1", "f1"]
    for k, est in r.params.items():
        assert est.ci95[0] < TRUTH[k] < est.ci95[1], (k, est)
    (p,) = r.predictions
    assert p.ci95[0] < bnsl(np.array(5000.0), TRUTH) < p.ci95[1]

    def f(x, a, lb, c0, c1, ld, lf):
        fb = math.exp(lf)
        return np.log(a + np.exp(lb) * x**-c0 * (1 + (x / np.exp(ld)) ** (1 / fb)) ** (-c1 * fb))

    ours = _theta(r)
    popt, _ = optimize.curve_fit(f, X, np.log(y), p0=ours * 1.03, ftol=1e-15, xtol=1e-15)
    np.testing.assert_allclose(ours, popt, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_interval_coverage() -> None:
    draws = 100
    hits = dict.fromkeys(TRUTH, 0)
    for s in range(draws):
        rng = np.random.default_rng(500 + s)
        r = fit_broken_power_law(X, bnsl(X, TRUTH) * np.exp(rng.normal(0, 0.01, X.size)))
        for k in TRUTH:
            hits[k] += r.params[k].ci95[0] <= TRUTH[k] <= r.params[k].ci95[1]
    lo_ok, hi_ok = stats.binom.ppf([0.0005, 0.9995], draws, 0.95)
    for k in TRUTH:
        assert lo_ok <= hits[k] <= hi_ok, (k, hits[k])


def test_two_breaks_are_found_and_preferred_when_present() -> None:
    # A steep fall between two breaks, then a shallow tail (a small: the tail stays visible).
    truth = {**TRUTH, "a": 0.02, "d1": 300.0, "c2": -1.5, "d2": 2000.0, "f2": 0.2}
    x = np.geomspace(50, 10000, 40)
    rng = np.random.default_rng(4)
    y = bnsl(x, truth) * np.exp(rng.normal(0, 0.005, x.size))
    two = fit_broken_power_law(x, y, breaks=2)
    one = fit_broken_power_law(x, y, breaks=1)
    assert two.converged and len(two.params) == 9
    assert two.aic < one.aic - 10 and two.bic < one.bic - 10
    breaks = sorted([two.params["d1"].value, two.params["d2"].value])
    assert breaks[0] == pytest.approx(300, rel=0.15) and breaks[1] == pytest.approx(2000, rel=0.15)


def test_bootstrap_is_deterministic() -> None:
    rng = np.random.default_rng(5)
    y = bnsl(X, TRUTH) * np.exp(rng.normal(0, 0.01, X.size))
    a = fit_broken_power_law(X, y, bootstrap=20, seed=2)
    b = fit_broken_power_law(X, y, bootstrap=20, seed=2)
    assert a.interval_method == "bootstrap" and a.params == b.params and a.seed == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"breaks": 3}, "breaks"),
        ({"x": [1.0, 2, 3, 4, 5, 6], "y": [3.0, 2, 1, 0.9, 0.8, 0.7]}, "x"),
        ({"x": [1.0, 2.0] * 4}, "x"),
        ({"y": [1.0, 2.0, -1.0, 1.0, 1.0, 1.0, 1.0, 1.0]}, "y[2]"),
        ({"breaks": 2}, "x"),
        ({"predict_x": [-1.0]}, "predict_x[0]"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    req = {"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "y": [3.0, 2.9, 2.8, 2, 1, 0.9, 0.8, 0.7]}
    req.update(kwargs)
    with pytest.raises(InvalidArgument) as exc:
        fit_broken_power_law(**req)
    assert [v.field for v in exc.value.violations] == [field]

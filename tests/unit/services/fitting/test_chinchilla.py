"""Chinchilla approach 3: true optimum, parameter recovery, coverage, compute-optimal frontier."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from services.common.errors import InvalidArgument
from services.fitting.limits import FitLimits
from services.fitting.models import chinchilla_kernels as kern
from services.fitting.models.chinchilla import (
    HOFFMANN_GRID,
    chinchilla_objective,
    chinchilla_optimum,
    fit_chinchilla,
)

TRUTH = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
TRUTH_OPT = {"a": 0.28 / 0.62, "b": 0.34 / 0.62}
TRUTH_OPT["G"] = ((0.34 * 406.4) / (0.28 * 410.7)) ** (1 / 0.62)


def law(N: np.ndarray, D: np.ndarray) -> np.ndarray:
    return TRUTH["E"] + TRUTH["A"] / N ** TRUTH["alpha"] + TRUTH["B"] / D ** TRUTH["beta"]


def sweep(seed: int, noise: float, n: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs spread log-uniformly over Hoffmann's ranges; multiplicative log-normal noise."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(math.log(7e7), math.log(1.6e10), n))
    D = np.exp(rng.uniform(math.log(5e9), math.log(5e11), n))
    return N, D, law(N, D) * np.exp(rng.normal(0.0, noise, n))


def _grid(u: np.ndarray, v: np.ndarray, ell: np.ndarray) -> np.ndarray:
    """Objective at all 4,500 grid points, in HOFFMANN_GRID.points() order."""
    g = HOFFMANN_GRID
    axes = [np.asarray(x, float) for x in (g.a, g.b, g.e, g.alpha, g.beta)]
    return kern.grid_objectives(*axes, u, v, ell, 1e-3).ravel()


def theta_of(r) -> np.ndarray:
    p = r.params
    logs = [math.log(p[k].value) for k in ("A", "B", "E")]
    return np.array([*logs, p["alpha"].value, p["beta"].value])


def test_recovers_hoffmann_parameters_and_compute_optimal_exponents() -> None:
    # 0.3% loss noise: run-to-run spread of a final eval loss on a large held-out set.
    N, D, L = sweep(1, 0.003)
    r = fit_chinchilla(N, D, L)
    assert r.converged and r.interval_method == "sandwich"
    assert list(r.params) == ["E", "A", "B", "alpha", "beta"]
    for name, est in r.params.items():
        assert est.ci95[0] < TRUTH[name] < est.ci95[1], (name, est)
    for name in ("a", "b", "G"):
        est = r.derived[name]
        assert est.ci95[0] < TRUTH_OPT[name] < est.ci95[1], (name, est)
    assert abs(r.derived["a"].value - TRUTH_OPT["a"]) < 0.02
    assert abs(r.derived["b"].value - TRUTH_OPT["b"]) < 0.02
    # The optimum is at least as good as the generating parameters.
    truth_theta = [math.log(406.4), math.log(410.7), math.log(1.69), 0.34, 0.28]
    assert r.objective <= chinchilla_objective(np.array(truth_theta), N, D, L)


def test_reaches_the_optimum_of_tightly_converged_lbfgsb() -> None:
    """scipy L-BFGS-B run to tight tolerances from the best grid starts lands on our optimum."""
    N, D, L = sweep(2, 0.02)
    ours = fit_chinchilla(N, D, L)
    u, v, ell = np.log(N), np.log(D), np.log(L)

    def f_and_g(t: np.ndarray) -> tuple[float, np.ndarray]:
        g, H = np.empty(5), np.empty((5, 5))
        return kern.objective_gradient_hessian(t, u, v, ell, 1e-3, g, H), g

    pts = HOFFMANN_GRID.points()
    screen = _grid(u, v, ell)
    best = min(
        optimize.minimize(
            f_and_g,
            pts[i],
            jac=True,
            method="L-BFGS-B",
            options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000, "maxfun": 50000},
        ).fun
        for i in np.argsort(screen)[:8]
    )
    assert ours.objective <= best * (1 + 1e-9)
    assert abs(ours.objective - best) <= 1e-9 * best
    # Stationary: the gradient at our optimum vanishes relative to its size at the start.
    _, g = f_and_g(theta_of(ours))
    _, g0 = f_and_g(pts[int(np.argmin(screen))])
    assert np.linalg.norm(g) < 1e-8 * np.linalg.norm(g0)


def test_analytic_gradient_and_hessian_match_finite_differences() -> None:
    N, D, L = sweep(3, 0.02, n=60)
    u, v, ell = np.log(N), np.log(D), np.log(L)
    theta = np.array([6.0, 6.1, 0.5, 0.35, 0.3])
    g, H = np.empty(5), np.empty((5, 5))
    f = kern.objective_gradient_hessian(theta, u, v, ell, 0.05, g, H)  # many inliers: H matters
    assert f == pytest.approx(kern.objective(theta, u, v, ell, 0.05), rel=1e-14)
    num_g = optimize.approx_fprime(theta, lambda t: kern.objective(t, u, v, ell, 0.05), 1e-7)
    np.testing.assert_allclose(g, num_g, rtol=1e-4, atol=1e-8)

    def grad(t: np.ndarray) -> np.ndarray:
        gg, hh = np.empty(5), np.empty((5, 5))
        kern.objective_gradient_hessian(t, u, v, ell, 0.05, gg, hh)
        return gg

    num_h = np.column_stack([(grad(theta + h) - grad(theta - h)) / 2e-6 for h in np.eye(5) * 1e-6])
    np.testing.assert_allclose(H, num_h, rtol=1e-3, atol=1e-6)


def test_grid_screen_equals_direct_objective() -> None:
    N, D, L = sweep(4, 0.02, n=50)
    vals = _grid(np.log(N), np.log(D), np.log(L))
    pts = HOFFMANN_GRID.points()
    for i in (0, 1, 77, 1234, 4499):
        assert vals[i] == pytest.approx(chinchilla_objective(pts[i], N, D, L), rel=1e-12)


def test_compute_optimal_allocation_minimises_loss_on_the_isoflop() -> None:
    """N_opt(C) = G·(C/6)^a agrees with a direct minimisation of L(N, C/(6N)) under the fit."""
    N, D, L = sweep(5, 0.01)
    r = fit_chinchilla(N, D, L, predict_C=[1e21, 5.76e23])
    p = {k: v.value for k, v in r.params.items()}
    for pred in r.predictions:
        C = pred.x["C"]

        def loss_at(logn: float, C: float = C) -> float:
            n = math.exp(logn)
            d = C / (6 * n)
            return p["E"] + p["A"] / n ** p["alpha"] + p["B"] / d ** p["beta"]

        best = optimize.minimize_scalar(loss_at, bounds=(10, 40), method="bounded",
                                        options={"xatol": 1e-10})  # fmt: skip
        assert pred.x["N"] == pytest.approx(math.exp(best.x), rel=1e-5)
        assert 6 * pred.x["N"] * pred.x["D"] == pytest.approx(C, rel=1e-12)
        assert pred.value == pytest.approx(best.fun, rel=1e-9)
        assert pred.ci95[0] < pred.value < pred.ci95[1]


@pytest.mark.slow
def test_default_interval_coverage_with_gaussian_noise() -> None:
    """Sandwich 95% intervals cover the truth in ~95% of 100 draws (2% Gaussian noise)."""
    draws = 100
    names = [*TRUTH, *TRUTH_OPT]
    hits = dict.fromkeys(names, 0)
    for s in range(draws):
        r = fit_chinchilla(*sweep(1000 + s, 0.02))
        assert r.converged
        est = {**r.params, **r.derived}
        for k in names:
            hits[k] += est[k].ci95[0] <= {**TRUTH, **TRUTH_OPT}[k] <= est[k].ci95[1]
    lo_ok, hi_ok = stats.binom.ppf([0.0005, 0.9995], draws, 0.95)
    for k in names:
        assert lo_ok <= hits[k] <= hi_ok, (k, hits[k])


def heavy_tailed_sweep(seed: int, tilt: float, n: int = 240) -> tuple[np.ndarray, ...]:
    """A real-sweep-sized design with Student-t(3) log-noise of scale 0.01·exp(tilt·z),
    z the standardised log N: tilt 0 is i.i.d., tilt ≠ 0 makes small or large models noisier
    (by up to ~3× either way at |tilt| = 0.7), as runs of different sizes are in real sweeps."""
    rng = np.random.default_rng(seed)
    N = np.exp(rng.uniform(math.log(7e7), math.log(1.6e10), n))
    D = np.exp(rng.uniform(math.log(5e9), math.log(5e11), n))
    z = (np.log(N) - np.log(N).mean()) / np.log(N).std()
    return N, D, law(N, D) * np.exp(0.01 * np.exp(tilt * z) * rng.standard_t(3, n))


@pytest.mark.slow
@pytest.mark.parametrize("tilt", [0.0, -0.7])
def test_default_intervals_cover_under_heavy_tailed_noise(tilt: float) -> None:
    """Issue 16: default 95% intervals cover the truth in 90-98% of 200 draws for E, A, B,
    alpha, beta with i.i.d. t(3) noise of scale 0.01 at 240 runs. With tilt -0.7 (small
    models noisier) the former i.i.d. Huber covariance covers A in 80% and alpha in 83% of
    these draws; the sandwich keeps each point's own ψ² and ψ' and covers >= 90% (B and beta
    are conservative, ~99%, with either formula: one global kernel bandwidth understates the
    density of the quiet large-N runs)."""
    draws = 200
    hits = dict.fromkeys(TRUTH, 0)
    for s in range(draws):
        r = fit_chinchilla(*heavy_tailed_sweep(5000 + s, tilt))
        assert r.converged and r.interval_method == "sandwich"
        for k, est in r.params.items():
            hits[k] += est.ci95[0] <= TRUTH[k] <= est.ci95[1]
    upper = 0.98 if tilt == 0.0 else 1.0
    for k in TRUTH:
        assert 0.90 <= hits[k] / draws <= upper, (k, hits[k] / draws)


README_N = [7e7] * 4 + [3e8] * 4 + [1.2e9] * 4 + [4e9] * 4 + [1.6e10] * 4
README_D = [5e9, 2e10, 1e11, 5e11] * 5
README_LOSS = [
    3.3546, 3.1003, 2.9058, 2.7819, 3.0133, 2.7591, 2.5646, 2.4407, 2.813, 2.5588,
    2.3643, 2.2404, 2.7013, 2.447, 2.2525, 2.1286, 2.6182, 2.364, 2.1695, 2.0456,
]  # fmt: skip


@pytest.mark.slow
def test_readme_example_standard_errors_match_a_large_bootstrap() -> None:
    """Issue 16: on the README's Chinchilla example the default standard errors of E, A, B,
    alpha, beta and a, b, G are within a factor 1.5 of a 2,000-resample case bootstrap's."""
    default = fit_chinchilla(README_N, README_D, README_LOSS)
    boot = fit_chinchilla(
        README_N, README_D, README_LOSS, bootstrap=2000, seed=11,
        limits=FitLimits(max_bootstrap=2000, time_budget_s=900.0),
    )  # fmt: skip
    assert default.interval_method == "sandwich" and boot.bootstrap_failed < 100
    ours = {**default.params, **default.derived}
    theirs = {**boot.params, **boot.derived}
    for k in ours:
        ratio = ours[k].stderr / theirs[k].stderr
        assert 1 / 1.5 <= ratio <= 1.5, (k, ratio)


def test_bootstrap_is_deterministic_and_covers_the_truth() -> None:
    N, D, L = sweep(6, 0.01, n=120)
    a = fit_chinchilla(N, D, L, bootstrap=40, seed=3)
    b = fit_chinchilla(N, D, L, bootstrap=40, seed=3)
    assert a.interval_method == "bootstrap" and a.seed == 3 and a.bootstrap_failed == 0
    assert a.params == b.params and a.derived == b.derived
    for name, est in a.params.items():
        assert est.ci95[0] < TRUTH[name] < est.ci95[1], (name, est)
    curv = fit_chinchilla(N, D, L)
    for name in ("alpha", "beta"):
        assert a.params[name].stderr == pytest.approx(curv.params[name].stderr, rel=0.5)


def test_predictions_and_holdout_extrapolate_the_true_law() -> None:
    N, D, L = sweep(7, 0.01)
    r = fit_chinchilla(N, D, L, predict_N=[7e10], predict_D=[1.4e12], holdout_largest=24)
    (p,) = r.predictions
    assert p.x == {"N": 7e10, "D": 1.4e12}
    assert p.ci95[0] < law(np.array(7e10), np.array(1.4e12)) < p.ci95[1]
    h = r.holdout
    assert h is not None and h.k == 24
    held = np.argsort(N * D)[-24:]
    assert sorted(h.observed) == sorted(L[held].tolist())
    assert h.mean_abs_rel_error < 0.02 and h.covered >= 0.8


def test_optimum_finder_reports_convergence() -> None:
    N, D, L = sweep(8, 0.02)
    opt = chinchilla_optimum(np.log(N), np.log(D), np.log(L), polish_starts=4)
    assert opt.converged and opt.starts_polished == 4 and opt.starts_at_optimum >= 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"N": [1e8, -1, 1e9, 2e9, 3e9, 4e9, 5e9]}, "N[1]"),
        ({"D": [1e10] * 6 + [float("nan")]}, "D[6]"),
        ({"loss": [3.0] * 6}, "loss"),
        ({"N": [1e8] * 7}, "N"),
        ({"N": [1e8] * 5, "D": [1e10] * 5, "loss": [3.0] * 5}, "N"),
        ({"delta": 0.0}, "delta"),
        ({"predict_N": [1e11], "predict_D": []}, "predict_D"),
        ({"predict_C": [0.0]}, "predict_C[0]"),
        ({"bootstrap": -2}, "bootstrap"),
        ({"holdout_largest": 3}, "holdout_largest"),
    ],
)
def test_bad_input_names_the_field(change: dict, field: str) -> None:
    req = {
        "N": [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9, 6.4e9],
        "D": [1e10, 3e10, 2e10, 5e10, 4e10, 9e10, 7e10],
        "loss": [3.0, 2.9, 2.8, 2.7, 2.6, 2.5, 2.4],
    }
    req.update(change)
    with pytest.raises(InvalidArgument) as exc:
        fit_chinchilla(**req)
    assert [v.field for v in exc.value.violations] == [field]

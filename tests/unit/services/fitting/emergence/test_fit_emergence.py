"""FitEmergence on simulated families: exact match is emergent and its partial credit smooth,
the threshold interval covers the analytic scale, noise is never emergent; peers (scipy
curve_fit, a direct binomial MLE), small tables, the loss axis, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special

from services.common.errors import InvalidArgument
from services.fitting.emergence import fit_emergence, width_decades
from services.fitting.emergence.descriptive import describe
from services.simulation.abilities import DEFAULT_LOSS_LAW, KAPLAN_LOSS_LAW, simulate_abilities

SIZES = np.geomspace(1e7, 1e12, 16)
ITEMS = 500


def analytic_log10_threshold(k: int) -> float:
    """log10 N where p(N)^k = 1/2 under the default law: k·(N_c/N)^alpha = ln 2."""
    law = DEFAULT_LOSS_LAW
    return math.log10(law.N_c * (math.log(2.0) / k) ** (-1.0 / law.alpha))


def _curves(k: int, replicates: int, seed: int):
    return simulate_abilities(
        SIZES, k=k, items=ITEMS, metrics=["exact_match", "token_accuracy"],
        replicates=replicates, seed=seed,
    ).curves  # fmt: skip


@pytest.mark.parametrize("k", [5, 8, 16])
def test_exact_match_is_emergent_and_partial_credit_of_the_same_models_smooth(k: int) -> None:
    curves = _curves(k, 2, seed=100 + k)
    for rep in range(2):
        em = curves["exact_match"].scores[rep]
        tok = curves["token_accuracy"].scores[rep]
        for kw in ({"floor": 0.0, "ceiling": 1.0, "items": ITEMS}, {}):
            e = fit_emergence(SIZES, em, **kw)
            assert e.verdict == "emergent", e.reason
            assert e.sigmoid == "gompertz"  # p^k is a Gompertz curve in log N
            t = fit_emergence(SIZES, tok, **({**kw, "items": ITEMS * k} if kw else {}))
            assert t.verdict == "smooth", t.reason
            assert t.threshold_side == "none" and math.isnan(t.threshold.value)


@pytest.mark.parametrize("k", [5, 8, 16])
def test_threshold_estimate_and_interval_agree_with_the_analytic_scale(k: int) -> None:
    em = _curves(k, 1, seed=7 * k)["exact_match"].scores[0]
    truth = 10 ** analytic_log10_threshold(k)
    for boot in (0, 100):
        e = fit_emergence(SIZES, em, floor=0.0, ceiling=1.0, items=ITEMS, bootstrap=boot, seed=k)
        assert e.interval_method == ("bootstrap" if boot else "profile")
        assert e.threshold_side == "inside" and e.bootstrap_failed == 0
        lo, hi = e.threshold.ci95
        assert lo < e.threshold.value < hi and hi / lo < 10**0.3  # informative: within 2x
        # one benchmark draw: inside, give or take 0.05 decade (the rate is tested below)
        assert lo / 10**0.05 < truth < hi * 10**0.05
    # the 10–90% rise of p^k = exp(-k(N_c/N)^alpha) spans 3.084/(alpha·ln 10) decades, any k
    width = 3.084 / (DEFAULT_LOSS_LAW.alpha * math.log(10))
    assert e.width_decades.value == pytest.approx(width, rel=0.1)


@pytest.mark.slow
def test_threshold_interval_coverage_over_repeated_benchmarks() -> None:
    k, n = 8, 40
    truth = 10 ** analytic_log10_threshold(k)
    scores = _curves(k, n, seed=2024)["exact_match"].scores
    covered = 0
    for rep in range(n):
        e = fit_emergence(SIZES, scores[rep], floor=0.0, ceiling=1.0, items=ITEMS)
        covered += e.threshold.ci95[0] < truth < e.threshold.ci95[1]
    # nominal 95% (profile likelihood); 16 points on a grid profile: allow some slack
    assert covered / n >= 0.85


def test_pure_noise_around_a_constant_is_never_emergent_nor_smooth_mostly() -> None:
    rng = np.random.default_rng(9)
    verdicts = []
    for t in range(30):
        n = int(rng.integers(3, 20))
        s = np.geomspace(1e7, 1e12, n)
        if t % 3 == 0:
            y, kw = rng.binomial(ITEMS, 0.3, n) / ITEMS, {"items": ITEMS, "ceiling": 1.0}
        elif t % 3 == 1:
            y, kw = 0.3 + 0.02 * rng.standard_normal(n), {}
        else:
            y, kw = rng.binomial(ITEMS, 0.25, n) / ITEMS, {"items": ITEMS, "floor": 0.25}
        e = fit_emergence(s, y, **kw)
        verdicts.append(e.verdict)
        assert e.verdict != "emergent", e.reason
    assert verdicts.count("flat") >= 20 and verdicts.count("smooth") <= 3


def test_kaplan_law_exact_match_stays_at_zero_and_is_flat() -> None:
    r = simulate_abilities(
        SIZES, k=8, items=ITEMS, metrics=["exact_match"], seed=5, loss_law=KAPLAN_LOSS_LAW
    )
    e = fit_emergence(SIZES, r.curves["exact_match"].scores[0], floor=0.0, ceiling=1.0,
                      items=ITEMS)  # fmt: skip
    assert e.verdict == "flat", e.reason


def test_unweighted_logistic_agrees_with_scipy_curve_fit() -> None:
    rng = np.random.default_rng(3)
    x = np.linspace(7, 12, 14)
    y = 0.2 + 0.6 * special.expit(2.0 * (x - 9.3)) + 0.01 * rng.standard_normal(x.size)
    e = fit_emergence(10**x, y)
    assert e.verdict == "emergent" and e.sigmoid == "logistic", e.reason
    lg = e.models["logistic"].params
    f = lambda x, xh, s, lo, hi: lo + (hi - lo) * special.expit(s * (x - xh))  # noqa: E731
    ref, _ = optimize.curve_fit(f, x, y, p0=[9.0, 1.0, 0.1, 0.9], xtol=1e-14, ftol=1e-14)
    got = [lg[n].value for n in ("log10_threshold", "sharpness", "floor", "ceiling")]
    np.testing.assert_allclose(got, ref, rtol=1e-4)
    assert width_decades("logistic", lg["sharpness"].value) == pytest.approx(
        2 * math.log(9) / ref[1], rel=1e-4
    )


def test_binomial_fit_is_the_binomial_maximum_likelihood() -> None:
    x = np.log10(SIZES)
    y = _curves(8, 1, seed=3)["exact_match"].scores[0]
    e = fit_emergence(SIZES, y, floor=0.0, ceiling=1.0, items=ITEMS)
    g = e.models["gompertz"].params

    def nll(t: np.ndarray) -> float:
        q = np.exp(-math.log(2) * np.exp(-t[1] * (x - t[0])))
        f = np.clip(t[2] + (t[3] - t[2]) * q, 1e-300, 1 - 1e-16)
        return -float(np.sum(ITEMS * (special.xlogy(y, f) + special.xlogy(1 - y, 1 - f))))

    opts = {"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000}
    start = [10.0, 1.0, 0.001, 0.99]
    ref = optimize.minimize(nll, start, method="Nelder-Mead", options=opts).x
    # the reweighted least squares sits at the MLE up to the half-item floor: well inside
    # the threshold's own interval (~0.1 decade)
    assert g["log10_threshold"].value == pytest.approx(ref[0], abs=0.02)
    assert g["sharpness"].value == pytest.approx(ref[1], rel=0.03)
    assert e.likelihood in ("binomial", "quasi-binomial")


def test_bootstrap_is_reproducible_from_the_seed() -> None:
    y = _curves(5, 1, seed=1)["exact_match"].scores[0]
    kw = {"floor": 0.0, "ceiling": 1.0, "items": ITEMS, "bootstrap": 30}
    a = fit_emergence(SIZES, y, seed=4, **kw)
    b = fit_emergence(SIZES, y, seed=4, **kw)
    c = fit_emergence(SIZES, y, seed=5, **kw)
    assert a.threshold == b.threshold and a.seed == 4
    assert a.threshold.ci95 != c.threshold.ci95
    drawn = fit_emergence(SIZES, y, **kw)
    assert drawn.seed is not None
    assert fit_emergence(SIZES, y, seed=drawn.seed, **kw).threshold == drawn.threshold


def test_predictions_at_larger_scales_come_from_the_preferred_model() -> None:
    k = 8
    y = _curves(k, 1, seed=12)["exact_match"].scores[0]
    big = [3e12, 1e13]
    e = fit_emergence(SIZES, y, floor=0.0, ceiling=1.0, items=ITEMS, predict_scale=big,
                      broken_power_law=True)  # fmt: skip
    assert e.preferred == "gompertz"
    truth = DEFAULT_LOSS_LAW.token_accuracy(np.array(big)) ** k
    for pred, t in zip(e.predictions, truth, strict=True):
        assert pred.x["scale"] in big
        assert pred.value == pytest.approx(t, abs=0.03)
    bnsl = e.models["broken_power_law"]
    assert bnsl.converged and math.isnan(bnsl.aic)  # shown, not compared


# --- small real-world tables ------------------------------------------------------------


def test_gpt3_mmlu_four_sizes_is_an_emergent_jump_bracketed_by_the_data() -> None:
    # Hendrycks et al. (2021), 5-shot MMLU of GPT-3 2.7B/6.7B/13B/175B; 14042 questions
    e = fit_emergence([2.7e9, 6.7e9, 1.3e10, 1.75e11], [0.259, 0.249, 0.260, 0.439],
                      items=14042, floor=0.25)  # fmt: skip
    assert e.verdict == "emergent", e.reason
    assert e.interval_method == "bracket" and e.threshold.ci95 == (1.3e10, 1.75e11)
    assert e.plateau_points == 3


def test_three_points_answer_and_two_are_inconclusive() -> None:
    jump = fit_emergence([1e8, 1e9, 1e10], [0.002, 0.004, 0.41], items=2000, floor=0.0)
    assert jump.verdict == "emergent", jump.reason
    flat = fit_emergence([1e8, 1e9, 1e10], [0.251, 0.247, 0.256], items=2000, floor=0.25)
    assert flat.verdict == "flat", flat.reason
    two = fit_emergence([1e8, 1e9], [0.1, 0.6], items=2000)
    assert two.verdict == "inconclusive" and "3" in two.reason


def test_scores_below_chance_are_accepted_and_verdicts_do_not_flip_on_options() -> None:
    scale = [1.25e8, 3.5e8, 1.3e9, 2.7e9, 6.7e9]
    score = [0.2438, 0.2555, 0.2481, 0.2512, 0.2466]
    for kw in ({}, {"floor": 0.25}, {"items": 14042}, {"items": 14042, "floor": 0.25}):
        e = fit_emergence(scale, score, **kw)
        assert e.verdict == "flat", (kw, e.reason)


def test_a_tiny_ceiling_is_not_a_jump() -> None:
    # 9 of 2006 right at the largest size: significant, but no jump worth the name
    e = fit_emergence([1e8, 3e8, 1e9, 3e9, 1e10], [0, 0, 0, 0.0005, 9 / 2006], items=2006,
                      floor=0.0)  # fmt: skip
    assert e.verdict != "emergent", e.reason


def test_the_loss_axis_is_reversed() -> None:
    x = np.linspace(8, 11, 6)
    y = np.round(0.25 + 0.5 * special.expit(5.0 * (x - 10.2)), 4)
    by_size = fit_emergence(10**x, y, items=2000, floor=0.25)
    loss = 2.0 * (10**x / 1e8) ** -0.1  # a loss law: bigger models, lower loss
    by_loss = fit_emergence(loss, y, items=2000, floor=0.25, scale_kind="loss")
    assert by_size.verdict == by_loss.verdict == "emergent", by_loss.reason
    # the threshold maps through the loss law, and its interval is ordered
    expect = 2.0 * (by_size.threshold.value / 1e8) ** -0.1
    assert by_loss.threshold.value == pytest.approx(expect, rel=0.02)
    lo, hi = by_loss.threshold.ci95
    assert lo < by_loss.threshold.value < hi


def test_descriptive_statistics_follow_big_bench_definitions() -> None:
    x = np.arange(5.0)
    line = describe(x, 0.1 * x)
    assert line.linearity == pytest.approx(1.0)  # a straight line at even spacing
    assert line.breakthroughness == pytest.approx(0.4 / 0.1)  # I / root median square
    step = describe(x, np.array([0.0, 0.0, 0.0, 0.0, 0.5]))
    assert step.linearity == pytest.approx(1 / 4)  # one step carries the whole change
    assert math.isinf(step.breakthroughness)  # median step 0
    fall = describe(x, -0.1 * x)
    assert fall.overall_improvement == pytest.approx(-0.4)
    e = fit_emergence(10 ** (8 + x), 0.3 + 0.1 * x, items=1000)
    assert e.linearity == pytest.approx(1.0) and e.overall_improvement == pytest.approx(0.4)


BAD = [
    ({"score": [0.1, 0.2, 0.3]}, "score"),
    ({"scale": [1e7, 1e8, 0.0, 1e10, 1e11, 1e12]}, "scale[2]"),
    ({"scale": [1e7, 1e8, float("inf"), 1e10, 1e11, 1e12]}, "scale[2]"),
    ({"score": [0.0, 0.01, float("nan"), 0.7, 0.9, 0.95]}, "score[2]"),
    ({"score": [25.9, 24.9, 26.0, 43.9, 50.0, 60.0]}, "score[0]"),  # percentages
    ({"ceiling": 0.8}, "score[4]"),
    ({"floor": 0.5, "ceiling": 0.5}, "ceiling"),
    ({"floor": 1.5}, "floor"),
    ({"items": [100, 100, 0, 100, 100, 100]}, "items[2]"),
    ({"items": [100, 100]}, "items"),
    ({"scale_kind": "tokens"}, "scale_kind"),
    ({"predict_scale": [-1.0]}, "predict_scale[0]"),
    ({"bootstrap": -1}, "bootstrap"),
    ({"seed": -2}, "seed"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_names_the_field(change: dict, field: str) -> None:
    kw = {
        "scale": [1e7, 1e8, 1e9, 1e10, 1e11, 1e12],
        "score": [0.0, 0.01, 0.2, 0.7, 0.9, 0.95],
        "bootstrap": 5,
        **change,
    }
    with pytest.raises(InvalidArgument) as exc:
        fit_emergence(**kw)
    assert [v.field for v in exc.value.violations] == [field]

"""Mirage analysis: p^k of a smooth per-token law explains simulated exact match, and a
genuine extra jump (or a wrong k) is caught; the law's parameters are recovered; bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from services.common.errors import InvalidArgument
from services.fitting.mirage import analyze_mirage, k_effective
from services.simulation.abilities import DEFAULT_LOSS_LAW, simulate_abilities

SIZES = np.geomspace(1e7, 1e12, 11)
ITEMS = 500


def _sim(k: int, replicates: int, seed: int):
    return simulate_abilities(
        SIZES, k=k, items=ITEMS, metrics=["exact_match", "token_accuracy", "edit_distance"],
        replicates=replicates, seed=seed,
    ).curves  # fmt: skip


@pytest.mark.parametrize("k", [5, 10])
def test_simulated_exact_match_is_explained_by_the_smooth_token_law(k: int) -> None:
    n = 12
    curves = _sim(k, n, seed=31 + k)
    p_values, k_eff, covered = [], [], 0
    for rep in range(n):
        em = curves["exact_match"].scores[rep]
        tok = curves["token_accuracy"].scores[rep]
        m = analyze_mirage(SIZES, em, k=k, items=ITEMS, token_accuracy=tok, resamples=400, seed=rep)
        p_values.append(m.p_value)
        k_eff.append(m.k_effective)
        law = m.law.params
        covered += law["alpha"].ci95[0] < DEFAULT_LOSS_LAW.alpha < law["alpha"].ci95[1]
        covered += law["N_c"].ci95[0] < DEFAULT_LOSS_LAW.N_c < law["N_c"].ci95[1]
    # under the null the Monte Carlo p-value is uniform: ~5% fall below 0.05
    assert np.mean(np.array(p_values) >= 0.05) >= 9 / 12
    assert np.median(k_eff) == pytest.approx(k, rel=0.05)
    # the law's 95% intervals (measured 93.5% for alpha, 95.5% for N_c over 200 draws)
    assert covered >= 20


def test_genuine_jump_beyond_the_metric_is_not_explained() -> None:
    # per-token accuracy follows the smooth law, but exact match jumps by a logistic step of
    # its own, far sharper than p^k (a real threshold the tokens do not show)
    k = 8
    curves = _sim(k, 1, seed=3)
    tok = curves["token_accuracy"].scores[0]
    rng = np.random.default_rng(8)
    x = np.log10(SIZES)
    em = rng.binomial(ITEMS, 0.95 * special.expit(6.0 * (x - 10.5))) / ITEMS
    m = analyze_mirage(SIZES, em, k=k, items=ITEMS, token_accuracy=tok, resamples=500, seed=1)
    assert not m.explained and m.p_value < 0.01, m.reason


def test_wrong_answer_length_is_caught_and_k_effective_finds_the_right_one() -> None:
    curves = _sim(10, 1, seed=4)
    em, tok = curves["exact_match"].scores[0], curves["token_accuracy"].scores[0]
    m = analyze_mirage(SIZES, em, k=5, items=ITEMS, token_accuracy=tok, resamples=500, seed=2)
    assert not m.explained
    assert m.k_effective == pytest.approx(10, rel=0.1)
    worst = max(m.points, key=lambda pt: abs(pt.z))
    assert worst.observed < worst.predicted  # p^5 overestimates a 10-token exact match


def test_evidence_forms_are_equivalent() -> None:
    curves = _sim(6, 1, seed=5)
    em, tok = curves["exact_match"].scores[0], curves["token_accuracy"].scores[0]
    ed = curves["edit_distance"].scores[0]
    np.testing.assert_allclose(ed, 1 - tok, atol=1e-12)  # substitution model, vocab 0
    kw = {"k": 6, "items": ITEMS, "resamples": 50, "seed": 3}
    a = analyze_mirage(SIZES, em, token_accuracy=tok, **kw)
    b = analyze_mirage(SIZES, em, edit_distance=ed, **kw)
    c = analyze_mirage(SIZES, em, token_loss=-np.log(tok), **kw)  # unweighted: loss has no count
    assert a.law.params["alpha"].value == pytest.approx(b.law.params["alpha"].value, rel=1e-9)
    assert a.p_value == b.p_value
    assert c.law.params["alpha"].value == pytest.approx(a.law.params["alpha"].value, rel=0.05)
    for pt in a.points:  # predicted exact match is p̂^k inside its band
        assert pt.predicted_ci95[0] <= pt.predicted <= pt.predicted_ci95[1]
        assert 0.0 <= pt.predicted <= 1.0 and math.isfinite(pt.z)


@pytest.mark.parametrize("k", [2, 5, 10, 20])
def test_k_effective_recovers_k_inside_its_profile_interval(k: int) -> None:
    # p^k exact match over 1000 items at 9 sizes; the token-level loss is the true law
    sizes = np.geomspace(1e8, 1e12, 9)
    loss = 3.0 * (4.6e7 / sizes) ** 0.46
    items = np.full(sizes.size, 1000.0)
    rng = np.random.default_rng(k)
    covered = 0
    for _ in range(40):
        y = rng.binomial(1000, np.exp(-k * loss)) / 1000
        k_eff, (lo, hi), _ = k_effective(y, loss, items)
        assert lo < k_eff < hi and hi / lo < 1.5
        covered += lo <= k <= hi
    assert covered >= 34  # nominal 95% of 40; measured 93-97% over 100 draws


def test_k_effective_does_not_stall_where_predictions_clip() -> None:
    # long answers: exact match near zero except at the largest sizes, where a local search
    # from k' ~ 1 sees every prediction clipped at first (the old search returned 21.195)
    sizes = np.geomspace(1e8, 1e12, 7)
    loss = 3.0 * (4.6e7 / sizes) ** 0.46
    y = np.round(np.exp(-40 * loss), 3)
    k_eff, (lo, hi), _ = k_effective(y, loss, np.full(7, 1000.0))
    assert lo <= 40 <= hi and k_eff == pytest.approx(40, rel=0.1)
    m = analyze_mirage(sizes, y, k=40, items=1000, token_loss=loss, resamples=200, seed=1)
    assert m.explained and m.k_statistic < 3.84 and m.evidence == "token_loss"
    assert m.evidence_conversion == "p = exp(-token_loss)" and "k = 40" in m.reason


def test_partial_credit_is_taken_as_per_token_accuracy() -> None:
    curves = _sim(6, 1, seed=5)
    em, tok = curves["exact_match"].scores[0], curves["token_accuracy"].scores[0]
    kw = {"k": 6, "items": ITEMS, "resamples": 50, "seed": 3}
    a = analyze_mirage(SIZES, em, token_accuracy=tok, **kw)
    b = analyze_mirage(SIZES, em, partial_credit=tok, **kw)
    assert b.evidence == "partial_credit" and b.evidence_conversion == "p = partial_credit"
    assert a.p_value == b.p_value and a.k_effective == b.k_effective
    assert a.k_effective_ci95[0] <= 6 <= a.k_effective_ci95[1]


def test_seeded_monte_carlo_is_reproducible() -> None:
    curves = _sim(5, 1, seed=6)
    kw = {
        "k": 5, "items": ITEMS, "token_accuracy": curves["token_accuracy"].scores[0],
        "resamples": 100,
    }  # fmt: skip
    em = curves["exact_match"].scores[0]
    a = analyze_mirage(SIZES, em, seed=11, **kw)
    b = analyze_mirage(SIZES, em, seed=11, **kw)
    assert a.p_value == b.p_value and a.seed == 11
    drawn = analyze_mirage(SIZES, em, **kw)
    assert analyze_mirage(SIZES, em, seed=drawn.seed, **kw).p_value == drawn.p_value


BASE = {
    "scale": [1e8, 1e9, 1e10, 1e11],
    "exact_match": [0.0, 0.1, 0.6, 0.9],
    "k": 5,
    "items": 100,
    "token_accuracy": [0.5, 0.7, 0.9, 0.98],
    "resamples": 10,
}
BAD = [
    ({"exact_match": [0.0, 0.1, 0.6]}, "exact_match"),
    ({"exact_match": [0.0, 0.1, 1.6, 0.9]}, "exact_match[2]"),
    ({"scale": [1e8, 0.0, 1e10, 1e11]}, "scale[1]"),
    ({"k": 0}, "k"),
    ({"items": [100, 100, 0, 100]}, "items[2]"),
    ({"items": [100, 100]}, "items"),
    ({"token_accuracy": None}, "token_accuracy"),
    ({"token_loss": [1.0, 0.5, 0.2, 0.1]}, "token_accuracy"),
    ({"token_accuracy": [0.5, 0.7, 1.0, 0.98]}, "token_accuracy[2]"),
    ({"token_accuracy": [0.5, 0.7]}, "token_accuracy"),
    ({"token_accuracy": None, "token_loss": [1.0, -0.5, 0.2, 0.1]}, "token_loss[1]"),
    ({"token_accuracy": None, "edit_distance": [0.5, 0.3, 0.0, 0.01]}, "edit_distance[2]"),
    ({"resamples": -1}, "resamples"),
    ({"level": 1.5}, "level"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_names_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        analyze_mirage(**{**BASE, **change})
    assert [v.field for v in exc.value.violations] == [field]

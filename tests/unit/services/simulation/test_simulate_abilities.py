"""SimulateAbilities: law calibration, closed forms, simulated means, determinism, bad input."""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import integrate, stats

from services.common.errors import InvalidArgument, LimitExceeded
from services.simulation.abilities import (
    DEFAULT_LOSS_LAW,
    KAPLAN_LOSS_LAW,
    METRICS,
    AbilityLimits,
    LossLaw,
    expected_scores,
    multiple_choice_margin,
    simulate_abilities,
)
from services.simulation.kernels.abilities import levenshtein


def test_default_law_matches_the_issue_calibration() -> None:
    # issue 5: exp(-L) about 0.5 at N = 1e8 and about 0.99 at N = 1e12
    p = DEFAULT_LOSS_LAW.token_accuracy(np.array([1e8, 1e12]))
    assert p[0] == pytest.approx(0.5, abs=0.01)
    assert p[1] == pytest.approx(0.99, abs=0.002)
    # Kaplan et al.'s corpus-level constants: exp(-L) <= 0.25 even at 1e12
    assert KAPLAN_LOSS_LAW.token_accuracy(np.array([1e12]))[0] <= 0.25


def test_kaplan_law_shows_that_exact_match_never_emerges() -> None:
    sizes = np.geomspace(1e8, 1e12, 5)
    r = simulate_abilities(
        sizes, k=8, items=1000, metrics=["exact_match", "token_accuracy"], replicates=3,
        seed=2, loss_law=KAPLAN_LOSS_LAW,
    )  # fmt: skip
    em = r.curves["exact_match"]
    assert max(pt.expected for pt in em.points) <= 0.25**8
    assert np.all(em.scores <= 2 / 1000)  # at most a stray item or two
    tok = r.curves["token_accuracy"]
    assert all(pt.mean < 0.27 for pt in tok.points)  # the partial credit does rise, slowly
    assert tok.points[-1].mean > tok.points[0].mean


P = np.array([0.0, 0.05, 0.3, 0.5, 0.77, 0.95, 0.999, 1.0])


@pytest.mark.parametrize("k", [1, 3, 8])
def test_expected_generation_scores_match_the_binomial_law(k: int) -> None:
    # independent truth: the number of right tokens is Binomial(k, p)
    em = expected_scores(P, "exact_match", k)
    np.testing.assert_allclose(em, stats.binom.pmf(k, k, P), rtol=1e-12, atol=1e-300)
    tok = expected_scores(P, "token_accuracy", k)
    np.testing.assert_allclose(tok, stats.binom.mean(k, P) / k, rtol=1e-12)
    ed = expected_scores(P, "edit_distance", k)
    np.testing.assert_allclose(ed, (k - stats.binom.mean(k, P)) / k, rtol=1e-12, atol=1e-15)
    assert np.all(np.isnan(expected_scores(P, "edit_distance", k, vocab_size=10)))


def _mc_by_quadrature(p: float, k: int, options: int) -> float:
    m = float(multiple_choice_margin(np.array([p]), k)[0])
    if math.isinf(m):
        return 1.0
    f = lambda z: stats.norm.pdf(z) * stats.norm.cdf(z + m) ** (options - 1)  # noqa: E731
    return integrate.quad(f, -np.inf, np.inf, epsabs=1e-13)[0]


@pytest.mark.parametrize(("k", "options"), [(1, 2), (1, 4), (5, 4), (20, 10)])
def test_expected_multiple_choice_matches_quadrature_and_limits(k: int, options: int) -> None:
    got = expected_scores(P, "multiple_choice", k, options=options)
    want = [_mc_by_quadrature(float(p), k, options) for p in P]
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert got[0] == pytest.approx(1.0 / options, abs=1e-12)  # knows nothing: chance
    assert got[-1] == pytest.approx(1.0)
    if options == 2:  # difference of two normals: Φ(m/√2); one token: (1 + p)/2
        m = multiple_choice_margin(P, k)
        np.testing.assert_allclose(got, stats.norm.cdf(m / math.sqrt(2)), atol=1e-9)
        if k == 1:
            np.testing.assert_allclose(got, (1 + P) / 2, atol=1e-9)


def test_simulated_means_and_spread_agree_with_theory() -> None:
    sizes = np.geomspace(3e7, 3e11, 5)
    R, M, k, K = 400, 200, 6, 4
    r = simulate_abilities(
        sizes, k=k, items=M, metrics=list(METRICS), replicates=R, seed=20, options=K
    )
    p = r.token_accuracy
    np.testing.assert_allclose(p, DEFAULT_LOSS_LAW.token_accuracy(sizes))
    for metric in METRICS:
        curve = r.curves[metric]
        e = np.array([pt.expected for pt in curve.points])
        # per-item scores are independent: the replicate score is a mean of M items
        if metric in ("exact_match", "multiple_choice"):
            sd = np.sqrt(e * (1 - e) / M)
        else:  # M·k independent token outcomes
            sd = np.sqrt(p * (1 - p) / (M * k))
        mean = np.array([pt.mean for pt in curve.points])
        live = sd > 1e-4
        z = (mean[live] - e[live]) / (sd[live] / math.sqrt(R))
        assert np.all(np.abs(z) < 4.5), (metric, z)
        events = M * e * (1 - e) > 5  # enough items on both sides for a spread to show
        sim_sd = curve.scores.std(axis=0, ddof=1)
        np.testing.assert_allclose(sim_sd[events], sd[events], rtol=0.2, err_msg=metric)
        for pt in curve.points:
            assert pt.ci95[0] <= pt.mean <= pt.ci95[1]


def _levenshtein_reference(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    @functools.cache
    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))

    return d(len(a), len(b))


def test_levenshtein_kernel_matches_the_recursive_definition() -> None:
    rng = np.random.default_rng(4)
    for _ in range(300):
        a = rng.integers(0, 3, rng.integers(0, 9))
        b = rng.integers(0, 3, rng.integers(0, 9))
        row = np.empty(b.size + 1, dtype=np.int64)
        got = levenshtein(a.astype(np.int64), b.astype(np.int64), row)
        assert got == _levenshtein_reference(tuple(a), tuple(b))


def test_finite_vocabulary_edit_distance_is_below_the_substitution_count() -> None:
    # Levenshtein <= Hamming; with two tokens, shifted alignments often beat substitutions
    sizes = np.array([1e8, 1e9])
    kw = dict(k=10, items=400, metrics=["edit_distance"], replicates=40, seed=5)
    tiny = simulate_abilities(sizes, vocab_size=2, **kw).curves["edit_distance"]
    huge = simulate_abilities(sizes, vocab_size=50_000, **kw).curves["edit_distance"]
    for t, h in zip(tiny.points, huge.points, strict=True):
        assert math.isnan(t.expected)
        p = DEFAULT_LOSS_LAW.token_accuracy(np.array([t.size]))[0]
        se = math.sqrt(p * (1 - p) / (400 * 10 * 40))
        assert abs(h.mean - (1 - p)) < 4.5 * se  # large vocabulary: the closed form holds
        assert t.mean < (1 - p) - 5 * se


def test_explicit_token_accuracy_replaces_the_law() -> None:
    p = [0.0, 0.5, 1.0]
    r = simulate_abilities(
        [1, 2, 3], k=4, items=50, metrics=list(METRICS), seed=1, token_accuracy=p
    )
    np.testing.assert_array_equal(r.token_accuracy, p)
    em = r.curves["exact_match"].scores[0]
    assert em[0] == 0.0 and em[2] == 1.0
    assert r.curves["edit_distance"].scores[0][2] == 0.0
    assert r.curves["multiple_choice"].scores[0][2] == 1.0


def test_bit_identical_whatever_the_threads_and_replicate_prefix() -> None:
    sizes = np.geomspace(1e7, 1e12, 6)
    kw = dict(k=5, items=100, metrics=list(METRICS), replicates=9, seed=77, vocab_size=7)
    serial = simulate_abilities(sizes, **kw)
    threaded = simulate_abilities(sizes, max_workers=2, **kw)
    with ThreadPoolExecutor(3) as pool:
        pooled = simulate_abilities(sizes, executor=pool, **kw)
    fewer = simulate_abilities(sizes, **{**kw, "replicates": 4})
    for m in METRICS:
        a = serial.curves[m].scores
        assert a.tobytes() == threaded.curves[m].scores.tobytes()
        assert a.tobytes() == pooled.curves[m].scores.tobytes()
        assert a[:4].tobytes() == fewer.curves[m].scores.tobytes()
    other = simulate_abilities(sizes, **{**kw, "seed": 78})
    assert not np.array_equal(
        other.curves["token_accuracy"].scores, serial.curves["token_accuracy"].scores
    )


def test_missing_seed_is_drawn_and_reported() -> None:
    r = simulate_abilities([1e9], k=2, items=10)
    again = simulate_abilities([1e9], k=2, items=10, seed=r.seed)
    assert r.curves["exact_match"].scores.tobytes() == again.curves["exact_match"].scores.tobytes()


BAD = [
    ({"sizes": []}, "sizes"),
    ({"sizes": [1e8, -1.0]}, "sizes[1]"),
    ({"sizes": [1e8, float("nan")]}, "sizes[1]"),
    ({"k": 0}, "k"),
    ({"items": 0}, "items"),
    ({"metrics": []}, "metrics"),
    ({"metrics": ["exact_match", "bleu"]}, "metrics[1]"),
    ({"metrics": ["exact_match", "exact_match"]}, "metrics[1]"),
    ({"replicates": 0}, "replicates"),
    ({"seed": -3}, "seed"),
    ({"metrics": ["multiple_choice"], "options": 1}, "options"),
    ({"metrics": ["exact_match"], "options": 0}, "options"),  # what the schema promises
    ({"vocab_size": 1}, "vocab_size"),
    ({"token_accuracy": [0.5]}, "token_accuracy"),
    ({"token_accuracy": [0.5, 1.5]}, "token_accuracy[1]"),
    ({"loss_law": LossLaw(N_c=0.0, alpha=0.4)}, "loss_law.N_c"),
    ({"loss_law": LossLaw(N_c=1e7, alpha=-0.4)}, "loss_law.alpha"),
    ({"loss_law": LossLaw(), "token_accuracy": [0.5, 0.6]}, "token_accuracy"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_names_the_field(change: dict, field: str) -> None:
    kw = {"sizes": [1e8, 1e9], "k": 4, "items": 10, "seed": 1, **change}
    with pytest.raises(InvalidArgument) as exc:
        simulate_abilities(**kw)
    assert [v.field for v in exc.value.violations] == [field]


def test_limits_are_refused_naming_the_field() -> None:
    lim = AbilityLimits(max_sizes=3, max_k=10, max_items=100, max_replicates=5, max_work=9_999)
    cases = [
        ({"sizes": [1, 2, 3, 4]}, "sizes"),
        ({"k": 11}, "k"),
        ({"items": 101}, "items"),
        ({"replicates": 6}, "replicates"),
        ({"items": 100, "replicates": 5}, "replicates"),  # 2·100·5·10 tokens > 9 999
    ]
    for change, field in cases:
        kw = {"sizes": [1e8, 1e9], "k": 10, "items": 10, "seed": 1, "limits": lim, **change}
        with pytest.raises(LimitExceeded) as exc:
            simulate_abilities(**kw)
        assert exc.value.violations[0].field == field

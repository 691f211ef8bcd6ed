"""Emergent abilities through the stack: simulate a family, then judge its curves."""

from __future__ import annotations

import math

import httpx
import numpy as np

from tests.integration.stack import Stack

SIZES = np.logspace(7, 12, 16).tolist()
LAW = {"N_c": 4.6e7, "alpha": 0.46}  # the simulator's default per-token loss law


def post(stack: Stack, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{stack.url}{path}", json=body, timeout=120)


def simulate(stack: Stack, k: int, **extra: object) -> dict:
    body = {"sizes": SIZES, "k": k, "items": 500, "replicates": 1, "seed": 11, **extra}
    reply = post(stack, "/v1/abilities/simulate", body)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_exact_match_jumps_while_partial_credit_of_the_same_models_is_smooth(
    stack: Stack,
) -> None:
    k = 8
    sim = simulate(stack, k, metrics=["exact_match", "token_accuracy"])
    p = np.asarray(sim["token_accuracy"])
    expected = [pt["expected"] for pt in sim["curves"]["exact_match"]["points"]]
    np.testing.assert_allclose(expected, p**k, rtol=1e-12)  # closed form p^k
    exact = [pt["mean"] for pt in sim["curves"]["exact_match"]["points"]]
    partial = [pt["mean"] for pt in sim["curves"]["token_accuracy"]["points"]]

    fit = {"scale": SIZES, "floor": 0.0, "ceiling": 1.0, "items": [500], "seed": 2}
    jump = post(stack, "/v1/fits/emergence", {**fit, "score": exact}).json()
    smooth = post(stack, "/v1/fits/emergence", {**fit, "score": partial}).json()
    assert jump["verdict"] == "emergent", jump["reason"]
    assert smooth["verdict"] == "smooth", smooth["reason"]
    # The threshold's interval covers the analytic scale where p(N)^k = 1/2.
    n_half = LAW["N_c"] * (math.log(2) / k) ** (-1 / LAW["alpha"])
    low, high = jump["threshold"]["ci95"]
    assert low <= n_half <= high, (low, n_half, high)


def test_the_mirage_analysis_explains_the_jump_by_the_smooth_trend(stack: Stack) -> None:
    k = 8
    sim = simulate(stack, k, metrics=["exact_match", "token_accuracy"], seed=12)
    body = {
        "scale": SIZES,
        "exact_match": [pt["mean"] for pt in sim["curves"]["exact_match"]["points"]],
        "token_accuracy": [pt["mean"] for pt in sim["curves"]["token_accuracy"]["points"]],
        "items": [500],
        "k": k,
        "seed": 4,
    }
    reply = post(stack, "/v1/abilities/analyze", body)
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["explained"], result["reason"]
    assert abs(result["k_effective"] - k) < 1.5
    assert abs(result["law"]["params"]["alpha"]["value"] - LAW["alpha"]) < 0.05


def test_kaplan_constants_never_let_long_answers_emerge(stack: Stack) -> None:
    sim = simulate(stack, 16, metrics=["exact_match"], loss_law={"N_c": 8.8e13, "alpha": 0.076})
    assert max(sim["token_accuracy"]) < 0.26  # exp(-L) stays low even at 1e12
    assert max(pt["expected"] for pt in sim["curves"]["exact_match"]["points"]) < 1e-9


def test_noise_around_a_constant_is_not_emergent(stack: Stack) -> None:
    rng = np.random.default_rng(5)
    score = (0.25 + rng.normal(0, 0.01, len(SIZES))).tolist()
    reply = post(stack, "/v1/fits/emergence", {"scale": SIZES, "score": score, "seed": 1})
    assert reply.status_code == 200, reply.text
    assert reply.json()["verdict"] in ("flat", "inconclusive")


def test_a_whole_table_in_one_call_answers_each_series_in_place(stack: Stack) -> None:
    series = [
        {"name": "mmlu/GPT-3", "scale": [2.7e9, 6.7e9, 1.3e10, 1.75e11],
         "score": [0.259, 0.249, 0.26, 0.439], "items": [14042], "floor": 0.25},
        {"name": "lambada/Pythia", "scale": [7e7, 1.6e8, 4.1e8, 1.4e9, 2.8e9, 6.9e9, 1.2e10],
         "score": [0.185, 0.328, 0.516, 0.616, 0.647, 0.673, 0.705], "items": [5153]},
        {"name": "percent", "scale": [1e8, 1e9, 1e10], "score": [25.0, 26.0, 44.0]},
        {"scale": [1e8, 1e9], "score": [0.1, 0.2]},
    ]  # fmt: skip
    reply = post(stack, "/v1/fits/emergence/batch", {"series": series})
    assert reply.status_code == 200, reply.text
    results = reply.json()["results"]
    assert [r["name"] for r in results] == ["mmlu/GPT-3", "lambada/Pythia", "percent", "series[3]"]
    assert results[0]["result"]["verdict"] == "emergent", results[0]
    assert results[0]["result"]["threshold"]["ci95"] == [1.3e10, 1.75e11]
    assert results[1]["result"]["verdict"] == "smooth", results[1]
    assert results[2]["errors"] == [
        {"field": "series[2].score[0]", "message": results[2]["errors"][0]["message"]}
    ]
    assert results[3]["result"]["verdict"] == "inconclusive"
    # each series as its own request gives the same verdict (one science path)
    one = post(stack, "/v1/fits/emergence", {k: v for k, v in series[0].items() if k != "name"})
    assert one.json()["verdict"] == results[0]["result"]["verdict"]
    assert one.json()["breakthroughness"] == results[0]["result"]["breakthroughness"]
    # a malformed request (not a malformed series) is refused whole, naming the field
    bad = post(stack, "/v1/fits/emergence/batch", {"series": [{"scale": [1.0], "bogus": 1}]})
    assert bad.status_code == 422, bad.text
    assert any("bogus" in e["field"] for e in bad.json()["errors"]), bad.text


def test_bad_ability_requests_name_the_field(stack: Stack) -> None:
    cases = [
        ("/v1/fits/emergence", {"scale": SIZES, "score": [0.1] * 3}, "score"),
        ("/v1/fits/emergence", {"scale": [-1.0, *SIZES[1:]], "score": [0.5] * 16}, "scale[0]"),
        (
            "/v1/fits/emergence",
            {"scale": SIZES, "score": [0.5] * 15 + [1.2], "floor": 0.0, "ceiling": 1.0},
            "score[15]",
        ),
        ("/v1/abilities/simulate", {"sizes": SIZES, "k": 0, "items": 10}, "k"),
        ("/v1/abilities/simulate", {"sizes": SIZES, "k": 4, "items": 10, "metrics": ["bleu"]},
         "metrics[0]"),
    ]  # fmt: skip
    for path, body, field in cases:
        reply = post(stack, path, body)
        assert reply.status_code == 422, (path, body, reply.text)
        assert field in [e["field"] for e in reply.json()["errors"]], reply.text

"""Scaling-law fits through the stack, on synthetic truth, real data and Zuhur's own sweeps."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import numpy as np

from tests.integration.stack import Stack

DATA = Path(__file__).resolve().parents[1] / "data"
TRUE = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def fit(stack: Stack, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{stack.url}/v1/fits/{path}", json=body, timeout=120)


def test_chinchilla_recovers_the_law_and_its_compute_optimal_allocation(stack: Stack) -> None:
    rng = np.random.default_rng(3)
    N = np.exp(rng.uniform(np.log(7e7), np.log(1.6e10), 240))
    D = np.exp(rng.uniform(np.log(5e9), np.log(5e11), 240))
    law = TRUE["E"] + TRUE["A"] / N ** TRUE["alpha"] + TRUE["B"] / D ** TRUE["beta"]
    loss = law * np.exp(rng.normal(0, 0.003, N.size))
    body = {"form": "chinchilla", "N": N.tolist(), "D": D.tolist(), "loss": loss.tolist()}
    reply = fit(stack, "scaling-law", {**body, "predict_C": [1e24]})
    assert reply.status_code == 200, reply.text
    result = reply.json()
    for name, truth in TRUE.items():
        low, high = result["params"][name]["ci95"]
        assert low <= truth <= high, (name, low, truth, high)
    optimal = result["compute_optimal"]
    a_true = TRUE["beta"] / (TRUE["alpha"] + TRUE["beta"])
    assert abs(optimal["a"]["value"] - a_true) < 0.02
    assert abs(optimal["a"]["value"] + optimal["b"]["value"] - 1) < 1e-9
    assert result["objective"] > 0 and result["converged"]
    (prediction,) = result["predictions"]
    assert prediction["x"]["C"] == 1e24 and prediction["ci95"][0] < prediction["value"]


def test_broken_power_law_extrapolates_the_real_addition_data(stack: Stack) -> None:
    rows = list(csv.DictReader((DATA / "bnsl_four_digit_addition.csv").open()))
    train = [r for r in rows if r["role"] == "fit"]
    held = [r for r in rows if r["role"] == "heldout"]
    body = {
        "x": [float(r["train_dataset_size"]) for r in train],
        "y": [float(r["test_cross_entropy"]) for r in train],
        "predict_x": [float(r["train_dataset_size"]) for r in held],
    }
    broken = fit(stack, "broken-power-law", body).json()
    plain = fit(stack, "power-law", {**body, "offset": True}).json()
    observed = np.array([float(r["test_cross_entropy"]) for r in held])
    err_broken = np.abs([p["value"] for p in broken["predictions"]] - observed) / observed
    err_plain = np.abs([p["value"] for p in plain["predictions"]] - observed) / observed
    assert err_broken.max() < 0.05  # the sharp transition is followed past the data
    assert err_plain.mean() > 5 * err_broken.mean()  # a single power law cannot follow it


def test_critical_point_from_the_stacks_own_lattice_sweeps(stack: Stack) -> None:
    sweeps = []
    for side in (16, 32, 64, 128):
        body = {
            "model": "square_lattice_site",
            "L": side,
            "grid": {"start": 0.50, "stop": 0.70, "points": 81},
            "replicates": 40,
            "seed": side,
        }
        reply = httpx.post(f"{stack.url}/v1/sweeps", json=body, timeout=300)
        assert reply.status_code == 200, reply.text
        sweeps.append(reply.json())
    reply = fit(stack, "critical-point", {"sweeps": sweeps, "one_over_nu": 0.75})
    assert reply.status_code == 200, reply.text
    threshold = reply.json()["params"]["threshold"]["value"]
    assert abs(threshold - 0.592746) < 0.01


def test_scaling_law_errors_name_the_field(stack: Stack) -> None:
    cases = [
        ({"form": "gpt", "N": [1e9] * 6, "D": [1e10] * 6, "loss": [2.0] * 6}, "form"),
        ({"form": "chinchilla", "N": [1e9, -1], "D": [1e10, 1e10], "loss": [2, 2]}, "N[1]"),
        ({"form": "chinchilla", "N": [1e9] * 3, "D": [1e10] * 2, "loss": [2] * 3}, "D"),
        ({"x": [1, 2, 3, 4, 5, 6, 7, 8], "y": [1] * 8, "breaks": 3}, "breaks"),
    ]
    for body, field in cases:
        path = "broken-power-law" if "x" in body else "scaling-law"
        reply = fit(stack, path, body)
        assert reply.status_code == 422, (body, reply.text)
        assert field in [e["field"] for e in reply.json()["errors"]], reply.text

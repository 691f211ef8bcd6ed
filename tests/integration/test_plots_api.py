"""``Accept: image/svg+xml`` on computing routes: well-formed SVG drawing the very numbers of
the JSON result, from the same cache entry."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from tests.integration.stack import Stack
from tests.integration.svgread import affine_error, groups, line_vertices, marker_positions, parse

SVG = {"accept": "image/svg+xml"}


def both(stack: Stack, path: str, body: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response]:
    """The JSON result (computed, stored), then the SVG of the same request."""
    data = httpx.post(f"{stack.url}{path}", json=body, timeout=120)
    assert data.status_code == 200, data.text
    picture = httpx.post(f"{stack.url}{path}", json=body, headers=SVG, timeout=120)
    assert picture.status_code == 200, picture.text
    assert picture.headers["content-type"] == "image/svg+xml"
    return data.json(), picture


def fit_axis(data: np.ndarray, pixels: np.ndarray) -> np.poly1d:
    """The axis map data -> pixel measured on points known to be drawn."""
    return np.poly1d(np.polyfit(data, pixels, 1))


def test_sweep_svg_draws_the_cached_curve(stack: Stack) -> None:
    body = {"model": "erdos_renyi", "n": 2000, "grid": {"start": 0, "stop": 3, "points": 31},
            "replicates": 12, "seed": 5}  # fmt: skip
    curve, picture = both(stack, "/v1/sweeps", body)
    assert picture.headers["x-cache"] == "HIT"  # the JSON call stored it; the SVG reused it
    root = parse(picture.content)
    control = np.array([p["control"] for p in curve["points"]])
    s = np.array([p["largest_fraction"]["mean"] for p in curve["points"]])
    chi = np.array([p["susceptibility"]["mean"] for p in curve["points"]])
    xy = line_vertices(root, "sweep-0-S")
    assert len(xy) == len(curve["points"]) == 31
    assert affine_error(control, xy[:, 0]) < 0.05 and affine_error(s, xy[:, 1]) < 0.05
    assert affine_error(chi, line_vertices(root, "sweep-0-chi")[:, 1]) < 0.05
    theory = line_vertices(root, "theory")
    assert (
        affine_error(np.array([t["largest_fraction"] for t in curve["theory"]]), theory[:, 1])
        < 0.05
    )
    # the threshold line sits where c = 1 is on the S axis
    x_at = fit_axis(control, xy[:, 0])
    threshold = line_vertices(root, "threshold")  # the first of the two panels' lines
    assert threshold[0, 0] == pytest.approx(x_at(curve["threshold"]), abs=0.05)


def test_sample_svg_draws_the_graph_with_its_largest_component(stack: Stack) -> None:
    body = {"model": "erdos_renyi", "n": 50, "c": 2.5, "seed": 7, "edge_lists": True}
    sample, picture = both(stack, "/v1/graphs/sample", body)
    rep = sample["replicates"][0]
    assert len(rep["edge_list"]) == 2 * rep["edges"]
    root = parse(picture.content)
    assert len(groups(root, "graph-0-edge")) == rep["edges"]
    nodes = [
        u for g in groups(root, "graph-0-nodes") for u in g.iter("{http://www.w3.org/2000/svg}use")
    ]
    assert len(nodes) == 50
    red = [u for u in nodes if "#d62728" in (u.get("style") or "")]
    assert len(red) == rep["largest"]


def test_scaling_law_svg_draws_data_law_band_and_frontier(stack: Stack) -> None:
    sizes = [7e7, 3e8, 1.2e9, 4e9, 1.6e10]
    N = [n for n in sizes for _ in range(4)]
    D = [5e9, 2e10, 1e11, 5e11] * 5
    loss = [1.69 + 406.4 / n**0.34 + 410.7 / d**0.28 for n, d in zip(N, D, strict=True)]
    ds = list(np.geomspace(5e9, 5e11, 8))
    cs = list(np.geomspace(6 * 7e7 * 5e9, 1e24, 12))
    body = {"form": "chinchilla", "N": N, "D": D, "loss": loss, "predict_C": cs,
            "predict_N": [n for n in sizes for _ in ds], "predict_D": ds * len(sizes)}  # fmt: skip
    fit, picture = both(stack, "/v1/fits/scaling-law", body)
    assert fit["params"]["alpha"]["value"] == pytest.approx(0.34, abs=0.01)  # the law drawn from
    root = parse(picture.content)
    px = np.vstack([marker_positions(root, f"data-{i}") for i in range(len(sizes))])
    assert len(px) == 20
    C = 6 * np.array(N) * np.array(D)
    x_at, y_at = fit_axis(np.log10(C), px[:, 0]), fit_axis(np.log10(loss), px[:, 1])
    frontier = line_vertices(root, "frontier")
    preds = [p for p in fit["predictions"] if "C" in p["x"]]
    assert len(frontier) == len(preds) == 12
    expected_x = x_at(np.log10([p["x"]["C"] for p in preds]))
    expected_y = y_at(np.log10([p["value"] for p in preds]))
    assert np.allclose(frontier[:, 0], expected_x, atol=0.05)
    assert np.allclose(frontier[:, 1], expected_y, atol=0.05)
    assert len(line_vertices(root, "law-0")) == len(ds)
    assert groups(root, "frontier-band") and groups(root, "n-opt") and groups(root, "d-opt")


def test_emergence_svg_draws_verdict_fits_floor_and_threshold(stack: Stack) -> None:
    body = {"scale": [2.7e9, 6.7e9, 1.3e10, 1.75e11], "score": [0.259, 0.249, 0.260, 0.439],
            "items": [14042], "floor": 0.25}  # fmt: skip
    result, picture = both(stack, "/v1/fits/emergence", body)
    assert result["verdict"] == "emergent"  # as the README documents for GPT-3 on MMLU
    root = parse(picture.content)
    data = marker_positions(root, "series-0-data")
    assert len(data) == 4
    x_at = fit_axis(np.log10(body["scale"]), data[:, 0])
    y_at = fit_axis(np.array(body["score"]), data[:, 1])
    for name in result["models"]:
        if name != "broken_power_law":
            assert len(line_vertices(root, f"series-0-law-{name}")) == 120
    floor = line_vertices(root, "series-0-floor")
    assert floor[0, 1] == pytest.approx(y_at(0.25), abs=0.05)
    if result["threshold_side"] == "inside":
        line = line_vertices(root, "series-0-threshold")
        assert line[0, 0] == pytest.approx(x_at(np.log10(result["threshold"]["value"])), abs=0.05)
    assert "emergent" in picture.text


def test_batch_svg_has_a_panel_per_series_and_a_method_without_a_picture_is_406(
    stack: Stack,
) -> None:
    body = {"series": [
        {"name": "mmlu/GPT-3", "scale": [2.7e9, 6.7e9, 1.3e10, 1.75e11],
         "score": [0.259, 0.249, 0.26, 0.439], "items": [14042], "floor": 0.25},
        {"name": "bad", "scale": [1e8, 1e9, 1e10], "score": [25, 26, 44]}]}  # fmt: skip
    batch, picture = both(stack, "/v1/fits/emergence/batch", body)
    root = parse(picture.content)
    assert len(marker_positions(root, "series-0-data")) == 4
    assert "refused" in picture.text and batch["results"][1]["errors"]
    refused = httpx.post(
        f"{stack.url}/v1/abilities/analyze", json={"scale": [1, 2]}, headers=SVG, timeout=30
    )
    assert refused.status_code == 406
    assert "FitScalingLaw" in refused.json()["detail"]

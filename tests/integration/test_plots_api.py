"""``Accept: image/svg+xml`` on computing routes: well-formed SVG drawing the very numbers of
the JSON result, from the same cache entry."""

from __future__ import annotations

import re
from typing import Any

import httpx
import numpy as np
import pytest

from gateway.api.routes.abilities import ABILITIES_EXAMPLE, MIRAGE_EXAMPLE
from gateway.api.routes.fits import CRITICAL_POINT_EXAMPLE
from tests.integration.stack import Stack
from tests.integration.svgread import (
    affine_error,
    band_vertices,
    groups,
    line_vertices,
    marker_positions,
    parse,
)

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


def test_batch_svg_has_a_panel_per_series(stack: Stack) -> None:
    body = {"series": [
        {"name": "mmlu/GPT-3", "scale": [2.7e9, 6.7e9, 1.3e10, 1.75e11],
         "score": [0.259, 0.249, 0.26, 0.439], "items": [14042], "floor": 0.25},
        {"name": "bad", "scale": [1e8, 1e9, 1e10], "score": [25, 26, 44]}]}  # fmt: skip
    batch, picture = both(stack, "/v1/fits/emergence/batch", body)
    root = parse(picture.content)
    assert len(marker_positions(root, "series-0-data")) == 4
    assert "refused" in picture.text and batch["results"][1]["errors"]


def at(line: np.ndarray, x: float) -> float:
    """The y pixel of a drawn polyline at the vertex whose x pixel is ``x``."""
    i = int(np.argmin(np.abs(line[:, 0] - x)))
    assert abs(line[i, 0] - x) < 0.05, (line[i, 0], x)
    return float(line[i, 1])


def test_abilities_svg_draws_each_metric_with_its_replicate_spread(stack: Stack) -> None:
    body = ABILITIES_EXAMPLE
    result, picture = both(stack, "/v1/abilities/simulate", body)
    root = parse(picture.content)
    log_size = np.log10(result["sizes"])
    x_at = y_at = None
    for metric in body["metrics"]:
        points = result["curves"][metric]["points"]
        mean = np.array([p["mean"] for p in points])
        xy = line_vertices(root, f"{metric}-mean")
        assert len(xy) == len(points) == 6
        if x_at is None:  # both metrics share the axes
            x_at, y_at = fit_axis(log_size, xy[:, 0]), fit_axis(mean, xy[:, 1])
        assert np.allclose(xy, np.column_stack([x_at(log_size), y_at(mean)]), atol=0.05)
        # the band spans each size's replicate 95% range
        band = band_vertices(root, f"{metric}-band")
        for x, (lo, hi) in zip(x_at(log_size), (p["ci95"] for p in points), strict=True):
            ys = band[np.abs(band[:, 0] - x) < 0.05, 1]
            assert np.allclose(sorted(ys)[:: max(len(ys) - 1, 1)], sorted(y_at([lo, hi])),
                               atol=0.05)  # fmt: skip
        expected = line_vertices(root, f"{metric}-expected")
        assert np.allclose(expected[:, 1], y_at([p["expected"] for p in points]), atol=0.05)
    # the exact-match curve is the steep one: it crosses from near 0 to near 1
    em = [p["mean"] for p in result["curves"]["exact_match"]["points"]]
    assert em[0] < 0.05 and em[-1] > 0.9


def test_mirage_svg_draws_both_metrics_the_law_through_p_k_and_k_effective(
    stack: Stack,
) -> None:
    result, picture = both(stack, "/v1/abilities/analyze", MIRAGE_EXAMPLE)
    root = parse(picture.content)
    points = result["points"]
    log_scale = np.log10([p["scale"] for p in points])
    p = np.array([p["token_accuracy"] for p in points])
    observed = np.array([q["observed"] for q in points])
    tokens = marker_positions(root, "token-data")
    x_at, y_at = fit_axis(log_scale, tokens[:, 0]), fit_axis(p, tokens[:, 1])
    assert affine_error(log_scale, tokens[:, 0]) < 0.05 and affine_error(p, tokens[:, 1]) < 0.05
    exact = marker_positions(root, "exact-data")
    assert np.allclose(exact, np.column_stack([x_at(log_scale), y_at(observed)]), atol=0.05)
    # the law drawn from the returned parameters passes through the returned predictions
    law, keff = line_vertices(root, "exact-law"), line_vertices(root, "exact-keff")
    k, k_eff = result["k"], result["k_effective"]
    for x, q in zip(x_at(log_scale), points, strict=True):
        assert at(law, x) == pytest.approx(float(y_at(q["predicted"])), abs=0.05)
        p_law = q["predicted"] ** (1 / k)
        assert at(keff, x) == pytest.approx(float(y_at(p_law**k_eff)), abs=0.05)
    # the k_effective reading: exact match against p follows p^k_effective
    data = marker_positions(root, "em-vs-p-data")
    px_at, py_at = fit_axis(p, data[:, 0]), fit_axis(observed, data[:, 1])
    assert affine_error(p, data[:, 0]) < 0.05 and affine_error(observed, data[:, 1]) < 0.05
    curve = line_vertices(root, "em-vs-p-keff")
    grid = (curve[:, 0] - px_at.coeffs[1]) / px_at.coeffs[0]
    assert np.allclose(curve[:, 1], py_at(grid**k_eff), atol=0.05)
    assert f"k_effective = {k_eff:.3g}" in picture.text


def test_critical_point_svg_draws_curves_peaks_and_the_fitted_threshold(stack: Stack) -> None:
    fit, picture = both(stack, "/v1/fits/critical-point", CRITICAL_POINT_EXAMPLE)
    root = parse(picture.content)
    curves = CRITICAL_POINT_EXAMPLE["curves"]
    xc = fit["params"]["threshold"]["value"]
    assert xc == pytest.approx(1.0, abs=1e-3)  # the example is drawn with x_c = 1
    chi0 = line_vertices(root, "sweep-0-chi")
    x_at = fit_axis(np.array(curves[0]["control"]), chi0[:, 0])
    chi_at = fit_axis(np.array(curves[0]["susceptibility"]), chi0[:, 1])
    for i, c in enumerate(curves):
        assert len(line_vertices(root, f"sweep-{i}-chi")) == len(c["control"])
    threshold = line_vertices(root, "fitted-threshold")
    assert threshold[0, 0] == pytest.approx(float(x_at(xc)), abs=0.05)
    extra = fit["extra"]
    peaks = marker_positions(root, "peaks")
    where = [extra[f"peak_position_{c['size']:g}"] for c in curves]
    height = [extra[f"peak_height_{c['size']:g}"] for c in curves]
    assert np.allclose(peaks, np.column_stack([x_at(where), chi_at(height)]), atol=0.05)
    # the finite-size shift: x*(s) against s^(-1/nu), the fitted line reaching x_c at s -> inf
    t = np.array([c["size"] for c in curves]) ** -extra["one_over_nu_fixed"]
    shift = marker_positions(root, "peak-positions")
    assert affine_error(t, shift[:, 0]) < 0.05 and affine_error(np.array(where), shift[:, 1]) < 0.05
    t_at, y_at = fit_axis(t, shift[:, 0]), fit_axis(np.array(where), shift[:, 1])
    law = line_vertices(root, "shift-law")
    assert law[0] == pytest.approx([float(t_at(0.0)), float(y_at(xc))], abs=0.05)
    b = extra["amplitude"]
    u = (law[-1, 0] - t_at.coeffs[1]) / t_at.coeffs[0]
    assert law[-1, 1] == pytest.approx(float(y_at(xc + b * u)), abs=0.05)


# Every route that computes; each lists a picture in its OpenAPI.
COMPUTING = {"/v1/sweeps", "/v1/graphs/sample", "/v1/abilities/simulate",
             "/v1/abilities/analyze", "/v1/fits/power-law", "/v1/fits/scaling-law",
             "/v1/fits/broken-power-law", "/v1/fits/critical-point", "/v1/fits/emergence",
             "/v1/fits/emergence/batch"}  # fmt: skip


def test_openapi_lists_svg_exactly_where_a_picture_comes_back(stack: Stack) -> None:
    """Each operation listing image/svg+xml (beside JSON) draws its own OpenAPI example as
    well-formed SVG; every other operation answers 406 to ``Accept: image/svg+xml``."""
    spec = httpx.get(f"{stack.url}/openapi.json", timeout=30).json()
    drawn, refused = set(), set()
    for path, operations in spec["paths"].items():
        for verb, op in operations.items():
            success = min(code for code in op["responses"] if code.startswith("2"))
            content = op["responses"][success].get("content", {})
            url = stack.url + re.sub(r"\{[^}]+\}", "0123456789abcdef", path)
            if "image/svg+xml" in content:
                assert "application/json" in content
                media = op["requestBody"]["content"]["application/json"]
                examples = [e["value"] for e in media.get("examples", {}).values()]
                example = (examples + media["schema"].get("examples", []))[0]
                reply = httpx.post(url, json=example, headers=SVG, timeout=300)
                assert reply.status_code == 200, (path, reply.text[:300])
                assert reply.headers["content-type"] == "image/svg+xml"
                assert len(list(parse(reply.content).iter())) > 50, path  # a drawing, not a stub
                drawn.add(path)
            else:
                reply = httpx.request(verb.upper(), url, json={}, headers=SVG, timeout=30)
                assert reply.status_code == 406, (verb, path, reply.status_code, reply.text[:300])
                assert reply.headers["content-type"] == "application/problem+json"
                assert all(media in reply.json()["detail"] for media in content), content
                refused.add(f"{verb} {path}")
    assert drawn == COMPUTING
    assert {"get /healthz", "get /v1/jobs/{job_id}", "post /v1/jobs"} <= refused, refused

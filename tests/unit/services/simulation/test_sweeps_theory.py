"""Newman–Ziff sweeps against theory, known thresholds and scaling laws (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from services.simulation.models import DegreeDistribution
from services.simulation.sweeps import Grid, SweepResult, sweep


def lambert_w_giant(c: float) -> float:
    """S(c) = 1 + W(-c e^-c)/c, computed here independently of services.simulation.theory."""
    return float(1.0 + special.lambertw(-c * np.exp(-c)).real / c)


def standard_errors(res: SweepResult, column: int = 0) -> np.ndarray:
    """Standard error of each point's mean from the spread of the per-replicate curves."""
    per_replicate = res.moments[:, :, column]
    return per_replicate.std(axis=0, ddof=1) / np.sqrt(per_replicate.shape[0])


def test_er_sweep_matches_lambert_w_above_c_1_5() -> None:
    res = sweep(n=100_000, grid=Grid(1.5, 4.0, 11), replicates=12, seed=31)
    se = standard_errors(res)
    for point, err, th in zip(res.points, se, res.theory, strict=True):
        expected = lambert_w_giant(point.control)
        assert th.largest_fraction == pytest.approx(expected, abs=1e-12)
        assert abs(point.largest_fraction.mean - expected) <= 3 * err, point.control


def test_er_sweep_at_n_50_reproduces_igraph_values() -> None:
    res = sweep(n=50, grid=Grid(values=(0.25, 2.5, 4.0)), replicates=6000, seed=8)
    largest = [50 * p.largest_fraction.mean for p in res.points]
    assert largest == pytest.approx([3.04, 44.80, 49.16], abs=0.1)


def test_largest_cluster_at_c_1_grows_like_n_to_two_thirds() -> None:
    sizes = np.array([1_000, 3_000, 10_000, 30_000, 100_000])
    means = [
        n
        * sweep(n=int(n), grid=Grid(values=(1.0,)), replicates=150, seed=5)
        .points[0]
        .largest_fraction.mean
        for n in sizes
    ]
    slope = np.polyfit(np.log(sizes), np.log(means), 1)[0]
    assert 0.60 <= slope <= 0.72


def test_er_susceptibility_follows_mean_field_below_threshold() -> None:
    # mean finite-cluster size of G(n, c/n) for c < 1 is 1/(1 - c)
    res = sweep(n=200_000, grid=Grid(values=(0.2, 0.5, 0.7)), replicates=6, seed=12)
    for point in res.points:
        assert point.susceptibility.mean == pytest.approx(1 / (1 - point.control), rel=0.02)


@pytest.mark.parametrize(
    ("degrees", "n", "tolerance"),
    [
        (DegreeDistribution("poisson", mean=3.0), 100_000, 0.03),
        (DegreeDistribution("power_law", gamma=3.5, k_min=2, k_max=100), 400_000, 0.10),
    ],
)
def test_configuration_susceptibility_peaks_at_molloy_reed_threshold(
    degrees: DegreeDistribution, n: int, tolerance: float
) -> None:
    # phi_c = <k>/(<k²> - <k>) from the degree law itself, computed here from scratch
    if degrees.kind == "poisson":
        phi_c = 1.0 / 3.0
    else:
        k = np.arange(2, 101, dtype=float)
        pk = k**-3.5 / np.sum(k**-3.5)
        phi_c = np.sum(k * pk) / (np.sum(k * k * pk) - np.sum(k * pk))
    res = sweep(
        "configuration",
        n=n,
        degrees=degrees,
        grid=Grid(0.6 * phi_c, 1.4 * phi_c, 81),
        replicates=8,
        seed=21,
    )
    assert res.threshold == pytest.approx(phi_c, rel=1e-9)
    chi = np.array([p.susceptibility.mean for p in res.points])
    peak = res.points[int(chi.argmax())].control
    assert abs(peak / phi_c - 1.0) <= tolerance


def test_configuration_giant_matches_generating_functions() -> None:
    # Poisson(4) with bond occupation phi is ER with mean degree 4·phi
    res = sweep(
        "configuration",
        n=100_000,
        degrees=DegreeDistribution("poisson", mean=4.0),
        grid=Grid(values=(0.5, 0.75, 1.0)),
        replicates=10,
        seed=2,
    )
    se = standard_errors(res)
    for point, th, err in zip(res.points, res.theory, se, strict=True):
        expected = lambert_w_giant(4.0 * point.control)
        assert th.largest_fraction == pytest.approx(expected, abs=1e-9)
        assert abs(point.largest_fraction.mean - expected) <= 3 * err + 5e-4


def wrapping_crossing(model: str, low: float, high: float) -> list[float]:
    """Crossings of the wrapping-probability curves of L = 64, 128, 256 (pairwise)."""
    grid = Grid(low, high, 91)
    curves = {}
    for L, reps in [(64, 300), (128, 150), (256, 60)]:
        res = sweep(model, L=L, grid=grid, replicates=reps, seed=L)
        curves[L] = np.array([p.wrapping.mean for p in res.points if p.wrapping is not None])
        xs = np.array([p.control for p in res.points])
    crossings = []
    for a, b in [(64, 128), (128, 256), (64, 256)]:
        mid = (curves[a] > 0.1) & (curves[a] < 0.9) & (curves[b] > 0.1) & (curves[b] < 0.9)
        d = (curves[a] - curves[b])[mid]
        x = xs[mid]
        k = int(np.flatnonzero(np.sign(d[:-1]) != np.sign(d[1:]))[0])
        crossings.append(float(x[k] + (x[k + 1] - x[k]) * d[k] / (d[k] - d[k + 1])))
    return crossings


def test_square_site_threshold_from_wrapping_crossings() -> None:
    for crossing in wrapping_crossing("square_lattice_site", 0.55, 0.64):
        assert abs(crossing - 0.592746) <= 0.01


def test_square_bond_threshold_from_wrapping_crossings() -> None:
    for crossing in wrapping_crossing("square_lattice_bond", 0.45, 0.55):
        assert abs(crossing - 0.5) <= 0.01

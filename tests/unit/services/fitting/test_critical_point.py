"""Finite-size scaling: exact scaling forms, then Zuhur's own ER and square-lattice sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.common.errors import InvalidArgument
from services.fitting.models.critical_point import (
    SweepCurve,
    fit_critical_point,
    susceptibility_peak,
)
from services.simulation.sweeps import Grid, sweep

SQUARE_SITE_PC = 0.5927462


def test_peak_of_a_log_parabola_is_exact() -> None:
    x = np.linspace(0.0, 1.0, 41)
    chi = 5.0 * np.exp(-((x - 0.3137) ** 2) / 0.02)
    pos, height = susceptibility_peak(x, chi)
    assert pos == pytest.approx(0.3137, abs=1e-12)
    assert height == pytest.approx(5.0, rel=1e-12)


def _scaling_curves(xc: float, inv_nu: float, gamma_nu: float, beta_nu: float) -> list[SweepCurve]:
    """Curves obeying FSS exactly: χ = s^(γ/ν)·g(z), S = s^(-β/ν)·h(z), z = (x - x_c)·s^(1/ν)."""
    out = []
    for s in (100.0, 400.0, 1600.0, 6400.0, 25600.0):
        x = xc + np.linspace(-3.0, 5.0, 161) * s**-inv_nu  # a window that scales with size
        z = (x - xc) * s**inv_nu
        chi = s**gamma_nu * np.exp(-((z - 0.8) ** 2))  # peak at z = 0.8: x* = x_c + 0.8·s^(-1/ν)
        big = s**-beta_nu * np.exp(z / (1 + abs(z)))  # any positive h(z)
        out.append(SweepCurve(s, x, big, chi))
    return out


def test_recovers_exponents_of_exact_scaling_forms() -> None:
    r = fit_critical_point(_scaling_curves(0.5927, 0.75, 43 / 24, 5 / 48))
    assert r.model == "critical_point" and r.converged and r.n == 5
    assert r.params["threshold"].value == pytest.approx(0.5927, abs=1e-8)
    assert r.params["one_over_nu"].value == pytest.approx(0.75, rel=1e-6)
    assert r.params["gamma_over_nu"].value == pytest.approx(43 / 24, rel=1e-6)
    assert r.params["beta_over_nu"].value == pytest.approx(5 / 48, rel=1e-3)
    fixed = fit_critical_point(_scaling_curves(1.0, 1 / 3, 1 / 3, 1 / 3), one_over_nu=1 / 3)
    assert "one_over_nu" not in fixed.params
    assert fixed.params["threshold"].value == pytest.approx(1.0, abs=1e-8)
    assert fixed.params["beta_over_nu"].value == pytest.approx(1 / 3, rel=1e-3)


def _sweep_curves(model: str, key: str, sizes: tuple[int, ...], grid: Grid) -> list[SweepCurve]:
    """Sweep curves from Zuhur's own Newman–Ziff engine (services.simulation.sweeps)."""
    out = []
    for size in sizes:
        res = sweep(model, **{key: size}, grid=grid, replicates=100, seed=1, max_workers=1)
        out.append(
            SweepCurve(
                size,
                [p.control for p in res.points],
                [p.largest_fraction.mean for p in res.points],
                [p.susceptibility.mean for p in res.points],
            )
        )
    return out


@pytest.mark.slow
def test_erdos_renyi_threshold_is_one() -> None:
    curves = _sweep_curves(
        "erdos_renyi", "n", (1000, 4000, 16000, 64000, 256000), Grid(0.8, 1.3, 101)
    )
    free = fit_critical_point(curves)
    assert abs(free.params["threshold"].value - 1.0) < 0.03
    lo, hi = free.params["threshold"].ci95
    assert lo < 1.0 < hi
    # Mean-field exponents in units of n: 1/ν = γ/ν = β/ν = 1/3.
    for k in ("one_over_nu", "gamma_over_nu", "beta_over_nu"):
        assert free.params[k].ci95[0] < 1 / 3 < free.params[k].ci95[1], k
    known = fit_critical_point(curves, one_over_nu=1 / 3)
    assert abs(known.params["threshold"].value - 1.0) < 0.01
    assert known.params["threshold"].ci95[0] < 1.0 < known.params["threshold"].ci95[1]
    boot = fit_critical_point(curves, one_over_nu=1 / 3, bootstrap=200, seed=4)
    assert boot.interval_method == "bootstrap" and boot.bootstrap_failed == 0
    assert boot.params["threshold"].ci95[0] < 1.0 < boot.params["threshold"].ci95[1]


@pytest.mark.slow
def test_square_lattice_site_threshold() -> None:
    curves = _sweep_curves(
        "square_lattice_site", "L", (16, 32, 64, 128, 256), Grid(0.45, 0.65, 101)
    )
    free = fit_critical_point(curves)
    assert abs(free.params["threshold"].value - SQUARE_SITE_PC) < 0.02
    assert free.params["threshold"].ci95[0] < SQUARE_SITE_PC < free.params["threshold"].ci95[1]
    known = fit_critical_point(curves, one_over_nu=0.75)  # ν = 4/3 in 2D
    assert abs(known.params["threshold"].value - SQUARE_SITE_PC) < 0.005
    # β/ν = 5/48 for 2D percolation.
    assert known.params["beta_over_nu"].ci95[0] < 5 / 48 < known.params["beta_over_nu"].ci95[1]


def _curve(size: float, n: int = 9, peak: int = 4) -> SweepCurve:
    x = np.linspace(0, 1, n)
    chi = np.exp(-((x - x[peak]) ** 2) * 10)
    return SweepCurve(size, x, np.linspace(0.1, 0.9, n), chi)


@pytest.mark.parametrize(
    ("curves", "kwargs", "field"),
    [
        ([_curve(10), _curve(20), _curve(40)], {}, "curves"),
        ([_curve(10), _curve(20)], {"one_over_nu": 0.5}, "curves"),
        ([_curve(10), _curve(10), _curve(40), _curve(80)], {}, "curves"),
        ([_curve(-1), _curve(20), _curve(40), _curve(80)], {}, "curves[0].size"),
        ([_curve(10), _curve(20, n=4, peak=2), _curve(40), _curve(80)], {}, "curves[1].control"),
        ([_curve(10), _curve(20), _curve(40, peak=0), _curve(80)], {}, "curves[2].susceptibility"),
        ([_curve(10), _curve(20), _curve(40), _curve(80)], {"one_over_nu": -1.0}, "one_over_nu"),
        ([_curve(10), _curve(20), _curve(40), _curve(80)], {"bootstrap": -1}, "bootstrap"),
    ],
)
def test_bad_input_names_the_field(curves: list, kwargs: dict, field: str) -> None:
    with pytest.raises(InvalidArgument) as exc:
        fit_critical_point(curves, **kwargs)
    assert [v.field for v in exc.value.violations] == [field]


def test_mismatched_and_non_finite_arrays() -> None:
    good = [_curve(s) for s in (10, 20, 40, 80)]
    bad = SweepCurve(20, np.linspace(0, 1, 9), [0.5] * 8, np.ones(9))
    with pytest.raises(InvalidArgument) as exc:
        fit_critical_point([good[0], bad, *good[2:]])
    assert exc.value.violations[0].field == "curves[1].largest_fraction"
    chi = np.ones(9)
    chi[3] = math.nan
    with pytest.raises(InvalidArgument) as exc:
        fit_critical_point([*good[:3], SweepCurve(80, np.linspace(0, 1, 9), np.ones(9), chi)])
    assert exc.value.violations[0].field == "curves[3].susceptibility[3]"

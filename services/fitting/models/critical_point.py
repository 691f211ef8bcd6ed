"""Critical point and exponents by finite-size scaling of percolation sweep curves.

Input: one sweep curve per system size s (n nodes for graphs, the side L for lattices): the
control grid (c, p or phi), the mean largest-cluster fraction S and the mean susceptibility χ
(mean finite-cluster size) at each grid point — as the simulation's Sweep RPC returns them.

Procedure:
1. Peak of χ per size: a parabola in (control, log χ) through the grid points around the
   largest χ where χ >= 0.7·max (at least 5) gives the peak position x*(s) and height
   χ_max(s) at sub-grid resolution.
2. Threshold: x*(s) = x_c + b·s^(-1/ν) by least squares (variable-projection scan over 1/ν,
   then Levenberg–Marquardt); with ``one_over_nu`` given, a straight line in s^(-1/ν).
3. γ/ν: slope of log χ_max(s) against log s.
4. β/ν: minus the slope of log S(x_c; s) against log s (S interpolated by PCHIP at the fitted x_c);
   its interval includes the uncertainty of x_c (delta method / recomputed per resample).
Sizes are in the caller's unit: for ER in n, 1/ν, γ/ν, β/ν are all 1/3; for the square
lattice in L, 3/4, 43/24 and 5/48 (p_c = 0.592746 site, 1/2 bond).

API
---
``SweepCurve(size, control, largest_fraction, susceptibility)`` — arrays of equal length,
control strictly increasing.
``fit_critical_point(curves, *, one_over_nu=None, bootstrap=0, seed=None,
limits=DEFAULT_LIMITS, budget=None) -> FitResult``
    model ``critical_point``; ``params``: ``threshold``, ``one_over_nu`` (when fitted),
    ``gamma_over_nu``, ``beta_over_nu`` with curvature intervals of each regression (t, n - p
    dof); r2/aic/bic/objective/residuals of the peak-position fit (step 2); ``n`` = number of
    sizes; ``extra``: ``amplitude`` b, ``peak_position_<s>``, ``peak_height_<s>`` per size.
    ``bootstrap = K``: residual bootstrap of the three scaling regressions (resampled,
    rescaled residuals added to the fitted values, refitted; seeded); percentile intervals.
    Like the curvature intervals it measures the scatter of the per-size estimates about
    the scaling laws (independent noise added to the mean curves would understate it: a
    Newman–Ziff curve's errors are strongly correlated along the grid).

    Raises InvalidArgument naming ``curves`` (too few: 4 sizes, 3 with ``one_over_nu``;
    repeated sizes), ``curves[i].size``, ``curves[i].control`` (+``[j]``; not increasing,
    fewer than 5 points), ``curves[i].largest_fraction``/``curves[i].susceptibility`` (+``[j]``:
    non-finite, length, χ < 0; peak at the grid edge), ``one_over_nu``,
    ``bootstrap``, ``seed``; LimitExceeded when the curves hold more points than allowed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from services.common.errors import InvalidArgument
from services.fitting.bootstrap import bootstrap_estimates, parametric_bootstrap, resolve_seed
from services.fitting.least_squares import (
    LeastSquaresFit,
    curvature_fit_result,
    weighted_least_squares,
)
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.pipeline import validated
from services.fitting.results import FitResult, ParamEstimate
from services.fitting.uncertainty import curvature_estimates, estimate, t_quantile
from services.fitting.validation import ArrayLike, as_vector

MODEL = "critical_point"
_HALF_WINDOW = 2
_WINDOW_FRACTION = 0.7
_NU_SCAN = np.geomspace(0.05, 3.0, 80)


@dataclass(frozen=True)
class SweepCurve:
    """One size's sweep: control grid, mean largest fraction S and mean susceptibility χ."""

    size: float
    control: ArrayLike
    largest_fraction: ArrayLike
    susceptibility: ArrayLike


def linear_size(model: str, nodes: int) -> float:
    """The size s a sweep's finite-size scaling uses: the side L of an L×L lattice (nodes =
    L²), else the number of nodes n."""
    return math.sqrt(nodes) if model.startswith("square_lattice") else float(nodes)


@dataclass(frozen=True)
class _Curve:
    size: float
    x: np.ndarray
    s: np.ndarray
    chi: np.ndarray


def _validate(curves: Sequence[SweepCurve], min_sizes: int, limits: FitLimits) -> list[_Curve]:
    if len(curves) < min_sizes:
        raise InvalidArgument.field(
            "curves", f"needs at least {min_sizes} sizes, got {len(curves)}"
        )
    check_points(sum(len(c.control) for c in curves), limits, "curves")
    out = []
    for i, c in enumerate(curves):
        f = f"curves[{i}]"
        if not (math.isfinite(c.size) and c.size > 0):
            raise InvalidArgument.field(f"{f}.size", f"must be a finite number > 0, got {c.size}")
        x = as_vector(c.control, f"{f}.control")
        if x.size < 2 * _HALF_WINDOW + 1:
            raise InvalidArgument.field(f"{f}.control", f"needs at least 5 points, got {x.size}")
        if np.any(np.diff(x) <= 0):
            raise InvalidArgument.field(f"{f}.control", "must be strictly increasing")
        s = as_vector(c.largest_fraction, f"{f}.largest_fraction")
        chi = as_vector(c.susceptibility, f"{f}.susceptibility")
        for arr, name in ((s, "largest_fraction"), (chi, "susceptibility")):
            if arr.size != x.size:
                raise InvalidArgument.field(
                    f"{f}.{name}", f"has {arr.size} values but control has {x.size}"
                )
        negative = np.flatnonzero(chi < 0)
        if negative.size:
            j = int(negative[0])
            raise InvalidArgument.field(f"{f}.susceptibility[{j}]", f"must be >= 0, got {chi[j]:g}")
        out.append(_Curve(size=float(c.size), x=x, s=s, chi=chi))
    if len({c.size for c in out}) != len(out):
        raise InvalidArgument.field("curves", "sizes must be distinct")
    return sorted(out, key=lambda c: c.size)


def susceptibility_peak(x: np.ndarray, chi: np.ndarray, field: str = "") -> tuple[float, float]:
    """(position, height) of the χ peak: parabola in log χ over the top of the peak.

    The window is the run of grid points around the maximum with χ >= 0.7·max (at least
    5 points), so it spans the same part of the scaling function at every size.
    """
    k = int(np.argmax(chi))
    if not chi[k] > 0:
        raise InvalidArgument.field(field or "susceptibility", "is zero everywhere")
    if k < _HALF_WINDOW or k > x.size - 1 - _HALF_WINDOW:
        raise InvalidArgument.field(
            field or "susceptibility", "the susceptibility peaks at the edge of the grid"
        )
    lo, hi = k - _HALF_WINDOW, k + _HALF_WINDOW
    floor = _WINDOW_FRACTION * chi[k]
    while lo > 0 and chi[lo - 1] >= floor:
        lo -= 1
    while hi < x.size - 1 and chi[hi + 1] >= floor:
        hi += 1
    xs, ys = x[lo : hi + 1], np.log(chi[lo : hi + 1])
    c2, c1, c0 = np.polyfit(xs - x[k], ys, 2)
    if not c2 < 0:  # flat or convex: no resolvable maximum, keep the grid point
        return float(x[k]), float(chi[k])
    dx = float(np.clip(-c1 / (2 * c2), xs[0] - x[k], xs[-1] - x[k]))
    return float(x[k] + dx), float(math.exp(c0 + c1 * dx + c2 * dx * dx))


def _shift(theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    """x*(s) = x_c + b·s^(-1/ν), theta = (x_c, b, 1/ν)."""
    return theta[0] + theta[1] * np.power(s, -theta[2])


def _shift_jac(theta: np.ndarray, s: np.ndarray) -> np.ndarray:
    p = np.power(s, -theta[2])
    return np.column_stack([np.ones_like(s), p, -theta[1] * np.log(s) * p])


def _line(theta: np.ndarray, t: np.ndarray) -> np.ndarray:
    return theta[0] + theta[1] * t


def _line_jac(theta: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones_like(t), t])


def _fit_line(t: np.ndarray, y: np.ndarray) -> LeastSquaresFit:
    """y = c0 + c1·t by least squares (curvature covariance, like every other fit)."""
    c1, c0 = np.polyfit(t, y, 1)
    return weighted_least_squares(_line, t, y, np.array([c0, c1]), jac=_line_jac)


def _fit_shift(
    sizes: np.ndarray, peaks: np.ndarray, one_over_nu: float | None, budget: TimeBudget | None
) -> LeastSquaresFit:
    """Threshold fit x*(s) = x_c + b·s^(-1/ν); 1/ν fixed when given."""
    if one_over_nu is not None:
        t = np.power(sizes, -one_over_nu)
        if np.unique(t[t > 0]).size < 2:  # every size^(-1/nu) underflowed to 0 (or ties)
            raise InvalidArgument.field(
                "one_over_nu",
                f"{one_over_nu:g} is too large for these sizes: size^(-1/nu) underflows to 0",
            )
        return _fit_line(t, peaks)
    best: tuple[float, np.ndarray] = (math.inf, np.zeros(3))
    for w in _NU_SCAN:
        t = np.power(sizes, -w)
        c1, c0 = np.polyfit(t, peaks, 1)
        rss = float(np.sum((c0 + c1 * t - peaks) ** 2))
        if rss < best[0]:
            best = (rss, np.array([c0, c1, w]))
    return weighted_least_squares(_shift, sizes, peaks, best[1], jac=_shift_jac, budget=budget)


@dataclass(frozen=True)
class _Observations:
    """Per-size estimates the scaling regressions are fitted to."""

    sizes: np.ndarray
    peaks: np.ndarray
    log_heights: np.ndarray


@dataclass(frozen=True)
class _Analysis:
    shift: LeastSquaresFit
    heights: LeastSquaresFit
    order: LeastSquaresFit
    log_s_at: np.ndarray

    def vector(self, free_nu: bool) -> np.ndarray:
        head = self.shift.theta[[0, 2]] if free_nu else self.shift.theta[:1]
        return np.concatenate([head, [self.heights.theta[1], -self.order.theta[1]]])


def _observe(curves: list[_Curve]) -> _Observations:
    """Peak position and log height of χ for every size (step 1)."""
    found = [
        susceptibility_peak(c.x, c.chi, f"curves[{i}].susceptibility") for i, c in enumerate(curves)
    ]
    return _Observations(
        sizes=np.array([c.size for c in curves]),
        peaks=np.array([p for p, _ in found]),
        log_heights=np.log([h for _, h in found]),
    )


def _s_at_threshold(curves: list[_Curve], xc: float) -> np.ndarray:
    """log S(x_c) per size, by monotone cubic (PCHIP) interpolation on each curve."""
    if not all(c.x[0] <= xc <= c.x[-1] for c in curves):
        raise InvalidArgument.field("curves", f"the fitted threshold {xc:g} lies outside a grid")
    s_at = np.array([float(PchipInterpolator(c.x, c.s)(xc)) for c in curves])
    if np.any(s_at <= 0):
        raise InvalidArgument.field("curves", f"largest_fraction <= 0 at the threshold {xc:g}")
    return np.log(s_at)


def _regress(
    obs: _Observations,
    curves: list[_Curve],
    one_over_nu: float | None,
    budget: TimeBudget | None,
    order_noise: np.ndarray | None = None,
) -> _Analysis:
    """Steps 2-4 on per-size observations; ``order_noise`` is added to log S(x_c)."""
    shift = _fit_shift(obs.sizes, obs.peaks, one_over_nu, budget)
    log_s_at = _s_at_threshold(curves, float(shift.theta[0]))
    if order_noise is not None:
        log_s_at = log_s_at + order_noise
    log_size = np.log(obs.sizes)
    return _Analysis(
        shift=shift,
        heights=_fit_line(log_size, obs.log_heights),
        order=_fit_line(log_size, log_s_at),
        log_s_at=log_s_at,
    )


def _beta_over_nu(an: _Analysis, curves: list[_Curve], sizes: np.ndarray) -> ParamEstimate:
    """-slope of log S(x_c) on log s; its variance adds the x_c uncertainty (delta method)."""
    slope, var = an.order.theta[1], an.order.cov[1, 1]
    xc, var_xc = an.shift.theta[0], an.shift.cov[0, 0]
    h = 1e-4 * max(abs(xc), 1.0)
    try:
        up = _fit_line(np.log(sizes), _s_at_threshold(curves, xc + h)).theta[1]
        down = _fit_line(np.log(sizes), _s_at_threshold(curves, xc - h)).theta[1]
        var = var + ((up - down) / (2 * h)) ** 2 * var_xc
    except InvalidArgument:
        var = math.nan
    se = math.sqrt(var) if np.isfinite(var) and var >= 0 else math.nan
    return estimate(-slope, se, t_quantile(an.order.dof))


def _residual_resample(fit: LeastSquaresFit, rng: np.random.Generator) -> np.ndarray:
    """Fitted values plus resampled residuals, rescaled by sqrt(n/(n-p)) (regression bootstrap)."""
    r = fit.residuals - fit.residuals.mean()
    scale = math.sqrt(fit.n / fit.dof) if fit.dof > 0 else 1.0
    return fit.fitted + scale * rng.choice(r, size=r.size, replace=True)


def fit_critical_point(
    curves: Sequence[SweepCurve],
    *,
    one_over_nu: float | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> FitResult:
    """Threshold and exponents by finite-size scaling; see the module docstring."""
    free_nu = one_over_nu is None
    if one_over_nu is not None and not (math.isfinite(one_over_nu) and one_over_nu > 0):
        raise InvalidArgument.field(
            "one_over_nu", f"must be a finite number > 0, got {one_over_nu}"
        )
    cs = _validate(curves, 4 if free_nu else 3, limits)
    check_bootstrap(bootstrap, limits)
    validated()
    budget = budget or TimeBudget.from_limits(limits)

    obs = _observe(cs)
    an = _regress(obs, cs, one_over_nu, budget)
    sh = an.shift
    shift_names = ("threshold", "amplitude", "one_over_nu")[: sh.theta.size]
    shift_est = curvature_estimates(shift_names, sh.theta, sh.cov, sh.dof)
    params = {"threshold": shift_est["threshold"]}
    if free_nu:
        params["one_over_nu"] = shift_est["one_over_nu"]
    params["gamma_over_nu"] = curvature_estimates(
        ("c", "gamma_over_nu"), an.heights.theta, an.heights.cov, an.heights.dof
    )["gamma_over_nu"]
    params["beta_over_nu"] = _beta_over_nu(an, cs, obs.sizes)
    result = curvature_fit_result(MODEL, shift_names, sh, obs.peaks, params=params)
    result.extra = {"amplitude": float(sh.theta[1])}
    if not free_nu:
        result.extra["one_over_nu_fixed"] = float(one_over_nu)  # type: ignore[arg-type]
    for c, p, h in zip(cs, obs.peaks, obs.log_heights, strict=True):
        result.extra[f"peak_position_{c.size:g}"] = float(p)
        result.extra[f"peak_height_{c.size:g}"] = math.exp(h)
    result.converged = sh.converged and an.heights.converged and an.order.converged

    if bootstrap > 0:
        used = resolve_seed(seed)

        def refit(rng: np.random.Generator) -> np.ndarray:
            sim = _Observations(
                sizes=obs.sizes,
                peaks=_residual_resample(an.shift, rng),
                log_heights=_residual_resample(an.heights, rng),
            )
            noise = _residual_resample(an.order, rng) - an.order.fitted
            a = _regress(sim, cs, one_over_nu, budget, noise)
            return a.vector(free_nu) if a.shift.converged else np.full(len(params), np.nan)

        boot = parametric_bootstrap(refit, bootstrap, used, budget=budget)
        result.params = bootstrap_estimates(list(params), an.vector(free_nu), boot.samples)
        result.interval_method = "bootstrap"
        result.bootstrap, result.bootstrap_failed, result.seed = bootstrap, boot.failed, used
    return result

"""The statistics a verdict rests on, computed from one series and its fitted laws.

Noise: binomial with item counts (quasi-binomial when the richest model, a sigmoid, leaves
Pearson X²/dof > 1 with at least 2 residual dof); Gaussian without, its variance estimated
from residuals. Tests:

* trend: the slope of y on log-size (weighted by the noise), z or t, two-sided;
* flatness: the 95% interval of the fitted change over the observed range, and (binomial)
  the constant model's goodness of fit;
* flat start: leading sizes whose score lies within ``near_floor`` of the rise above the
  floor (the floor given, else the lowest score), or within 2 sd of it;
* jump: the best score against the pooled flat start, z with both binomial variances;
* smooth laws (``linear_log``, ``power_law``): goodness of fit within the noise (Pearson
  X²/ĉ, or with Gaussian noise an F test against the sigmoid); and ΔAIC of the best
  smooth law over the best sigmoid;
* a drop after the best score (non-monotone curves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

from services.fitting.emergence.binomial import binomial_variance, pearson_x2
from services.fitting.emergence.descriptive import size_means
from services.fitting.emergence.laws import (
    LawFit,
    aic,
    fit_constant,
    fit_line,
    fit_power_law,
    fit_sigmoid,
    weights,
)
from services.fitting.emergence.series import Series
from services.fitting.emergence.shapes import SHAPES, width_decades

SMOOTH_LAWS = ("linear_log", "power_law")
Likelihood = Literal["gaussian", "binomial", "quasi-binomial"]
SIGMOIDS = tuple(SHAPES)
_NAN = math.nan


@dataclass(frozen=True)
class Thresholds:
    """The constants of the verdict rules (see ``verdict``)."""

    trend_level: float = 0.05  # two-sided level of the trend test
    shape_level: float = 0.01  # a smooth law "fits within noise" unless its p < this
    jump_z: float = 3.0  # the jump above the flat start, in noise sd ("far beyond noise")
    min_rise: float = 0.1  # of the possible range (ceiling - floor): a jump worth the name
    near_floor: float = 0.1  # flat start: within this fraction of the rise above the floor
    min_plateau: int = 2  # sizes in the flat start
    min_delta_aic: float = 10.0  # the sigmoid beats every smooth law by at least this
    flat_margin: float = 0.1  # of the range: |change| bound that counts as flat
    drop_z: float = 3.0  # a later fall below the best score, in noise sd
    smooth_r2: float = 0.9  # without item counts and noise estimate: a smooth law's R²
    gradual_width: float = 1.5  # decades: an S-curve this wide with no flat start is smooth


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Evidence:
    """Everything ``verdict.decide`` needs; plain numbers, NaN where a test cannot run."""

    n: int
    sizes: int
    likelihood: Likelihood
    dispersion: float  # ĉ (binomial) or estimated noise variance (gaussian; NaN if none)
    trend_stat: float  # slope / its standard error
    trend_p: float
    trend_dist: str  # "z" or "t(dof)"
    slope: float  # score per decade of size
    change: float  # fitted change over the observed range
    change_ci: tuple[float, float]
    constant_p: float  # goodness of fit of a constant (binomial; NaN otherwise)
    constant_x2: float
    mean: float  # pooled level (the constant model)
    floor_level: float  # the floor given, else the lowest score
    plateau: int  # leading sizes on the flat start
    plateau_level: float
    rise: float  # best score minus the floor level
    rise_z: float  # best score against the pooled flat start
    range: float  # ceiling (or 1) - floor (or 0)
    smooth: str  # the smooth law that fits best
    smooth_stat: float
    smooth_p: float  # goodness of fit of that law within the noise (NaN: untestable)
    smooth_all_rejected: bool  # every testable smooth law misfits (and at least one tested)
    smooth_r2: float
    sigmoid: str
    sigmoid_rises: bool
    sigmoid_p: float  # the sigmoid's goodness of fit (1 when it is the noise reference)
    sigmoid_width: float  # its 10-90% rise in decades
    delta_aic: float  # best smooth law minus best sigmoid (positive favours the sigmoid)
    drop: float  # largest fall after the best score
    drop_z: float
    early_rise_z: float  # best score against the smallest size (0 when that is the best)


def _p_two_sided(stat: float, dof: float) -> float:
    if not math.isfinite(stat):
        return _NAN
    if math.isinf(dof):
        return float(2.0 * special.ndtr(-abs(stat)))
    return float(2.0 * special.stdtr(dof, -abs(stat)))


def _crit(dof: float) -> float:
    return float(special.ndtri(0.975) if math.isinf(dof) else special.stdtrit(dof, 0.975))


def _r2(y: np.ndarray, fitted: np.ndarray) -> float:
    tss = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - fitted) ** 2)) / tss if tss > 0 else _NAN


def fit_laws(s: Series) -> dict[str, LawFit]:
    """Every law the series can support (sigmoids and the power law from 3 sizes)."""
    fits = {"constant": fit_constant(s), "linear_log": fit_line(s)[0]}
    if s.sizes >= 3:
        fits["power_law"] = fit_power_law(s)
    if s.sizes >= 3:
        for name in SIGMOIDS:
            fits[name] = fit_sigmoid(s, name)
    return fits


def gather(s: Series, fits: dict[str, LawFit], th: Thresholds = DEFAULT_THRESHOLDS) -> Evidence:
    """The verdict's statistics for series ``s`` given its fitted laws (``fit_laws``)."""
    n = s.n
    sig_names = [k for k in SIGMOIDS if k in fits]
    sig = min(sig_names, key=lambda k: fits[k].deviance) if sig_names else ""
    rich_dof = n - 4
    # noise: ĉ (binomial) or σ² (gaussian) from the richest model when it leaves >= 2 dof
    phi, sigma2 = 1.0, _NAN
    if sig and rich_dof >= 2:
        if s.items is not None:
            phi = max(1.0, float(pearson_x2(s.y, fits[sig].fitted, s.items)) / rich_dof)
        else:
            sigma2 = fits[sig].deviance / rich_dof
    likelihood: Likelihood = (
        "gaussian" if s.items is None else ("quasi-binomial" if phi > 1 else "binomial")
    )

    # trend: slope of the (re)weighted line
    line = fits["linear_log"]
    w = weights(s, line.fitted)
    slope = line.params["slope"]
    span = float(s.x[-1] - s.x[0])
    sxx = float(np.sum(w * (s.x - np.sum(w * s.x) / np.sum(w)) ** 2))
    if s.items is not None:
        dof = math.inf if phi == 1.0 else float(rich_dof)
        var_slope = phi / sxx if sxx > 0 else _NAN
    else:
        dof = float(n - 2)
        var_slope = line.deviance / (n - 2) / sxx if n > 2 and sxx > 0 else _NAN
    se = math.sqrt(var_slope) if math.isfinite(var_slope) and var_slope > 0 else _NAN
    t_stat = (
        slope / se
        if se > 0
        else (_NAN if not math.isfinite(se) else math.copysign(math.inf, slope))
    )
    trend_p = _p_two_sided(t_stat, dof) if dof >= 1 else _NAN
    half = _crit(dof) * se * span if dof >= 1 and math.isfinite(se) else _NAN
    change = slope * span

    constant_x2 = constant_p = _NAN
    if s.items is not None and n >= 2:
        constant_x2 = float(pearson_x2(s.y, fits["constant"].fitted, s.items)) / phi
        constant_p = float(special.chdtrc(n - 1, constant_x2))

    # flat start and jump, on the mean score at each distinct size
    ux, uy = size_means(s.x, s.y)
    base = s.floor if s.floor is not None else float(np.min(uy))
    rng = s.high - s.low
    best = int(np.argmax(uy))
    rise = float(uy[best] - base)
    m_at = None if s.items is None else np.array([np.sum(s.items[s.x == v]) for v in ux])

    def sd_of(level: float, i: int) -> float:
        if m_at is not None:
            return math.sqrt(phi * float(binomial_variance(np.array(level), m_at[i])))
        return math.sqrt(sigma2) if math.isfinite(sigma2) else _NAN

    plateau = 0
    for i in range(ux.size):
        sd = sd_of(max(base, 0.0), i)
        tol = max(th.near_floor * rise, 2.0 * sd if math.isfinite(sd) else 0.0)
        if i >= best or uy[i] - base > tol:
            break
        plateau += 1
    plateau_level = _NAN
    rise_z = _NAN
    if plateau:
        if m_at is not None:
            mp = float(np.sum(m_at[:plateau]))
            plateau_level = float(np.sum(uy[:plateau] * m_at[:plateau]) / mp)
            v = phi * float(
                binomial_variance(np.array(uy[best]), m_at[best])
                + binomial_variance(np.array(plateau_level), np.array(mp))
            )
        else:
            plateau_level = float(np.mean(uy[:plateau]))
            sg = sigma2 if math.isfinite(sigma2) else (line.deviance / (n - 2) if n > 2 else _NAN)
            v = sg * (1.0 + 1.0 / plateau) if math.isfinite(sg) else _NAN
        rise_z = float(uy[best] - plateau_level) / math.sqrt(v) if v > 0 else _NAN

    # drop after the best size
    drop = drop_z = 0.0
    if best < ux.size - 1:
        j = best + 1 + int(np.argmin(uy[best + 1 :]))
        drop = float(uy[best] - uy[j])
        if m_at is not None:
            v = phi * float(
                binomial_variance(np.array(uy[best]), m_at[best])
                + binomial_variance(np.array(uy[j]), m_at[j])
            )
        else:
            v = 2.0 * sigma2 if math.isfinite(sigma2) else _NAN
        drop_z = drop / math.sqrt(v) if v > 0 else _NAN

    early_rise_z = 0.0
    if best > 0:
        if m_at is not None:
            v = phi * float(
                binomial_variance(np.array(uy[best]), m_at[best])
                + binomial_variance(np.array(uy[0]), m_at[0])
            )
        else:
            v = 2.0 * sigma2 if math.isfinite(sigma2) else _NAN
        early_rise_z = float(uy[best] - uy[0]) / math.sqrt(v) if v > 0 else _NAN

    # smooth laws within the noise, and against the sigmoid
    smooth_stats: dict[str, tuple[float, float]] = {}
    for name in SMOOTH_LAWS:
        if name not in fits:
            continue
        f = fits[name]
        if s.items is not None:
            x2 = float(pearson_x2(s.y, f.fitted, s.items)) / phi
            smooth_stats[name] = (x2, float(special.chdtrc(max(n - f.k, 1), x2)))
        elif sig and math.isfinite(sigma2) and sigma2 > 0:
            dk = 4 - f.k
            fs = max(f.deviance - fits[sig].deviance, 0.0) / dk / sigma2
            smooth_stats[name] = (fs, float(special.fdtrc(dk, rich_dof, fs)))
        else:
            smooth_stats[name] = (_NAN, _NAN)
    tested = {k: v for k, v in smooth_stats.items() if math.isfinite(v[1])}
    if tested:
        smooth = max(tested, key=lambda k: tested[k][1])
    else:
        smooth = min(smooth_stats, key=lambda k: fits[k].deviance)
    smooth_stat, smooth_p = smooth_stats[smooth]
    all_rejected = bool(tested) and all(p < th.shape_level for _, p in tested.values())

    delta = _NAN
    if sig and (s.items is not None or rich_dof >= 2):
        delta = min(aic(s, fits[k], phi) for k in smooth_stats) - aic(s, fits[sig], phi)
    sig_rises = bool(sig) and fits[sig].params["ceiling"] > fits[sig].params["floor"]
    sig_p, sig_w = _NAN, _NAN
    if sig:
        sig_w = width_decades(sig, fits[sig].params["sharpness"])
        if s.items is not None and rich_dof >= 1:
            x2 = float(pearson_x2(s.y, fits[sig].fitted, s.items)) / phi
            sig_p = 1.0 if phi > 1.0 else float(special.chdtrc(rich_dof, x2))
        elif s.items is None and rich_dof >= 2:
            sig_p = 1.0
    return Evidence(
        n=n, sizes=s.sizes, likelihood=likelihood,
        dispersion=phi if s.items is not None else sigma2,
        trend_stat=t_stat, trend_p=trend_p,
        trend_dist="z" if math.isinf(dof) else f"t({dof:g})",
        slope=slope, change=change, change_ci=(change - half, change + half),
        constant_p=constant_p, constant_x2=constant_x2,
        mean=fits["constant"].params["mean"], floor_level=base, plateau=plateau,
        plateau_level=plateau_level,
        rise=rise, rise_z=rise_z, range=rng,
        smooth=smooth, smooth_stat=smooth_stat, smooth_p=smooth_p,
        smooth_all_rejected=all_rejected, smooth_r2=_r2(s.y, fits[smooth].fitted),
        sigmoid=sig, sigmoid_rises=sig_rises, sigmoid_p=sig_p, sigmoid_width=sig_w,
        delta_aic=delta,
        drop=drop, drop_z=drop_z, early_rise_z=early_rise_z,
    )  # fmt: skip

"""The curves a series is judged against, fitted fast by profiling over a grid.

Every law is linear in two coefficients once its nonlinear parameters are fixed:

* ``constant``   y = m;
* ``linear_log`` y = a + b·x (x in decades of scale);
* ``power_law``  y = E + A·10^(-alpha·(x - x_0)) (a power law in scale, rising toward E
  when A < 0, falling when A > 0), alpha on a grid;
* ``logistic`` / ``gompertz``  y = lo + (hi - lo)·q(s·(x - x_h)), (x_h, s) on a grid.

So each grid node is a closed-form weighted least-squares solve, all nodes at once with
numpy; the best node is refined on a finer grid. With item counts the fit is binomial
maximum likelihood by reweighting (weights M/(f(1-f)) at the current fit, a few passes,
nodes ranked by the weighted residual sum of squares, the reported objective the exact
binomial deviance); without, unweighted least squares. ``polish_sigmoid`` takes a
reported sigmoid to the continuous optimum; ``threshold_profile`` gives its profile over
x_h, from which the threshold's profile-likelihood interval comes. Speed matters: a
leaderboard table is hundreds of series, and the verdict's error rates are checked over
thousands of simulated ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import optimize

from services.fitting.emergence.binomial import (
    agresti_coull,
    binomial_deviance,
    binomial_variance,
)
from services.fitting.emergence.series import Series
from services.fitting.emergence.shapes import SHAPES

IRLS_PASSES = 3
XH_NODES = 81
S_NODES = 16
ALPHA_NODES = 48
SHARPNESS_RANGE = (0.3, 60.0)  # per decade: 10–90% widths from ~15 down to 0.07 decades
ALPHA_RANGE = (0.01, 4.0)
CHI2_95 = 3.841458820694124  # χ²₁ 95% quantile


@dataclass(frozen=True)
class LawFit:
    """One fitted law: parameters, values at the data, deviance (binomial) or RSS, k."""

    name: str
    params: dict[str, float]
    fitted: np.ndarray
    deviance: float
    k: int
    extra: dict[str, float] = field(default_factory=dict)


def deviance(s: Series, fitted: np.ndarray) -> np.ndarray:
    """Binomial deviance with item counts, else the residual sum of squares (last axis)."""
    if s.items is not None:
        return binomial_deviance(s.y, fitted, s.items)
    return np.asarray(np.sum((s.y - fitted) ** 2, axis=-1))


def weights(s: Series, p: np.ndarray) -> np.ndarray:
    """Least-squares weights at fitted values ``p``: M/(p(1-p)) with items, else 1."""
    return np.ones_like(s.y) if s.items is None else 1.0 / binomial_variance(p, s.items)


def _solve2(
    a: np.ndarray, b: np.ndarray, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of y on two bases (last axis = points), over leading axes.

    A degenerate pair (one basis ~ 0 or the two collinear) falls back to the weighted mean
    on the basis sum, so a flat stretch of a sigmoid is still a valid constant.
    """
    saa, sbb, sab = np.sum(w * a * a, -1), np.sum(w * b * b, -1), np.sum(w * a * b, -1)
    say, sby = np.sum(w * a * y, -1), np.sum(w * b * y, -1)
    det = saa * sbb - sab * sab
    ok = det > 1e-10 * np.maximum(saa * sbb, 1e-300)
    safe = np.where(ok, det, 1.0)
    c1 = np.where(ok, (sbb * say - sab * sby) / safe, np.nan)
    c2 = np.where(ok, (saa * sby - sab * say) / safe, np.nan)
    mean = np.sum(w * y, -1) / np.sum(w, -1)
    return np.where(ok, c1, mean), np.where(ok, c2, mean)


def _best(s: Series, fitted: np.ndarray) -> tuple[int, np.ndarray]:
    dev = deviance(s, fitted)
    dev = np.where(np.isfinite(dev), dev, np.inf)
    return int(np.argmin(dev)), dev


def fit_constant(s: Series) -> LawFit:
    """y = m: the weighted mean (the binomial MLE with items: the pooled proportion)."""
    w = weights(s, np.full_like(s.y, np.mean(s.y)))
    m = (
        float(np.sum(w * s.y) / np.sum(w))
        if s.items is None
        else float(np.sum(s.items * s.y) / np.sum(s.items))
    )
    fitted = np.full_like(s.y, m)
    return LawFit("constant", {"mean": m}, fitted, float(deviance(s, fitted)), 1)


def fit_line(s: Series) -> tuple[LawFit, np.ndarray]:
    """y = a + b·x by (re)weighted least squares; also returns the final weights."""
    p = s.y if s.items is None else agresti_coull(s.y, s.items)
    one = np.ones_like(s.x)
    a = b = 0.0
    for _ in range(1 if s.items is None else IRLS_PASSES):
        w = weights(s, p)
        a_, b_ = _solve2(one, s.x, s.y, w)
        a, b = float(a_), float(b_)
        p = a + b * s.x
    w = weights(s, p)
    fitted = a + b * s.x
    fit = LawFit("linear_log", {"intercept": a, "slope": b}, fitted, float(deviance(s, fitted)), 2)
    return fit, w


def fit_power_law(s: Series) -> LawFit:
    """y = E + A·10^(-alpha·(x - x_0)) with alpha on a grid and (E, A) in closed form.

    With 3 sizes E is fixed at the ceiling (1 unless given) so the law keeps a residual
    degree of freedom: a rise that saturates toward the best possible score.
    """
    x0 = float(s.x[0])
    alpha = np.geomspace(*ALPHA_RANGE, ALPHA_NODES)
    u = 10.0 ** (-alpha[:, None] * (s.x - x0))
    one = np.ones_like(u)
    fixed = s.sizes < 4
    p = s.y if s.items is None else agresti_coull(s.y, s.items)
    j = 0
    e = a = np.zeros(alpha.size)
    fitted = np.empty_like(u)
    for _ in range(1 if s.items is None else IRLS_PASSES):
        w = weights(s, p)
        if fixed:
            e = np.full(alpha.size, s.high)
            a = np.sum(w * u * (s.y - s.high), -1) / np.sum(w * u * u, -1)
        else:
            e, a = _solve2(one, u, s.y, w)
        fitted = e[:, None] + a[:, None] * u
        j, _ = _best(s, fitted)
        p = fitted[j]
    amp = float(a[j] * 10.0 ** (alpha[j] * x0))  # A at x = 0 (scale 1)
    params = {"E": float(e[j]), "A": amp, "alpha": float(alpha[j])}
    k = 2 if fixed else 3
    return LawFit("power_law", params, fitted[j], float(deviance(s, fitted[j])), k)


def _sigmoid_nodes(
    s: Series, q: np.ndarray, q2: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lo, hi, weighted RSS) at every node of progress ``q`` (..., n), ``q2`` = q².

    The normal equations and the RSS need only Σw, Σwy, Σwy², Σwq, Σwq², Σwqy: three
    matrix-vector products over the grid, no per-node residual arrays.
    """
    sw, swy, swyy = float(np.sum(w)), float(np.sum(w * s.y)), float(np.sum(w * s.y**2))
    swq, swqq, swqy = q @ w, q2 @ w, q @ (w * s.y)
    saa, sab, sbb = sw - 2.0 * swq + swqq, swq - swqq, swqq
    say, sby = swy - swqy, swqy
    det = saa * sbb - sab * sab
    ok = det > 1e-10 * np.maximum(saa * sbb, 1e-300)
    safe = np.where(ok, det, 1.0)
    mean = swy / sw
    lo = np.where(ok, (sbb * say - sab * sby) / safe, mean)
    hi = np.where(ok, (saa * sby - sab * say) / safe, mean)
    lo, hi = np.clip(lo, 0.0, s.high), np.clip(hi, 0.0, s.high)
    d = hi - lo
    wrss = swyy - 2.0 * lo * swy - 2.0 * d * swqy + lo * lo * sw + 2.0 * lo * d * swq + d * d * swqq
    return lo, hi, np.where(np.isfinite(wrss), np.maximum(wrss, 0.0), np.inf)


@lru_cache(maxsize=64)
def _coarse_grid(
    shape: str, x_bytes: bytes
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_h nodes, s nodes, q, q²) of the coarse grid at log-sizes ``x`` (cached: a table's
    series share their sizes)."""
    x = np.frombuffer(x_bytes)
    span = max(float(x[-1] - x[0]), 0.5)
    xh = np.linspace(x[0] - 0.5 * span, x[-1] + 0.5 * span, XH_NODES)
    sharp = np.geomspace(*SHARPNESS_RANGE, S_NODES)
    q = SHAPES[shape].q(sharp[None, :, None] * (x - xh[:, None, None]))
    for a in (xh, sharp, q):
        a.setflags(write=False)
    q2 = q * q
    q2.setflags(write=False)
    return xh, sharp, q, q2


def _progress(
    shape: str, x: np.ndarray, xh: np.ndarray, sharp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    q = SHAPES[shape].q(sharp[None, :, None] * (x - xh[:, None, None]))
    return q, q * q


def fit_sigmoid(s: Series, shape: str) -> LawFit:
    """lo + (hi - lo)·q(s·(x - x_h)) on a (x_h, s) grid, refined.

    x_h spans the data and half its range on either side; lo and hi stay in [0, ceiling].
    Nodes are ranked by the weighted residual sum of squares at the current binomial
    weights (Gauss–Newton scoring); the chosen fit's deviance is exact. ``extra`` keeps
    the final weighted RSS (``wrss``) for ``threshold_profile``.
    """
    xh, sharp, q, q2 = _coarse_grid(shape, np.ascontiguousarray(s.x, dtype=np.float64).tobytes())
    p = s.y if s.items is None else agresti_coull(s.y, s.items)
    lo = hi = wrss = np.empty(0)
    for _ in range(1 if s.items is None else IRLS_PASSES):
        w = weights(s, p)
        lo, hi, wrss = _sigmoid_nodes(s, q, q2, w)
        i, j = np.unravel_index(np.argmin(wrss), wrss.shape)
        p = lo[i, j] + (hi[i, j] - lo[i, j]) * q[i, j]
    w = weights(s, p)
    lo, hi, wrss = _sigmoid_nodes(s, q, q2, w)
    # refine around the best node: a finer grid one coarse step either way
    dx, ratio = xh[1] - xh[0], sharp[1] / sharp[0]
    i, j = np.unravel_index(np.argmin(wrss), wrss.shape)
    xh_f = np.linspace(xh[i] - dx, xh[i] + dx, 11)
    s_f = sharp[j] * ratio ** np.linspace(-1.0, 1.0, 11)
    q_f, q2_f = _progress(shape, s.x, xh_f, s_f)
    lo_f, hi_f, wrss_f = _sigmoid_nodes(s, q_f, q2_f, w)
    a, b = np.unravel_index(np.argmin(wrss_f), wrss_f.shape)
    params = {
        "log10_threshold": float(xh_f[a]),
        "sharpness": float(s_f[b]),
        "floor": float(lo_f[a, b]),
        "ceiling": float(hi_f[a, b]),
    }
    fitted = lo_f[a, b] + (hi_f[a, b] - lo_f[a, b]) * q_f[a, b]
    extra = {"wrss": min(float(wrss_f[a, b]), float(np.min(wrss)))}
    return LawFit(shape, params, fitted, float(deviance(s, fitted)), 4, extra=extra)


def polish_sigmoid(s: Series, fit: LawFit) -> LawFit:
    """The grid fit polished to the continuous optimum (bounded trust-region least squares,
    reweighted twice with items), so reported values and resampling distributions are not
    tied to grid nodes."""
    qf = SHAPES[fit.name].q
    span = max(float(s.x[-1] - s.x[0]), 0.5)
    lo_b = [s.x[0] - span, SHARPNESS_RANGE[0] / 3.0, 0.0, 0.0]
    hi_b = [s.x[-1] + span, SHARPNESS_RANGE[1] * 2.0, s.high, s.high]
    p = fit.params
    theta = np.clip(
        [p["log10_threshold"], p["sharpness"], p["floor"], p["ceiling"]],
        np.add(lo_b, 1e-9), np.subtract(hi_b, 1e-9),
    )  # fmt: skip

    def curve(t: np.ndarray) -> np.ndarray:
        return np.asarray(t[2] + (t[3] - t[2]) * qf(t[1] * (s.x - t[0])))

    fitted = curve(theta)
    for _ in range(1 if s.items is None else 2):
        sw = np.sqrt(weights(s, fitted))
        res = optimize.least_squares(
            lambda t, sw=sw: sw * (curve(t) - s.y), theta, bounds=(lo_b, hi_b),
            x_scale="jac", max_nfev=200,
        )  # fmt: skip
        theta, fitted = res.x, curve(res.x)
    w = weights(s, fitted)
    params = dict(
        zip(("log10_threshold", "sharpness", "floor", "ceiling"), map(float, theta), strict=True)
    )
    wrss = float(np.sum(w * (s.y - fitted) ** 2))
    dev = float(deviance(s, fitted))
    if dev > fit.deviance:  # keep the grid optimum if polishing did not improve it
        return fit
    return LawFit(fit.name, params, fitted, dev, 4, extra={"wrss": wrss})


def threshold_profile(s: Series, fit: LawFit) -> tuple[np.ndarray, np.ndarray]:
    """(x_h grid, excess weighted RSS minimised over the rest) around a sigmoid's optimum.

    The fine x_h grid spans the coarse nodes within 4·χ²₁(0.95) of the best (noise scale:
    binomial weights, or RSS/n without items); an end value 0 marks an interval that runs
    off the grid there (open), +inf one that closes inside it.
    """
    xh, sharp, q, q2 = _coarse_grid(fit.name, np.ascontiguousarray(s.x, dtype=np.float64).tobytes())
    w = weights(s, fit.fitted)
    coarse = np.min(_sigmoid_nodes(s, q, q2, w)[2], axis=1)
    best = min(fit.extra["wrss"], float(np.min(coarse)))
    scale2 = 1.0 if s.items is not None else max(best, 1e-300) / s.n
    near = np.flatnonzero(coarse - float(np.min(coarse)) <= 4.0 * CHI2_95 * scale2)
    x_best = fit.params["log10_threshold"]
    k0 = max(min(int(near[0]), int(np.searchsorted(xh, x_best)) - 1) - 1, 0)
    k1 = min(max(int(near[-1]), int(np.searchsorted(xh, x_best))) + 1, xh.size - 1)
    xh_p = np.linspace(xh[k0], xh[k1], 81)
    s_best = fit.params["sharpness"]
    s_p = np.concatenate([sharp, s_best * np.geomspace(0.4, 2.5, 41)])
    q_p, q2_p = _progress(fit.name, s.x, xh_p, s_p)
    prof = np.maximum(np.min(_sigmoid_nodes(s, q_p, q2_p, w)[2], axis=1) - best, 0.0)
    prof[0] = 0.0 if k0 == 0 else np.inf
    prof[-1] = 0.0 if k1 == xh.size - 1 else np.inf
    return xh_p, prof


def aic(s: Series, fit: LawFit, dispersion: float = 1.0) -> float:
    """AIC: binomial (QAIC with dispersion > 1: deviance/ĉ + 2(k+1)) or Gaussian."""
    if s.items is not None:
        if dispersion > 1.0:
            return fit.deviance / dispersion + 2.0 * (fit.k + 1)
        return fit.deviance + 2.0 * fit.k
    rss = max(fit.deviance, s.n * 1e-12)
    return s.n * math.log(rss / s.n) + 2.0 * (fit.k + 1)


def evaluate(fit: LawFit, x: np.ndarray) -> np.ndarray:
    """The fitted law's values at axis positions ``x`` (decades)."""
    p = fit.params
    if fit.name == "constant":
        return np.full_like(x, p["mean"])
    if fit.name == "linear_log":
        return np.asarray(p["intercept"] + p["slope"] * x)
    if fit.name == "power_law":
        return np.asarray(p["E"] + p["A"] * 10.0 ** (-p["alpha"] * x))
    q = SHAPES[fit.name].q(p["sharpness"] * (x - p["log10_threshold"]))
    return np.asarray(p["floor"] + (p["ceiling"] - p["floor"]) * q)

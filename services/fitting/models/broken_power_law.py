"""Broken neural scaling law (Caballero et al. 2022) with 1 or 2 breaks.

    y = a + b·x^(-c0)·Π_i (1 + (x/d_i)^(1/f_i))^(-c_i·f_i)

Each break i bends the log-log slope by c_i around x = d_i, with sharpness f_i (smaller is
sharper), so the law can follow a flat stretch followed by a sudden fall.

Fitting: least squares on log y (the paper fits log-space error too), with a >= 0 and b, d_i,
f_i fitted as logs (positive), so y stays positive. Starts come from a screen over a grid of
(c0, c_i, d_i, f_i) — breaks placed inside the data range — with (a, b) solved linearly for
each grid point (non-negative a); the best 8 screen points are polished (trust-region
reflective, tight tolerances). Two breaks: the 1-break optimum plus a second break screened
the same way.

API
---
``fit_broken_power_law(x, y, *, breaks=1, predict_x=(), bootstrap=0, seed=None,
holdout_largest=0, limits=DEFAULT_LIMITS, budget=None) -> FitResult``
    model ``broken_power_law``; ``params``: ``a``, ``b``, ``c0``, ``c1``, ``d1``, ``f1`` (+
    ``c2``, ``d2``, ``f2``). b, d_i, f_i get exp-mapped intervals. R², AIC, BIC, residuals of
    log y. Predictions (``x={"x": ...}``) and holdout in y units. Otherwise as
    ``curve_fit.fit_curve``.

    Raises InvalidArgument naming ``breaks`` (not 1 or 2), ``x``/``y`` (+``[i]``: non-finite,
    <= 0, lengths, fewer than p + 1 points or distinct x, too many points), ``predict_x[i]``,
    ``bootstrap``, ``seed``, ``holdout_largest``.
"""

from __future__ import annotations

import itertools

import numpy as np

from services.common.errors import InvalidArgument
from services.fitting.curve_fit import CurveSpec, fit_curve
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.pipeline import validated
from services.fitting.results import FitResult
from services.fitting.validation import (
    ArrayLike,
    as_vector,
    require_distinct,
    require_min_points,
    require_positive,
    require_same_length,
)

MODEL = "broken_power_law"
_C0 = (0.0, 0.1, 0.3, 0.6, 1.0)
_CI = (-1.0, -0.3, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
_FI = (0.05, 0.2, 0.5, 1.0, 2.0)
_BREAK_POSITIONS = 10
_POLISH = 4


def _names(breaks: int) -> tuple[str, ...]:
    extra = [f"{p}{i}" for i in range(1, breaks + 1) for p in ("c", "d", "f")]
    return ("a", "b", "c0", *extra)


def _log_term(theta: np.ndarray, lx: np.ndarray) -> np.ndarray:
    """log(b·x^-c0·Π(...)) for theta = (a, log b, c0, [c_i, log d_i, log f_i]...)."""
    t = theta[1] - theta[2] * lx
    for j in range(3, theta.size, 3):
        c, ld, lf = theta[j], theta[j + 1], theta[j + 2]
        f = np.exp(lf)
        t = t - c * f * np.logaddexp(0.0, (lx - ld) / f)
    return t


def _model(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log y of the broken power law at x."""
    t = _log_term(theta, np.log(x))
    a = theta[0]
    return np.logaddexp(np.log(a), t) if a > 0 else t


def _jacobian(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """∂ log y / ∂theta, analytic."""
    lx = np.log(x)
    t = _log_term(theta, lx)
    y = theta[0] + np.exp(t)
    w = np.exp(t) / y
    cols = [1.0 / y, w, -lx * w]
    for j in range(3, theta.size, 3):
        c, ld, lf = theta[j], theta[j + 1], theta[j + 2]
        f = np.exp(lf)
        z = (lx - ld) / f
        s = np.logaddexp(0.0, z)
        sig = 0.5 * (1.0 + np.tanh(0.5 * z))
        cols += [-f * s * w, c * sig * w, f * (-c * s + c * sig * z) * w]
    return np.column_stack(cols)


def _screen(lx: np.ndarray, y: np.ndarray, fixed: np.ndarray | None, keep: int) -> list[np.ndarray]:
    """Grid over one more break (or the first break and c0); (a, b) by non-negative LS.

    Vectorised over the grid: every candidate's shape g(x) (b = 1) is one row; a and b
    solve y ≈ a + b·g in closed form (a clipped at 0); candidates rank by log-space RSS.
    """
    positions = np.linspace(lx.min(), lx.max(), _BREAK_POSITIONS + 2)[1:-1]
    c0s = _C0 if fixed is None else (float(fixed[2]),)
    grid = np.array(list(itertools.product(c0s, _CI, positions, np.log(_FI))))
    c0, c, ld, lf = (grid[:, k : k + 1] for k in range(4))
    f = np.exp(lf)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if fixed is None:
            log_g = -c0 * lx
        else:
            head = fixed.copy()
            head[1] = 0.0
            log_g = _log_term(head, lx)[None, :]
        log_g = log_g - c * f * np.logaddexp(0.0, (lx - ld) / f)
        g = np.exp(log_g)
        m = y.size
        sg, sy, sgg, sgy = g.sum(1), y.sum(), (g * g).sum(1), g @ y
        det = m * sgg - sg * sg
        a = (sgg * sy - sg * sgy) / det
        b = (m * sgy - sg * sy) / det
        clip = a < 0
        a = np.where(clip, 0.0, a)
        b = np.where(clip, sgy / sgg, b)
        pred = a[:, None] + b[:, None] * g
        rss = np.sum((np.log(pred) - np.log(y)) ** 2, axis=1)
    rss[~(np.isfinite(rss) & (b > 0))] = np.inf
    out = []
    for i in np.argsort(rss, kind="stable")[:keep]:
        if not np.isfinite(rss[i]):
            break
        head = np.array([a[i], np.log(b[i]), grid[i, 0]]) if fixed is None else fixed.copy()
        if fixed is not None:
            head[0], head[1] = a[i], np.log(b[i])
        out.append(np.concatenate([head, grid[i, 1:]]))
    return out


def _starts_one(x: np.ndarray, z: np.ndarray) -> list[np.ndarray]:
    return _screen(np.log(x), np.exp(z), None, _POLISH)


def _spec(breaks: int) -> CurveSpec:
    names = _names(breaks)
    log_params = (1, *[j for j in range(3, len(names)) if (j - 3) % 3 != 0])
    lower = [0.0] + [-np.inf] * (len(names) - 1)
    upper = [np.inf] * len(names)

    def starts(x: np.ndarray, z: np.ndarray) -> list[np.ndarray]:
        if breaks == 1:
            return _starts_one(x, z)
        first = fit_curve(SPEC_1, x, np.exp(z))
        p = {k: v.value for k, v in first.params.items()}
        logs = {k: np.log(p[k]) for k in ("b", "d1", "f1")}
        base = np.array([p["a"], logs["b"], p["c0"], p["c1"], logs["d1"], logs["f1"]])
        return _screen(np.log(x), np.exp(z), base, _POLISH)

    return CurveSpec(
        model=MODEL,
        names=names,
        x_names=("x",),
        f=_model,
        jac=_jacobian,
        starts=starts,
        log_params=log_params,
        log_response=True,
        bounds=(lower, upper),
    )


SPEC_1 = _spec(1)
SPEC_2 = _spec(2)


def fit_broken_power_law(
    x: ArrayLike,
    y: ArrayLike,
    *,
    breaks: int = 1,
    predict_x: ArrayLike = (),
    bootstrap: int = 0,
    seed: int | None = None,
    holdout_largest: int = 0,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> FitResult:
    """Fit a broken neural scaling law with 1 or 2 breaks; see the module docstring."""
    if breaks not in (1, 2):
        raise InvalidArgument.field("breaks", f"must be 1 or 2, got {breaks}")
    check_points(len(x), limits, "x")
    xa, ya = as_vector(x, "x"), as_vector(y, "y")
    require_same_length(xa, ya, "y")
    require_positive(xa, "x")
    require_positive(ya, "y")
    spec = SPEC_1 if breaks == 1 else SPEC_2
    p = len(spec.names)
    require_min_points(xa.size, p + 1, "x")
    require_distinct(xa, 4, "x")
    check_bootstrap(bootstrap, limits)
    xs = as_vector(predict_x, "predict_x")
    require_positive(xs, "predict_x")
    validated(holdout_largest)

    def identifiable(idx: np.ndarray) -> None:
        require_distinct(xa[idx], 4, "x")

    return fit_curve(
        spec,
        xa,
        ya,
        predict_X=xs,
        bootstrap=bootstrap,
        seed=seed,
        holdout_scale=xa,
        holdout_largest=holdout_largest,
        min_distinct=identifiable,
        budget=budget or TimeBudget.from_limits(limits),
    )

"""Kaplan et al. (2020) scaling laws, fitted by least squares on log L.

Forms (chosen by which inputs are given):
    L(N)    = (N_c/N)^alpha_N                              model "kaplan_n"
    L(D)    = (D_c/D)^alpha_D                              model "kaplan_d"
    L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D  model "kaplan_nd"

API
---
``fit_kaplan(loss, *, N=None, D=None, predict_N=(), predict_D=(), bootstrap=0, seed=None,
holdout_largest=0, limits=DEFAULT_LIMITS, budget=None) -> FitResult``
    ``params``: ``N_c``, ``alpha_N`` and/or ``D_c``, ``alpha_D``. Residuals are in log L (the
    noise of a loss is multiplicative); N_c, D_c are fitted as logs (exp-mapped intervals,
    delta-method stderr). Everything else as ``curve_fit.fit_curve``: curvature or bootstrap
    intervals, R²/AIC/BIC of log L, predictions (loss units) at ``predict_N`` (and the paired
    ``predict_D`` for the joint form) with 95% prediction intervals, ``holdout`` on the k
    largest N (N·D for the joint form; D for the D-only form).

    Raises InvalidArgument naming ``N`` (neither N nor D given, fewer than p + 1 points or 2
    distinct values, too many points), ``N[i]``/``D[i]``/``loss[i]`` (non-finite or <= 0),
    ``D``/``loss`` (length), ``predict_N[i]``/``predict_D[i]``/``predict_D``, ``bootstrap``,
    ``seed``, ``holdout_largest``.
"""

from __future__ import annotations

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

_SINGLE_ALPHAS = (0.03, 0.1, 0.3, 1.0)


def _single(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log L = alpha·(log X_c - log X)."""
    return theta[1] * (theta[0] - np.log(x))


def _single_jac(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.column_stack([np.full(x.size, theta[1]), theta[0] - np.log(x)])


def _single_starts(x: np.ndarray, z: np.ndarray) -> list[np.ndarray]:
    """A log-log line (it is the exact least-squares answer) plus a fallback."""
    slope, intercept = np.polyfit(np.log(x), z, 1)
    alpha = -slope if abs(slope) > 1e-12 else 1e-3
    return [np.array([intercept / alpha, alpha])]


def _joint(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    """log L = alpha_D·log[exp(q·(c_N - log N)) + exp(c_D - log D)], q = alpha_N/alpha_D."""
    c_n, a_n, c_d, a_d = theta
    z1 = (a_n / a_d) * (c_n - np.log(X[:, 0]))
    z2 = c_d - np.log(X[:, 1])
    return a_d * np.logaddexp(z1, z2)


def _joint_jac(theta: np.ndarray, X: np.ndarray) -> np.ndarray:
    c_n, a_n, c_d, a_d = theta
    q = a_n / a_d
    dn = c_n - np.log(X[:, 0])
    z1, z2 = q * dn, c_d - np.log(X[:, 1])
    s = np.logaddexp(z1, z2)
    p1, p2 = np.exp(z1 - s), np.exp(z2 - s)
    return np.column_stack([a_n * p1, p1 * dn, a_d * p2, s - p1 * q * dn])


def _joint_starts(X: np.ndarray, z: np.ndarray) -> list[np.ndarray]:
    """Exponent pairs on a grid; N_c, D_c put each term at half the median loss^(1/alpha_D)."""
    u_med, v_med, z_med = (
        float(np.median(np.log(X[:, 0]))),
        float(np.median(np.log(X[:, 1]))),
        float(np.median(z)),
    )
    out = []
    for a_n in _SINGLE_ALPHAS:
        for a_d in _SINGLE_ALPHAS:
            log_half = z_med / a_d - np.log(2.0)  # log(T/2) with T = L_med^(1/alpha_D)
            if not np.isfinite(log_half):
                continue
            # (N_c/N_med)^(a_n/a_d) = T/2 and D_c/D_med = T/2 (log T/2 may be negative).
            out.append(np.array([u_med + log_half * a_d / a_n, a_n, v_med + log_half, a_d]))
    return out


SPEC_N = CurveSpec(
    model="kaplan_n",
    names=("N_c", "alpha_N"),
    x_names=("N",),
    f=_single,
    jac=_single_jac,
    starts=_single_starts,
    log_params=(0,),
    log_response=True,
)
SPEC_D = CurveSpec(
    model="kaplan_d",
    names=("D_c", "alpha_D"),
    x_names=("D",),
    f=_single,
    jac=_single_jac,
    starts=_single_starts,
    log_params=(0,),
    log_response=True,
)
SPEC_ND = CurveSpec(
    model="kaplan_nd",
    names=("N_c", "alpha_N", "D_c", "alpha_D"),
    x_names=("N", "D"),
    f=_joint,
    jac=_joint_jac,
    starts=_joint_starts,
    log_params=(0, 2),
    log_response=True,
)


def _optional(values: ArrayLike | None, field: str) -> np.ndarray | None:
    if values is None or len(values) == 0:
        return None
    arr = as_vector(values, field)
    require_positive(arr, field)
    return arr


def fit_kaplan(
    loss: ArrayLike,
    *,
    N: ArrayLike | None = None,
    D: ArrayLike | None = None,
    predict_N: ArrayLike = (),
    predict_D: ArrayLike = (),
    bootstrap: int = 0,
    seed: int | None = None,
    holdout_largest: int = 0,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> FitResult:
    """Fit the Kaplan form that the given inputs select; see the module docstring."""
    check_points(len(loss), limits, "loss")
    n_arr, d_arr = _optional(N, "N"), _optional(D, "D")
    if n_arr is None and d_arr is None:
        raise InvalidArgument.field("N", "give N, D or both")
    l_arr = as_vector(loss, "loss")
    first = n_arr if n_arr is not None else d_arr
    assert first is not None
    if n_arr is not None and d_arr is not None:
        require_same_length(n_arr, d_arr, "D")
    require_same_length(first, l_arr, "loss")
    require_positive(l_arr, "loss")
    check_bootstrap(bootstrap, limits)

    if n_arr is not None and d_arr is not None:
        spec, X, scale = SPEC_ND, np.column_stack([n_arr, d_arr]), n_arr * d_arr
    elif n_arr is not None:
        spec, X, scale = SPEC_N, n_arr, n_arr
    else:
        assert d_arr is not None
        spec, X, scale = SPEC_D, d_arr, d_arr
    field = spec.x_names[0]
    require_min_points(l_arr.size, len(spec.names) + 1, field)
    cols = [X] if X.ndim == 1 else [X[:, 0], X[:, 1]]

    def identifiable(idx: np.ndarray) -> None:
        for name, col in zip(spec.x_names, cols, strict=True):
            require_distinct(col[idx], 2, name)

    identifiable(np.arange(l_arr.size))

    pn, pd = _optional(predict_N, "predict_N"), _optional(predict_D, "predict_D")
    predict_X: np.ndarray | None = None
    if spec is SPEC_ND and (pn is not None or pd is not None):
        if pn is None or pd is None or pn.size != pd.size:
            raise InvalidArgument.field("predict_D", "give one predict_D per predict_N")
        predict_X = np.column_stack([pn, pd])
    elif spec is SPEC_N:
        predict_X = pn
    elif spec is SPEC_D:
        predict_X = pd
    validated(holdout_largest)

    return fit_curve(
        spec,
        X,
        l_arr,
        predict_X=predict_X,
        bootstrap=bootstrap,
        seed=seed,
        holdout_scale=scale,
        holdout_largest=holdout_largest,
        min_distinct=identifiable,
        budget=budget or TimeBudget.from_limits(limits),
        response_field="loss",
    )

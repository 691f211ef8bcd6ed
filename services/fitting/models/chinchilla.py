"""Chinchilla scaling law L(N, D) = E + A/N^alpha + B/D^beta, fitted as Hoffmann et al. (2022).

Procedure (approach 3, as replicated by Besiroglu et al. 2024): minimise the sum of Huber
losses (delta = 1e-3) of the log-space residuals LSE(a - alpha·log N, b - beta·log D, e) - log L
over θ = (a, b, e, alpha, beta), from the grid of initialisations alpha, beta ∈ {0, 0.5, …, 2},
e ∈ {-1, -0.5, …, 1}, a, b ∈ {0, 5, …, 25} (4,500 points); E = e^e, A = e^a, B = e^b.

How the optimum is reached (fast and to the true minimum): the objective is evaluated at
every grid point in one numba pass (the exponentials factorise over the grid), and the
``polish_starts`` best grid points are run to a stationary point by a damped Newton method
with the analytic gradient and Hessian (chinchilla_kernels.polish). scipy's L-BFGS-B with
default tolerances stops early on this objective; the benchmark tests/bench/bench_chinchilla.py
checks that this procedure reaches the optimum of L-BFGS-B run to tight tolerances from all
4,500 grid points.

API
---
``fit_chinchilla(N, D, loss, *, delta=1e-3, bootstrap=0, seed=None, predict_N=(), predict_D=(),
predict_C=(), holdout_largest=0, polish_starts=8, limits=DEFAULT_LIMITS, budget=None)
-> FitResult``
    ``params``: ``E``, ``A``, ``B``, ``alpha``, ``beta``. Default intervals
    (``interval_method = "sandwich"``): the Huber–White sandwich covariance of θ with the HC3
    small-sample correction (robust.huber_sandwich_covariance) — the curvature of a Huber
    objective whose δ lies far inside the noise is not the inverse covariance of the
    estimate, and the sandwich stays valid for heavy-tailed and heteroskedastic noise
    (coverage: tests/bench/chinchilla_coverage.py). E, A, B get delta-method stderr and the
    exp-mapped interval of e, a, b (positive, asymmetric); alpha, beta value ± t·se (n - 5
    dof). With ``bootstrap = K`` the intervals are percentile intervals of K case resamples
    (seeded; each refit runs the whole procedure, with the full-data optimum added as one
    more start). ``derived``: ``a``, ``b``, ``G`` of the compute-optimal allocation
    N_opt(C) = G·(C/6)^a, D_opt(C) = G^-1·(C/6)^b, a = beta/(alpha+beta),
    b = alpha/(alpha+beta), G = (alpha·A/(beta·B))^(1/(alpha+beta)) (delta method on the same
    sandwich covariance, or the bootstrap). ``objective``: the Huber sum at the optimum.
    ``r2``, ``aic``, ``bic`` and ``residuals`` are of log L (Gaussian criteria, k = 5).
    ``predictions``: at each
    (predict_N[i], predict_D[i]) (``x={"N", "D"}``) and at each compute budget predict_C[j]
    (``x={"C", "N", "D"}`` with the compute-optimal N, D): the loss with a 95% prediction
    interval (delta method in log space on the sandwich — or, with a bootstrap, the
    resamples' — covariance of θ, plus the log-residual variance). ``holdout``:
    refit without the k largest N·D (rows that leave fewer than 2 distinct N or D are refused,
    naming ``holdout_largest``), prediction errors in loss units. ``extra``: ``delta``,
    ``starts_polished``, ``starts_at_optimum``, ``newton_iterations``, ``residual_std`` (log L).

    Raises InvalidArgument naming ``N``/``D``/``loss`` (+``[i]``: non-finite or <= 0;
    lengths; fewer than 6 points or 2 distinct N or D; too many points: LimitExceeded),
    ``delta``, ``polish_starts``, ``bootstrap``, ``seed``, ``holdout_largest``,
    ``predict_N[i]``/``predict_D``/``predict_C[i]``. FitTimeout past the time budget.
``chinchilla_optimum(log_n, log_d, log_loss, delta, ...) -> ChinchillaOptimum``
    The minimisation alone (θ, objective, convergence) — what the benchmark times.
``chinchilla_objective(theta, N, D, loss, delta) -> float``  F(θ) (for checks and peers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.common.errors import InvalidArgument
from services.fitting.criteria import gaussian_criteria, r_squared, residual_summary
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.limits import check_resamples as check_bootstrap
from services.fitting.models import chinchilla_kernels as kern
from services.fitting.pipeline import Tails, finish_fit, validated
from services.fitting.results import FitResult, ParamEstimate, Prediction
from services.fitting.robust import huber_sandwich_covariance
from services.fitting.uncertainty import (
    estimate,
    log_estimate,
    numeric_jacobian,
    prediction_interval,
    t_quantile,
)
from services.fitting.validation import (
    ArrayLike,
    as_vector,
    require_distinct,
    require_min_points,
    require_positive,
    require_same_length,
)

MODEL = "chinchilla"
NAMES = ("E", "A", "B", "alpha", "beta")
DERIVED = ("a", "b", "G")
NPARAM = 5
_GRID_CELLS_PER_CALL = 5_000_000  # grid points × data points per kernel call between checks
_POLISH_ROUND = 100  # Newton iterations per kernel call between time-budget checks
_POLISH_ROUNDS = 20


@dataclass(frozen=True)
class InitGrid:
    """Cartesian grid of initial values of (a, b, e, alpha, beta)."""

    a: tuple[float, ...]
    b: tuple[float, ...]
    e: tuple[float, ...]
    alpha: tuple[float, ...]
    beta: tuple[float, ...]

    @property
    def size(self) -> int:
        return len(self.a) * len(self.b) * len(self.e) * len(self.alpha) * len(self.beta)

    def points(self) -> np.ndarray:
        """All grid points as (size, 5) rows of (a, b, e, alpha, beta), in kernel order."""
        al, be, e, a, b = np.meshgrid(self.alpha, self.beta, self.e, self.a, self.b, indexing="ij")
        return np.column_stack([x.ravel() for x in (a, b, e, al, be)])


_AB = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
_EXP = (0.0, 0.5, 1.0, 1.5, 2.0)
HOFFMANN_GRID = InitGrid(a=_AB, b=_AB, e=(-1.0, -0.5, 0.0, 0.5, 1.0), alpha=_EXP, beta=_EXP)


@dataclass(frozen=True)
class ChinchillaOptimum:
    """The minimiser θ = (a, b, e, alpha, beta) of the Huber objective and how it was found."""

    theta: np.ndarray
    objective: float
    converged: bool
    iterations: int
    starts_polished: int
    starts_at_optimum: int


def _grid_values(
    grid: InitGrid,
    u: np.ndarray,
    v: np.ndarray,
    ell: np.ndarray,
    delta: float,
    budget: TimeBudget | None,
) -> np.ndarray:
    """Objective at every grid point (flattened in ``InitGrid.points`` order), chunked."""
    arrays = [np.asarray(x, dtype=np.float64) for x in (grid.a, grid.b, grid.e)]
    alphas, betas = np.asarray(grid.alpha, float), np.asarray(grid.beta, float)
    step = max(1, _GRID_CELLS_PER_CALL // grid.size)
    total = np.zeros(grid.size)
    for lo in range(0, u.size, step):
        if budget is not None:
            budget.check()
        sl = slice(lo, lo + step)
        total += kern.grid_objectives(*arrays, alphas, betas, u[sl], v[sl], ell[sl], delta).ravel()
    return total


def _polish_one(
    start: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    ell: np.ndarray,
    delta: float,
    budget: TimeBudget | None,
) -> tuple[np.ndarray, float, bool, int]:
    """Damped Newton from one start, in rounds so the time budget is checked between them."""
    theta = start.reshape(1, NPARAM).copy()
    out = np.empty((1, NPARAM))
    val, st, it = np.empty(1), np.empty(1, np.int64), np.empty(1, np.int64)
    used = 0
    for _ in range(_POLISH_ROUNDS):
        if budget is not None:
            budget.check()
        kern.polish(theta, u, v, ell, delta, _POLISH_ROUND, out, val, st, it)
        used += int(it[0])
        theta[0] = out[0]
        if st[0] != 0:
            break
    return out[0].copy(), float(val[0]), bool(st[0] == 1), used


def chinchilla_optimum(
    log_n: np.ndarray,
    log_d: np.ndarray,
    log_loss: np.ndarray,
    delta: float = 1e-3,
    *,
    grid: InitGrid = HOFFMANN_GRID,
    polish_starts: int = 8,
    extra_starts: np.ndarray | None = None,
    budget: TimeBudget | None = None,
) -> ChinchillaOptimum:
    """Screen the whole grid, polish the best ``polish_starts`` (+ extra starts) to optimality."""
    values = _grid_values(grid, log_n, log_d, log_loss, delta, budget)
    points = grid.points()
    order = np.argsort(values, kind="stable")[: max(1, polish_starts)]
    starts = points[order]
    if extra_starts is not None:
        starts = np.vstack([starts, np.atleast_2d(extra_starts)])
    results = [_polish_one(s, log_n, log_d, log_loss, delta, budget) for s in starts]
    objectives = np.array([r[1] if np.isfinite(r[1]) else np.inf for r in results])
    best = int(np.argmin(objectives))
    theta, f, ok, _ = results[best]
    at_opt = int(np.sum(objectives <= f * (1.0 + 1e-9)))
    return ChinchillaOptimum(
        theta=theta,
        objective=f,
        converged=ok and bool(np.all(np.isfinite(theta))),
        iterations=sum(r[3] for r in results),
        starts_polished=len(results),
        starts_at_optimum=at_opt,
    )


def log_loss_and_gradient(
    theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Model log L at (log N, log D) rows and its gradient (n, 5) with respect to θ."""
    r = np.empty(log_n.size)
    J = np.empty((log_n.size, NPARAM))
    kern.residuals_and_jacobian(theta, log_n, log_d, np.zeros(log_n.size), r, J)
    return r, J


def chinchilla_objective(
    theta: np.ndarray, N: np.ndarray, D: np.ndarray, loss: np.ndarray, delta: float = 1e-3
) -> float:
    """Sum of Huber losses of the log residuals at θ = (a, b, e, alpha, beta)."""
    return float(
        kern.objective(np.asarray(theta, float), np.log(N), np.log(D), np.log(loss), delta)
    )


def _compute_optimal(theta: np.ndarray) -> np.ndarray:
    """(a, b, G) of the compute-optimal frontier for θ = (a, b, e, alpha, beta)."""
    la, lb, _, al, be = theta
    s = al + be
    if not (al > 0 and be > 0):
        return np.full(3, np.nan)
    log_g = (math.log(al) + la - math.log(be) - lb) / s
    return np.array([be / s, al / s, math.exp(log_g)])


def _reported(theta: np.ndarray) -> np.ndarray:
    """(E, A, B, alpha, beta, a, b, G) from θ — the vector a bootstrap resamples."""
    la, lb, le, al, be = theta
    return np.concatenate(
        [[math.exp(le), math.exp(la), math.exp(lb), al, be], _compute_optimal(theta)]
    )


def _interval_params(theta: np.ndarray, cov: np.ndarray, dof: float) -> dict[str, ParamEstimate]:
    """E, A, B (exp-mapped intervals) and alpha, beta (t intervals) from θ's covariance."""
    se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    t = t_quantile(dof)
    return {
        "E": log_estimate(theta[2], se[2], dof),
        "A": log_estimate(theta[0], se[0], dof),
        "B": log_estimate(theta[1], se[1], dof),
        "alpha": estimate(theta[3], se[3], t),
        "beta": estimate(theta[4], se[4], t),
    }


def _delta_derived(theta: np.ndarray, cov: np.ndarray, dof: float) -> dict[str, ParamEstimate]:
    """a, b (t intervals) and G (exp-mapped interval of log G) by the delta method."""
    vals = _compute_optimal(theta)
    if not np.all(np.isfinite(vals)) or not np.all(np.isfinite(cov)):
        nan = float("nan")
        return {
            k: ParamEstimate(float(v), nan, (nan, nan)) for k, v in zip(DERIVED, vals, strict=True)
        }

    def g(th: np.ndarray) -> np.ndarray:
        c = _compute_optimal(th)
        return np.array([c[0], c[1], math.log(c[2])])

    Gj = numeric_jacobian(g, theta)
    dcov = Gj @ cov @ Gj.T
    se = np.sqrt(np.maximum(np.diag(dcov), 0.0))
    t = t_quantile(dof)
    return {
        "a": estimate(vals[0], se[0], t),
        "b": estimate(vals[1], se[1], t),
        "G": log_estimate(math.log(vals[2]), se[2], dof),
    }


@dataclass(frozen=True)
class _Fit:
    """Optimum plus the covariance and residual scale needed for intervals and predictions."""

    opt: ChinchillaOptimum
    cov: np.ndarray
    resid: np.ndarray
    s2: float
    dof: int


def _fit(
    u: np.ndarray,
    v: np.ndarray,
    ell: np.ndarray,
    delta: float,
    polish_starts: int,
    budget: TimeBudget | None,
    extra_starts: np.ndarray | None = None,
) -> _Fit:
    opt = chinchilla_optimum(
        u, v, ell, delta, polish_starts=polish_starts, extra_starts=extra_starts, budget=budget
    )
    pred, J = log_loss_and_gradient(opt.theta, u, v)
    resid = ell - pred
    dof = u.size - NPARAM
    cov = huber_sandwich_covariance(J, -resid, delta)
    return _Fit(opt=opt, cov=cov, resid=resid, s2=float(resid @ resid) / dof, dof=dof)


def _predict(
    fit: _Fit, cov: np.ndarray, log_n: np.ndarray, log_d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss at (log N, log D) with 95% prediction intervals (delta method in log space)."""
    mean, J = log_loss_and_gradient(fit.opt.theta, log_n, log_d)
    lo, hi = prediction_interval(mean, J, cov, fit.s2, fit.dof)
    return np.exp(mean), np.exp(lo), np.exp(hi)


def _predict_compute(fit: _Fit, cov: np.ndarray, C: np.ndarray) -> list[Prediction]:
    """Loss at the compute-optimal (N, D) of each budget C, with prediction intervals."""
    out: list[Prediction] = []
    for c in C:
        a, b, G = _compute_optimal(fit.opt.theta)
        n_opt, d_opt = G * (c / 6.0) ** a, (c / 6.0) ** b / G

        def log_l(th: np.ndarray, c: float = float(c)) -> np.ndarray:
            aa, bb, gg = _compute_optimal(th)
            ln = np.array([math.log(gg) + aa * math.log(c / 6.0)])
            ld = np.array([bb * math.log(c / 6.0) - math.log(gg)])
            return log_loss_and_gradient(th, ln, ld)[0]

        if not np.isfinite(G):
            nan = float("nan")
            out.append(
                Prediction(x={"C": float(c), "N": nan, "D": nan}, value=nan, ci95=(nan, nan))
            )
            continue
        m = log_l(fit.opt.theta)
        grad = numeric_jacobian(log_l, fit.opt.theta)
        lo, hi = prediction_interval(m, grad, cov, fit.s2, fit.dof)
        out.append(
            Prediction(
                x={"C": float(c), "N": float(n_opt), "D": float(d_opt)},
                value=float(np.exp(m[0])),
                ci95=(float(np.exp(lo[0])), float(np.exp(hi[0]))),
            )
        )
    return out


def _validate(
    N: ArrayLike, D: ArrayLike, loss: ArrayLike, delta: float, polish_starts: int, limits: FitLimits
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    check_points(len(N), limits, "N")
    n_arr, d_arr, l_arr = as_vector(N, "N"), as_vector(D, "D"), as_vector(loss, "loss")
    require_same_length(n_arr, d_arr, "D")
    require_same_length(n_arr, l_arr, "loss")
    for arr, name in ((n_arr, "N"), (d_arr, "D"), (l_arr, "loss")):
        require_positive(arr, name)
    require_min_points(n_arr.size, NPARAM + 1, "N")
    require_distinct(n_arr, 2, "N")
    require_distinct(d_arr, 2, "D")
    if not (math.isfinite(delta) and delta > 0):
        raise InvalidArgument.field("delta", f"must be a finite number > 0, got {delta}")
    if not 1 <= polish_starts <= HOFFMANN_GRID.size:
        raise InvalidArgument.field(
            "polish_starts", f"must be in [1, {HOFFMANN_GRID.size}], got {polish_starts}"
        )
    return n_arr, d_arr, l_arr


def fit_chinchilla(
    N: ArrayLike,
    D: ArrayLike,
    loss: ArrayLike,
    *,
    delta: float = 1e-3,
    bootstrap: int = 0,
    seed: int | None = None,
    predict_N: ArrayLike = (),
    predict_D: ArrayLike = (),
    predict_C: ArrayLike = (),
    holdout_largest: int = 0,
    polish_starts: int = 8,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> FitResult:
    """Fit L(N, D) = E + A/N^alpha + B/D^beta; see the module docstring."""
    n_arr, d_arr, l_arr = _validate(N, D, loss, delta, polish_starts, limits)
    check_bootstrap(bootstrap, limits)
    pn, pd, pc = (
        as_vector(predict_N, "predict_N"),
        as_vector(predict_D, "predict_D"),
        as_vector(predict_C, "predict_C"),
    )
    require_same_length(pn, pd, "predict_D")
    for arr, name in ((pn, "predict_N"), (pd, "predict_D"), (pc, "predict_C")):
        require_positive(arr, name)
    tiny = np.flatnonzero(pc / 6.0 < np.finfo(np.float64).tiny)  # C/6 FLOPs goes into logs
    if tiny.size:
        i = int(tiny[0])
        raise InvalidArgument.field(f"predict_C[{i}]", f"must be at least 1.4e-307, got {pc[i]:g}")
    validated(holdout_largest)
    budget = budget or TimeBudget.from_limits(limits)
    u, v, ell = np.log(n_arr), np.log(d_arr), np.log(l_arr)

    fit = _fit(u, v, ell, delta, polish_starts, budget)
    theta = fit.opt.theta
    crit = gaussian_criteria(float(fit.resid @ fit.resid), u.size, NPARAM)
    result = FitResult(
        model=MODEL,
        params=_interval_params(theta, fit.cov, fit.dof),
        r2=r_squared(ell, ell - fit.resid),
        aic=crit.aic,
        bic=crit.bic,
        n=int(u.size),
        converged=fit.opt.converged and bool(np.all(np.isfinite(fit.cov))),
        interval_method="sandwich",
        objective=fit.opt.objective,
        message="" if fit.opt.converged else "Newton polishing did not reach a stationary point",
        residuals=residual_summary(fit.resid),
        derived=_delta_derived(theta, fit.cov, fit.dof),
        extra={
            "delta": float(delta),
            "starts_polished": float(fit.opt.starts_polished),
            "starts_at_optimum": float(fit.opt.starts_at_optimum),
            "newton_iterations": float(fit.opt.iterations),
            "residual_std": math.sqrt(fit.s2),
        },
    )
    if not (theta[3] > 0 and theta[4] > 0):
        result.message = "alpha or beta <= 0 at the optimum: no compute-optimal frontier"

    def refit(idx: np.ndarray) -> np.ndarray:
        f = chinchilla_optimum(
            u[idx], v[idx], ell[idx], delta, polish_starts=polish_starts,
            extra_starts=theta, budget=budget,
        )  # fmt: skip
        return np.concatenate([f.theta, _reported(f.theta)]) if f.converged else np.full(13, np.nan)

    def predict(cov: np.ndarray) -> list[Prediction]:
        out: list[Prediction] = []
        if pn.size:
            mean, lo, hi = _predict(fit, cov, np.log(pn), np.log(pd))
            out += [
                Prediction(
                    x={"N": float(a), "D": float(b)}, value=float(m), ci95=(float(p), float(q))
                )
                for a, b, m, p, q in zip(pn, pd, mean, lo, hi, strict=True)
            ]
        if pc.size:
            out += _predict_compute(fit, cov, pc)
        return out

    def holdout_predict(train: np.ndarray, test: np.ndarray) -> list[Prediction]:
        sub = _fit(u[train], v[train], ell[train], delta, polish_starts, budget)
        mean, lo, hi = _predict(sub, sub.cov, u[test], v[test])
        return [
            Prediction(
                x={"N": float(n_arr[i]), "D": float(d_arr[i])},
                value=float(m),
                ci95=(float(p), float(q)),
            )
            for i, m, p, q in zip(test, mean, lo, hi, strict=True)
        ]

    def identifiable(idx: np.ndarray) -> None:
        require_distinct(n_arr[idx], 2, "N")
        require_distinct(d_arr[idx], 2, "D")

    tails = Tails(
        names=NAMES + DERIVED,
        n_params=NPARAM,
        n_theta=NPARAM,
        refit=refit,
        predict=predict,
        holdout_predict=holdout_predict,
        holdout_scale=n_arr * d_arr,
        observed=l_arr,
        min_train=NPARAM + 1,
        identifiable=identifiable,
    )
    return finish_fit(
        result,
        tails,
        point=_reported(theta),
        cov=fit.cov,
        bootstrap=bootstrap,
        seed=seed,
        holdout_largest=holdout_largest,
        budget=budget,
    )

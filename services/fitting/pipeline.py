"""One fit pipeline: the bootstrap, prediction and hold-out tails every scaling-law model shares.

A model (power law, Chinchilla, Kaplan, broken power law) does its own science — validate,
fit once, fill a ``FitResult`` with its default intervals and the covariance of its internal
parameter vector θ — and then hands the rest to ``finish_fit``, which runs the same three
steps for all of them, in the same order:

1. ``bootstrap = K > 0``: K seeded case resamples, each refitted by ``Tails.refit``;
   percentile intervals replace the default ones (params and derived quantities alike),
   the covariance of θ over the successful resamples replaces the default covariance
   (so predictions carry the bootstrap's uncertainty), and the bookkeeping (K, failed
   resamples, seed) is recorded. A resample whose rows cannot identify the model
   (``Tails.identifiable`` raises InvalidArgument) counts as failed.
2. Predictions at the requested inputs from ``Tails.predict(cov)``.
3. ``holdout_largest = k > 0``: the k rows of largest ``Tails.holdout_scale`` are held out;
   ``Tails.holdout_predict(train, test)`` refits on the rest (with the model's default
   intervals) and predicts the held-out rows, scored against ``Tails.observed``.

API
---
``Tails(names, n_params, n_theta, refit, predict, holdout_predict, holdout_scale, observed,
min_train, identifiable=None)``
    ``names``: reported parameter names followed by derived-quantity names (the first
    ``n_params`` go to ``result.params``, the rest to ``result.derived``); ``refit(idx)`` returns
    ``concat(θ, reported values)`` of the fit on rows ``idx`` (NaN when it did not converge).
``finish_fit(result, tails, *, point, cov, bootstrap, seed, holdout_largest, budget) -> FitResult``
    ``point``: reported values of the full-data fit (in ``names`` order); ``cov``: the
    default covariance of θ. Mutates and returns ``result``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from services.common import control
from services.common.errors import InvalidArgument
from services.fitting.bootstrap import bootstrap as run_bootstrap
from services.fitting.bootstrap import bootstrap_estimates, resolve_seed
from services.fitting.holdout import holdout_report, holdout_split
from services.fitting.limits import TimeBudget
from services.fitting.results import FitResult, Prediction


@dataclass(frozen=True)
class Tails:
    """What the shared tails need from one model's fit (see the module docstring)."""

    names: tuple[str, ...]
    n_params: int
    n_theta: int
    refit: Callable[[np.ndarray], np.ndarray]
    predict: Callable[[np.ndarray], list[Prediction]]
    holdout_predict: Callable[[np.ndarray, np.ndarray], list[Prediction]]
    holdout_scale: np.ndarray
    observed: np.ndarray
    min_train: int
    identifiable: Callable[[np.ndarray], None] | None = None


def _bootstrap(
    result: FitResult,
    tails: Tails,
    point: np.ndarray,
    cov: np.ndarray,
    resamples: int,
    seed: int | None,
    budget: TimeBudget | None,
) -> np.ndarray:
    """Replace the intervals by bootstrap ones; return the covariance of θ to predict with."""
    used = resolve_seed(seed)
    k = tails.n_theta

    def refit(idx: np.ndarray) -> np.ndarray:
        if tails.identifiable is not None:
            tails.identifiable(idx)
        return tails.refit(idx)

    width = k + len(tails.names)
    boot = run_bootstrap(refit, tails.observed.size, resamples, used, width=width, budget=budget)
    est = bootstrap_estimates(tails.names, point, boot.samples[:, k:])
    result.params = {name: est[name] for name in tails.names[: tails.n_params]}
    if len(tails.names) > tails.n_params:
        result.derived = {name: est[name] for name in tails.names[tails.n_params :]}
    ok = np.all(np.isfinite(boot.samples), axis=1)
    if ok.sum() > k:
        cov = np.atleast_2d(np.cov(boot.samples[ok, :k], rowvar=False))
    if not all(np.isfinite(e.stderr) for e in est.values()):
        note = (
            f"bootstrap: {boot.failed} of {resamples} resamples failed to refit; "
            "intervals need at least 90% successful"
        )
        result.message = f"{result.message}; {note}" if result.message else note
    result.interval_method = "bootstrap"
    result.bootstrap, result.bootstrap_failed, result.seed = resamples, boot.failed, used
    return cov


def _holdout(result: FitResult, tails: Tails, k: int) -> None:
    train, test = holdout_split(tails.holdout_scale, k, tails.min_train)
    if tails.identifiable is not None:
        try:
            tails.identifiable(train)
        except InvalidArgument as exc:
            raise InvalidArgument.field("holdout_largest", str(exc)) from None
    result.holdout = holdout_report(tails.observed[test], tails.holdout_predict(train, test))


def check_holdout(holdout_largest: int) -> None:
    """``holdout_largest`` must be >= 0 (checked before the fit, so nothing runs on a bad one)."""
    if holdout_largest < 0:
        raise InvalidArgument.field("holdout_largest", f"must be >= 0, got {holdout_largest}")


def validated(holdout_largest: int = 0) -> None:
    """A fit's inputs passed its checks: check the shared tails' own input, then stop here
    if this is a validate-only request (services.common.control), before any fitting."""
    check_holdout(holdout_largest)
    control.validated()


def finish_fit(
    result: FitResult,
    tails: Tails,
    *,
    point: np.ndarray,
    cov: np.ndarray,
    bootstrap: int = 0,
    seed: int | None = None,
    holdout_largest: int = 0,
    budget: TimeBudget | None = None,
) -> FitResult:
    """Bootstrap (optional), predictions, holdout (optional); see the module docstring."""
    check_holdout(holdout_largest)
    if bootstrap > 0:
        cov = _bootstrap(result, tails, point, cov, bootstrap, seed, budget)
    result.predictions += tails.predict(cov)
    if holdout_largest > 0:
        _holdout(result, tails, holdout_largest)
    return result

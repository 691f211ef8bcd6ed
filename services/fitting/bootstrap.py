"""Deterministic case-resampling bootstrap usable with any fit function.

API
---
``resolve_seed(seed) -> int``
    The seed itself, or a fresh one drawn from OS entropy (to report back) when None.
``resample_indices(n, seed, r) -> ndarray``
    Row indices of resample ``r``: n draws with replacement from a numpy ``Generator``
    (PCG64) seeded by ``SeedSequence(seed, spawn_key=(r,))`` — resample r is the same
    whatever order or thread computes it (the simulation's stream convention).
``bootstrap(fit_fn, n, resamples, seed, *, width=None, budget=None) -> BootstrapSamples``
    Calls ``fit_fn(indices) -> parameter vector`` for each resample. A resample whose fit
    raises ``InvalidArgument`` (e.g. too few distinct x), ``ArithmeticError`` or returns
    non-finite values counts as failed (a NaN row); ``FitTimeout`` propagates. ``samples``
    has ``width`` columns (default: the length of the first vector a refit returned), so it
    keeps its shape even when every resample failed.
``parametric_bootstrap(fit_fn, resamples, seed, *, width=None, budget=None) -> BootstrapSamples``
    ``fit_fn(rng) -> parameter vector`` simulates one data set from its own Generator
    (``resample_generator(seed, r)``) and refits it; for data that come with standard
    errors rather than exchangeable rows.
``bootstrap_estimates(names, values, samples, level=0.95, max_failed_fraction=0.1)``
    Point values from the original fit; stderr = sample std (ddof=1); interval = the
    percentile interval of the successful resamples. NaN when fewer than 90% succeeded
    (or when ``samples`` has fewer columns than ``names``: nothing was estimated).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from services.common.errors import InvalidArgument
from services.common.seeds import draw_seed
from services.fitting.limits import TimeBudget
from services.fitting.results import ParamEstimate

_NAN = float("nan")


@dataclass(frozen=True)
class BootstrapSamples:
    """Parameter vectors of every resample (NaN rows where the refit failed)."""

    samples: np.ndarray
    failed: int
    seed: int


def resolve_seed(seed: int | None) -> int:
    """Return ``seed`` or, when None, a fresh one (``draw_seed``)."""
    if seed is not None:
        if seed < 0:
            raise InvalidArgument.field("seed", f"must be >= 0, got {seed}")
        return int(seed)
    return draw_seed()


def resample_generator(seed: int, r: int) -> np.random.Generator:
    """The numpy Generator of resample ``r`` under ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(r,))))


def resample_indices(n: int, seed: int, r: int) -> np.ndarray:
    """Indices of bootstrap resample ``r``: n rows drawn with replacement."""
    return resample_generator(seed, r).integers(0, n, size=n)


def bootstrap(
    fit_fn: Callable[[np.ndarray], np.ndarray],
    n: int,
    resamples: int,
    seed: int,
    *,
    width: int | None = None,
    budget: TimeBudget | None = None,
) -> BootstrapSamples:
    """Refit on ``resamples`` case resamples; see the module docstring."""
    return _run(lambda r: fit_fn(resample_indices(n, seed, r)), resamples, seed, width, budget)


def _run(
    refit: Callable[[int], np.ndarray],
    resamples: int,
    seed: int,
    width: int | None,
    budget: TimeBudget | None,
) -> BootstrapSamples:
    """Call ``refit(r)`` for every resample r; failures become None (NaN rows)."""
    rows: list[np.ndarray | None] = []
    for r in range(resamples):
        if budget is not None:
            budget.check()
        try:
            theta: np.ndarray | None = np.atleast_1d(np.asarray(refit(r), dtype=float))
        except (InvalidArgument, ArithmeticError, np.linalg.LinAlgError):
            theta = None
        if width is None and theta is not None:
            width = theta.size
        rows.append(theta if theta is not None and np.all(np.isfinite(theta)) else None)
    return _collect(rows, seed, 1 if width is None else width)


def _collect(rows: list[np.ndarray | None], seed: int, width: int) -> BootstrapSamples:
    """Stack resample results into ``width`` columns, NaN rows for the failed ones.

    The width is fixed by the caller (or by a refit's vector, even a non-finite one), not by
    the first *successful* refit: when every refit fails the samples still have one column
    per parameter, so slicing them by parameter stays valid (the broken power law's
    all-failed bootstrap once left a single column and an IndexError downstream).
    """
    out = np.full((len(rows), width), _NAN)
    for i, row in enumerate(rows):
        if row is not None:
            out[i] = row
    failed = sum(row is None for row in rows)
    return BootstrapSamples(samples=out, failed=failed, seed=seed)


def bootstrap_estimates(
    names: Sequence[str],
    values: Sequence[float] | np.ndarray,
    samples: np.ndarray,
    level: float = 0.95,
    max_failed_fraction: float = 0.1,
) -> dict[str, ParamEstimate]:
    """Percentile-interval estimates from bootstrap samples (columns follow ``names``)."""
    ok = np.all(np.isfinite(samples), axis=1) & (samples.shape[1] >= len(names))
    good = samples[ok]
    enough = good.shape[0] >= 2 and (1.0 - good.shape[0] / max(samples.shape[0], 1)) <= (
        max_failed_fraction
    )
    q = (0.5 - level / 2.0, 0.5 + level / 2.0)
    out: dict[str, ParamEstimate] = {}
    for j, name in enumerate(names):
        if not enough:
            out[name] = ParamEstimate(value=float(values[j]), stderr=_NAN, ci95=(_NAN, _NAN))
            continue
        col = good[:, j]
        lo, hi = np.quantile(col, q)
        out[name] = ParamEstimate(
            value=float(values[j]), stderr=float(np.std(col, ddof=1)), ci95=(float(lo), float(hi))
        )
    return out


def parametric_bootstrap(
    fit_fn: Callable[[np.random.Generator], np.ndarray],
    resamples: int,
    seed: int,
    *,
    width: int | None = None,
    budget: TimeBudget | None = None,
) -> BootstrapSamples:
    """Refit on ``resamples`` simulated data sets: ``fit_fn(rng)`` draws one and refits it.

    Resample r gets ``resample_generator(seed, r)``; failures count as in ``bootstrap``.
    """
    return _run(lambda r: fit_fn(resample_generator(seed, r)), resamples, seed, width, budget)

"""Simulated benchmark curves of a model family whose per-token loss falls smoothly with size.

Science of ``SimulateAbilities``: per-token loss L(N) = (N_c/N)^alpha (or a given per-token
accuracy per size), per-token accuracy p = exp(-L), and finite evaluation sets of M items
scored by exact match, token accuracy, normalised edit distance or likelihood-scored
multiple choice (generative models in ``kernels/abilities.py``). Each metric gets its
closed-form expectation where one exists, the mean over replicates and the 95% range of
the replicate scores, which is the noise one real benchmark of M items carries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
from scipy import special

from services.common.control import RunControl
from services.common.errors import InvalidArgument, require, require_limit
from services.simulation.cluster import DaskBlocks
from services.simulation.kernels import abilities as kern
from services.simulation.replicates import run_replicates

METRICS = ("exact_match", "token_accuracy", "edit_distance", "multiple_choice")
_COLUMN = {
    "exact_match": kern.COL_EXACT_MATCH,
    "token_accuracy": kern.COL_TOKEN_ACCURACY,
    "edit_distance": kern.COL_EDIT_DISTANCE,
    "multiple_choice": kern.COL_MULTIPLE_CHOICE,
}
_GENERATION = frozenset({"exact_match", "token_accuracy", "edit_distance"})
_HERMITE_NODES, _HERMITE_WEIGHTS = np.polynomial.hermite_e.hermegauss(200)


@dataclass(frozen=True)
class LossLaw:
    """Per-token loss in nats, L(N) = (N_c/N)^alpha; per-token accuracy exp(-L).

    The default puts exp(-L) at about 0.5 for N = 1e8 and 0.99 for N = 1e12.
    """

    N_c: float = 4.6e7
    alpha: float = 0.46

    def loss(self, sizes: np.ndarray) -> np.ndarray:
        """Per-token loss at each size."""
        return np.power(self.N_c / np.asarray(sizes, dtype=np.float64), self.alpha)

    def token_accuracy(self, sizes: np.ndarray) -> np.ndarray:
        """Per-token accuracy exp(-L(N)) at each size."""
        return np.exp(-self.loss(sizes))


DEFAULT_LOSS_LAW = LossLaw()
KAPLAN_LOSS_LAW = LossLaw(N_c=8.8e13, alpha=0.076)
"""Kaplan et al. (2020) corpus-level L(N): exp(-L) <= 0.25 up to N = 1e12."""


@dataclass(frozen=True)
class AbilityLimits:
    """Upper bounds on one ``SimulateAbilities`` request (each check names its field)."""

    max_sizes: int = 1_000
    max_items: int = 1_000_000
    max_k: int = 4_096
    max_options: int = 1_000
    max_replicates: int = 100_000
    max_work: int = 2_000_000_000  # replicates × sizes × items × per-item cost


DEFAULT_ABILITY_LIMITS = AbilityLimits()


@dataclass(frozen=True)
class MetricPoint:
    """One metric at one size: closed-form expectation, replicate mean, sd and 95% range."""

    size: float
    expected: float  # NaN where no closed form exists
    mean: float
    sd: float  # sample sd of the replicate scores (0 for one replicate)
    ci95: tuple[float, float]  # 2.5% and 97.5% quantiles of the replicate scores


@dataclass(frozen=True)
class MetricCurve:
    """A metric against size; ``scores[r, i]`` is replicate r's benchmark score at size i."""

    metric: str
    points: tuple[MetricPoint, ...]
    scores: np.ndarray


@dataclass(frozen=True)
class AbilitiesResult:
    """Everything ``SimulateAbilities`` returns; curves are keyed by metric name."""

    sizes: np.ndarray
    token_accuracy: np.ndarray  # per-token accuracy p at each size
    loss: np.ndarray  # per-token loss -ln p (nats) at each size
    k: int
    items: int
    replicates: int
    seed: int
    options: int
    vocab_size: int
    curves: dict[str, MetricCurve]


def multiple_choice_margin(p: np.ndarray, k: int) -> np.ndarray:
    """Standardised margin d·sqrt(k) of the correct option, d = sqrt(2)·Φ⁻¹((1 + p)/2).

    The link makes a one-token, two-option item right with probability (1 + p)/2: a model
    that knows the token (probability p) prefers it, otherwise it guesses.
    """
    d = math.sqrt(2.0) * special.ndtri(0.5 * (1.0 + np.asarray(p, dtype=np.float64)))
    return d * math.sqrt(k)


def expected_scores(
    p: np.ndarray, metric: str, k: int, *, options: int = 4, vocab_size: int = 0
) -> np.ndarray:
    """Expected per-item score of ``metric`` at per-token accuracies ``p``.

    exact_match p^k; token_accuracy p; edit_distance 1 - p for ``vocab_size = 0`` (the
    Levenshtein distance equals the number of wrong tokens when substitutes never occur
    in the reference) and NaN otherwise (simulated only, at most 1 - p); multiple_choice
    ∫φ(z)·Φ(z + d√k)^(K-1) dz (Gauss–Hermite, 200 nodes), which is 1/K at p = 0.
    """
    p = np.asarray(p, dtype=np.float64)
    if metric == "exact_match":
        return np.power(p, k)
    if metric == "token_accuracy":
        return p.copy()
    if metric == "edit_distance":
        return 1.0 - p if vocab_size == 0 else np.full_like(p, np.nan)
    if metric == "multiple_choice":
        m = multiple_choice_margin(p, k)
        cdf = special.ndtr(_HERMITE_NODES[None, :] + m[:, None]) ** (options - 1)
        return cdf @ _HERMITE_WEIGHTS / math.sqrt(2.0 * math.pi)
    raise InvalidArgument.field("metrics", f"unknown metric {metric!r}")


def _as_sizes(sizes: Sequence[float] | np.ndarray, limits: AbilityLimits) -> np.ndarray:
    """Validate ``sizes``: a non-empty list of finite positive numbers within the limit."""
    try:
        arr = np.asarray(sizes, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument.field("sizes", "must be a list of numbers") from None
    require(arr.ndim == 1 and arr.size > 0, "sizes", "must be a non-empty list of numbers")
    require_limit(arr.size, limits.max_sizes, "sizes", "model sizes")
    for i, v in enumerate(arr):
        require(math.isfinite(v) and v > 0, f"sizes[{i}]", f"must be a finite number > 0, got {v}")
    return arr


def _token_accuracy(
    sizes: np.ndarray, loss_law: LossLaw | None, token_accuracy: Sequence[float] | None
) -> np.ndarray:
    """Per-token accuracy per size, from the explicit list or from the loss law."""
    if token_accuracy is not None:
        require(loss_law is None, "token_accuracy", "give either loss_law or token_accuracy")
        try:
            p = np.asarray(token_accuracy, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidArgument.field("token_accuracy", "must be a list of numbers") from None
        require(
            p.ndim == 1 and p.size == sizes.size,
            "token_accuracy",
            f"must have one value per size ({sizes.size})",
        )
        for i, v in enumerate(p):
            require(0.0 <= v <= 1.0, f"token_accuracy[{i}]", f"must lie in [0, 1], got {v}")
        return p
    law = DEFAULT_LOSS_LAW if loss_law is None else loss_law
    require(math.isfinite(law.N_c) and law.N_c > 0, "loss_law.N_c", f"must be > 0, got {law.N_c}")
    require(
        math.isfinite(law.alpha) and law.alpha > 0,
        "loss_law.alpha",
        f"must be > 0, got {law.alpha}",
    )
    return law.token_accuracy(sizes)


def _as_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """Validate the metric names: known, non-empty, no repeats."""
    require(len(metrics) > 0, "metrics", f"must name at least one of {', '.join(METRICS)}")
    for i, m in enumerate(metrics):
        require(m in METRICS, f"metrics[{i}]", f"unknown metric {m!r}; one of {', '.join(METRICS)}")
        require(m not in metrics[:i], f"metrics[{i}]", f"metric {m!r} is listed twice")
    return tuple(metrics)


def _summarise(
    metric: str, sizes: np.ndarray, expected: np.ndarray, scores: np.ndarray
) -> MetricCurve:
    """Replicate mean, sd and 2.5–97.5% quantiles of each size's scores."""
    mean = scores.mean(axis=0)
    sd = scores.std(axis=0, ddof=1) if scores.shape[0] > 1 else np.zeros(sizes.size)
    lo, hi = np.quantile(scores, [0.025, 0.975], axis=0)
    points = tuple(
        MetricPoint(
            size=float(sizes[i]),
            expected=float(expected[i]),
            mean=float(mean[i]),
            sd=float(sd[i]),
            ci95=(float(lo[i]), float(hi[i])),
        )
        for i in range(sizes.size)
    )
    return MetricCurve(metric=metric, points=points, scores=scores)


def simulate_abilities(
    sizes: Sequence[float] | np.ndarray,
    *,
    k: int,
    items: int,
    metrics: Sequence[str] = ("exact_match", "token_accuracy"),
    replicates: int = 1,
    seed: int | None = None,
    loss_law: LossLaw | None = None,
    token_accuracy: Sequence[float] | None = None,
    options: int = 4,
    vocab_size: int = 0,
    limits: AbilityLimits = DEFAULT_ABILITY_LIMITS,
    executor: Executor | None = None,
    max_workers: int | None = None,
    control: RunControl | None = None,
    cluster: DaskBlocks | None = None,
) -> AbilitiesResult:
    """Simulate ``replicates`` evaluation sets of ``items`` k-token items at every size.

    Per-token accuracy comes from ``token_accuracy`` (one value per size) or ``loss_law``
    (default ``DEFAULT_LOSS_LAW``); ``options`` is K of multiple choice, ``vocab_size`` the
    vocabulary of edit-distance substitutes (0: substitutes never match the reference).
    Replicate r draws from stream (seed, r), so output is bit-identical for any
    ``executor``/``max_workers``. A missing seed is drawn and reported. A ``control``
    (services.common.control) reports progress and stops the run (Cancelled); a ``cluster``
    (cluster.DaskBlocks) runs enough replicates as Dask tasks, with the same output. Raises
    InvalidArgument naming ``sizes[i]``, ``k``, ``items``, ``metrics[i]``, ``replicates``,
    ``seed``, ``options``, ``vocab_size``, ``token_accuracy[i]``, ``loss_law.N_c`` or
    ``loss_law.alpha``; LimitExceeded for work over ``limits``.
    """
    sizes_arr = _as_sizes(sizes, limits)
    metric_names = _as_metrics(metrics)
    require(k >= 1, "k", f"must be >= 1, got {k}")
    require_limit(k, limits.max_k, "k", "tokens per item")
    require(items >= 1, "items", f"must be >= 1, got {items}")
    require_limit(items, limits.max_items, "items", "items per evaluation set")
    require(replicates >= 1, "replicates", f"must be >= 1, got {replicates}")
    require_limit(replicates, limits.max_replicates, "replicates")
    # checked even when no multiple-choice metric uses it: the schema promises >= 2
    require(options >= 2, "options", f"must be >= 2, got {options}")
    require_limit(options, limits.max_options, "options", "multiple-choice options")
    use_mc = "multiple_choice" in metric_names
    edit = "edit_distance" in metric_names
    require(
        vocab_size == 0 or vocab_size >= 2, "vocab_size", f"must be 0 or >= 2, got {vocab_size}"
    )
    generation = bool(_GENERATION.intersection(metric_names))
    per_item = (k if generation else 0) + (options if use_mc else 0)
    if edit and vocab_size:
        per_item += k * k
    require_limit(
        float(replicates) * sizes_arr.size * items * per_item,
        limits.max_work,
        "replicates",
        "replicates × sizes × items × per-item cost",
    )
    if seed is None:
        seed = int(np.random.SeedSequence().entropy) % (1 << 63)  # type: ignore[arg-type]
    require(seed >= 0, "seed", f"must be >= 0, got {seed}")
    p = _token_accuracy(sizes_arr, loss_law, token_accuracy)
    margin = multiple_choice_margin(p, k)

    def kernel(states: np.ndarray, meter: np.ndarray) -> np.ndarray:
        return kern.ability_scores(
            p,
            margin,
            k,
            items,
            vocab_size if edit else 0,
            generation,
            edit,
            options if use_mc else 0,
            states,
            meter,
        )

    if control is not None:
        control.begin(replicates)
    raw = run_replicates(
        kernel,
        seed,
        0,
        replicates,
        executor=executor,
        max_workers=max_workers,
        control=control,
        cluster=cluster,
    )
    curves = {
        m: _summarise(
            m,
            sizes_arr,
            expected_scores(p, m, k, options=options, vocab_size=vocab_size),
            raw[:, :, _COLUMN[m]],
        )
        for m in metric_names
    }
    with np.errstate(divide="ignore"):
        loss = -np.log(p)  # +inf where p = 0
    return AbilitiesResult(
        sizes=sizes_arr,
        token_accuracy=p,
        loss=loss,
        k=k,
        items=items,
        replicates=replicates,
        seed=seed,
        options=options,
        vocab_size=vocab_size,
        curves=curves,
    )

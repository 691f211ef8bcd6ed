"""Result types shared by every fit, so all models report uncertainty the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Where a fit's intervals come from: "curvature" — the Gauss–Newton curvature (JᵀWJ)⁻¹·s² of a
# least-squares fit (valid for its Gaussian noise model); "sandwich" — the Huber–White
# sandwich of a robust (Huber) M-estimator (robust.huber_sandwich_covariance); "bootstrap" —
# percentile intervals of case (or parametric) resamples; "profile" — profile likelihood.
IntervalMethod = Literal["curvature", "sandwich", "bootstrap", "profile", "none"]


@dataclass(frozen=True)
class ParamEstimate:
    """One fitted parameter: point value, standard error and 95% interval."""

    value: float
    stderr: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class Prediction:
    """A model prediction at one input with its 95% prediction interval."""

    x: dict[str, float]
    value: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class ResidualSummary:
    """Distribution of residuals (data minus model) in the space the fit was done in."""

    rmse: float
    max_abs: float
    mean: float


@dataclass(frozen=True)
class HoldoutReport:
    """Extrapolation check: refit without the k largest scales, predict them, compare.

    ``predictions`` hold the refit's value and 95% prediction interval at each held-out
    input; errors are ``observed - predicted`` in data units; ``covered`` is the fraction of
    held-out points inside their prediction interval.
    """

    k: int
    predictions: list[Prediction]
    observed: list[float]
    rmse: float
    mean_abs_rel_error: float
    max_abs_rel_error: float
    covered: float


@dataclass
class FitResult:
    """Everything a fit returns; fields mirror the proto ``FitResult`` message.

    ``params`` is keyed by the law's own symbols (``A``, ``alpha``, ``E``...), in the
    order the model defines them. ``r2`` is NaN where it is not meaningful.
    """

    model: str
    params: dict[str, ParamEstimate]
    r2: float
    aic: float
    bic: float
    n: int
    converged: bool
    interval_method: IntervalMethod = "curvature"
    objective: float = float("nan")
    message: str = ""
    residuals: ResidualSummary | None = None
    predictions: list[Prediction] = field(default_factory=list)
    extra: dict[str, float] = field(default_factory=dict)
    # Quantities derived from the parameters (e.g. compute_optimal a, b, G), same shape.
    derived: dict[str, ParamEstimate] = field(default_factory=dict)
    holdout: HoldoutReport | None = None
    # Bootstrap bookkeeping: resamples requested, resamples whose refit failed, seed used.
    bootstrap: int = 0
    bootstrap_failed: int = 0
    seed: int | None = None

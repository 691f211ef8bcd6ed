"""Holdout extrapolation: refit without the k largest scales and score the predictions there.

API
---
``holdout_split(scale, k, min_train, field="holdout_largest") -> (train_idx, test_idx)``
    ``test_idx`` are the k rows with the largest ``scale`` (stable on ties); raises
    InvalidArgument naming ``field`` when k < 0 or fewer than ``min_train`` rows would remain.
``holdout_report(observed, predictions) -> HoldoutReport``
    Errors ``observed - predicted`` in data units: RMSE, mean and max |relative error|, and
    the fraction of held-out points inside their prediction interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.common.errors import InvalidArgument
from services.fitting.results import HoldoutReport, Prediction


def holdout_split(
    scale: np.ndarray, k: int, min_train: int, field: str = "holdout_largest"
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training rows and of the k largest-scale rows held out."""
    n = scale.size
    if k < 0:
        raise InvalidArgument.field(field, f"must be >= 0, got {k}")
    if n - k < min_train:
        raise InvalidArgument.field(
            field, f"leaves {n - k} points to fit, but the model needs at least {min_train}"
        )
    order = np.argsort(scale, kind="stable")
    return np.sort(order[: n - k]), order[n - k :]


def holdout_report(observed: Sequence[float], predictions: Sequence[Prediction]) -> HoldoutReport:
    """Score extrapolated predictions against the held-out observations."""
    obs = np.asarray(observed, dtype=np.float64)
    pred = np.array([p.value for p in predictions], dtype=np.float64)
    err = obs - pred
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(err) / np.abs(obs)
    inside = [p.ci95[0] <= o <= p.ci95[1] for p, o in zip(predictions, obs, strict=True)]
    nan = float("nan")
    return HoldoutReport(
        k=len(predictions),
        predictions=list(predictions),
        observed=[float(o) for o in obs],
        rmse=float(np.sqrt(np.mean(err**2))) if err.size else nan,
        mean_abs_rel_error=float(np.mean(rel)) if rel.size else nan,
        max_abs_rel_error=float(np.max(rel)) if rel.size else nan,
        covered=float(np.mean(inside)) if inside else nan,
    )

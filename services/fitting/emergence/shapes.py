"""Sigmoid shapes of a rise in log-scale: progress q(z), z = s·(x - x_h), q(0) = 1/2.

``logistic`` is symmetric; ``gompertz`` q = exp(-ln2·e^(-z)) is the exact shape of exact
match p^k when per-token accuracy is p = exp(-(N_c/N)^alpha), so a metric mirage is fitted
without the bias a symmetric logistic has.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

_LN2 = math.log(2.0)


@dataclass(frozen=True)
class Shape:
    """A sigmoid's progress q(z) and its inverse z(q)."""

    q: Callable[[np.ndarray], np.ndarray]
    z_at: Callable[[float], float]


def _gompertz_q(z: np.ndarray) -> np.ndarray:
    return np.asarray(np.exp(-_LN2 * np.exp(-np.clip(z, -700.0, 700.0))))


def _logistic_q(z: np.ndarray) -> np.ndarray:
    return np.asarray(special.expit(z))


SHAPES: dict[str, Shape] = {
    "logistic": Shape(q=_logistic_q, z_at=lambda q: float(special.logit(q))),
    "gompertz": Shape(q=_gompertz_q, z_at=lambda q: -math.log(-math.log(q) / _LN2)),
}


def width_decades(shape: str, sharpness: float) -> float:
    """10%→90% width of a sigmoid's rise in decades: (z(0.9) - z(0.1))/s."""
    sh = SHAPES[shape]
    return (sh.z_at(0.9) - sh.z_at(0.1)) / sharpness if sharpness > 0 else math.inf

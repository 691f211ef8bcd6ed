"""BIG-bench's descriptive scaling statistics (Srivastava et al. 2022, appendix B).

On the scores y_i ordered by model size (x_i = log10 size; scores at a repeated size
averaged first):

* overall improvement I(y) = sign(argmax_i y_i - argmin_i y_i)·(max_i y_i - min_i y_i);
* breakthroughness B = I(y) / RootMedianSquare({y_{i+1} - y_i}): large when one step
  carries the whole change while the typical step is small (the "emergence score" that
  Schaeffer et al. 2023 use in their meta-analysis);
* linearity L = I(y)·Σ_i (y_{i+1} - y_i)(x_{i+1} - x_i) / (Σ_i (y_{i+1} - y_i)² ·
  Σ_i (x_{i+1} - x_i)²): 1 for a straight line in log-size at evenly spaced sizes,
  1/(n-1) when a single step carries the whole change.

They describe the curve, they test nothing: the verdict does the testing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Descriptive:
    """I(y), breakthroughness and linearity (NaN when fewer than 2 distinct sizes)."""

    overall_improvement: float
    breakthroughness: float
    linearity: float


def size_means(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sizes in increasing order and the mean score at each."""
    ux, inv = np.unique(x, return_inverse=True)
    return ux, np.bincount(inv, weights=y) / np.bincount(inv)


def describe(x: np.ndarray, y: np.ndarray) -> Descriptive:
    """BIG-bench statistics of scores ``y`` at log-sizes ``x`` (see the module docstring)."""
    ux, uy = size_means(x, y)
    if ux.size < 2:
        return Descriptive(math.nan, math.nan, math.nan)
    sign = 1.0 if int(np.argmax(uy)) > int(np.argmin(uy)) else -1.0
    imp = sign * float(np.max(uy) - np.min(uy))
    dy, dx = np.diff(uy), np.diff(ux)
    rms_median = math.sqrt(float(np.median(dy**2)))
    ss = float(np.sum(dy**2))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = imp / rms_median if rms_median > 0 else (math.inf * sign if imp else math.nan)
        lin = imp * float(np.sum(dy * dx)) / (ss * float(np.sum(dx**2))) if ss > 0 else math.nan
    return Descriptive(overall_improvement=imp, breakthroughness=b, linearity=lin)

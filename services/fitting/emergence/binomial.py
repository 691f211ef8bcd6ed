"""Binomial likelihood of scores that are proportions of M items (shared with ``mirage``).

Probabilities are kept within half an item of 0 and 1, [1/(2M), 1 - 1/(2M)], so a model
that leaves [0, 1] (a line) keeps finite weights and likelihoods, and a model right at a
bound changes by less than half an item's worth.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def half_item_clip(p: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Probabilities kept within half an item of 0 and 1: [1/(2M), 1 - 1/(2M)]."""
    lo = 0.5 / items
    return np.clip(p, lo, 1.0 - lo)


def binomial_variance(p: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Variance of a proportion, p̃(1-p̃)/M, with p̃ the half-item-clipped p."""
    pc = half_item_clip(p, items)
    return pc * (1.0 - pc) / items


def agresti_coull(y: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The shrunk proportion ỹ = (yM + 2)/(M + 4): starting weights that never vanish."""
    return (y * items + 2.0) / (items + 4.0)


def binomial_deviance(y: np.ndarray, fitted: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Deviance 2·Σ M·(y ln(y/f̃) + (1-y) ln((1-y)/(1-f̃))) along the last axis (>= 0)."""
    f = half_item_clip(fitted, items)
    sat = special.xlogy(y, y) + special.xlogy(1.0 - y, 1.0 - y)
    fit = special.xlogy(y, f) + special.xlogy(1.0 - y, 1.0 - f)
    return np.asarray(2.0 * np.sum(items * (sat - fit), axis=-1))


def pearson_x2(y: np.ndarray, fitted: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Pearson X² = Σ (y - f)²/(f̃(1-f̃)/M) along the last axis."""
    return np.asarray(np.sum((y - fitted) ** 2 / binomial_variance(fitted, items), axis=-1))

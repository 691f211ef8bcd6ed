"""One benchmark series, validated: scale axis, scores, item counts, floor and ceiling.

Only impossible input is refused (lengths, non-finite numbers, scores outside [0, 1] or
above the ceiling, non-positive scales or item counts): a well-formed table of any size
is answered, the verdict saying when it is too small to decide. Scores below the floor
are accepted; chance-level scores scatter below chance and the likelihood handles them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from services.common.errors import InvalidArgument, require
from services.fitting.limits import FitLimits, check_points
from services.fitting.validation import ArrayLike, as_vector, require_positive, require_same_length

ScaleKind = Literal["parameters", "compute", "loss"]
SCALE_KINDS: tuple[str, ...] = ("parameters", "compute", "loss")


@dataclass
class Series:
    """Validated request, sorted by model size (smallest first).

    ``x`` is the size axis in decades: log10(scale), or -log10(loss) for ``loss`` (lower
    pretraining loss means a bigger model). ``items`` None means scores are not known
    proportions of a count (Gaussian noise, variance estimated).
    """

    scale: np.ndarray
    x: np.ndarray
    y: np.ndarray
    items: np.ndarray | None
    floor: float | None
    ceiling: float | None
    scale_kind: ScaleKind
    order: np.ndarray  # request index of each sorted point

    @property
    def n(self) -> int:
        return int(self.y.size)

    @cached_property
    def sizes(self) -> int:
        """Distinct model sizes."""
        return int(np.unique(self.x).size)

    @property
    def low(self) -> float:
        """Worst possible level: the floor, else 0."""
        return 0.0 if self.floor is None else self.floor

    @property
    def high(self) -> float:
        """Best possible level: the ceiling, else 1."""
        return 1.0 if self.ceiling is None else self.ceiling

    def to_scale(self, x: float) -> float:
        """Scale (or loss) at axis position ``x``."""
        with np.errstate(over="ignore"):
            return float(10.0 ** (-x if self.scale_kind == "loss" else x))


def item_counts(items: ArrayLike | float | None, n: int) -> np.ndarray | None:
    """Item counts: None, one for every point, or one per point (each >= 1)."""
    if items is None:
        return None
    raw = np.atleast_1d(np.asarray(items, dtype=np.float64))
    if raw.size == 0:
        return None
    if raw.size == 1:
        raw = np.full(n, raw[0])
    m = as_vector(raw, "items")
    require(m.size == n, "items", f"has {m.size} values but {n} were expected (or give one)")
    bad = np.flatnonzero(m < 1)
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(f"items[{i}]", f"must be >= 1, got {m[i]:g}")
    return m


def validate_series(
    scale: ArrayLike,
    score: ArrayLike,
    *,
    floor: float | None,
    ceiling: float | None,
    items: ArrayLike | float | None,
    scale_kind: str,
    limits: FitLimits,
) -> Series:
    """Check one series, naming the field; return it sorted by model size."""
    check_points(len(scale), limits, "scale")
    s = as_vector(scale, "scale")
    y = as_vector(score, "score")
    require(s.size >= 1, "scale", "needs at least 1 point")
    require_same_length(s, y, "score")
    require_positive(s, "scale")
    kind = scale_kind or "parameters"
    require(kind in SCALE_KINDS, "scale_kind", f"must be one of {', '.join(SCALE_KINDS)}")
    for name, v in (("floor", floor), ("ceiling", ceiling)):
        require(v is None or math.isfinite(v), name, f"must be a finite number, got {v}")
        require(v is None or 0.0 <= v <= 1.0, name, f"must lie in [0, 1], got {v}")
    if floor is not None and ceiling is not None:
        require(floor < ceiling, "ceiling", f"must exceed floor ({floor:g}), got {ceiling:g}")
    hi = 1.0 if ceiling is None else ceiling
    outside = np.flatnonzero((y < 0.0) | (y > hi))
    if outside.size:
        i = int(outside[0])
        what = "[0, ceiling]" if ceiling is not None else "[0, 1] (a proportion; percentages / 100)"
        raise InvalidArgument.field(f"score[{i}]", f"must lie in {what}, got {y[i]:g}")
    m = item_counts(items, s.size)
    x = -np.log10(s) if kind == "loss" else np.log10(s)
    order = np.argsort(x, kind="stable")
    return Series(
        scale=s[order], x=x[order], y=y[order], items=None if m is None else m[order],
        floor=floor, ceiling=ceiling, scale_kind=kind,  # type: ignore[arg-type]
        order=order,
    )  # fmt: skip

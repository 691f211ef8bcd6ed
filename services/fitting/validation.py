"""Input checks shared by every fit: arrays in, InvalidArgument naming the JSON/proto field out.

API
---
``as_vector(values, field) -> ndarray``     1-D float64, every entry finite (``field[i]``).
``require_same_length(a, b, field_b)``       ``field_b`` when ``len(b) != len(a)``.
``require_positive(a, field)``               ``field[i]`` for the first entry <= 0.
``require_min_points(n, k, field)``          ``field`` when n < k (k counts parameters + 1).
``require_distinct(a, k, field)``            ``field`` when ``a`` has fewer than k distinct values.
``as_sigma(sigma, n, field="sigma")``        optional per-point standard deviations (> 0) or None.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.common.errors import InvalidArgument

ArrayLike = Sequence[float] | np.ndarray


def as_vector(values: ArrayLike, field: str) -> np.ndarray:
    """Return ``values`` as a finite 1-D float64 array, naming the first bad entry."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument.field(field, f"must be a list of numbers ({exc})") from None
    if arr.ndim != 1:
        raise InvalidArgument.field(field, "must be a one-dimensional list of numbers")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(f"{field}[{i}]", f"must be a finite number, got {arr[i]}")
    return arr


def require_same_length(a: np.ndarray, b: np.ndarray, field_b: str) -> None:
    """Reject ``b`` unless it has as many entries as ``a``."""
    if b.shape[0] != a.shape[0]:
        raise InvalidArgument.field(
            field_b, f"has {b.shape[0]} values but {a.shape[0]} were expected"
        )


def require_positive(a: np.ndarray, field: str) -> None:
    """Reject the first non-positive entry (logs are taken of these values)."""
    bad = np.flatnonzero(a <= 0)
    if bad.size:
        i = int(bad[0])
        raise InvalidArgument.field(f"{field}[{i}]", f"must be > 0, got {a[i]:g}")


def require_min_points(n: int, k: int, field: str) -> None:
    """Reject fewer than ``k`` points (a fit needs parameters + 1 for an error estimate)."""
    if n < k:
        raise InvalidArgument.field(field, f"needs at least {k} points, got {n}")


def require_distinct(a: np.ndarray, k: int, field: str) -> None:
    """Reject data whose ``field`` takes fewer than ``k`` distinct values (unidentifiable)."""
    m = np.unique(a).size
    if m < k:
        raise InvalidArgument.field(field, f"needs at least {k} distinct values, got {m}")


def as_sigma(sigma: ArrayLike | None, n: int, field: str = "sigma") -> np.ndarray | None:
    """Validate optional per-point standard deviations: finite, > 0, one per point."""
    if sigma is None:
        return None
    s = as_vector(sigma, field)
    if s.size == 0:
        return None
    if s.size != n:
        raise InvalidArgument.field(field, f"has {s.size} values but {n} were expected")
    require_positive(s, field)
    return s

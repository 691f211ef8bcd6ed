"""Work bounds of the fitting service: point and resample limits, and a wall-clock time budget.

API
---
``FitLimits(max_points=100_000, max_bootstrap=1_000, time_budget_s=60.0)``
    Frozen dataclass passed into every fit function (the servicer builds it from its config;
    science code never reads the environment).
``TimeBudget(seconds)`` / ``TimeBudget.from_limits(limits)``
    A monotonic deadline; ``check()`` raises ``FitTimeout`` once it has passed. Fits call it
    inside objective functions and between multi-start / bootstrap iterations, so a
    pathological data set aborts the fit instead of hanging a worker. A budget made on a
    thread bound to a request's control (services.common.control) also raises
    ``Cancelled`` there once the request is cancelled (its client went away).
``FitTimeout(RuntimeError)``
    Raised when the budget is spent; carries ``budget_s``. Adapters should map it to
    gRPC DEADLINE_EXCEEDED / HTTP 504 (it is not the caller's malformed input).
``check_points(n, limits, field)`` / ``check_resamples(k, limits, field)``
    Raise ``LimitExceeded`` naming ``field`` when a request asks for too much work.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from services.common.control import current as current_control
from services.common.errors import InvalidArgument, WorkTimeout, require_limit


@dataclass(frozen=True)
class FitLimits:
    """Configured bounds on one fit request (points, bootstrap resamples, wall time)."""

    max_points: int = 100_000
    max_bootstrap: int = 1_000
    time_budget_s: float = 60.0


DEFAULT_LIMITS = FitLimits()


class FitTimeout(WorkTimeout):
    """A fit ran past its time budget and was abandoned (map to DEADLINE_EXCEEDED)."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        super().__init__(f"fit exceeded its time budget of {budget_s:g} s")


class TimeBudget:
    """Monotonic deadline shared by every stage of one fit request."""

    __slots__ = ("_control", "_deadline", "budget_s")

    def __init__(self, seconds: float) -> None:
        self.budget_s = float(seconds)
        self._deadline = time.monotonic() + self.budget_s
        self._control = current_control()

    @classmethod
    def from_limits(cls, limits: FitLimits) -> TimeBudget:
        """A fresh budget of ``limits.time_budget_s`` seconds, starting now."""
        return cls(limits.time_budget_s)

    def check(self) -> None:
        """Raise ``FitTimeout`` if the deadline has passed, ``Cancelled`` if cancelled."""
        if self._control is not None:
            self._control.check()
        if time.monotonic() > self._deadline:
            raise FitTimeout(self.budget_s)


def check_points(n: int, limits: FitLimits, field: str) -> None:
    """Refuse more data points than ``limits.max_points``."""
    require_limit(n, limits.max_points, field, "data points")


def check_resamples(k: int, limits: FitLimits, field: str = "bootstrap") -> None:
    """Refuse a negative or over-limit number of bootstrap resamples."""
    if k < 0:
        raise InvalidArgument.field(field, f"must be >= 0, got {k}")
    require_limit(k, limits.max_bootstrap, field, "bootstrap resamples")

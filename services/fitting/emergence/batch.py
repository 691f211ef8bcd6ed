"""Whole tables in one call: one result per series, a bad series answered in place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.errors import FieldViolation, InvalidArgument, LimitExceeded
from services.fitting.emergence.fit import EmergenceResult, fit_emergence
from services.fitting.limits import DEFAULT_LIMITS, FitLimits, TimeBudget, check_points
from services.fitting.pipeline import validated

SERIES_FIELDS = ("scale", "score", "items", "floor", "ceiling", "scale_kind", "name")


@dataclass(frozen=True)
class SeriesOutcome:
    """One series' answer: its result, or the field violations that refused it."""

    name: str
    result: EmergenceResult | None
    errors: list[FieldViolation]


def fit_emergence_batch(
    series: Sequence[Mapping[str, Any]],
    *,
    scale_kind: str = "",
    bootstrap: int = 0,
    seed: int | None = None,
    limits: FitLimits = DEFAULT_LIMITS,
    budget: TimeBudget | None = None,
) -> list[SeriesOutcome]:
    """``fit_emergence`` on every series (``name``, ``scale``, ``score``, optional
    ``items``, ``floor``, ``ceiling``, ``scale_kind``; the batch's ``scale_kind`` is the
    default). A malformed series gets its violations, fields prefixed ``series[i].``; the
    batch as a whole is refused only over the point limit (``series``)."""
    total = sum(len(s.get("scale", ())) for s in series)
    check_points(total, limits, "series")
    if not series:
        raise InvalidArgument.field("series", "needs at least 1 series")
    validated()  # a malformed series is reported per series, never refused
    budget = budget or TimeBudget.from_limits(limits)
    out = []
    for i, s in enumerate(series):
        budget.check()  # the whole table shares one time budget
        name = str(s.get("name", "") or f"series[{i}]")
        try:
            unknown = sorted(set(s) - set(SERIES_FIELDS))
            if unknown:
                raise InvalidArgument.field(unknown[0], "unknown field")
            result = fit_emergence(
                s.get("scale", ()), s.get("score", ()), floor=s.get("floor"),
                ceiling=s.get("ceiling"), items=s.get("items") or None,
                scale_kind=s.get("scale_kind") or scale_kind or "parameters",
                bootstrap=bootstrap, seed=seed, limits=limits, budget=budget,
            )  # fmt: skip
            out.append(SeriesOutcome(name, result, []))
        except LimitExceeded:
            raise
        except InvalidArgument as exc:
            errors = [
                FieldViolation(f"series[{i}].{v.field}", v.description) for v in exc.violations
            ]
            out.append(SeriesOutcome(name, None, errors))
    return out

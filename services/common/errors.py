"""Domain errors raised by the science layer and mapped to gRPC/HTTP by the adapters.

Science functions never import grpc: they raise these plain exceptions and the thin
servicers turn them into INVALID_ARGUMENT (with google.rpc.BadRequest field violations)
or RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: its JSON/proto path (``n``, ``grid.points``, ``x[3]``) and why."""

    field: str
    description: str


class InvalidArgument(ValueError):
    """The request is malformed; carries one or more field violations."""

    def __init__(self, violations: FieldViolation | Sequence[FieldViolation]) -> None:
        if isinstance(violations, FieldViolation):
            violations = [violations]
        self.violations: list[FieldViolation] = list(violations)
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in self.violations))

    @classmethod
    def field(cls, field: str, description: str) -> InvalidArgument:
        return cls(FieldViolation(field, description))


class LimitExceeded(InvalidArgument):
    """The request is well formed but asks for more work than the configured limit."""


def require(condition: bool, field: str, description: str) -> None:
    """Raise InvalidArgument for ``field`` unless ``condition`` holds."""
    if not condition:
        raise InvalidArgument.field(field, description)


def require_limit(value: float, limit: float, field: str, what: str = "") -> None:
    """Refuse work above a configured limit, naming the field and the limit."""
    if value > limit:
        detail = f" ({what})" if what else ""
        raise LimitExceeded(
            FieldViolation(field, f"{value:g} exceeds the configured limit {limit:g}{detail}")
        )


class WorkTimeout(RuntimeError):
    """Work ran past its configured time budget and was abandoned (DEADLINE_EXCEEDED)."""


class Cancelled(RuntimeError):
    """The computation was cancelled (its client went away or its deadline passed)."""


class Validated(Exception):
    """A validate-only request passed every check; raised before any work starts so the
    adapter answers an empty OK reply (see services.common.rpc)."""

"""Proto request fields as keyword arguments of the plain science functions."""

from __future__ import annotations

from typing import Any

from services.common.seeds import draw_seed


def optional(message: Any, name: str) -> Any:
    """The value of an optional proto field, or None when it is unset."""
    return getattr(message, name) if message.HasField(name) else None


def request_seed(message: Any) -> int:
    """The request's seed, or a fresh one drawn by the server (reported in the response)."""
    seed = optional(message, "seed")
    return int(seed) if seed is not None else draw_seed()


def proto_kwargs(message: Any, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Keyword arguments for a science function from a request's scalar fields.

    Repeated fields become lists; unset ``optional`` fields are left out so the science
    function's own default applies; sub-messages are left to the caller.
    """
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        if field.name in skip or (field.message_type is not None):
            continue
        value = getattr(message, field.name)
        if field.is_repeated:
            out[field.name] = list(value)
        elif not field.has_presence or message.HasField(field.name):
            out[field.name] = value
    return out

"""JSON <-> protobuf for the gateway, with pydantic models derived from the proto contract.

The proto is the single source of truth: request and response models (and so the OpenAPI
schema) are generated from message descriptors, JSON keys are the proto field names, and
64-bit integers stay JSON numbers (protobuf's own JSON mapping would turn them into strings).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Annotated, Any, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field, create_model

_SCALARS: dict[int, type] = {
    FieldDescriptor.CPPTYPE_DOUBLE: float,
    FieldDescriptor.CPPTYPE_FLOAT: float,
    FieldDescriptor.CPPTYPE_INT32: int,
    FieldDescriptor.CPPTYPE_INT64: int,
    FieldDescriptor.CPPTYPE_UINT32: int,
    FieldDescriptor.CPPTYPE_UINT64: int,
    FieldDescriptor.CPPTYPE_BOOL: bool,
    FieldDescriptor.CPPTYPE_STRING: str,
}
# Range of each integer type, so an out-of-range number is a 422 naming the field rather
# than an error when the proto message is built.
_INT_RANGE: dict[int, tuple[int, int]] = {
    FieldDescriptor.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.CPPTYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.CPPTYPE_UINT64: (0, 2**64 - 1),
}


def _is_map(field: Any) -> bool:
    return field.message_type is not None and bool(field.message_type.GetOptions().map_entry)


def _map_value(field: Any) -> FieldDescriptor:
    """The ``value`` field of a map field's entry message."""
    return cast(FieldDescriptor, field.message_type.fields_by_name["value"])


def _field_type(field: FieldDescriptor, request: bool) -> Any:
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if _is_map(field):
            return dict[str, _field_type(_map_value(field), request)]  # type: ignore[misc]
        base: Any = model_for(cast(Descriptor, field.message_type), request)
    elif field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        base = str
    else:
        base = _SCALARS[field.cpp_type]
        if base is float and not request:
            base = float | None  # NaN and infinities travel as null
        if field.cpp_type in _INT_RANGE:
            low, high = _INT_RANGE[field.cpp_type]
            base = Annotated[int, Field(ge=low, le=high)]
    if field.is_repeated:
        return list[base]
    return base


@cache
def model_for(descriptor: Descriptor, request: bool) -> type[BaseModel]:
    """A pydantic model mirroring ``descriptor``; request models forbid unknown keys."""
    fields: dict[str, Any] = {}
    for field in descriptor.fields:
        annotation = _field_type(field, request)
        if field.is_repeated or _is_map(field):
            default: Any = Field(default_factory=list if not _is_map(field) else dict)
        elif field.has_presence or not request:
            annotation = annotation | None
            default = Field(default=None)
        else:
            default = Field(default=field.default_value)
        fields[field.name] = (annotation, default)
    config = ConfigDict(extra="forbid" if request else "ignore")
    suffix = "" if request else "Out"
    return create_model(f"{descriptor.name}{suffix}", __config__=config, **fields)


def _value_to_json(field: Any, value: Any) -> Any:
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        return to_json(value)
    if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM:
        return cast(EnumDescriptor, field.enum_type).values_by_number[value].name
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_json(message: Message) -> dict[str, Any]:
    """Plain JSON-able dict of ``message``: proto field names, numbers as numbers.

    Unset optional fields and unset sub-messages are left out; non-finite floats become null.
    """
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if _is_map(field):
            value_field = _map_value(field)
            out[field.name] = {k: _value_to_json(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_value_to_json(field, v) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            continue
        else:
            out[field.name] = _value_to_json(field, value)
    return out


def from_json(data: dict[str, Any], message_type: type[Message]) -> Message:
    """Build ``message_type`` from a validated request dict (None means unset)."""
    message = message_type()
    _fill(message, data)
    return message


def _fill(message: Message, data: dict[str, Any]) -> None:
    for name, value in data.items():
        if value is None:
            continue
        field = message.DESCRIPTOR.fields_by_name[name]
        if _is_map(field):
            target = getattr(message, name)
            for k, v in value.items():
                if _map_value(field).message_type is not None:
                    _fill(target[k], v)
                else:
                    target[k] = v
        elif field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    _fill(getattr(message, name).add(), item)
            else:
                _fill(getattr(message, name), value)
        elif field.is_repeated:
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)

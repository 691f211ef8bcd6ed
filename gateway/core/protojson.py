"""JSON <-> protobuf for the gateway, with pydantic models derived from the proto contract.

The proto is the single source of truth: request and response models (and so the OpenAPI
schema) are generated from message descriptors, JSON keys are the proto field names, and
64-bit integers stay JSON numbers (protobuf's own JSON mapping would turn them into strings).
Descriptions, units, allowed values and bounds come from the proto comments (``protodoc``);
they document the schema only: the services stay the one place that enforces them.
Request scalars are strict (a boolean or a string is never a number, a number never a
string; an integer field takes no 1.0) and ``@choices`` fields take only their choices, so
what is accepted is what the OpenAPI says; the services still check everything else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, Strict, create_model
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from gateway.core.protodoc import Bound, Doc, doc_of

# Keys that name a configured limit in the schema; the OpenAPI route resolves them into
# ``maximum`` / ``maxItems`` from the services' Info (see gateway.api.routes.docs).
MAXIMUM_LIMIT = "x-maximum-limit"
MAX_ITEMS_LIMIT = "x-max-items-limit"

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


@dataclass(frozen=True)
class SchemaExtra:
    """Annotation metadata that adds keys to a type's JSON schema without validating them."""

    keys: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.keys})
        return schema


def _bound(schema: dict[str, Any], key: str, limit_key: str, bound: Bound | None) -> None:
    """A number goes in as ``key``; a configured limit's name as ``limit_key``."""
    if isinstance(bound, str):
        schema[limit_key] = bound
    elif bound is not None:
        schema[key] = int(bound) if float(bound).is_integer() else bound


def _value_schema(doc: Doc) -> dict[str, Any]:
    """Schema keys of one value (each item of a repeated field): choices and bounds."""
    schema: dict[str, Any] = {}
    if doc.choices:
        schema["enum"] = doc.choices
    _bound(schema, "minimum", "x-minimum-limit", doc.minimum)
    _bound(schema, "maximum", MAXIMUM_LIMIT, doc.maximum)
    return schema


def _field_schema(doc: Doc) -> dict[str, Any]:
    """Schema keys of the field itself: unit and item count."""
    schema: dict[str, Any] = {"x-unit": doc.unit} if doc.unit else {}
    _bound(schema, "maxItems", MAX_ITEMS_LIMIT, doc.max_items)
    return schema


def _field_type(field: FieldDescriptor, request: bool) -> Any:
    if field.cpp_type == FieldDescriptor.CPPTYPE_MESSAGE:
        if _is_map(field):
            return dict[str, _field_type(_map_value(field), request)]  # type: ignore[misc]
        base: Any = model_for(cast(Descriptor, field.message_type), request)
    else:
        base = str if field.cpp_type == FieldDescriptor.CPPTYPE_ENUM else _SCALARS[field.cpp_type]
        doc = doc_of(field.full_name)
        if request and doc.choices and base is str:  # a closed set, as the schema's enum says
            base = Literal[doc.choices]  # (matches strings only)
        elif request:  # JSON types as the schema says: true is not 1, "1000" is not 1000
            base = Annotated[base, Strict()]
        if field.cpp_type in _INT_RANGE and request:  # responses need no range check
            low, high = _INT_RANGE[field.cpp_type]
            base = Annotated[int, Strict(), Field(ge=low, le=high)]
        extra = _value_schema(doc)
        if extra:
            base = Annotated[base, SchemaExtra(tuple(extra.items()))]
        if _SCALARS.get(field.cpp_type) is float and not request:
            base = base | None  # NaN and infinities travel as null
    if field.is_repeated:
        return list[base]
    return base


@cache
def model_for(descriptor: Descriptor, request: bool) -> type[BaseModel]:
    """A pydantic model mirroring ``descriptor``; request models forbid unknown keys."""
    fields: dict[str, Any] = {}
    for field in descriptor.fields:
        annotation = _field_type(field, request)
        doc = doc_of(field.full_name)
        info: dict[str, Any] = {"description": doc.text() or None}
        if field.is_repeated or _is_map(field):
            info["default_factory"] = list if not _is_map(field) else dict
        elif field.has_presence or not request:
            annotation = annotation | None
            info["default"] = None
        else:
            info["default"] = field.default_value
        extra = _field_schema(doc)
        fields[field.name] = (annotation, Field(**info, json_schema_extra=extra or None))
    config = ConfigDict(extra="forbid" if request else "ignore")
    suffix = "" if request else "Out"
    return create_model(
        f"{descriptor.name}{suffix}",
        __config__=config,
        __doc__=doc_of(descriptor.full_name).text() or None,
        **fields,
    )


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
            # key order: a proto map's own order follows a per-process hash seed
            out[field.name] = {k: _value_to_json(value_field, value[k]) for k in sorted(value)}
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

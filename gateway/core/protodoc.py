"""What the proto comments say about each message and field: description, unit, choices, bounds.

The proto is the single source of the API's documentation. ``make proto`` keeps the comments
in a descriptor set built with source info (``zuhur/v1/descriptors.binpb``, next to the
generated code; ``make proto-check`` fails when it is stale). A comment's lines are prose,
except lines that start with a tag (the convention is written down in common.proto)::

    @unit nodes                    the field's unit
    @choices a, b, c               closed set of string values
    @minimum 0 / @maximum 1        bounds (numbers)
    @maximum simulation.max_nodes  bound set by a service's configured limit (its Info RPC)
    @max_items fitting.max_points  most entries of a repeated field (number or limit)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

import zuhur.v1

DESCRIPTOR_SET = Path(zuhur.v1.__file__).parent / "descriptors.binpb"
_LIMIT = re.compile(r"^[a-z_]+\.[a-z_0-9]+$")  # SERVICE.KEY of a configured limit
_TAG = re.compile(r"^@(\w+)\s*(.*)$")
# Field numbers of FileDescriptorProto.message_type and DescriptorProto.field / nested_type.
_MESSAGES, _FIELDS, _NESTED = 4, 2, 3

Bound = float | str  # a number, or SERVICE.KEY of a configured limit


@dataclass(frozen=True)
class Doc:
    """The documentation of one message or field, parsed from its proto comment."""

    description: str = ""
    unit: str | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: Bound | None = None
    max_items: Bound | None = None

    def text(self) -> str:
        """Description for readers, with the unit appended."""
        unit = f" Unit: {self.unit}." if self.unit else ""
        return f"{self.description}{unit}".strip()


def _bound(tag: str, value: str) -> Bound:
    try:
        return float(value)
    except ValueError:
        if not _LIMIT.match(value):
            raise ValueError(f"@{tag} needs a number or SERVICE.KEY, got {value!r}") from None
        return value


def parse_comment(comment: str) -> Doc:
    """A ``Doc`` from the text of a proto comment (prose lines plus ``@tag value`` lines)."""
    prose: list[str] = []
    tags: dict[str, Any] = {}
    for raw in comment.splitlines():
        line = raw.strip()
        match = _TAG.match(line)
        if match is None:
            prose.append(line)
            continue
        tag, value = match.group(1), match.group(2).strip()
        if tag == "unit":
            tags["unit"] = value
        elif tag == "choices":
            tags["choices"] = tuple(v.strip() for v in value.split(",") if v.strip())
        elif tag == "minimum":
            tags["minimum"] = float(value)
        elif tag in ("maximum", "max_items"):
            tags[tag] = _bound(tag, value)
        else:
            raise ValueError(f"unknown tag @{tag} in proto comment: {comment!r}")
    paragraphs = " ".join(line or "\n\n" for line in prose).split("\n\n")
    description = "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())
    return Doc(description=description, **tags)


def _walk(
    messages: Any, prefix: str, path: tuple[int, ...], comments: dict[tuple[int, ...], str]
) -> dict[str, Doc]:
    """Docs of ``messages`` (and their nested messages) keyed by full name."""
    out: dict[str, Doc] = {}
    for i, message in enumerate(messages):
        name = f"{prefix}.{message.name}"
        here = (*path, i)
        out[name] = parse_comment(comments.get(here, ""))
        for j, field in enumerate(message.field):
            out[f"{name}.{field.name}"] = parse_comment(comments.get((*here, _FIELDS, j), ""))
        out.update(_walk(message.nested_type, name, (*here, _NESTED), comments))
    return out


@cache
def docs() -> dict[str, Doc]:
    """Every message's and field's ``Doc``, keyed by its full proto name."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    out: dict[str, Doc] = {}
    for file in files.file:
        comments = {
            tuple(loc.path): loc.leading_comments + loc.trailing_comments
            for loc in file.source_code_info.location
        }
        out.update(_walk(file.message_type, file.package, (_MESSAGES,), comments))
    return out


def doc_of(full_name: str) -> Doc:
    """The ``Doc`` of a message or field (empty when the descriptor set does not know it)."""
    return docs().get(full_name, Doc())

"""Typed results to plain trees: the inverse of :mod:`protocol.binder`.

A :class:`TreeWriter` turns an ``api`` dataclass (and its nested dataclasses,
lists and maps) into dicts keyed by AWS member names, ready for a serializer
(orjson for JSON, msgpack for the binary protocol).  Writers are compiled once
per shape (a structure's writer is generated straight-line source, one
attribute read per member, as :mod:`protocol.binder` does); a shape whose
values are already plain gets no writer at all (``None``), so scalars and
lists of strings pass through untouched.  The only
per-format choice is what a blob becomes: base64 text in JSON, raw bytes in
msgpack.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from protocol.shapes import SQS, ServiceShapes

Render = Callable[[Any], Any]


class TreeWriter:
    """Compiles and caches one writer per (service, shape), for one wire format."""

    def __init__(self, blob: Render | None = None) -> None:
        self._blob = blob
        self._writers: dict[tuple[str, str], Render | None] = {}

    def writer(self, shape: Shape, service: ServiceShapes = SQS) -> Render | None:
        """A function making a serializer-ready value, or None when the value already is one."""
        key = (service.name, shape.name)  # shape names repeat across services
        if key in self._writers:
            return self._writers[key]
        self._writers[key] = None  # a recursive shape sees "no change" while it compiles
        found = self._compile(shape, service)
        self._writers[key] = found
        return found

    def write(self, shape: Shape, value: object, service: ServiceShapes = SQS) -> Any:
        """``value`` (of ``service``'s ``shape``) as a plain tree."""
        render = self.writer(shape, service)
        return value if render is None else render(value)

    def _compile(self, shape: Shape, service: ServiceShapes) -> Render | None:
        if isinstance(shape, StructureShape):
            return self._structure(shape, service)
        if isinstance(shape, ListShape):
            item = self.writer(shape.member, service)
            if item is None:
                return None
            return lambda value: [item(x) for x in value]
        if isinstance(shape, MapShape):
            sub = self.writer(shape.value, service)
            if sub is None:
                return None
            return lambda value: {k: sub(v) for k, v in value.items()}
        if shape.type_name == "blob":
            return self._blob
        return None

    def _structure(self, shape: StructureShape, service: ServiceShapes) -> Render:
        namespace: dict[str, Any] = {}
        lines = ["def structure(value):", "    out = {}"]
        for index, member in enumerate(service.members(shape)):
            sub = self.writer(member.shape, service)
            lines += [f"    item = value.{member.field}", "    if item is not None:"]
            if sub is None:
                lines.append(f"        out[{member.name!r}] = item")
            else:
                namespace[f"write_{index}"] = sub
                lines.append(f"        out[{member.name!r}] = write_{index}(item)")
        lines.append("    return out")
        exec("\n".join(lines), namespace)  # source generated from the service model
        render: Render = namespace["structure"]
        return render

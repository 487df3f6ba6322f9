"""Render a typed result as the Query protocol's XML, with writers compiled per shape.

Rules: element names come from :mod:`protocol.query_names` (flattened lists and
maps, as SQS's Query wire has them); element order is the model's member order;
None members are omitted.  A writer appends string pieces to a list that the
codec joins once.  Text is escaped for XML and so that it round-trips exactly:
``&``, ``<``, ``>``, ``"`` and ``\\r`` (as ``&#xD;``, which an XML parser would
otherwise normalise to ``\\n``).  Blobs are base64, booleans ``true``/``false``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from botocore.model import ListShape, MapShape, Shape, StructureShape

from protocol.query_names import map_entry_names, wire_name
from protocol.shapes import members

Write = Callable[[object, list[str]], None]


def escape(text: str) -> str:
    """Escape text content; the common case (nothing to escape) costs a few scans."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#xD;")
    return text


def _text(value: object) -> str:
    if type(value) is str:
        return escape(value)
    if type(value) is bool:
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    return str(value)


def _write_scalar(value: object, out: list[str]) -> None:
    out.append(_text(value))


_WRITERS: dict[str, Write] = {}


def writer(shape: Shape) -> Write:
    """The writer of a shape's content (its children, or its text), compiled once."""
    found = _WRITERS.get(shape.name)
    if found is None:
        found = _compile(shape)
        _WRITERS[shape.name] = found
    return found


def _element(name: str, shape: Shape) -> Write:
    """Write one member called ``name`` (for lists and maps: one element per item)."""
    open_tag, close_tag = f"<{name}>", f"</{name}>"
    if isinstance(shape, ListShape):
        item = writer(shape.member)

        def write_list(value: object, out: list[str]) -> None:
            for element in value:  # type: ignore[attr-defined]
                out.append(open_tag)
                item(element, out)
                out.append(close_tag)

        return write_list
    if isinstance(shape, MapShape):
        key_name, value_name = map_entry_names(shape.name)
        head = f"{open_tag}<{key_name}>"
        middle = f"</{key_name}><{value_name}>"
        tail = f"</{value_name}>{close_tag}"
        entry_value = writer(shape.value)

        def write_map(value: object, out: list[str]) -> None:
            for key, element in value.items():  # type: ignore[attr-defined]
                out.append(head)
                out.append(escape(key))
                out.append(middle)
                entry_value(element, out)
                out.append(tail)

        return write_map
    if isinstance(shape, StructureShape):
        content = writer(shape)

        def write_structure(value: object, out: list[str]) -> None:
            out.append(open_tag)
            content(value, out)
            out.append(close_tag)

        return write_structure

    def write_scalar(value: object, out: list[str]) -> None:
        out.append(open_tag + _text(value) + close_tag)

    return write_scalar


def _compile(shape: Shape) -> Write:
    if not isinstance(shape, StructureShape):
        return _write_scalar
    fields = tuple((m.field, _element(wire_name(shape.name, m.name), m.shape)) for m in members(shape))

    def write(value: object, out: list[str]) -> None:
        for field, element in fields:
            item = getattr(value, field)
            if item is not None:
                element(item, out)

    return write

"""Render a typed result as the Query protocol's XML, with writers compiled per shape.

Rules: element names come from the service's :class:`protocol.query_names.
QueryNames` (SQS: flattened lists and maps; SNS: ``<member>`` and ``<entry>``
wrappers, from its model); writers are cached per service and shape; element
order is the model's member order; None members are omitted.  A writer appends
string pieces to a list that the codec joins once.  Text is escaped for XML
and so that it round-trips exactly: ``&``, ``<``, ``>``, ``"`` and ``\\r``
(as ``&#xD;``, which an XML parser would otherwise normalise to ``\\n``).
Blobs are base64, booleans ``true``/``false``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from botocore.model import ListShape, MapShape, Shape, StructureShape

from protocol.query_names import SQS_NAMES, QueryNames

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


_WRITERS: dict[tuple[str, str], Write] = {}


def writer(shape: Shape, names: QueryNames = SQS_NAMES) -> Write:
    """The writer of a shape's content (its children, or its text), compiled once per service."""
    key = (names.service.name, shape.name)
    found = _WRITERS.get(key)
    if found is None:
        found = _compile(shape, names)
        _WRITERS[key] = found
    return found


def _element(name: str, shape: Shape, names: QueryNames) -> Write:
    """Write one member called ``name`` (for lists and maps: one element per item, or a wrapper)."""
    open_tag, close_tag = f"<{name}>", f"</{name}>"
    if isinstance(shape, ListShape):
        item = writer(shape.member, names)
        wrapper = names.list_item(shape)
        if wrapper is not None:  # <Name><member>..</member>..</Name>
            outer_open, outer_close = open_tag, close_tag
            open_tag, close_tag = f"<{wrapper}>", f"</{wrapper}>"
        else:
            outer_open = outer_close = ""

        def write_list(value: object, out: list[str]) -> None:
            out.append(outer_open)
            for element in value:  # type: ignore[attr-defined]
                out.append(open_tag)
                item(element, out)
                out.append(close_tag)
            out.append(outer_close)

        return write_list
    if isinstance(shape, MapShape):
        entry, key_name, value_name = names.map_entry(shape)
        outer_open = outer_close = ""
        if entry is not None:  # <Name><entry><key>..</key><value>..</value></entry>..</Name>
            outer_open, outer_close, open_tag, close_tag = open_tag, close_tag, f"<{entry}>", f"</{entry}>"
        head = f"{open_tag}<{key_name}>"
        middle = f"</{key_name}><{value_name}>"
        tail = f"</{value_name}>{close_tag}"
        entry_value = writer(shape.value, names)

        def write_map(value: object, out: list[str]) -> None:
            out.append(outer_open)
            for key, element in value.items():  # type: ignore[attr-defined]
                out.append(head)
                out.append(escape(key))
                out.append(middle)
                entry_value(element, out)
                out.append(tail)
            out.append(outer_close)

        return write_map
    if isinstance(shape, StructureShape):
        content = writer(shape, names)

        def write_structure(value: object, out: list[str]) -> None:
            out.append(open_tag)
            content(value, out)
            out.append(close_tag)

        return write_structure

    def write_scalar(value: object, out: list[str]) -> None:
        out.append(open_tag + _text(value) + close_tag)

    return write_scalar


def _compile(shape: Shape, names: QueryNames) -> Write:
    if not isinstance(shape, StructureShape):
        return _write_scalar
    fields = tuple(
        (m.field, _element(names.member(shape.name, m.name, m.shape), m.shape, names))
        for m in names.service.members(shape)
    )

    def write(value: object, out: list[str]) -> None:
        for field, element in fields:
            item = getattr(value, field)
            if item is not None:
                element(item, out)

    return write

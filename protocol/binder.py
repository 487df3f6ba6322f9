"""Bind a decoded tree to the typed request classes, validating it against the shape.

Rules: every codec first turn the wire into the same tree (dicts keyed by
member name, lists, dicts for maps, scalars at the leaves), then call the binder
compiled for the input shape.  Binders are compiled once per (service,
scalar rules, shape name) and cached; a structure's binder is generated Python
source, straight-line code with one local per member (a loop over a member
table cost twice as much, and a batch binds ten entries per request).
Members that are absent or null bind to None (every class default is None),
unknown members are ignored (AWS ignores them), a value of the wrong type
raises :class:`BindError` with its path, and only then a missing required member
(members in model order, as before: the first bad member wins).  Scalars differ per protocol (JSON
has typed scalars, Query has only strings), so each codec brings
:class:`Scalars`; containers are checked here, the same for both.  A path is
only built when an error unwinds, so the success path pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from botocore.model import ListShape, MapShape, Shape, StructureShape

from protocol.shapes import SQS, ServiceShapes

Bind = Callable[[object], object]


class BindError(Exception):
    """A value that does not fit its shape: ``kind`` is ``"type"`` or ``"missing"``."""

    def __init__(self, kind: str, expected: str, value: object = None, reason: str = "") -> None:
        super().__init__(kind, expected)
        self.kind = kind
        self.expected = expected
        self.value = value
        self.reason = reason
        self.path: list[str] = []

    @property
    def where(self) -> str:
        """The dotted path of the offending member (list indexes from 1)."""
        return ".".join(reversed(self.path))


@dataclass(frozen=True, slots=True)
class Scalars:
    """One protocol's scalar readers; each returns the typed value or raises BindError."""

    name: str
    string: Bind
    integer: Bind
    boolean: Bind
    blob: Bind


_CACHE: dict[tuple[str, str, str], Bind] = {}


def binder(shape: Shape, scalars: Scalars, service: ServiceShapes = SQS) -> Bind:
    """The compiled binder of ``service``'s ``shape`` under ``scalars`` (compiled on first use)."""
    key = (service.name, scalars.name, shape.name)
    found = _CACHE.get(key)
    if found is None:
        found = _compile(shape, scalars, service)
        _CACHE[key] = found
    return found


def _compile(shape: Shape, scalars: Scalars, service: ServiceShapes) -> Bind:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(shape, StructureShape)
        return _structure(shape, scalars, service)
    if kind == "list":
        assert isinstance(shape, ListShape)
        return _list(binder(shape.member, scalars, service))
    if kind == "map":
        assert isinstance(shape, MapShape)
        return _map(binder(shape.value, scalars, service))
    scalar: Bind | None = {
        "string": scalars.string,
        "integer": scalars.integer,
        "long": scalars.integer,
        "boolean": scalars.boolean,
        "blob": scalars.blob,
    }.get(kind)
    if scalar is None:
        raise NotImplementedError(f"shape type {kind} ({shape.name})")
    return scalar


def _structure(shape: StructureShape, scalars: Scalars, service: ServiceShapes) -> Bind:
    members = service.members(shape)
    namespace: dict[str, object] = {"BindError": BindError, "cls": service.class_for(shape)}
    lines = [
        "def bind(value):",
        "    if type(value) is not dict:",
        "        raise BindError('type', 'structure', value)",
        "    get = value.get",
    ]
    for index, member in enumerate(members):
        namespace[f"bind_{index}"] = binder(member.shape, scalars, service)
        lines += [
            f"    m{index} = get({member.name!r})",
            f"    if m{index} is not None:",
            "        try:",
            f"            m{index} = bind_{index}(m{index})",
            "        except BindError as error:",
            f"            error.path.append({member.name!r})",
            "            raise",
        ]
    for index, member in enumerate(members):
        if member.required:
            lines += [
                f"    if m{index} is None:",
                "        missing = BindError('missing', '')",
                f"        missing.path.append({member.name!r})",
                "        raise missing",
            ]
    arguments = ", ".join(f"{member.field}=m{index}" for index, member in enumerate(members))
    lines.append(f"    return cls({arguments})")
    exec("\n".join(lines), namespace)  # source generated from the service model
    bind = namespace["bind"]
    assert callable(bind)
    return cast(Bind, bind)


def _list(item: Bind) -> Bind:
    def bind(value: object) -> object:
        if type(value) is not list:
            raise BindError("type", "list", value)
        out: list[object] = []
        for index, element in enumerate(value, 1):
            try:
                out.append(item(element))
            except BindError as error:
                error.path.append(str(index))
                raise
        return out

    return bind


def _map(item: Bind) -> Bind:
    def bind(value: object) -> object:
        if type(value) is not dict:
            raise BindError("type", "map", value)
        out: dict[str, object] = {}
        for key, element in value.items():
            try:
                out[key] = item(element)
            except BindError as error:
                error.path.append(str(key))
                raise
        return out

    return bind

"""Bind a decoded tree to the typed request classes, validating it against the shape.

Rules: every codec first turn the wire into the same tree (dicts keyed by
member name, lists, dicts for maps, scalars at the leaves), then call the binder
compiled for the input shape.  Binders are closures compiled once per (service,
scalar rules, shape name) and cached; structures bind to ``cls(**fields)``, members
that are absent or null are left to the class default, unknown members are
ignored (AWS ignores them), a missing required member or a value of the wrong
type raises :class:`BindError` with its path.  Scalars differ per protocol (JSON
has typed scalars, Query has only strings), so each codec brings
:class:`Scalars`; containers are checked here, the same for both.  A path is
only built when an error unwinds, so the success path pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    cls = service.class_for(shape)
    fields = tuple((m.name, m.field, binder(m.shape, scalars, service)) for m in service.members(shape))
    required = tuple((m.name, m.field) for m in service.members(shape) if m.required)

    def bind(value: object) -> object:
        if type(value) is not dict:
            raise BindError("type", "structure", value)
        out: dict[str, object] = {}
        for name, field, sub in fields:
            item = value.get(name)
            if item is not None:
                try:
                    out[field] = sub(item)
                except BindError as error:
                    error.path.append(name)
                    raise
        for name, field in required:
            if field not in out:
                missing = BindError("missing", "")
                missing.path.append(name)
                raise missing
        return cls(**out)

    return bind


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

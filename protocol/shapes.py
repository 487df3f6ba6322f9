"""botocore's SQS model, loaded once, as the table every SQS codec is driven by.

Rules: the model is the single source of action names, member names, types and
required members; the typed classes come from ``broker.sqs.api.SHAPES`` and
their fields are ``botocore.xform_name`` of the member names.  Nothing here
knows a wire format: codecs compile their own readers and writers per shape
from :class:`Operation` and :func:`members`, once, and cache them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import botocore
import botocore.loaders
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from broker.sqs.api import SHAPES


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a structure: wire name, dataclass field, shape, required."""

    name: str
    field: str
    shape: Shape
    required: bool


@dataclass(frozen=True, slots=True)
class Operation:
    """One action: its input shape and class, its output shape (None if empty)."""

    name: str
    input: StructureShape
    request_cls: type
    output: StructureShape | None


@cache
def service_model() -> ServiceModel:
    """The SQS service model (loaded from botocore's data files on first use)."""
    loader = botocore.loaders.Loader()
    return ServiceModel(loader.load_service_model("sqs", "service-2"), service_name="sqs")


def _operation(model: OperationModel) -> Operation:
    input_shape = model.input_shape
    assert input_shape is not None, model.name
    output = model.output_shape
    has_output = output is not None and bool(output.members)
    return Operation(
        name=model.name,
        input=input_shape,
        request_cls=SHAPES[input_shape.name],
        output=output if has_output else None,
    )


@cache
def operations() -> dict[str, Operation]:
    """Every SQS action by name."""
    model = service_model()
    return {name: _operation(model.operation_model(name)) for name in model.operation_names}


def operation(name: str) -> Operation | None:
    """The action called ``name``, or None if SQS has no such action."""
    return operations().get(name)


_MEMBERS: dict[str, tuple[Member, ...]] = {}


def members(shape: StructureShape) -> tuple[Member, ...]:
    """The members of a structure shape, in model order (computed once per shape name)."""
    found = _MEMBERS.get(shape.name)
    if found is None:
        required = set(shape.required_members)
        found = tuple(
            Member(name, botocore.xform_name(name), member_shape, name in required)
            for name, member_shape in shape.members.items()
        )
        _MEMBERS[shape.name] = found
    return found


def class_for(shape: StructureShape) -> type:
    """The ``broker.sqs.api`` class that carries a structure shape."""
    return SHAPES[shape.name]

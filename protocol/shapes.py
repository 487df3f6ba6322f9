"""botocore's service models, loaded once, as the tables every codec is driven by.

Rules: a model is the single source of action names, member names, types and
required members; the typed classes come from the service's ``api.SHAPES``
and their fields are ``botocore.xform_name`` of the member names.  Nothing
here knows a wire format: codecs compile their own readers and writers per
shape from :class:`Operation` and :meth:`ServiceShapes.members`, once, and
cache them.  Shape names repeat across services (``Tag``,
``MessageAttributeValue``...), so every cache is per service: one
:class:`ServiceShapes` per service (:data:`SQS`, :data:`SNS`).  The module
functions without a service are SQS's, as they were before SNS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import botocore
import botocore.loaders
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from broker.sns.api import SHAPES as SNS_SHAPES
from broker.sqs.api import SHAPES as SQS_SHAPES


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
    service: str = "sqs"
    """botocore's name of the service (a key of :data:`SERVICES`)."""


@dataclass(frozen=True, slots=True, eq=False)
class ServiceShapes:
    """One service's model, its typed classes, and the caches derived from them."""

    name: str
    """botocore's service name (``sqs``, ``sns``); also the key of per-service caches."""
    classes: Mapping[str, type]
    _cache: dict[str, object] = field(default_factory=dict)
    _members: dict[str, tuple[Member, ...]] = field(default_factory=dict)

    def model(self) -> ServiceModel:
        """The service model (loaded from botocore's data files on first use)."""
        found = self._cache.get("model")
        if found is None:
            raw = botocore.loaders.Loader().load_service_model(self.name, "service-2")
            found = self._cache["model"] = ServiceModel(raw, service_name=self.name)
        assert isinstance(found, ServiceModel)
        return found

    def operations(self) -> dict[str, Operation]:
        """Every action by name."""
        found = self._cache.get("operations")
        if found is None:
            model = self.model()
            found = self._cache["operations"] = {
                name: self._operation(model.operation_model(name)) for name in model.operation_names
            }
        return found  # type: ignore[return-value]

    def operation(self, name: str) -> Operation | None:
        """The action called ``name``, or None if the service has no such action."""
        return self.operations().get(name)

    def members(self, shape: StructureShape) -> tuple[Member, ...]:
        """The members of a structure shape, in model order (computed once per shape name)."""
        found = self._members.get(shape.name)
        if found is None:
            required = set(shape.required_members)
            found = tuple(
                Member(name, botocore.xform_name(name), member_shape, name in required)
                for name, member_shape in shape.members.items()
            )
            self._members[shape.name] = found
        return found

    def class_for(self, shape: StructureShape) -> type:
        """The api class that carries a structure shape."""
        return self.classes[shape.name]

    def _operation(self, model: OperationModel) -> Operation:
        input_shape = model.input_shape
        assert input_shape is not None, model.name
        output = model.output_shape
        has_output = output is not None and bool(output.members)
        return Operation(
            name=model.name,
            input=input_shape,
            request_cls=self.classes[input_shape.name],
            output=output if has_output else None,
            service=self.name,
        )


SQS = ServiceShapes("sqs", SQS_SHAPES)
SNS = ServiceShapes("sns", SNS_SHAPES)
SERVICES: dict[str, ServiceShapes] = {"sqs": SQS, "sns": SNS}
"""Every service's shapes by botocore's service name."""


def service_model() -> ServiceModel:
    """The SQS service model."""
    return SQS.model()


def operations() -> dict[str, Operation]:
    """Every SQS action by name."""
    return SQS.operations()


def operation(name: str) -> Operation | None:
    """The SQS action called ``name``, or None if SQS has no such action."""
    return SQS.operation(name)


def members(shape: StructureShape, service: ServiceShapes = SQS) -> tuple[Member, ...]:
    """The members of a structure shape of ``service`` (SQS by default), in model order."""
    return service.members(shape)


def class_for(shape: StructureShape, service: ServiceShapes = SQS) -> type:
    """The api class of ``service`` (SQS by default) that carries a structure shape."""
    return service.class_for(shape)

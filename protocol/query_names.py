"""Query protocol wire names, per service: where they come from, and the SQS
facts the current botocore model lost.

A Query codec asks a :class:`QueryNames` for every name it reads or writes: a
member's wire name, whether a list is flattened (``Name.1``) or wrapped
(``Name.member.1``), and a map entry's element names.  SNS's model still has
its Query traits (``locationName``, ``flattened``), so :class:`ModelNames`
reads them from the model (lists wrapped in ``member``, maps in ``entry`` with
``key``/``value`` unless renamed).  SQS's does not, so :class:`TableNames`
holds them:

Rules: botocore's SQS model became JSON-only in 2023 and dropped the Query
``locationName`` traits, so the flattened names of lists and maps on the Query
wire (``Attribute.1.Name``, ``MessageAttribute.1.Value.StringValue``,
``SendMessageBatchRequestEntry.1.Id``, ``<QueueUrl>``...) differ from the member
names.  This table holds those names, taken from the last models that carried
them (botocore 1.29's ``sqs/2012-11-05/service-2.json``).  A member absent from
the table goes by its member name.  Every SQS list and map is flattened on the
Query wire: list items are ``<Name>.<i>``, map entries ``<Name>.<i>.<Key>`` and
``<Name>.<i>.<Value>``, indexes from 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from botocore.model import ListShape, MapShape, Shape

from protocol.shapes import SNS, SQS, ServiceShapes

MEMBER_WIRE_NAMES: dict[tuple[str, str], str] = {
    ("AddPermissionRequest", "AWSAccountIds"): "AWSAccountId",
    ("AddPermissionRequest", "Actions"): "ActionName",
    ("ChangeMessageVisibilityBatchRequest", "Entries"): "ChangeMessageVisibilityBatchRequestEntry",
    ("ChangeMessageVisibilityBatchResult", "Failed"): "BatchResultErrorEntry",
    ("ChangeMessageVisibilityBatchResult", "Successful"): "ChangeMessageVisibilityBatchResultEntry",
    ("CreateQueueRequest", "Attributes"): "Attribute",
    ("CreateQueueRequest", "tags"): "Tag",
    ("DeleteMessageBatchRequest", "Entries"): "DeleteMessageBatchRequestEntry",
    ("DeleteMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("DeleteMessageBatchResult", "Successful"): "DeleteMessageBatchResultEntry",
    ("GetQueueAttributesRequest", "AttributeNames"): "AttributeName",
    ("GetQueueAttributesResult", "Attributes"): "Attribute",
    ("ListDeadLetterSourceQueuesResult", "queueUrls"): "QueueUrl",
    # Added with the message-move tasks (mid-2023); the Query wire names each flattened entry singly.
    ("ListMessageMoveTasksResult", "Results"): "ListMessageMoveTasksResultEntry",
    ("ListQueueTagsResult", "Tags"): "Tag",
    ("ListQueuesResult", "QueueUrls"): "QueueUrl",
    ("Message", "Attributes"): "Attribute",
    ("Message", "MessageAttributes"): "MessageAttribute",
    ("MessageAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageAttributeValue", "StringListValues"): "StringListValue",
    ("MessageSystemAttributeValue", "BinaryListValues"): "BinaryListValue",
    ("MessageSystemAttributeValue", "StringListValues"): "StringListValue",
    ("ReceiveMessageRequest", "AttributeNames"): "AttributeName",
    ("ReceiveMessageRequest", "MessageAttributeNames"): "MessageAttributeName",
    # Added after the Query traits were dropped; AWS documents the singular form.
    ("ReceiveMessageRequest", "MessageSystemAttributeNames"): "MessageSystemAttributeName",
    ("ReceiveMessageResult", "Messages"): "Message",
    ("SendMessageBatchRequest", "Entries"): "SendMessageBatchRequestEntry",
    ("SendMessageBatchRequestEntry", "MessageAttributes"): "MessageAttribute",
    ("SendMessageBatchRequestEntry", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SendMessageBatchResult", "Failed"): "BatchResultErrorEntry",
    ("SendMessageBatchResult", "Successful"): "SendMessageBatchResultEntry",
    ("SendMessageRequest", "MessageAttributes"): "MessageAttribute",
    ("SendMessageRequest", "MessageSystemAttributes"): "MessageSystemAttribute",
    ("SetQueueAttributesRequest", "Attributes"): "Attribute",
    ("TagQueueRequest", "Tags"): "Tag",
    ("UntagQueueRequest", "TagKeys"): "TagKey",
}
"""(structure shape, member) to the Query wire name, where they differ."""

MAP_ENTRY_NAMES: dict[str, tuple[str, str]] = {
    "TagMap": ("Key", "Value"),
}
"""Map shape to its entry's (key, value) element names; others use ``Name``/``Value``."""

DEFAULT_MAP_ENTRY_NAMES = ("Name", "Value")

XML_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"


def wire_name(structure: str, member: str) -> str:
    """The Query name of ``member`` of the structure shape ``structure``."""
    return MEMBER_WIRE_NAMES.get((structure, member), member)


def map_entry_names(map_shape: str) -> tuple[str, str]:
    """The (key, value) element names of a map shape's entries."""
    return MAP_ENTRY_NAMES.get(map_shape, DEFAULT_MAP_ENTRY_NAMES)


SNS_XML_NAMESPACE = "http://sns.amazonaws.com/doc/2010-03-31/"


class QueryNames(Protocol):
    """One service's Query names."""

    @property
    def service(self) -> ServiceShapes:
        """The service's model and classes."""
        ...

    @property
    def namespace(self) -> str:
        """The XML namespace of its responses."""
        ...

    def member(self, structure: str, member: str, shape: Shape) -> str:
        """The wire name of ``member`` (of shape ``shape``) of the structure shape ``structure``."""
        ...

    def list_item(self, shape: ListShape) -> str | None:
        """The element wrapping each item of a list (``member``), or None when flattened."""
        ...

    def map_entry(self, shape: MapShape) -> tuple[str | None, str, str]:
        """A map entry's wrapper (``entry``, None when flattened), key and value names."""
        ...


@dataclass(frozen=True, slots=True)
class TableNames:
    """SQS: every list and map flattened, names from the tables above."""

    service: ServiceShapes
    namespace: str

    def member(self, structure: str, member: str, shape: Shape) -> str:
        return wire_name(structure, member)

    def list_item(self, shape: ListShape) -> str | None:
        return None

    def map_entry(self, shape: MapShape) -> tuple[str | None, str, str]:
        return (None, *map_entry_names(shape.name))


@dataclass(frozen=True, slots=True)
class ModelNames:
    """A service whose model keeps its Query traits (SNS)."""

    service: ServiceShapes
    namespace: str

    def member(self, structure: str, member: str, shape: Shape) -> str:
        name: str = shape.serialization.get("name", member)
        return name

    def list_item(self, shape: ListShape) -> str | None:
        if shape.serialization.get("flattened"):
            return None
        name: str = shape.member.serialization.get("name", "member")
        return name

    def map_entry(self, shape: MapShape) -> tuple[str | None, str, str]:
        wrapper = None if shape.serialization.get("flattened") else "entry"
        return (
            wrapper,
            shape.key.serialization.get("name", "key"),
            shape.value.serialization.get("name", "value"),
        )


SQS_NAMES = TableNames(SQS, XML_NAMESPACE)
SNS_NAMES = ModelNames(SNS, SNS_XML_NAMESPACE)

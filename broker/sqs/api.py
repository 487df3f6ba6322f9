"""Typed SQS requests and results, one slotted dataclass per botocore shape.

Rules: a request class is named after its action (``SendMessage`` for the shape
``SendMessageRequest``); every other class keeps its shape's name.  Field names
are ``botocore.xform_name`` of the member names, so the codecs can map wire
members to fields generically.  ``SHAPES`` maps shape names to classes; a test
checks it against botocore's model in both directions.  This module holds types
only: the codecs import it, and it imports nothing of ours.

The classes are not ``frozen``: one is built per request and per message on
the hot paths, and a frozen dataclass's ``__init__`` (``object.__setattr__``
per field) costs about five times a plain one's.  Treat them as values all
the same: nothing mutates a request or a result after building it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, kw_only=True)
class AddPermission:
    """Shape ``AddPermissionRequest``."""

    queue_url: str
    label: str
    aws_account_ids: list[str]
    actions: list[str]


@dataclass(slots=True, kw_only=True)
class CancelMessageMoveTask:
    """Shape ``CancelMessageMoveTaskRequest``."""

    task_handle: str


@dataclass(slots=True, kw_only=True)
class CancelMessageMoveTaskResult:
    """Shape ``CancelMessageMoveTaskResult``."""

    approximate_number_of_messages_moved: int | None = None


@dataclass(slots=True, kw_only=True)
class ChangeMessageVisibility:
    """Shape ``ChangeMessageVisibilityRequest``."""

    queue_url: str
    receipt_handle: str
    visibility_timeout: int


@dataclass(slots=True, kw_only=True)
class ChangeMessageVisibilityBatchRequestEntry:
    """Shape ``ChangeMessageVisibilityBatchRequestEntry``."""

    id: str
    receipt_handle: str
    visibility_timeout: int | None = None


@dataclass(slots=True, kw_only=True)
class ChangeMessageVisibilityBatch:
    """Shape ``ChangeMessageVisibilityBatchRequest``."""

    queue_url: str
    entries: list[ChangeMessageVisibilityBatchRequestEntry]


@dataclass(slots=True, kw_only=True)
class ChangeMessageVisibilityBatchResultEntry:
    """Shape ``ChangeMessageVisibilityBatchResultEntry``."""

    id: str


@dataclass(slots=True, kw_only=True)
class BatchResultErrorEntry:
    """Shape ``BatchResultErrorEntry``."""

    id: str
    sender_fault: bool
    code: str
    message: str | None = None


@dataclass(slots=True, kw_only=True)
class ChangeMessageVisibilityBatchResult:
    """Shape ``ChangeMessageVisibilityBatchResult``."""

    successful: list[ChangeMessageVisibilityBatchResultEntry]
    failed: list[BatchResultErrorEntry]


@dataclass(slots=True, kw_only=True)
class CreateQueue:
    """Shape ``CreateQueueRequest``."""

    queue_name: str
    attributes: dict[str, str] | None = None
    tags: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class CreateQueueResult:
    """Shape ``CreateQueueResult``."""

    queue_url: str | None = None


@dataclass(slots=True, kw_only=True)
class DeleteMessage:
    """Shape ``DeleteMessageRequest``."""

    queue_url: str
    receipt_handle: str


@dataclass(slots=True, kw_only=True)
class DeleteMessageBatchRequestEntry:
    """Shape ``DeleteMessageBatchRequestEntry``."""

    id: str
    receipt_handle: str


@dataclass(slots=True, kw_only=True)
class DeleteMessageBatch:
    """Shape ``DeleteMessageBatchRequest``."""

    queue_url: str
    entries: list[DeleteMessageBatchRequestEntry]


@dataclass(slots=True, kw_only=True)
class DeleteMessageBatchResultEntry:
    """Shape ``DeleteMessageBatchResultEntry``."""

    id: str


@dataclass(slots=True, kw_only=True)
class DeleteMessageBatchResult:
    """Shape ``DeleteMessageBatchResult``."""

    successful: list[DeleteMessageBatchResultEntry]
    failed: list[BatchResultErrorEntry]


@dataclass(slots=True, kw_only=True)
class DeleteQueue:
    """Shape ``DeleteQueueRequest``."""

    queue_url: str


@dataclass(slots=True, kw_only=True)
class GetQueueAttributes:
    """Shape ``GetQueueAttributesRequest``."""

    queue_url: str
    attribute_names: list[str] | None = None


@dataclass(slots=True, kw_only=True)
class GetQueueAttributesResult:
    """Shape ``GetQueueAttributesResult``."""

    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class GetQueueUrl:
    """Shape ``GetQueueUrlRequest``."""

    queue_name: str
    queue_owner_aws_account_id: str | None = None


@dataclass(slots=True, kw_only=True)
class GetQueueUrlResult:
    """Shape ``GetQueueUrlResult``."""

    queue_url: str | None = None


@dataclass(slots=True, kw_only=True)
class ListDeadLetterSourceQueues:
    """Shape ``ListDeadLetterSourceQueuesRequest``."""

    queue_url: str
    next_token: str | None = None
    max_results: int | None = None


@dataclass(slots=True, kw_only=True)
class ListDeadLetterSourceQueuesResult:
    """Shape ``ListDeadLetterSourceQueuesResult``."""

    queue_urls: list[str]
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListMessageMoveTasks:
    """Shape ``ListMessageMoveTasksRequest``."""

    source_arn: str
    max_results: int | None = None


@dataclass(slots=True, kw_only=True)
class ListMessageMoveTasksResultEntry:
    """Shape ``ListMessageMoveTasksResultEntry``."""

    task_handle: str | None = None
    status: str | None = None
    source_arn: str | None = None
    destination_arn: str | None = None
    max_number_of_messages_per_second: int | None = None
    approximate_number_of_messages_moved: int | None = None
    approximate_number_of_messages_to_move: int | None = None
    failure_reason: str | None = None
    started_timestamp: int | None = None


@dataclass(slots=True, kw_only=True)
class ListMessageMoveTasksResult:
    """Shape ``ListMessageMoveTasksResult``."""

    results: list[ListMessageMoveTasksResultEntry] | None = None


@dataclass(slots=True, kw_only=True)
class ListQueueTags:
    """Shape ``ListQueueTagsRequest``."""

    queue_url: str


@dataclass(slots=True, kw_only=True)
class ListQueueTagsResult:
    """Shape ``ListQueueTagsResult``."""

    tags: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class ListQueues:
    """Shape ``ListQueuesRequest``."""

    queue_name_prefix: str | None = None
    next_token: str | None = None
    max_results: int | None = None


@dataclass(slots=True, kw_only=True)
class ListQueuesResult:
    """Shape ``ListQueuesResult``."""

    queue_urls: list[str] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class PurgeQueue:
    """Shape ``PurgeQueueRequest``."""

    queue_url: str


@dataclass(slots=True, kw_only=True)
class ReceiveMessage:
    """Shape ``ReceiveMessageRequest``."""

    queue_url: str
    attribute_names: list[str] | None = None
    message_system_attribute_names: list[str] | None = None
    message_attribute_names: list[str] | None = None
    max_number_of_messages: int | None = None
    visibility_timeout: int | None = None
    wait_time_seconds: int | None = None
    receive_request_attempt_id: str | None = None


@dataclass(slots=True, kw_only=True)
class MessageAttributeValue:
    """Shape ``MessageAttributeValue``."""

    string_value: str | None = None
    binary_value: bytes | None = None
    string_list_values: list[str] | None = None
    binary_list_values: list[bytes] | None = None
    data_type: str


@dataclass(slots=True, kw_only=True)
class Message:
    """Shape ``Message``."""

    message_id: str | None = None
    receipt_handle: str | None = None
    md5_of_body: str | None = None
    body: str | None = None
    attributes: dict[str, str] | None = None
    md5_of_message_attributes: str | None = None
    message_attributes: dict[str, MessageAttributeValue] | None = None


@dataclass(slots=True, kw_only=True)
class ReceiveMessageResult:
    """Shape ``ReceiveMessageResult``."""

    messages: list[Message] | None = None


@dataclass(slots=True, kw_only=True)
class RemovePermission:
    """Shape ``RemovePermissionRequest``."""

    queue_url: str
    label: str


@dataclass(slots=True, kw_only=True)
class MessageSystemAttributeValue:
    """Shape ``MessageSystemAttributeValue``."""

    string_value: str | None = None
    binary_value: bytes | None = None
    string_list_values: list[str] | None = None
    binary_list_values: list[bytes] | None = None
    data_type: str


@dataclass(slots=True, kw_only=True)
class SendMessage:
    """Shape ``SendMessageRequest``."""

    queue_url: str
    message_body: str
    delay_seconds: int | None = None
    message_attributes: dict[str, MessageAttributeValue] | None = None
    message_system_attributes: dict[str, MessageSystemAttributeValue] | None = None
    message_deduplication_id: str | None = None
    message_group_id: str | None = None


@dataclass(slots=True, kw_only=True)
class SendMessageResult:
    """Shape ``SendMessageResult``."""

    md5_of_message_body: str | None = None
    md5_of_message_attributes: str | None = None
    md5_of_message_system_attributes: str | None = None
    message_id: str | None = None
    sequence_number: str | None = None


@dataclass(slots=True, kw_only=True)
class SendMessageBatchRequestEntry:
    """Shape ``SendMessageBatchRequestEntry``."""

    id: str
    message_body: str
    delay_seconds: int | None = None
    message_attributes: dict[str, MessageAttributeValue] | None = None
    message_system_attributes: dict[str, MessageSystemAttributeValue] | None = None
    message_deduplication_id: str | None = None
    message_group_id: str | None = None


@dataclass(slots=True, kw_only=True)
class SendMessageBatch:
    """Shape ``SendMessageBatchRequest``."""

    queue_url: str
    entries: list[SendMessageBatchRequestEntry]


@dataclass(slots=True, kw_only=True)
class SendMessageBatchResultEntry:
    """Shape ``SendMessageBatchResultEntry``."""

    id: str
    message_id: str
    md5_of_message_body: str
    md5_of_message_attributes: str | None = None
    md5_of_message_system_attributes: str | None = None
    sequence_number: str | None = None


@dataclass(slots=True, kw_only=True)
class SendMessageBatchResult:
    """Shape ``SendMessageBatchResult``."""

    successful: list[SendMessageBatchResultEntry]
    failed: list[BatchResultErrorEntry]


@dataclass(slots=True, kw_only=True)
class SetQueueAttributes:
    """Shape ``SetQueueAttributesRequest``."""

    queue_url: str
    attributes: dict[str, str]


@dataclass(slots=True, kw_only=True)
class StartMessageMoveTask:
    """Shape ``StartMessageMoveTaskRequest``."""

    source_arn: str
    destination_arn: str | None = None
    max_number_of_messages_per_second: int | None = None


@dataclass(slots=True, kw_only=True)
class StartMessageMoveTaskResult:
    """Shape ``StartMessageMoveTaskResult``."""

    task_handle: str | None = None


@dataclass(slots=True, kw_only=True)
class TagQueue:
    """Shape ``TagQueueRequest``."""

    queue_url: str
    tags: dict[str, str]


@dataclass(slots=True, kw_only=True)
class UntagQueue:
    """Shape ``UntagQueueRequest``."""

    queue_url: str
    tag_keys: list[str]


SHAPES: dict[str, type] = {
    (cls.__doc__ or "").split("``")[1]: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and cls.__module__ == __name__ and cls.__doc__
}
"""Shape name (as in botocore's model) to the class that carries it."""

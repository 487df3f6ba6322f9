"""The one error hierarchy of Shoal.

Every error a client can see is a subclass of :class:`ShoalError` and carries
its wire identity as class attributes: ``code`` (the AWS shape name, rendered as
``__type`` ``com.amazonaws.sqs#<code>`` by the JSON codec), ``query_code`` (the
code of the Query protocol and of the ``x-amzn-query-error`` header), the HTTP
``status`` and whether the sender is at fault.  Codecs render these; no codec
invents codes.  A test checks that every code is one botocore's models declare
or one of AWS's common errors.

    ShoalError
    ├── InternalFailure                  500, receiver fault
    ├── ServiceUnavailable               503, receiver fault
    ├── (common client errors)
    │   ├── InvalidAction                unknown Query action
    │   ├── UnknownOperationException    unknown JSON X-Amz-Target
    │   ├── MissingParameter
    │   ├── InvalidParameterValue
    │   ├── InvalidParameterCombination
    │   ├── MalformedQueryString
    │   ├── SerializationException       malformed JSON body / wrong JSON types
    │   ├── RequestEntityTooLarge        413, body over the server's limit
    │   ├── AccessDenied                 403
    │   └── InvalidClientTokenId         403
    └── (SQS modeled errors)
        QueueDoesNotExist, QueueNameExists, QueueDeletedRecently,
        InvalidAttributeName, InvalidAttributeValue, InvalidMessageContents,
        MessageNotInflight, ReceiptHandleIsInvalid, InvalidIdFormat,
        PurgeQueueInProgress, OverLimit, UnsupportedOperation,
        TooManyEntriesInBatchRequest, EmptyBatchRequest,
        BatchEntryIdsNotDistinct, BatchRequestTooLong, InvalidBatchEntryId,
        ResourceNotFoundException, RequestThrottled, InvalidAddress,
        InvalidSecurity
    └── (SNS modeled errors, Query codes)
        InvalidParameter, NotFound, AuthorizationError, SnsInternalError,
        SnsInvalidParameterValue (ParameterValueInvalid), SnsValidationError
        (ValidationError), SnsResourceNotFound, TopicLimitExceeded,
        SubscriptionLimitExceeded, FilterPolicyLimitExceeded, TagLimitExceeded,
        TagPolicy, InvalidState, SnsBatchEntryIdsNotDistinct,
        SnsBatchRequestTooLong, SnsEmptyBatchRequest, SnsInvalidBatchEntryId,
        SnsTooManyEntriesInBatchRequest
"""

from __future__ import annotations

from typing import ClassVar


class ShoalError(Exception):
    """Base of every error a client can see; subclasses set the wire identity."""

    code: ClassVar[str] = "InternalFailure"
    query_code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    @property
    def fault(self) -> str:
        """``Sender`` or ``Receiver``, as the Query ``<Type>`` and the header spell it."""
        return "Sender" if self.sender_fault else "Receiver"


class InternalFailure(ShoalError):
    code = query_code = "InternalFailure"
    status = 500
    sender_fault = False
    default_message = "The request processing has failed because of an unknown error, exception or failure."


class ServiceUnavailable(ShoalError):
    code = query_code = "ServiceUnavailable"
    status = 503
    sender_fault = False
    default_message = "The request has failed due to a temporary failure of the server."


class InvalidAction(ShoalError):
    code = query_code = "InvalidAction"
    default_message = (
        "The action or operation requested is invalid. Verify that the action is typed correctly."
    )


class UnknownOperationException(ShoalError):
    code = query_code = "UnknownOperationException"
    default_message = (
        "The action or operation requested is invalid. Verify that the action is typed correctly."
    )


class MissingParameter(ShoalError):
    code = query_code = "MissingParameter"
    default_message = "A required parameter is missing."


class InvalidParameterValue(ShoalError):
    code = query_code = "InvalidParameterValue"
    default_message = "An invalid or out-of-range value was supplied for the input parameter."


class InvalidParameterCombination(ShoalError):
    code = query_code = "InvalidParameterCombination"
    default_message = "Parameters that must not be used together were used together."


class MalformedQueryString(ShoalError):
    code = query_code = "MalformedQueryString"
    status = 404
    default_message = "The query string contains a syntax error."


class SerializationException(ShoalError):
    code = query_code = "SerializationException"
    default_message = "The request body could not be parsed."


class RequestEntityTooLarge(ShoalError):
    code = query_code = "RequestEntityTooLarge"
    status = 413
    default_message = "The request entity is too large."


class AccessDenied(ShoalError):
    code = query_code = "AccessDenied"
    status = 403
    default_message = "Access to the resource is denied."


class InvalidClientTokenId(ShoalError):
    code = query_code = "InvalidClientTokenId"
    status = 403
    default_message = "The security token included in the request is invalid."


class QueueDoesNotExist(ShoalError):
    code = "QueueDoesNotExist"
    query_code = "AWS.SimpleQueueService.NonExistentQueue"
    default_message = "The specified queue does not exist."


class QueueNameExists(ShoalError):
    code = "QueueNameExists"
    query_code = "QueueAlreadyExists"
    default_message = "A queue already exists with the same name and a different value for attribute(s)."


class QueueDeletedRecently(ShoalError):
    code = "QueueDeletedRecently"
    query_code = "AWS.SimpleQueueService.QueueDeletedRecently"
    default_message = (
        "You must wait 60 seconds after deleting a queue before you can create another queue "
        "with the same name."
    )


class InvalidAttributeName(ShoalError):
    code = query_code = "InvalidAttributeName"
    default_message = "The specified attribute doesn't exist."


class InvalidAttributeValue(ShoalError):
    code = query_code = "InvalidAttributeValue"
    default_message = "A queue attribute value is invalid."


class InvalidMessageContents(ShoalError):
    code = query_code = "InvalidMessageContents"
    default_message = "The message contains characters outside the allowed set."


class MessageNotInflight(ShoalError):
    code = "MessageNotInflight"
    query_code = "AWS.SimpleQueueService.MessageNotInflight"
    default_message = "The specified message isn't in flight."


class ReceiptHandleIsInvalid(ShoalError):
    code = query_code = "ReceiptHandleIsInvalid"
    default_message = "The specified receipt handle isn't valid."


class InvalidIdFormat(ShoalError):
    code = query_code = "InvalidIdFormat"
    default_message = "The specified receipt handle isn't valid for the current version."


class PurgeQueueInProgress(ShoalError):
    code = "PurgeQueueInProgress"
    query_code = "AWS.SimpleQueueService.PurgeQueueInProgress"
    status = 403
    default_message = "Only one PurgeQueue operation on a queue is allowed every 60 seconds."


class OverLimit(ShoalError):
    code = query_code = "OverLimit"
    status = 403
    default_message = "The specified action violates a limit."


class UnsupportedOperation(ShoalError):
    code = "UnsupportedOperation"
    query_code = "AWS.SimpleQueueService.UnsupportedOperation"
    default_message = "This operation is not supported."


class TooManyEntriesInBatchRequest(ShoalError):
    code = "TooManyEntriesInBatchRequest"
    query_code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    default_message = "Maximum number of entries per request are 10."


class EmptyBatchRequest(ShoalError):
    code = "EmptyBatchRequest"
    query_code = "AWS.SimpleQueueService.EmptyBatchRequest"
    default_message = "There should be at least one entry in the request."


class BatchEntryIdsNotDistinct(ShoalError):
    code = "BatchEntryIdsNotDistinct"
    query_code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    default_message = "Two or more batch entries in the request have the same Id."


class BatchRequestTooLong(ShoalError):
    code = "BatchRequestTooLong"
    query_code = "AWS.SimpleQueueService.BatchRequestTooLong"
    default_message = "Batch requests cannot be longer than 1048576 bytes."


class InvalidBatchEntryId(ShoalError):
    code = "InvalidBatchEntryId"
    query_code = "AWS.SimpleQueueService.InvalidBatchEntryId"
    default_message = (
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
        "It can be at most 80 letters long."
    )


class ResourceNotFoundException(ShoalError):
    code = query_code = "ResourceNotFoundException"
    status = 404
    default_message = "The specified resource does not exist."


class RequestThrottled(ShoalError):
    code = query_code = "RequestThrottled"
    status = 403
    default_message = "The request was denied due to request throttling."


class InvalidAddress(ShoalError):
    code = query_code = "InvalidAddress"
    status = 404
    default_message = "The specified ID is invalid."


class InvalidSecurity(ShoalError):
    code = query_code = "InvalidSecurity"
    status = 403
    default_message = "The request was not made over HTTPS or did not use SigV4 for signing."


def all_errors() -> list[type[ShoalError]]:
    """Every concrete error class (the table the error-table test walks)."""
    found: list[type[ShoalError]] = []
    pending: list[type[ShoalError]] = [ShoalError]
    while pending:
        cls = pending.pop()
        subclasses = cls.__subclasses__()
        pending.extend(subclasses)
        if cls is not ShoalError:
            found.append(cls)
    return found


class MissingAction(ShoalError):
    code = query_code = "MissingAction"
    default_message = "The request is missing an action or a required parameter."


class InvalidParameter(ShoalError):
    """SNS's error for an invalid request parameter (its message names the parameter)."""

    code = query_code = "InvalidParameter"
    default_message = "Invalid parameter."


# -- SNS ------------------------------------------------------------------------------------
# SNS speaks Query only, so ``query_code`` is the code its clients see (botocore's SNS error
# shapes' ``error.code``).  Where SNS shares a code with an SQS error of a different wire
# identity (the batch errors, which SQS prefixes with ``AWS.SimpleQueueService.``), the SNS
# class is prefixed ``Sns``.


class NotFound(ShoalError):
    code = query_code = "NotFound"
    status = 404
    default_message = "Topic does not exist"


class AuthorizationError(ShoalError):
    code = query_code = "AuthorizationError"
    status = 403
    default_message = "User is not authorized to perform this action."


class SnsInternalError(ShoalError):
    code = query_code = "InternalError"
    status = 500
    sender_fault = False
    default_message = "Internal error."


class SnsInvalidParameterValue(ShoalError):
    """SNS's InvalidParameterValueException (code ``ParameterValueInvalid``)."""

    code = query_code = "ParameterValueInvalid"
    default_message = "Invalid parameter value."


class SnsValidationError(ShoalError):
    """A request that does not fit the action's shape (AWS's common ``ValidationError``)."""

    code = query_code = "ValidationError"
    default_message = "1 validation error detected."


class SnsResourceNotFound(ShoalError):
    code = query_code = "ResourceNotFound"
    status = 404
    default_message = "Resource does not exist."


class TopicLimitExceeded(ShoalError):
    code = query_code = "TopicLimitExceeded"
    status = 403
    default_message = "Topic already exists with different attributes"


class SubscriptionLimitExceeded(ShoalError):
    code = query_code = "SubscriptionLimitExceeded"
    status = 403
    default_message = "Subscription limit exceeded."


class FilterPolicyLimitExceeded(ShoalError):
    code = query_code = "FilterPolicyLimitExceeded"
    status = 403
    default_message = "Filter policy limit exceeded."


class TagLimitExceeded(ShoalError):
    code = query_code = "TagLimitExceeded"
    default_message = "Could not complete request: tag quota of per resource exceeded"


class TagPolicy(ShoalError):
    code = query_code = "TagPolicy"
    default_message = "The request doesn't comply with the IAM tag policy."


class InvalidState(ShoalError):
    code = query_code = "InvalidState"
    default_message = "The resource is in an invalid state."


class SnsBatchEntryIdsNotDistinct(ShoalError):
    code = query_code = "BatchEntryIdsNotDistinct"
    default_message = "Two or more batch entries in the request have the same Id."


class SnsBatchRequestTooLong(ShoalError):
    code = query_code = "BatchRequestTooLong"
    default_message = "The length of all the batch messages put together is more than the limit."


class SnsEmptyBatchRequest(ShoalError):
    code = query_code = "EmptyBatchRequest"
    default_message = "The batch request doesn't contain any entries."


class SnsInvalidBatchEntryId(ShoalError):
    code = query_code = "InvalidBatchEntryId"
    default_message = "The Id of a batch entry in a batch request doesn't abide by the specification."


class SnsTooManyEntriesInBatchRequest(ShoalError):
    code = query_code = "TooManyEntriesInBatchRequest"
    default_message = "The batch request contains more entries than permissible."

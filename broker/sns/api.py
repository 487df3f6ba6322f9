"""Typed SNS requests and results, one slotted dataclass per botocore shape.

Rules as in ``broker.sqs.api``: a request class is named after its action
(``Publish`` for the shape ``PublishInput``); every other class keeps its
shape's name; field names are ``botocore.xform_name`` of the member names.
``SHAPES`` maps shape names to classes.  Types only: the codecs import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, kw_only=True)
class AddPermission:
    """Shape ``AddPermissionInput``."""

    topic_arn: str
    label: str
    aws_account_id: list[str]
    action_name: list[str]


@dataclass(slots=True, kw_only=True)
class CheckIfPhoneNumberIsOptedOut:
    """Shape ``CheckIfPhoneNumberIsOptedOutInput``."""

    phone_number: str


@dataclass(slots=True, kw_only=True)
class CheckIfPhoneNumberIsOptedOutResponse:
    """Shape ``CheckIfPhoneNumberIsOptedOutResponse``."""

    is_opted_out: bool | None = None


@dataclass(slots=True, kw_only=True)
class ConfirmSubscription:
    """Shape ``ConfirmSubscriptionInput``."""

    topic_arn: str
    token: str
    authenticate_on_unsubscribe: str | None = None


@dataclass(slots=True, kw_only=True)
class ConfirmSubscriptionResponse:
    """Shape ``ConfirmSubscriptionResponse``."""

    subscription_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class CreatePlatformApplication:
    """Shape ``CreatePlatformApplicationInput``."""

    name: str
    platform: str
    attributes: dict[str, str]


@dataclass(slots=True, kw_only=True)
class CreatePlatformApplicationResponse:
    """Shape ``CreatePlatformApplicationResponse``."""

    platform_application_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class CreatePlatformEndpoint:
    """Shape ``CreatePlatformEndpointInput``."""

    platform_application_arn: str
    token: str
    custom_user_data: str | None = None
    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class CreateEndpointResponse:
    """Shape ``CreateEndpointResponse``."""

    endpoint_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class CreateSMSSandboxPhoneNumber:
    """Shape ``CreateSMSSandboxPhoneNumberInput``."""

    phone_number: str
    language_code: str | None = None


@dataclass(slots=True, kw_only=True)
class CreateSMSSandboxPhoneNumberResult:
    """Shape ``CreateSMSSandboxPhoneNumberResult``."""


@dataclass(slots=True, kw_only=True)
class Tag:
    """Shape ``Tag``."""

    key: str
    value: str


@dataclass(slots=True, kw_only=True)
class CreateTopic:
    """Shape ``CreateTopicInput``."""

    name: str
    attributes: dict[str, str] | None = None
    tags: list[Tag] | None = None
    data_protection_policy: str | None = None


@dataclass(slots=True, kw_only=True)
class CreateTopicResponse:
    """Shape ``CreateTopicResponse``."""

    topic_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class DeleteEndpoint:
    """Shape ``DeleteEndpointInput``."""

    endpoint_arn: str


@dataclass(slots=True, kw_only=True)
class DeletePlatformApplication:
    """Shape ``DeletePlatformApplicationInput``."""

    platform_application_arn: str


@dataclass(slots=True, kw_only=True)
class DeleteSMSSandboxPhoneNumber:
    """Shape ``DeleteSMSSandboxPhoneNumberInput``."""

    phone_number: str


@dataclass(slots=True, kw_only=True)
class DeleteSMSSandboxPhoneNumberResult:
    """Shape ``DeleteSMSSandboxPhoneNumberResult``."""


@dataclass(slots=True, kw_only=True)
class DeleteTopic:
    """Shape ``DeleteTopicInput``."""

    topic_arn: str


@dataclass(slots=True, kw_only=True)
class GetDataProtectionPolicy:
    """Shape ``GetDataProtectionPolicyInput``."""

    resource_arn: str


@dataclass(slots=True, kw_only=True)
class GetDataProtectionPolicyResponse:
    """Shape ``GetDataProtectionPolicyResponse``."""

    data_protection_policy: str | None = None


@dataclass(slots=True, kw_only=True)
class GetEndpointAttributes:
    """Shape ``GetEndpointAttributesInput``."""

    endpoint_arn: str


@dataclass(slots=True, kw_only=True)
class GetEndpointAttributesResponse:
    """Shape ``GetEndpointAttributesResponse``."""

    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class GetPlatformApplicationAttributes:
    """Shape ``GetPlatformApplicationAttributesInput``."""

    platform_application_arn: str


@dataclass(slots=True, kw_only=True)
class GetPlatformApplicationAttributesResponse:
    """Shape ``GetPlatformApplicationAttributesResponse``."""

    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class GetSMSAttributes:
    """Shape ``GetSMSAttributesInput``."""

    attributes: list[str] | None = None


@dataclass(slots=True, kw_only=True)
class GetSMSAttributesResponse:
    """Shape ``GetSMSAttributesResponse``."""

    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class GetSMSSandboxAccountStatus:
    """Shape ``GetSMSSandboxAccountStatusInput``."""


@dataclass(slots=True, kw_only=True)
class GetSMSSandboxAccountStatusResult:
    """Shape ``GetSMSSandboxAccountStatusResult``."""

    is_in_sandbox: bool


@dataclass(slots=True, kw_only=True)
class GetSubscriptionAttributes:
    """Shape ``GetSubscriptionAttributesInput``."""

    subscription_arn: str


@dataclass(slots=True, kw_only=True)
class GetSubscriptionAttributesResponse:
    """Shape ``GetSubscriptionAttributesResponse``."""

    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class GetTopicAttributes:
    """Shape ``GetTopicAttributesInput``."""

    topic_arn: str


@dataclass(slots=True, kw_only=True)
class GetTopicAttributesResponse:
    """Shape ``GetTopicAttributesResponse``."""

    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class ListEndpointsByPlatformApplication:
    """Shape ``ListEndpointsByPlatformApplicationInput``."""

    platform_application_arn: str
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class Endpoint:
    """Shape ``Endpoint``."""

    endpoint_arn: str | None = None
    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class ListEndpointsByPlatformApplicationResponse:
    """Shape ``ListEndpointsByPlatformApplicationResponse``."""

    endpoints: list[Endpoint] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListOriginationNumbers:
    """Shape ``ListOriginationNumbersRequest``."""

    next_token: str | None = None
    max_results: int | None = None


@dataclass(slots=True, kw_only=True)
class PhoneNumberInformation:
    """Shape ``PhoneNumberInformation``."""

    created_at: int | None = None
    phone_number: str | None = None
    status: str | None = None
    iso2_country_code: str | None = None
    route_type: str | None = None
    number_capabilities: list[str] | None = None


@dataclass(slots=True, kw_only=True)
class ListOriginationNumbersResult:
    """Shape ``ListOriginationNumbersResult``."""

    next_token: str | None = None
    phone_numbers: list[PhoneNumberInformation] | None = None


@dataclass(slots=True, kw_only=True)
class ListPhoneNumbersOptedOut:
    """Shape ``ListPhoneNumbersOptedOutInput``."""

    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListPhoneNumbersOptedOutResponse:
    """Shape ``ListPhoneNumbersOptedOutResponse``."""

    phone_numbers: list[str] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListPlatformApplications:
    """Shape ``ListPlatformApplicationsInput``."""

    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class PlatformApplication:
    """Shape ``PlatformApplication``."""

    platform_application_arn: str | None = None
    attributes: dict[str, str] | None = None


@dataclass(slots=True, kw_only=True)
class ListPlatformApplicationsResponse:
    """Shape ``ListPlatformApplicationsResponse``."""

    platform_applications: list[PlatformApplication] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListSMSSandboxPhoneNumbers:
    """Shape ``ListSMSSandboxPhoneNumbersInput``."""

    next_token: str | None = None
    max_results: int | None = None


@dataclass(slots=True, kw_only=True)
class SMSSandboxPhoneNumber:
    """Shape ``SMSSandboxPhoneNumber``."""

    phone_number: str | None = None
    status: str | None = None


@dataclass(slots=True, kw_only=True)
class ListSMSSandboxPhoneNumbersResult:
    """Shape ``ListSMSSandboxPhoneNumbersResult``."""

    phone_numbers: list[SMSSandboxPhoneNumber]
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListSubscriptions:
    """Shape ``ListSubscriptionsInput``."""

    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class Subscription:
    """Shape ``Subscription``."""

    subscription_arn: str | None = None
    owner: str | None = None
    protocol: str | None = None
    endpoint: str | None = None
    topic_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class ListSubscriptionsResponse:
    """Shape ``ListSubscriptionsResponse``."""

    subscriptions: list[Subscription] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListSubscriptionsByTopic:
    """Shape ``ListSubscriptionsByTopicInput``."""

    topic_arn: str
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListSubscriptionsByTopicResponse:
    """Shape ``ListSubscriptionsByTopicResponse``."""

    subscriptions: list[Subscription] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class ListTagsForResource:
    """Shape ``ListTagsForResourceRequest``."""

    resource_arn: str


@dataclass(slots=True, kw_only=True)
class ListTagsForResourceResponse:
    """Shape ``ListTagsForResourceResponse``."""

    tags: list[Tag] | None = None


@dataclass(slots=True, kw_only=True)
class ListTopics:
    """Shape ``ListTopicsInput``."""

    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class Topic:
    """Shape ``Topic``."""

    topic_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class ListTopicsResponse:
    """Shape ``ListTopicsResponse``."""

    topics: list[Topic] | None = None
    next_token: str | None = None


@dataclass(slots=True, kw_only=True)
class OptInPhoneNumber:
    """Shape ``OptInPhoneNumberInput``."""

    phone_number: str


@dataclass(slots=True, kw_only=True)
class OptInPhoneNumberResponse:
    """Shape ``OptInPhoneNumberResponse``."""


@dataclass(slots=True, kw_only=True)
class MessageAttributeValue:
    """Shape ``MessageAttributeValue``."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


@dataclass(slots=True, kw_only=True)
class Publish:
    """Shape ``PublishInput``."""

    topic_arn: str | None = None
    target_arn: str | None = None
    phone_number: str | None = None
    message: str
    subject: str | None = None
    message_structure: str | None = None
    message_attributes: dict[str, MessageAttributeValue] | None = None
    message_deduplication_id: str | None = None
    message_group_id: str | None = None


@dataclass(slots=True, kw_only=True)
class PublishResponse:
    """Shape ``PublishResponse``."""

    message_id: str | None = None
    sequence_number: str | None = None


@dataclass(slots=True, kw_only=True)
class PublishBatchRequestEntry:
    """Shape ``PublishBatchRequestEntry``."""

    id: str
    message: str
    subject: str | None = None
    message_structure: str | None = None
    message_attributes: dict[str, MessageAttributeValue] | None = None
    message_deduplication_id: str | None = None
    message_group_id: str | None = None


@dataclass(slots=True, kw_only=True)
class PublishBatch:
    """Shape ``PublishBatchInput``."""

    topic_arn: str
    publish_batch_request_entries: list[PublishBatchRequestEntry]


@dataclass(slots=True, kw_only=True)
class PublishBatchResultEntry:
    """Shape ``PublishBatchResultEntry``."""

    id: str | None = None
    message_id: str | None = None
    sequence_number: str | None = None


@dataclass(slots=True, kw_only=True)
class BatchResultErrorEntry:
    """Shape ``BatchResultErrorEntry``."""

    id: str
    code: str
    message: str | None = None
    sender_fault: bool


@dataclass(slots=True, kw_only=True)
class PublishBatchResponse:
    """Shape ``PublishBatchResponse``."""

    successful: list[PublishBatchResultEntry] | None = None
    failed: list[BatchResultErrorEntry] | None = None


@dataclass(slots=True, kw_only=True)
class PutDataProtectionPolicy:
    """Shape ``PutDataProtectionPolicyInput``."""

    resource_arn: str
    data_protection_policy: str


@dataclass(slots=True, kw_only=True)
class RemovePermission:
    """Shape ``RemovePermissionInput``."""

    topic_arn: str
    label: str


@dataclass(slots=True, kw_only=True)
class SetEndpointAttributes:
    """Shape ``SetEndpointAttributesInput``."""

    endpoint_arn: str
    attributes: dict[str, str]


@dataclass(slots=True, kw_only=True)
class SetPlatformApplicationAttributes:
    """Shape ``SetPlatformApplicationAttributesInput``."""

    platform_application_arn: str
    attributes: dict[str, str]


@dataclass(slots=True, kw_only=True)
class SetSMSAttributes:
    """Shape ``SetSMSAttributesInput``."""

    attributes: dict[str, str]


@dataclass(slots=True, kw_only=True)
class SetSMSAttributesResponse:
    """Shape ``SetSMSAttributesResponse``."""


@dataclass(slots=True, kw_only=True)
class SetSubscriptionAttributes:
    """Shape ``SetSubscriptionAttributesInput``."""

    subscription_arn: str
    attribute_name: str
    attribute_value: str | None = None


@dataclass(slots=True, kw_only=True)
class SetTopicAttributes:
    """Shape ``SetTopicAttributesInput``."""

    topic_arn: str
    attribute_name: str
    attribute_value: str | None = None


@dataclass(slots=True, kw_only=True)
class Subscribe:
    """Shape ``SubscribeInput``."""

    topic_arn: str
    protocol: str
    endpoint: str | None = None
    attributes: dict[str, str] | None = None
    return_subscription_arn: bool | None = None


@dataclass(slots=True, kw_only=True)
class SubscribeResponse:
    """Shape ``SubscribeResponse``."""

    subscription_arn: str | None = None


@dataclass(slots=True, kw_only=True)
class TagResource:
    """Shape ``TagResourceRequest``."""

    resource_arn: str
    tags: list[Tag]


@dataclass(slots=True, kw_only=True)
class TagResourceResponse:
    """Shape ``TagResourceResponse``."""


@dataclass(slots=True, kw_only=True)
class Unsubscribe:
    """Shape ``UnsubscribeInput``."""

    subscription_arn: str


@dataclass(slots=True, kw_only=True)
class UntagResource:
    """Shape ``UntagResourceRequest``."""

    resource_arn: str
    tag_keys: list[str]


@dataclass(slots=True, kw_only=True)
class UntagResourceResponse:
    """Shape ``UntagResourceResponse``."""


@dataclass(slots=True, kw_only=True)
class VerifySMSSandboxPhoneNumber:
    """Shape ``VerifySMSSandboxPhoneNumberInput``."""

    phone_number: str
    one_time_password: str


@dataclass(slots=True, kw_only=True)
class VerifySMSSandboxPhoneNumberResult:
    """Shape ``VerifySMSSandboxPhoneNumberResult``."""


SHAPES: dict[str, type] = {
    (cls.__doc__ or "").split("``")[1]: cls
    for cls in list(globals().values())
    if isinstance(cls, type) and cls.__module__ == __name__ and cls.__doc__
}
"""Shape name (as in botocore's model) to the class that carries it."""

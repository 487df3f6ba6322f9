"""The SNS service: the dispatch table from request type to action, and start-up.

SMS, mobile push (platform applications and endpoints) and SMS sandbox
actions are not implemented: they answer the error AWS gives when the
resource or the capability is missing (NotFound for a platform application or
endpoint ARN, InvalidParameter for credentials it cannot check,
AuthorizationError for account-level SMS settings), never a fake success.
Listing them answers empty lists, which is true.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from broker.clock import Clock
from broker.context import RequestContext
from broker.errors import AuthorizationError, InvalidParameter, NotFound, UnsupportedOperation
from broker.sns import api
from broker.sns.delivery import DeliveryTarget, HttpTarget, RecordingTarget, SqsTarget
from broker.sns.management import TopicActions
from broker.sns.outbox import Outbox, Poster
from broker.sns.publishing import PublishActions
from broker.sns.runtime import SnsRuntime
from broker.sns.signing import Signer
from broker.sns.subscribing import SubscriptionActions
from broker.sqs.service import SqsService
from storage.committer import GroupCommitter
from storage.store import LmdbStore

Handler = Callable[[Any, RequestContext], Awaitable[object | None]]

SMS_ACTIONS = (
    api.CheckIfPhoneNumberIsOptedOut,
    api.GetSMSAttributes,
    api.SetSMSAttributes,
    api.OptInPhoneNumber,
    api.GetSMSSandboxAccountStatus,
    api.CreateSMSSandboxPhoneNumber,
    api.DeleteSMSSandboxPhoneNumber,
    api.VerifySMSSandboxPhoneNumber,
)
PLATFORM_ACTIONS = (
    api.GetPlatformApplicationAttributes,
    api.SetPlatformApplicationAttributes,
    api.DeletePlatformApplication,
    api.CreatePlatformEndpoint,
    api.ListEndpointsByPlatformApplication,
)
ENDPOINT_ACTIONS = (api.GetEndpointAttributes, api.SetEndpointAttributes, api.DeleteEndpoint)


class SnsService:
    """Amazon SNS semantics over the store, delivering into ``sqs``."""

    def __init__(
        self,
        store: LmdbStore,
        committer: GroupCommitter,
        clock: Clock,
        sqs: SqsService,
        poster: Poster | None = None,
    ) -> None:
        self.rt = SnsRuntime(store, committer, clock, sqs)
        recording = RecordingTarget(self.rt)
        self.outbox = Outbox(self.rt, poster)
        """HTTP/S deliveries: persisted, sent by ``poster`` (the server's outbound HTTP client)."""
        http = HttpTarget(self.rt, self.outbox)
        self.targets: dict[str, DeliveryTarget] = {
            "sqs": SqsTarget(self.rt),
            "http": http,
            "https": http,
            **dict.fromkeys(("email", "email-json", "sms", "lambda", "firehose", "application"), recording),
        }
        """Protocol to delivery target: the seam for HTTP delivery (see :mod:`broker.sns.delivery`)."""
        self.recording = recording
        self.topics = TopicActions(self.rt)
        self.subscriptions = SubscriptionActions(self.rt, self.targets)
        self.publishing = PublishActions(self.rt, self.targets)
        self.handlers: dict[type, Handler] = {
            api.CreateTopic: self.topics.create_topic,
            api.DeleteTopic: self.topics.delete_topic,
            api.ListTopics: self.topics.list_topics,
            api.GetTopicAttributes: self.topics.get_topic_attributes,
            api.SetTopicAttributes: self.topics.set_topic_attributes,
            api.AddPermission: self.topics.add_permission,
            api.RemovePermission: self.topics.remove_permission,
            api.TagResource: self.topics.tag_resource,
            api.UntagResource: self.topics.untag_resource,
            api.ListTagsForResource: self.topics.list_tags_for_resource,
            api.GetDataProtectionPolicy: self.topics.get_data_protection_policy,
            api.PutDataProtectionPolicy: self.topics.put_data_protection_policy,
            api.Subscribe: self.subscriptions.subscribe,
            api.ConfirmSubscription: self.subscriptions.confirm_subscription,
            api.Unsubscribe: self.subscriptions.unsubscribe,
            api.ListSubscriptions: self.subscriptions.list_subscriptions,
            api.ListSubscriptionsByTopic: self.subscriptions.list_subscriptions_by_topic,
            api.GetSubscriptionAttributes: self.subscriptions.get_subscription_attributes,
            api.SetSubscriptionAttributes: self.subscriptions.set_subscription_attributes,
            api.Publish: self.publishing.publish,
            api.PublishBatch: self.publishing.publish_batch,
            api.ListPlatformApplications: _empty(
                api.ListPlatformApplicationsResponse(platform_applications=[])
            ),
            api.ListPhoneNumbersOptedOut: _empty(api.ListPhoneNumbersOptedOutResponse(phone_numbers=[])),
            api.ListOriginationNumbers: _empty(api.ListOriginationNumbersResult(phone_numbers=[])),
            api.ListSMSSandboxPhoneNumbers: _empty(api.ListSMSSandboxPhoneNumbersResult(phone_numbers=[])),
            api.CreatePlatformApplication: _refuse(
                InvalidParameter("Invalid parameter: Attributes Reason: Platform credentials are invalid")
            ),
            **dict.fromkeys(PLATFORM_ACTIONS, _refuse(NotFound("PlatformApplication does not exist"))),
            **dict.fromkeys(ENDPOINT_ACTIONS, _refuse(NotFound("Endpoint does not exist"))),
            **dict.fromkeys(
                SMS_ACTIONS,
                _refuse(
                    AuthorizationError("User is not authorized to perform SMS actions: SMS is not supported")
                ),
            ),
        }

    async def start(self) -> None:
        """Load the signer, every topic and subscription."""
        signer, writes = Signer.load(self.rt.store)
        self.rt.signer = signer
        self.rt.topics.load(self.rt.store)
        writes += self.rt.subscriptions.load(self.rt.store, self.rt.topics.by_id)
        if writes:
            await self.rt.commit(writes)
        self.outbox.load()
        self.outbox.start()

    async def close(self) -> None:
        """Stop the HTTP/S sender (pending deliveries stay in the store)."""
        await self.outbox.close()

    def dispatch(self, request: object, ctx: RequestContext) -> Awaitable[object | None]:
        """The handler's coroutine for ``request`` (await it); UnsupportedOperation at once."""
        handler = self.handlers.get(type(request))
        if handler is None:
            raise UnsupportedOperation(f"{type(request).__name__} is not supported.")
        return handler(request, ctx)


def _empty(result: object) -> Handler:
    async def answer(request: object, ctx: RequestContext) -> object:
        return result

    return answer


def _refuse(error: Exception) -> Handler:
    async def answer(request: object, ctx: RequestContext) -> object:
        raise type(error)(str(error))

    return answer

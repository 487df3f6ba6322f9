"""Subscription actions: Subscribe, ConfirmSubscription, Unsubscribe, the two
lists, and Get/SetSubscriptionAttributes.

Rules (AWS's): the endpoint must fit the protocol (an SQS queue ARN, an
``http://`` / ``https://`` URL, an e-mail address, an E.164 phone number, a
Lambda / Firehose / platform-endpoint ARN); a FIFO queue may subscribe only to
a FIFO topic.  Subscribing the same endpoint twice answers the same
subscription (InvalidParameter if the attributes differ).  Subscriptions of
SQS queues in the caller's account are confirmed at once; every other one is
pending until ConfirmSubscription with the token sent to the endpoint (the
target's ``confirmation``), and Subscribe then answers ``pending
confirmation`` unless ReturnSubscriptionArn is true.  Lists page by 100.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from broker.context import RequestContext
from broker.errors import FilterPolicyLimitExceeded, InvalidParameter, NotFound
from broker.ids import new_id
from broker.sns import api, documents, envelope, messages
from broker.sns.delivery import DeliveryTarget
from broker.sns.filter_policy import MESSAGE_PREFIX, SCOPES, compile_filter_policy
from broker.sns.runtime import SnsRuntime
from broker.sns.subscriptions import Subscription
from broker.sns.topics import Topic, split_arn
from storage.records import SubscriptionRecord, pack_record, unpack_subscription
from storage.store import Db, Write, delete, put

PAGE = 100
UNSUBSCRIBED_PREFIX = b"sns:u:"
"""Meta key prefix of unsubscribed HTTP(S) subscriptions, by the token that restores them."""
MAX_FILTER_POLICIES_PER_TOPIC = 200
MAX_FILTER_POLICIES_PER_ACCOUNT = 10_000
PENDING = "pending confirmation"
SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "FilterPolicy",
        "FilterPolicyScope",
        "RawMessageDelivery",
        "RedrivePolicy",
        "SubscriptionRoleArn",
        "ReplayPolicy",
    }
)
RAW_PROTOCOLS = frozenset({"sqs", "http", "https", "firehose", "lambda"})
_ENDPOINTS: dict[str, re.Pattern[str]] = {
    "sqs": re.compile(r"^arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$"),
    "http": re.compile(r"^http://\S+$"),
    "https": re.compile(r"^https://\S+$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+$"),
    "email-json": re.compile(r"^[^@\s]+@[^@\s]+$"),
    "sms": re.compile(r"^\+?[1-9]\d{6,14}$"),
    "lambda": re.compile(r"^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:\S+$"),
    "firehose": re.compile(r"^arn:aws:firehose:[a-z0-9-]+:\d{12}:deliverystream/\S+$"),
    "application": re.compile(r"^arn:aws:sns:[a-z0-9-]+:\d{12}:endpoint/\S+$"),
}


class SubscriptionActions:
    """The subscription half of the SNS API."""

    def __init__(self, runtime: SnsRuntime, targets: dict[str, DeliveryTarget]) -> None:
        self.rt = runtime
        self.targets = targets

    async def subscribe(self, req: api.Subscribe, ctx: RequestContext) -> api.SubscribeResponse:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        protocol = req.protocol.lower()
        if protocol not in _ENDPOINTS:
            raise InvalidParameter(
                f"Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
            )
        endpoint = req.endpoint or ""
        if not _ENDPOINTS[protocol].match(endpoint):
            raise InvalidParameter(_endpoint_message(protocol))
        if protocol == "sqs" and endpoint.endswith(".fifo") and not topic.fifo:
            raise InvalidParameter(
                "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                "subscribed to standard SNS topics"
            )
        attributes = dict(req.attributes or {})
        for name, value in attributes.items():
            _check_attribute(name, value, protocol, attributes, subscribe=True)
        if protocol == "firehose" and "SubscriptionRoleArn" not in attributes:
            raise InvalidParameter("Invalid parameter: Attributes Reason: SubscriptionRoleArn is required")
        for sub in self.rt.subscriptions.of_topic(topic):
            if (sub.protocol, sub.record.endpoint) == (protocol, endpoint):
                if any(sub.attributes.get(name) != value for name, value in attributes.items()):
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Subscription already exists with different "
                        "attributes"
                    )
                confirmed = sub.record.confirmed or req.return_subscription_arn
                return api.SubscribeResponse(subscription_arn=sub.arn if confirmed else PENDING)
        confirmed = protocol == "sqs" and endpoint.split(":")[4] == ctx.account_id
        record = SubscriptionRecord(
            subscription_id=new_id(),
            topic_id=topic.topic_id,
            owner=ctx.account_id,
            protocol=protocol,
            endpoint=endpoint,
            attributes=attributes,
            confirmed=confirmed,
            token=None if confirmed else secrets.token_hex(64),
            created_ms=self.rt.now_ms(),
        )
        sub = Subscription(record, topic)
        sub.filter_policy()  # compiled (and validated) before it is stored
        protocols = [other.protocol for other in self.rt.subscriptions.of_topic(topic)]
        messages.check_large_message_topic(messages.max_size(topic.attributes), [*protocols, protocol])
        if "FilterPolicy" in attributes:
            self._check_filter_policy_quota(topic, ctx.account_id)
        writes: list[Write] = [sub.write()]
        settle = None
        if not confirmed:
            delivery = self.targets[protocol].confirmation(sub, self._confirmation(sub, ctx))
            if delivery is not None:
                writes += delivery.writes
                settle = delivery.settle
        self.rt.subscriptions.add(sub)
        await self.rt.commit(writes)
        if settle is not None:
            settle()
        return api.SubscribeResponse(
            subscription_arn=sub.arn if confirmed or req.return_subscription_arn else PENDING
        )

    async def confirm_subscription(
        self, req: api.ConfirmSubscription, ctx: RequestContext
    ) -> api.ConfirmSubscriptionResponse:
        # The token is the authority (the SubscribeURL is followed unsigned), so any account may confirm.
        if split_arn(req.topic_arn) is None:
            raise InvalidParameter("Invalid parameter: TopicArn")
        topic = self.rt.topics.by_arn(req.topic_arn)
        if topic is None:
            raise NotFound("Topic does not exist")
        sub = self.rt.subscriptions.by_token(topic, req.token)
        if sub is None:
            sub = await self._restore(topic, req.token)
        if sub is None:
            raise InvalidParameter("Invalid parameter: Token")
        if not sub.record.confirmed:
            sub.record = sub.record._replace(confirmed=True)
            await self.rt.commit([sub.write()])
        return api.ConfirmSubscriptionResponse(subscription_arn=sub.arn)

    async def unsubscribe(self, req: api.Unsubscribe, ctx: RequestContext) -> None:
        # The UnsubscribeURL of every notification is followed unsigned, as on AWS: the ARN suffices.
        sub = self.rt.subscriptions.by_arn(req.subscription_arn) or self._resolve(req.subscription_arn, ctx)
        writes: list[Write] = [sub.delete()]
        settle: Callable[[], None] | None = None
        if sub.protocol in ("http", "https") and sub.record.confirmed:
            # AWS tells an HTTP(S) subscriber it was unsubscribed; the message's SubscribeURL
            # (a token kept under ``sns:u:``) restores the subscription.
            token = secrets.token_hex(64)
            writes.append(put(Db.META, UNSUBSCRIBED_PREFIX + token.encode(), pack_record(sub.record)))
            fields = self._confirmation(sub, ctx, token=token, unsubscribed=sub.arn)
            delivery = self.targets[sub.protocol].confirmation(sub, fields)
            if delivery is not None:
                writes += delivery.writes
                settle = delivery.settle
        self.rt.subscriptions.remove(sub)
        sub.topic.deleted_subscriptions += 1
        await self.rt.commit(writes)
        if settle is not None:
            settle()
        return None

    async def _restore(self, topic: Topic, token: str) -> Subscription | None:
        """The subscription an UnsubscribeConfirmation's token restores, if any."""
        key = UNSUBSCRIBED_PREFIX + token.encode()
        raw = self.rt.store.get(Db.META, key)
        if raw is None:
            return None
        record = unpack_subscription(raw)
        if record.topic_id != topic.topic_id or record.subscription_id in self.rt.subscriptions.by_id:
            return None
        sub = Subscription(record._replace(confirmed=True, token=None), topic)
        self.rt.subscriptions.add(sub)
        await self.rt.commit([sub.write(), delete(Db.META, key)])
        return sub

    async def list_subscriptions(
        self, req: api.ListSubscriptions, ctx: RequestContext
    ) -> api.ListSubscriptionsResponse:
        subs = sorted(self.rt.subscriptions.of_account(ctx.account_id), key=lambda s: s.arn)
        page, token = _page(subs, req.next_token)
        return api.ListSubscriptionsResponse(subscriptions=page, next_token=token)

    async def list_subscriptions_by_topic(
        self, req: api.ListSubscriptionsByTopic, ctx: RequestContext
    ) -> api.ListSubscriptionsByTopicResponse:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        subs = sorted(self.rt.subscriptions.of_topic(topic), key=lambda s: s.arn)
        page, token = _page(subs, req.next_token)
        return api.ListSubscriptionsByTopicResponse(subscriptions=page, next_token=token)

    async def get_subscription_attributes(
        self, req: api.GetSubscriptionAttributes, ctx: RequestContext
    ) -> api.GetSubscriptionAttributesResponse:
        sub = self._resolve(req.subscription_arn, ctx)
        r = sub.record
        out = {
            "Owner": r.owner,
            "RawMessageDelivery": "false",
            "TopicArn": sub.topic.arn,
            "Endpoint": r.endpoint,
            "Protocol": r.protocol,
            "PendingConfirmation": "false" if r.confirmed else "true",
            "ConfirmationWasAuthenticated": "true" if r.confirmed else "false",
            "SubscriptionArn": sub.arn,
            "SubscriptionPrincipal": f"arn:aws:iam::{r.owner}:root",
        }
        if r.protocol in ("http", "https"):
            out["EffectiveDeliveryPolicy"] = documents.effective_subscription_delivery_policy(
                r.attributes.get("DeliveryPolicy"), sub.topic.attributes.get("DeliveryPolicy"), r.protocol
            )
        out.update(r.attributes)
        if "FilterPolicy" in r.attributes and "FilterPolicyScope" not in r.attributes:
            out["FilterPolicyScope"] = "MessageAttributes"
        return api.GetSubscriptionAttributesResponse(attributes=out)

    async def set_subscription_attributes(
        self, req: api.SetSubscriptionAttributes, ctx: RequestContext
    ) -> None:
        sub = self._resolve(req.subscription_arn, ctx)
        value = req.attribute_value or ""
        attributes = dict(sub.attributes)
        _check_attribute(req.attribute_name, value, sub.protocol, {**attributes, req.attribute_name: value})
        if value == "" and req.attribute_name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            attributes.pop(req.attribute_name, None)
        else:
            attributes[req.attribute_name] = value
        updated = Subscription(sub.record._replace(attributes=attributes), sub.topic)
        updated.filter_policy()
        if req.attribute_name == "FilterPolicy" and value and "FilterPolicy" not in sub.attributes:
            self._check_filter_policy_quota(sub.topic, ctx.account_id)
        sub.record = updated.record
        await self.rt.commit([sub.write()])
        return None

    def _check_filter_policy_quota(self, topic: Topic, account_id: str) -> None:
        """AWS's quotas: 200 filter policies per topic, 10,000 per account."""
        on_topic = sum("FilterPolicy" in sub.attributes for sub in self.rt.subscriptions.of_topic(topic))
        if on_topic >= MAX_FILTER_POLICIES_PER_TOPIC:
            raise FilterPolicyLimitExceeded("Filter policy limit exceeded")
        in_account = sum(
            "FilterPolicy" in sub.attributes for sub in self.rt.subscriptions.of_account(account_id)
        )
        if in_account >= MAX_FILTER_POLICIES_PER_ACCOUNT:
            raise FilterPolicyLimitExceeded("Filter policy limit exceeded")

    def _resolve(self, arn: str, ctx: RequestContext) -> Subscription:
        sub = self.rt.subscriptions.by_arn(arn)
        if sub is None or (
            sub.record.owner != ctx.account_id and sub.topic.record.account_id != ctx.account_id
        ):
            if arn.count(":") < 6 or not arn.startswith("arn:aws:sns:"):
                raise InvalidParameter("Invalid parameter: SubscriptionArn")
            raise NotFound("Subscription does not exist")
        return sub

    def _confirmation(
        self,
        sub: Subscription,
        ctx: RequestContext,
        *,
        token: str | None = None,
        unsubscribed: str | None = None,
    ) -> dict[str, object]:
        token = token or sub.record.token
        assert token is not None
        return envelope.confirmation(
            message_id=new_id(),
            token=token,
            unsubscribed=unsubscribed,
            topic_arn=sub.topic.arn,
            timestamp_ms=self.rt.now_ms(),
            base_url=ctx.base_url,
            signature_version=sub.topic.attributes.get("SignatureVersion", "1"),
            signer=self.rt.sign(),
        )


def _check_attribute(
    name: str, value: str, protocol: str, attributes: dict[str, str], *, subscribe: bool = False
) -> None:
    where = "Invalid parameter: Attributes Reason: " if subscribe else "Invalid parameter: "
    if name not in SETTABLE:
        raise InvalidParameter(
            f"{where}AttributeName" if not subscribe else f"{where}Unknown attribute {name}"
        )
    if name == "RawMessageDelivery":
        if value.lower() not in ("true", "false"):
            raise InvalidParameter(
                f"{where}RawMessageDelivery: Invalid value [{value}]. Must be true or false."
            )
        if protocol not in RAW_PROTOCOLS:
            raise InvalidParameter(
                f"{where}Delivery protocol [{protocol}] does not support raw message delivery."
            )
    if name == "FilterPolicyScope" and value not in SCOPES:
        raise InvalidParameter(f"{where}FilterPolicyScope: Invalid filter policy scope: {value}")
    if name == "FilterPolicy" and value:
        try:
            compile_filter_policy(value, attributes.get("FilterPolicyScope", SCOPES[0]))
        except InvalidParameter as error:
            if subscribe:
                raise InvalidParameter(
                    error.message.replace(
                        MESSAGE_PREFIX, "Invalid parameter: Attributes Reason: FilterPolicy: "
                    )
                ) from None
            raise
    if name == "RedrivePolicy" and value:
        documents.redrive_target(value)
    if name == "DeliveryPolicy" and value:
        documents.check_delivery_policy(value, topic=False, prefix=where)


def _endpoint_message(protocol: str) -> str:
    if protocol == "sqs":
        return "Invalid parameter: SQS endpoint ARN"
    if protocol in ("email", "email-json"):
        return "Invalid parameter: Email address"
    if protocol == "sms":
        return "Invalid parameter: Phone number"
    if protocol in ("http", "https"):
        return "Invalid parameter: Endpoint must match the specified protocol"
    return "Invalid parameter: Endpoint"


def _page(subs: list[Subscription], token: str | None) -> tuple[list[api.Subscription], str | None]:
    start = 0
    if token:
        start = next((i for i, s in enumerate(subs) if s.arn > token), len(subs))
    chosen = subs[start : start + PAGE]
    more = start + PAGE < len(subs)
    page = [
        api.Subscription(
            subscription_arn=s.arn if s.record.confirmed else "PendingConfirmation",
            owner=s.record.owner,
            protocol=s.protocol,
            endpoint=s.record.endpoint,
            topic_arn=s.topic.arn,
        )
        for s in chosen
    ]
    return page, chosen[-1].arn if more else None

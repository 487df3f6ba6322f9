"""Topic actions: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes,
tags, AddPermission/RemovePermission and the data-protection policy.

Rules (AWS's): CreateTopic is idempotent (the same name with the same
attributes and tags answers the existing ARN; different ones are
InvalidParameter); FIFO topics need ``FifoTopic=true`` and a ``.fifo`` name;
attributes are checked by name (unknown ones are InvalidParameter) and a few
by value.  GetTopicAttributes adds what AWS computes: TopicArn, Owner, Policy
(AWS's default until set), EffectiveDeliveryPolicy, the subscription counts.
ListTopics pages by 100, the token being the last ARN of the previous page.
"""

from __future__ import annotations

from broker.context import RequestContext
from broker.errors import InvalidParameter, SnsResourceNotFound, TagLimitExceeded, TopicLimitExceeded
from broker.sns import api, documents, fifo, messages
from broker.sns.runtime import SnsRuntime
from broker.sns.topics import Topic, check_name, split_arn
from storage.records import TopicRecord
from storage.store import Write

PAGE = 100
MAX_TAGS = 50
MAX_STANDARD_TOPICS = 100_000
MAX_FIFO_TOPICS = 1_000
"""AWS's quotas per account and region."""
SETTABLE = frozenset(
    {
        "DeliveryPolicy",
        "DisplayName",
        "Policy",
        "SignatureVersion",
        "TracingConfig",
        "KmsMasterKeyId",
        "ContentBasedDeduplication",
        "FifoThroughputScope",
        "ArchivePolicy",
        "MaximumMessageSize",
        "DataProtectionPolicy",
        *(
            f"{protocol}{kind}"
            for protocol in ("HTTP", "SQS", "Lambda", "Firehose", "Application")
            for kind in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")
        ),
    }
)
CREATE_ONLY = frozenset({"FifoTopic"})
FIFO_ONLY = frozenset({"ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy"})


def check_attribute(name: str, value: str, *, fifo: bool) -> None:
    """AWS's rules for one topic attribute."""
    if name not in SETTABLE:
        raise InvalidParameter("Invalid parameter: AttributeName")
    if name in FIFO_ONLY and not fifo:
        raise InvalidParameter(f"Invalid parameter: Attributes Reason: {name} is only valid for FIFO topics")
    if name == "SignatureVersion" and value not in ("1", "2"):
        raise InvalidParameter("Invalid parameter: SignatureVersion")
    if name == "ContentBasedDeduplication" and value not in ("true", "false"):
        raise InvalidParameter("Invalid parameter: ContentBasedDeduplication")
    if name == "FifoThroughputScope" and value not in ("Topic", "MessageGroup"):
        raise InvalidParameter("Invalid parameter: FifoThroughputScope")
    if name == "TracingConfig" and value not in ("PassThrough", "Active"):
        raise InvalidParameter("Invalid parameter: TracingConfig")
    if name == "MaximumMessageSize" and not (value.isdigit() and 1024 <= int(value) <= 1_048_576):
        raise InvalidParameter("Invalid parameter: MaximumMessageSize")
    if name in ("Policy", "ArchivePolicy") and value:
        documents.check_json_object(value, name)
    if name == "DeliveryPolicy" and value:
        documents.check_delivery_policy(value, topic=True)


class TopicActions:
    """The topic half of the SNS API."""

    def __init__(self, runtime: SnsRuntime) -> None:
        self.rt = runtime

    async def create_topic(self, req: api.CreateTopic, ctx: RequestContext) -> api.CreateTopicResponse:
        given = dict(req.attributes or {})
        fifo_flag = given.get("FifoTopic", "false").lower()
        if fifo_flag not in ("true", "false"):
            raise InvalidParameter("Invalid parameter: FifoTopic")
        fifo = fifo_flag == "true"
        if not fifo and req.name.endswith(".fifo"):
            raise InvalidParameter("Invalid parameter: Topic Name")
        check_name(req.name, fifo=fifo)
        attributes: dict[str, str] = {}
        if fifo:
            attributes = {"FifoTopic": "true", "ContentBasedDeduplication": "false"}
        for name, value in given.items():
            if name in CREATE_ONLY:
                continue
            check_attribute(name, value, fifo=fifo)
            attributes[name] = value
        tags = _tags(req.tags)
        existing = self.rt.topics.find(ctx.region, ctx.account_id, req.name)
        if existing is not None:
            if any(existing.attributes.get(name) != value for name, value in attributes.items()):
                raise InvalidParameter(
                    "Invalid parameter: Attributes Reason: Topic already exists with different attributes"
                )
            if tags and tags != existing.record.tags:
                raise InvalidParameter(
                    "Invalid parameter: Tags Reason: Topic already exists with different tags"
                )
            return api.CreateTopicResponse(topic_arn=existing.arn)
        limit = MAX_FIFO_TOPICS if fifo else MAX_STANDARD_TOPICS
        if (
            sum(topic.fifo == fifo for topic in self.rt.topics.of_account(ctx.region, ctx.account_id))
            >= limit
        ):
            raise TopicLimitExceeded("Topic limit exceeded")
        topic_id, counter = self.rt.topics.allocate_id()
        record = TopicRecord(
            topic_id, ctx.account_id, ctx.region, req.name, self.rt.now_ms(), attributes, tags
        )
        topic = self.rt.topics.add(record)
        await self.rt.commit([counter, topic.write()])
        return api.CreateTopicResponse(topic_arn=topic.arn)

    async def delete_topic(self, req: api.DeleteTopic, ctx: RequestContext) -> None:
        if split_arn(req.topic_arn) is None:
            raise InvalidParameter("Invalid parameter: TopicArn")
        topic = self.rt.topics.by_arn(req.topic_arn)
        if topic is None or topic.record.account_id != ctx.account_id:
            return None  # AWS: deleting a topic that does not exist succeeds
        writes: list[Write] = [topic.delete(), *fifo.forget_topic(topic.topic_id)]
        for sub in list(self.rt.subscriptions.of_topic(topic)):
            self.rt.subscriptions.remove(sub)
            writes.append(sub.delete())
        self.rt.topics.remove(topic)
        await self.rt.commit(writes)
        return None

    async def list_topics(self, req: api.ListTopics, ctx: RequestContext) -> api.ListTopicsResponse:
        arns = [topic.arn for topic in self.rt.topics.of_account(ctx.region, ctx.account_id)]
        start = 0
        if req.next_token:
            start = next((i for i, arn in enumerate(arns) if arn > req.next_token), len(arns))
        page = arns[start : start + PAGE]
        more = start + PAGE < len(arns)
        return api.ListTopicsResponse(
            topics=[api.Topic(topic_arn=arn) for arn in page], next_token=page[-1] if more else None
        )

    async def get_topic_attributes(
        self, req: api.GetTopicAttributes, ctx: RequestContext
    ) -> api.GetTopicAttributesResponse:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        subs = list(self.rt.subscriptions.of_topic(topic))
        confirmed = sum(1 for s in subs if s.record.confirmed)
        out = {
            "Policy": documents.default_policy(topic.arn, topic.record.account_id),
            "Owner": topic.record.account_id,
            "SubscriptionsPending": str(len(subs) - confirmed),
            "TopicArn": topic.arn,
            "EffectiveDeliveryPolicy": documents.effective_delivery_policy(
                topic.attributes.get("DeliveryPolicy")
            ),
            "SubscriptionsConfirmed": str(confirmed),
            "DisplayName": "",
            "SubscriptionsDeleted": str(topic.deleted_subscriptions),
        }
        out.update(topic.attributes)
        return api.GetTopicAttributesResponse(attributes=out)

    async def set_topic_attributes(self, req: api.SetTopicAttributes, ctx: RequestContext) -> None:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        value = req.attribute_value or ""
        check_attribute(req.attribute_name, value, fifo=topic.fifo)
        attributes = dict(topic.attributes)
        if value == "" and req.attribute_name in ("Policy", "DeliveryPolicy"):
            attributes.pop(req.attribute_name, None)
        else:
            attributes[req.attribute_name] = value
        protocols = [sub.protocol for sub in self.rt.subscriptions.of_topic(topic)]
        messages.check_large_message_topic(messages.max_size(attributes), protocols)
        await self._save(topic, topic.record._replace(attributes=attributes))
        return None

    async def add_permission(self, req: api.AddPermission, ctx: RequestContext) -> None:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        policy = topic.attributes.get("Policy") or documents.default_policy(
            topic.arn, topic.record.account_id
        )
        updated = documents.add_statement(policy, req.label, topic.arn, req.aws_account_id, req.action_name)
        await self._save(topic, topic.record._replace(attributes={**topic.attributes, "Policy": updated}))
        return None

    async def remove_permission(self, req: api.RemovePermission, ctx: RequestContext) -> None:
        topic = self.rt.topics.resolve(req.topic_arn, ctx.account_id)
        policy = topic.attributes.get("Policy") or documents.default_policy(
            topic.arn, topic.record.account_id
        )
        updated = documents.remove_statement(policy, req.label)
        await self._save(topic, topic.record._replace(attributes={**topic.attributes, "Policy": updated}))
        return None

    async def tag_resource(self, req: api.TagResource, ctx: RequestContext) -> api.TagResourceResponse:
        topic = self._tagged(req.resource_arn, ctx)
        tags = {**topic.record.tags, **_tags(req.tags)}
        if len(tags) > MAX_TAGS:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        await self._save(topic, topic.record._replace(tags=tags))
        return api.TagResourceResponse()

    async def untag_resource(self, req: api.UntagResource, ctx: RequestContext) -> api.UntagResourceResponse:
        topic = self._tagged(req.resource_arn, ctx)
        tags = {key: value for key, value in topic.record.tags.items() if key not in set(req.tag_keys)}
        await self._save(topic, topic.record._replace(tags=tags))
        return api.UntagResourceResponse()

    async def list_tags_for_resource(
        self, req: api.ListTagsForResource, ctx: RequestContext
    ) -> api.ListTagsForResourceResponse:
        topic = self._tagged(req.resource_arn, ctx)
        return api.ListTagsForResourceResponse(
            tags=[api.Tag(key=key, value=value) for key, value in topic.record.tags.items()]
        )

    async def get_data_protection_policy(
        self, req: api.GetDataProtectionPolicy, ctx: RequestContext
    ) -> api.GetDataProtectionPolicyResponse:
        topic = self.rt.topics.resolve(req.resource_arn, ctx.account_id)
        return api.GetDataProtectionPolicyResponse(
            data_protection_policy=topic.attributes.get("DataProtectionPolicy", "")
        )

    async def put_data_protection_policy(self, req: api.PutDataProtectionPolicy, ctx: RequestContext) -> None:
        self.rt.topics.resolve(req.resource_arn, ctx.account_id)
        raise InvalidParameter(
            "Invalid parameter: DataProtectionPolicy Reason: data protection policies are not supported"
        )

    def _tagged(self, arn: str, ctx: RequestContext) -> Topic:
        topic = self.rt.topics.by_arn(arn)
        if topic is None or topic.record.account_id != ctx.account_id:
            raise SnsResourceNotFound("Resource does not exist")
        return topic

    async def _save(self, topic: Topic, record: TopicRecord) -> None:
        topic.record = record
        await self.rt.commit([topic.write()])


def _tags(given: list[api.Tag] | None) -> dict[str, str]:
    tags = {tag.key: tag.value for tag in given or []}
    if len(tags) > MAX_TAGS:
        raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
    return tags

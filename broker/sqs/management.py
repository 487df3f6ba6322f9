"""Queue actions: create, find, list, delete, attributes, tags, permissions.

A queue's record is rewritten whole on every change (it is small); the
registry changes synchronously and the reply waits for the commit.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from broker.context import RequestContext
from broker.errors import InvalidParameterValue, QueueDoesNotExist, QueueNameExists
from broker.sqs import api, attributes, documents, redrive
from broker.sqs.queue import Queue
from broker.sqs.registry import check_name, queue_arn, queue_url, seq_mark_key
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import QueueRecord, pack_queue
from storage.store import Db, Write, delete, delete_prefix, put

MAX_LIST_RESULTS = 1000
MAX_TAGS = 50
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
GRANTABLE_ACTIONS = frozenset(
    {
        "*",
        "SendMessage",
        "ReceiveMessage",
        "DeleteMessage",
        "ChangeMessageVisibility",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ListQueueTags",
    }
)


class QueueActions:
    """The queue half of the SQS API."""

    def __init__(self, runtime: SqsRuntime) -> None:
        self.rt = runtime

    async def create_queue(self, req: api.CreateQueue, ctx: RequestContext) -> api.CreateQueueResult:
        name = req.queue_name
        given = req.attributes or {}
        fifo = attributes.wants_fifo(given)
        requested = attributes.validate(given, fifo=fifo, creating=True)
        check_name(name, fifo=fifo)
        initial = {**attributes.defaults(fifo=fifo), **attributes.without_unset(requested)}
        attributes.check_fifo_combination(initial)
        self._check_documents(
            initial, requested, f"arn:aws:sqs:{ctx.region}:{ctx.account_id}:{name}", fifo, ctx
        )
        existing = self.rt.registry.find(ctx.account_id, name)
        if existing is not None:
            for key in requested:
                if existing.attributes.get(key, "") != initial.get(key, ""):
                    raise QueueNameExists(
                        f"A queue already exists with the same name and a different value for attribute {key}"
                    )
            return api.CreateQueueResult(queue_url=queue_url(ctx, existing))
        now = self.rt.now_ms()
        queue_id, counter_write = self.rt.registry.allocate_id()
        record = QueueRecord(
            queue_id=queue_id,
            account_id=ctx.account_id,
            name=name,
            region=ctx.region,
            created_ms=now,
            modified_ms=now,
            attributes=initial,
            tags=dict(req.tags or {}),
        )
        queue = self.rt.registry.add(record)
        await self.rt.commit([counter_write, _record_write(record)])
        return api.CreateQueueResult(queue_url=queue_url(ctx, queue))

    async def get_queue_url(self, req: api.GetQueueUrl, ctx: RequestContext) -> api.GetQueueUrlResult:
        account = req.queue_owner_aws_account_id or ctx.account_id
        queue = self.rt.registry.find(account, req.queue_name)
        if queue is None or account != ctx.account_id:
            raise QueueDoesNotExist()
        return api.GetQueueUrlResult(queue_url=queue_url(ctx, queue))

    async def list_queues(self, req: api.ListQueues, ctx: RequestContext) -> api.ListQueuesResult:
        check_range(
            "MaxResults",
            req.max_results,
            1,
            MAX_LIST_RESULTS,
            "MaxResults must be an integer between 1 and 1000.",
        )
        prefix = req.queue_name_prefix or ""
        after = _decode_token(req.next_token)
        names = [
            queue
            for queue in self.rt.registry.of_account(ctx.account_id)
            if queue.record.name.startswith(prefix) and queue.record.name > after
        ]
        limit = req.max_results or MAX_LIST_RESULTS
        page = names[:limit]
        token = None
        if req.max_results is not None and len(names) > limit:
            token = _encode_token(page[-1].record.name)
        # AWS omits QueueUrls when nothing matches (JSON and Query alike), rather than an empty list
        urls = [queue_url(ctx, queue) for queue in page]
        return api.ListQueuesResult(queue_urls=urls or None, next_token=token)

    async def delete_queue(self, req: api.DeleteQueue, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        self.rt.registry.remove(queue)
        queue.clear()
        queue.wake_all()
        prefix = keys.queue_prefix(queue.queue_id)
        await self.rt.commit(
            [
                delete(Db.QUEUES, keys.queue_key(queue.record.account_id, queue.record.name)),
                delete(Db.META, seq_mark_key(queue.queue_id)),
                delete_prefix(Db.BODIES, prefix),
                delete_prefix(Db.STATES, prefix),
                *queue.dedup.drop_all(),
            ]
        )

    async def get_queue_attributes(
        self, req: api.GetQueueAttributes, ctx: RequestContext
    ) -> api.GetQueueAttributesResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        names = attributes.expand_names(req.attribute_names)
        if not names:
            return api.GetQueueAttributesResult()
        queue.promote(self.rt.now_ms())
        computed = {
            "ApproximateNumberOfMessages": str(queue.visible_count()),
            "ApproximateNumberOfMessagesNotVisible": str(len(queue.inflight)),
            "ApproximateNumberOfMessagesDelayed": str(len(queue.delayed)),
            "CreatedTimestamp": str(queue.record.created_ms // 1000),
            "LastModifiedTimestamp": str(queue.record.modified_ms // 1000),
            "QueueArn": queue_arn(ctx, queue),
        }
        values = {**queue.attributes, **computed}
        return api.GetQueueAttributesResult(
            attributes={name: values[name] for name in names if name in values}
        )

    async def set_queue_attributes(self, req: api.SetQueueAttributes, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        changes = attributes.validate(req.attributes, fifo=queue.fifo, creating=False)
        merged = attributes.without_unset({**queue.attributes, **changes})
        attributes.check_fifo_combination(merged)
        self._check_documents(merged, changes, queue_arn(ctx, queue), queue.fifo, ctx)
        await self._update(queue, queue.record._replace(attributes=merged, modified_ms=self.rt.now_ms()))

    async def tag_queue(self, req: api.TagQueue, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        tags = {**queue.record.tags, **req.tags}
        if len(tags) > MAX_TAGS:
            raise InvalidParameterValue(f"Too many tags added for queue {queue.record.name}.")
        await self._update(queue, queue.record._replace(tags=tags))

    async def untag_queue(self, req: api.UntagQueue, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        tags = {key: value for key, value in queue.record.tags.items() if key not in set(req.tag_keys)}
        await self._update(queue, queue.record._replace(tags=tags))

    async def list_queue_tags(self, req: api.ListQueueTags, ctx: RequestContext) -> api.ListQueueTagsResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        return api.ListQueueTagsResult(tags=dict(queue.record.tags) or None)

    async def add_permission(self, req: api.AddPermission, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        if not _LABEL.match(req.label):
            raise InvalidParameterValue(
                f"Value {req.label} for parameter Label is invalid. Reason: Can only include "
                "alphanumeric characters, hyphens, or underscores. 1 to 80 in length."
            )
        if not req.aws_account_ids:
            raise InvalidParameterValue(
                "Value [] for parameter PrincipalId is invalid. Reason: Please provide a principal."
            )
        if not req.actions:
            raise InvalidParameterValue(
                "Value [] for parameter ActionName is invalid. Reason: Please provide an action."
            )
        for action in req.actions:
            if action not in GRANTABLE_ACTIONS:
                raise InvalidParameterValue(
                    f"Value SQS:{action} for parameter ActionName is invalid. "
                    "Reason: Please refer to the appropriate WSDL for a list of valid actions."
                )
        arn = queue_arn(ctx, queue)
        policy = _load_policy(queue, arn)
        statements = policy["Statement"]
        if any(statement.get("Sid") == req.label for statement in statements):
            raise InvalidParameterValue(
                f"Value {req.label} for parameter Label is invalid. Reason: Already exists."
            )
        principals = [f"arn:aws:iam::{account}:root" for account in req.aws_account_ids]
        actions = [f"SQS:{action}" for action in req.actions]
        statements.append(
            {
                "Sid": req.label,
                "Effect": "Allow",
                "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
                "Action": actions[0] if len(actions) == 1 else actions,
                "Resource": arn,
            }
        )
        await self._set_policy(queue, policy)

    async def remove_permission(self, req: api.RemovePermission, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        policy = _load_policy(queue, queue_arn(ctx, queue))
        kept = [statement for statement in policy["Statement"] if statement.get("Sid") != req.label]
        if len(kept) == len(policy["Statement"]):
            raise InvalidParameterValue(
                f"Value {req.label} for parameter Label is invalid. "
                "Reason: can't find label on existing policy."
            )
        policy["Statement"] = kept
        await self._set_policy(queue, policy if kept else None)

    async def list_dead_letter_source_queues(
        self, req: api.ListDeadLetterSourceQueues, ctx: RequestContext
    ) -> api.ListDeadLetterSourceQueuesResult:
        target = self.rt.registry.resolve(req.queue_url, ctx)
        check_range(
            "MaxResults",
            req.max_results,
            1,
            MAX_LIST_RESULTS,
            "MaxResults must be an integer between 1 and 1000.",
        )
        after = _decode_token(req.next_token)
        sources = [
            queue
            for queue in self.rt.registry.of_account(ctx.account_id)
            if queue.record.name > after and queue.dead_letters_into(target)
        ]
        limit = req.max_results or MAX_LIST_RESULTS
        page = sources[:limit]
        token = (
            _encode_token(page[-1].record.name)
            if req.max_results is not None and len(sources) > limit
            else None
        )
        return api.ListDeadLetterSourceQueuesResult(
            queue_urls=[queue_url(ctx, queue) for queue in page], next_token=token
        )

    def _check_documents(
        self,
        merged: dict[str, str],
        changes: dict[str, str],
        source_arn: str,
        fifo: bool,
        ctx: RequestContext,
    ) -> None:
        """Validate and normalise RedrivePolicy / RedriveAllowPolicy in ``merged``."""
        if changes.get("RedrivePolicy"):
            text = changes["RedrivePolicy"]
            policy = redrive.parse_redrive_policy(text)
            target = self.rt.registry.find(policy.target_account, policy.target_name)
            if target is None or policy.target_account != ctx.account_id:
                raise InvalidParameterValue(
                    f"Value {text} for parameter RedrivePolicy is invalid. "
                    "Reason: Dead letter target does not exist."
                )
            if target.fifo != fifo:
                raise InvalidParameterValue(
                    f"Value {text} for parameter RedrivePolicy is invalid. "
                    "Reason: Dead-letter queue must be same type of queue as the source."
                )
            if not redrive.parse_allow_policy(target.attributes.get("RedriveAllowPolicy")).allows(source_arn):
                raise InvalidParameterValue(
                    f"Value {text} for parameter RedrivePolicy is invalid. Reason: Queue {source_arn} is not "
                    f"allowed to use {policy.target_arn} as its dead-letter queue by its RedriveAllowPolicy."
                )
            merged["RedrivePolicy"] = redrive.write_redrive_policy(policy)
        if changes.get("RedriveAllowPolicy"):
            allow = redrive.parse_allow_policy(changes["RedriveAllowPolicy"])
            merged["RedriveAllowPolicy"] = redrive.write_allow_policy(allow)

    async def _set_policy(self, queue: Queue, policy: Mapping[str, object] | None) -> None:
        merged = dict(queue.attributes)
        if policy is None:
            merged.pop("Policy", None)
        else:
            merged["Policy"] = documents.write_object(policy)
        await self._update(queue, queue.record._replace(attributes=merged, modified_ms=self.rt.now_ms()))

    async def _update(self, queue: Queue, record: QueueRecord) -> None:
        queue.record = record
        await self.rt.commit([_record_write(record)])


def _record_write(record: QueueRecord) -> Write:
    return put(Db.QUEUES, keys.queue_key(record.account_id, record.name), pack_queue(record))


def _load_policy(queue: Queue, arn: str) -> dict[str, list[dict[str, object]]]:
    raw = queue.attributes.get("Policy")
    policy = (documents.parse_object(raw) if raw else None) or {}
    policy.setdefault("Version", "2012-10-17")
    policy.setdefault("Id", f"{arn}/SQSDefaultPolicy")
    policy.setdefault("Statement", [])
    return policy


def _encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_token(token: str | None) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidParameterValue("Invalid NextToken value.") from None

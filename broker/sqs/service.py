"""The SQS service: the dispatch table from request type to action, start-up,
and the retention sweeper.

A request type without a handler answers UnsupportedOperation rather than
pretending to succeed.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from broker.clock import Clock
from broker.context import RequestContext
from broker.errors import UnsupportedOperation
from broker.sqs import api
from broker.sqs.management import QueueActions
from broker.sqs.messaging import MessageActions
from broker.sqs.move_tasks import MoveTasks
from broker.sqs.queue import Queue
from broker.sqs.receipts import ReceiptCodec
from broker.sqs.receiving import ReceiveActions
from broker.sqs.runtime import SqsRuntime
from broker.sqs.sending import SendActions
from storage import keys
from storage.committer import GroupCommitter
from storage.records import unpack_state
from storage.store import Db, LmdbStore, Write, delete, put

log = logging.getLogger(__name__)

SECRET_KEY = b"receipt_secret"
SWEEP_INTERVAL_SECONDS = 1.0
SWEEP_BATCH = 1000
SWEEP_CHUNK = 64

Handler = Callable[[Any, RequestContext], Awaitable[object | None]]


class SqsService:
    """Amazon SQS semantics over the store."""

    def __init__(self, store: LmdbStore, committer: GroupCommitter, clock: Clock) -> None:
        self.rt = SqsRuntime(store, committer, clock, ReceiptCodec(b""))
        self.queues = QueueActions(self.rt)
        self.sending = SendActions(self.rt)
        self.receiving = ReceiveActions(self.rt)
        self.messages = MessageActions(self.rt)
        self.move_tasks = MoveTasks(self.rt)
        self._sweeper: asyncio.Task[None] | None = None
        self.handlers: dict[type, Handler] = {
            api.CreateQueue: self.queues.create_queue,
            api.GetQueueUrl: self.queues.get_queue_url,
            api.ListQueues: self.queues.list_queues,
            api.DeleteQueue: self.queues.delete_queue,
            api.GetQueueAttributes: self.queues.get_queue_attributes,
            api.SetQueueAttributes: self.queues.set_queue_attributes,
            api.TagQueue: self.queues.tag_queue,
            api.UntagQueue: self.queues.untag_queue,
            api.ListQueueTags: self.queues.list_queue_tags,
            api.AddPermission: self.queues.add_permission,
            api.RemovePermission: self.queues.remove_permission,
            api.ListDeadLetterSourceQueues: self.queues.list_dead_letter_source_queues,
            api.SendMessage: self.sending.send_message,
            api.SendMessageBatch: self.sending.send_message_batch,
            api.ReceiveMessage: self.receiving.receive_message,
            api.DeleteMessage: self.messages.delete_message,
            api.DeleteMessageBatch: self.messages.delete_message_batch,
            api.ChangeMessageVisibility: self.messages.change_message_visibility,
            api.ChangeMessageVisibilityBatch: self.messages.change_message_visibility_batch,
            api.PurgeQueue: self.messages.purge_queue,
            api.StartMessageMoveTask: self.move_tasks.start_message_move_task,
            api.CancelMessageMoveTask: self.move_tasks.cancel_message_move_task,
            api.ListMessageMoveTasks: self.move_tasks.list_message_move_tasks,
        }

    async def start(self) -> None:
        """Load the receipt secret and every queue's index; start the sweeper."""
        secret = self.rt.store.get(Db.META, SECRET_KEY)
        if secret is None:
            secret = os.urandom(32)
            await self.rt.commit([put(Db.META, SECRET_KEY, secret)])
        self.rt.receipts = ReceiptCodec(secret)
        self.rt.registry.load(self.rt.store, self.rt.now_ms())
        self.move_tasks.load()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sqs-sweeper")

    async def close(self) -> None:
        """Stop the sweeper and wake every long-poll so it answers now."""
        self.rt.closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        for queue in self.rt.registry.all():
            if queue.timer is not None:
                queue.timer.cancel()
            queue.wake_all()
        await self.move_tasks.close()

    def dispatch(self, request: object, ctx: RequestContext) -> Awaitable[object | None]:
        """The handler's coroutine for ``request`` (await it); UnsupportedOperation at once."""
        handler = self.handlers.get(type(request))
        if handler is None:
            raise UnsupportedOperation(f"{type(request).__name__} is not supported.")
        return handler(request, ctx)

    async def sweep(self) -> int:
        """Delete messages past their retention period from the front of every queue; return how many."""
        now = self.rt.now_ms()
        removed = 0
        for queue in self.rt.registry.all():
            queue.promote(now)
            writes = self._expired_writes(queue, now)
            removed += len(writes) // 2
            await self.rt.commit(writes)
        return removed

    def _expired_writes(self, queue: Queue, now: int) -> list[Write]:
        """Delete the queue's oldest messages while they are past retention.

        States are read in seq order, which is send order, so the oldest come
        first whatever they are doing (visible, in flight, delayed, back from
        flight behind newer ones); the scan stops at the first one still kept.
        """
        retention_ms = queue.number("MessageRetentionPeriod") * 1000
        writes: list[Write] = []
        prefix = keys.queue_prefix(queue.queue_id)
        for key, raw in self.rt.store.scan(Db.STATES, prefix, chunk_size=SWEEP_CHUNK):
            if unpack_state(raw).sent_ms + retention_ms > now or len(writes) >= 2 * SWEEP_BATCH:
                break
            queue.expire(keys.split_message_key(key)[1])
            writes += (delete(Db.BODIES, key), delete(Db.STATES, key))
        return writes

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
            try:
                await self.sweep()
            except Exception:  # the sweeper must outlive one bad pass
                log.exception("retention sweep failed")

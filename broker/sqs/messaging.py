"""Message actions after a receive: delete, change visibility (and their batch
forms), and purge.

Write path: validate and change the in-memory index synchronously, submit the
writes to the group committer, and answer only after the commit.  A batch is
one commit.
"""

from __future__ import annotations

from broker.context import RequestContext
from broker.errors import (
    InvalidParameterValue,
    MessageNotInflight,
    PurgeQueueInProgress,
    ShoalError,
)
from broker.sqs import api
from broker.sqs.batch import check_entries, failure
from broker.sqs.queue import Queue
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import (
    pack_state,
    unpack_state,
)
from storage.store import Db, Write, delete, delete_prefix, put

PURGE_INTERVAL_MS = 60_000


class MessageActions:
    """Delete, visibility and purge actions of the SQS API."""

    def __init__(self, runtime: SqsRuntime) -> None:
        self.rt = runtime

    # -- delete ---------------------------------------------------------------

    async def delete_message(self, req: api.DeleteMessage, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        await self.rt.commit(self._delete(queue, req.receipt_handle))

    async def delete_message_batch(
        self, req: api.DeleteMessageBatch, ctx: RequestContext
    ) -> api.DeleteMessageBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_entries(req.entries, "DeleteMessageBatchRequestEntry")
        writes: list[Write] = []
        done: list[api.DeleteMessageBatchResultEntry] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in req.entries:
            try:
                writes += self._delete(queue, entry.receipt_handle)
                done.append(api.DeleteMessageBatchResultEntry(id=entry.id))
            except ShoalError as error:
                failed.append(failure(entry.id, error))
        await self.rt.commit(writes)
        return api.DeleteMessageBatchResult(successful=done, failed=failed)

    def _delete(self, queue: Queue, handle: str) -> list[Write]:
        receipt = self.rt.receipts.parse(handle, queue.queue_id)
        if not queue.remove(receipt.seq):
            return []  # already deleted: success, as on AWS
        key = keys.message_key(queue.queue_id, receipt.seq)
        return [delete(Db.BODIES, key), delete(Db.STATES, key)]

    # -- visibility -----------------------------------------------------------

    async def change_message_visibility(self, req: api.ChangeMessageVisibility, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        await self.rt.commit(self._change_visibility(queue, req.receipt_handle, req.visibility_timeout))

    async def change_message_visibility_batch(
        self, req: api.ChangeMessageVisibilityBatch, ctx: RequestContext
    ) -> api.ChangeMessageVisibilityBatchResult:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        check_entries(req.entries, "ChangeMessageVisibilityBatchRequestEntry")
        writes: list[Write] = []
        done: list[api.ChangeMessageVisibilityBatchResultEntry] = []
        failed: list[api.BatchResultErrorEntry] = []
        for entry in req.entries:
            try:
                writes += self._change_visibility(queue, entry.receipt_handle, entry.visibility_timeout or 0)
                done.append(api.ChangeMessageVisibilityBatchResultEntry(id=entry.id))
            except ShoalError as error:
                failed.append(failure(entry.id, error))
        await self.rt.commit(writes)
        return api.ChangeMessageVisibilityBatchResult(successful=done, failed=failed)

    def _change_visibility(self, queue: Queue, handle: str, timeout: int) -> list[Write]:
        check_range("VisibilityTimeout", timeout, 0, 43_200)
        receipt = self.rt.receipts.parse(handle, queue.queue_id)
        current = queue.receives.get(receipt.seq)
        if current is not None and current[0] != receipt.receive_count and receipt.seq in queue.inflight:
            raise InvalidParameterValue(
                f"Value {handle} for parameter ReceiptHandle is invalid. "
                "Reason: The receipt handle has expired."
            )
        now = self.rt.now_ms()
        queue.promote(now)
        key = keys.message_key(queue.queue_id, receipt.seq)
        raw = self.rt.store.get(Db.STATES, key)
        if raw is None:
            raise MessageNotInflight(
                "Message does not exist or is not available for visibility timeout change."
            )
        queue.change_visibility(receipt.seq, now, timeout * 1000)
        if timeout == 0:
            self.rt.made_visible(queue, 1)
        stored = unpack_state(raw)  # keep its group: a FIFO queue's index rebuilds from it
        return [put(Db.STATES, key, pack_state(queue.state_of(receipt.seq, stored.sent_ms, stored.group_id)))]

    # -- purge ----------------------------------------------------------------

    async def purge_queue(self, req: api.PurgeQueue, ctx: RequestContext) -> None:
        queue = self.rt.registry.resolve(req.queue_url, ctx)
        now = self.rt.now_ms()
        if queue.last_purge_ms is not None and now - queue.last_purge_ms < PURGE_INTERVAL_MS:
            raise PurgeQueueInProgress(
                f"Only one PurgeQueue operation on {queue.record.name} is allowed every 60 seconds."
            )
        queue.last_purge_ms = now
        queue.clear()
        prefix = keys.queue_prefix(queue.queue_id)
        await self.rt.commit([delete_prefix(Db.BODIES, prefix), delete_prefix(Db.STATES, prefix)])

"""Message-move tasks: StartMessageMoveTask, CancelMessageMoveTask,
ListMessageMoveTasks (DLQ redrive).

A task moves the messages of a dead-letter queue (the *source*: some queue's
RedrivePolicy must name it) back to the queue each was dead-lettered from, or
to a DestinationArn, at most MaxNumberOfMessagesPerSecond.  Each step claims a
few visible messages and moves them with the task's progress in one commit
(:mod:`broker.sqs.moving`), so a move is never lost or doubled, and a restart
resumes a RUNNING task where its last commit left it.  States: RUNNING,
COMPLETED, CANCELLING (cancel asked, the runner stops after its step),
CANCELLED, FAILED (with AWS's FailureReason when a destination vanishes).
The task handle is opaque to clients: base64 of the task id and source ARN.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from enum import StrEnum

from broker.context import RequestContext
from broker.errors import InvalidParameterValue, ResourceNotFoundException
from broker.ids import new_id
from broker.sqs import api
from broker.sqs.moving import Moved, move, settle, unmove
from broker.sqs.queue import Queue
from broker.sqs.redrive import arn_parts
from broker.sqs.runtime import SqsRuntime, check_range
from storage import keys
from storage.records import MoveTaskRecord, pack_move_task, unpack_body, unpack_move_task
from storage.store import Db, Write, delete, put

log = logging.getLogger(__name__)

TASK_PREFIX = b"mt:"
MAX_RATE = 500
STEP = 10
"""Messages moved per commit when no rate is given."""
KEPT_TASKS = 10
NON_EXISTENT_QUEUE = "AWS.SimpleQueueService.NonExistentQueue"


class Status(StrEnum):
    """A task's state, as ListMessageMoveTasks spells it."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


def _task_key(task_id: str) -> bytes:
    return TASK_PREFIX + task_id.encode()


def _handle(task: MoveTaskRecord) -> str:
    return base64.urlsafe_b64encode(f"{task.task_id} {task.source_arn}".encode()).decode()


class MoveTasks:
    """Every account's move tasks, with a runner per RUNNING task."""

    def __init__(self, runtime: SqsRuntime) -> None:
        self.rt = runtime
        self.tasks: dict[str, MoveTaskRecord] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}

    def load(self) -> None:
        """Read tasks back at start-up and resume the RUNNING ones."""
        for _, raw in self.rt.store.scan(Db.META, TASK_PREFIX):
            task = unpack_move_task(raw)
            self.tasks[task.task_id] = task
            if task.status in (Status.RUNNING, Status.CANCELLING):
                self._launch(task)

    async def close(self) -> None:
        """Stop every runner (their tasks resume at the next start)."""
        for runner in self._runners.values():
            runner.cancel()
        await asyncio.gather(*self._runners.values(), return_exceptions=True)

    async def start_message_move_task(
        self, req: api.StartMessageMoveTask, ctx: RequestContext
    ) -> api.StartMessageMoveTaskResult:
        check_range("MaxNumberOfMessagesPerSecond", req.max_number_of_messages_per_second, 1, MAX_RATE)
        source = self._queue(req.source_arn, ctx, "SourceArn")
        if not any(queue.dead_letters_into(source) for queue in self.rt.registry.of_account(ctx.account_id)):
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if req.destination_arn is not None:
            self._queue(req.destination_arn, ctx, "DestinationArn")
        if any(
            task.source_arn == req.source_arn and task.status == Status.RUNNING
            for task in self.tasks.values()
        ):
            raise InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source queue "
                "arn at a given time."
            )
        source.promote(self.rt.now_ms())
        task = MoveTaskRecord(
            task_id=new_id(),
            source_arn=req.source_arn,
            destination_arn=req.destination_arn,
            rate=req.max_number_of_messages_per_second,
            status=Status.RUNNING.value,
            moved=0,
            to_move=source.visible_count(),
            failure_reason=None,
            started_ms=self.rt.now_ms(),
        )
        # The runner starts once the task is durable, even if this request is cancelled meanwhile.
        await self.rt.commit_then(
            [*self._save(task), *self._trim(task.source_arn)],
            lambda: self._launch(task),
            lambda: self.tasks.pop(task.task_id, None),
        )
        return api.StartMessageMoveTaskResult(task_handle=_handle(task))

    async def cancel_message_move_task(
        self, req: api.CancelMessageMoveTask, ctx: RequestContext
    ) -> api.CancelMessageMoveTaskResult:
        try:
            task_id, source_arn = base64.urlsafe_b64decode(req.task_handle.encode()).decode().split(" ", 1)
        except (binascii.Error, ValueError, UnicodeError):
            raise InvalidParameterValue("Value for parameter TaskHandle is invalid.") from None
        self._queue(source_arn, ctx, "SourceArn")
        task = self.tasks.get(task_id)
        if task is None or task.source_arn != source_arn:
            raise ResourceNotFoundException("Task does not exist.")
        if task.status != Status.RUNNING:
            raise InvalidParameterValue("Only active tasks can be cancelled.")
        await self.rt.commit(self._save(task._replace(status=Status.CANCELLING.value)))
        return api.CancelMessageMoveTaskResult(approximate_number_of_messages_moved=task.moved)

    async def list_message_move_tasks(
        self, req: api.ListMessageMoveTasks, ctx: RequestContext
    ) -> api.ListMessageMoveTasksResult:
        check_range("MaxResults", req.max_results, 1, KEPT_TASKS)
        self._queue(req.source_arn, ctx, "SourceArn")
        recent = self._newest_first(req.source_arn)[: req.max_results or 1]
        return api.ListMessageMoveTasksResult(results=[_entry(task) for task in recent])

    # -- running ------------------------------------------------------------

    def _launch(self, task: MoveTaskRecord) -> None:
        self._runners[task.task_id] = asyncio.create_task(
            self._run(task.task_id), name=f"move-{task.task_id}"
        )

    async def _run(self, task_id: str) -> None:
        try:
            while (count := await self._step(task_id)) is not None:
                rate = self.tasks[task_id].rate
                await asyncio.sleep(count / rate if rate else 0)
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken task is reported FAILED, never a dead runner
            log.exception("message move task %s failed", task_id)
            task = self.tasks[task_id]
            failed = task._replace(status=Status.FAILED.value, failure_reason="InternalError")
            await self.rt.commit(self._save(failed))
        finally:
            self._runners.pop(task_id, None)

    async def _step(self, task_id: str) -> int | None:
        """Move up to one step's messages; return how many, or None once the task is over."""
        task = self.tasks[task_id]
        if task.status == Status.CANCELLING:
            await self.rt.commit(self._save(task._replace(status=Status.CANCELLED.value)))
            return None
        source = self._find(task.source_arn)
        if source is None:
            failed = task._replace(status=Status.FAILED.value, failure_reason=NON_EXISTENT_QUEUE)
            await self.rt.commit(self._save(failed))
            return None
        now = self.rt.now_ms()
        source.promote(now)
        seqs = source.claim(min(STEP, task.rate or STEP, task.to_move - task.moved))
        if not seqs:
            await self.rt.commit(self._save(task._replace(status=Status.COMPLETED.value)))
            return None
        writes: list[Write] = []
        moved: list[Moved] = []
        failure: str | None = None
        raw_bodies = self.rt.store.get_many(
            Db.BODIES, [keys.message_key(source.queue_id, seq) for seq in seqs]
        )
        for seq, raw in zip(seqs, raw_bodies, strict=True):
            if raw is None:
                source.forget(seq)
                continue
            record = unpack_body(raw)
            target_arn = task.destination_arn or record.dead_letter_source or ""
            target = self._find(target_arn)
            if target is None or failure is not None:
                failure = failure or NON_EXISTENT_QUEUE
                source.release(seq)
                continue
            item_writes, item = move(
                source, seq, record, target, now, dead_letter_source=None, keep_receives=False
            )
            writes += item_writes
            moved.append(item)
        task = self.tasks[task_id]  # a cancel may have landed meanwhile; keep its status
        progressed = task._replace(moved=task.moved + len(moved))
        if failure is not None:
            progressed = progressed._replace(status=Status.FAILED.value, failure_reason=failure)
        await self.rt.commit_then(
            [*writes, *self._save(progressed)],
            lambda: settle(self.rt, moved, now),
            lambda: unmove(moved, now),
        )
        if failure is not None:
            return None
        current = self.tasks[task_id]  # a cancel may have landed during the commit: it wins
        if current.status == Status.RUNNING and current.moved >= current.to_move:
            await self.rt.commit(self._save(current._replace(status=Status.COMPLETED.value)))
            return None
        return len(moved)

    # -- helpers ----------------------------------------------------------------

    def _save(self, task: MoveTaskRecord) -> list[Write]:
        self.tasks[task.task_id] = task
        return [put(Db.META, _task_key(task.task_id), pack_move_task(task))]

    def _trim(self, source_arn: str) -> list[Write]:
        """Forget all but the most recent tasks of a source."""
        writes = []
        for old in self._newest_first(source_arn)[KEPT_TASKS:]:
            if old.status not in (Status.RUNNING, Status.CANCELLING):
                del self.tasks[old.task_id]
                writes.append(delete(Db.META, _task_key(old.task_id)))
        return writes

    def _newest_first(self, source_arn: str) -> list[MoveTaskRecord]:
        """A source's tasks, the most recently started first (ties: the later created first)."""
        oldest_first = sorted(
            (task for task in self.tasks.values() if task.source_arn == source_arn),
            key=lambda task: task.started_ms,
        )
        return oldest_first[::-1]

    def _find(self, arn: str) -> Queue | None:
        account, name = arn_parts(arn)
        return self.rt.registry.find(account, name)

    def _queue(self, arn: str, ctx: RequestContext, parameter: str) -> Queue:
        queue = self._find(arn)
        if queue is None or arn_parts(arn)[0] != ctx.account_id:
            raise ResourceNotFoundException(
                f"The resource that you specified for the {parameter} parameter doesn't exist."
            )
        return queue


def _entry(task: MoveTaskRecord) -> api.ListMessageMoveTasksResultEntry:
    return api.ListMessageMoveTasksResultEntry(
        task_handle=_handle(task) if task.status == Status.RUNNING else None,
        status=task.status,
        source_arn=task.source_arn,
        destination_arn=task.destination_arn,
        max_number_of_messages_per_second=task.rate,
        approximate_number_of_messages_moved=task.moved,
        approximate_number_of_messages_to_move=task.to_move,
        failure_reason=task.failure_reason,
        started_timestamp=task.started_ms,
    )

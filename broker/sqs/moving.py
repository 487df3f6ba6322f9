"""Moving a claimed message from one queue to another in one commit: the
dead-letter move at receive time and the redrive of message-move tasks.

The source's records are deleted and the target's written in the same list of
writes, so the group committer applies both or neither: a message is never in
both queues and never in neither.  The message keeps its id, body, attributes
and original SentTimestamp (so the target's retention counts from the original
send, except in a FIFO dead-letter queue, where it counts from the move, as on
AWS).  The target's index learns of it only after the commit (:func:`settle`).
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.sqs import fifo
from broker.sqs.queue import Queue
from broker.sqs.registry import seq_mark_key
from broker.sqs.runtime import SqsRuntime
from storage import keys
from storage.records import MessageBody, MessageState, pack_body, pack_state
from storage.store import Db, Write, delete, put


@dataclass(frozen=True, slots=True)
class Moved:
    """A message written into ``target``, to index once committed."""

    target: Queue
    seq: int
    group: str | None
    receives: tuple[int, int]
    source: Queue
    source_seq: int
    source_group: str | None
    source_receives: tuple[int, int]
    """Where it came from, to put it back there if the commit fails."""


def move(
    source: Queue,
    seq: int,
    record: MessageBody,
    target: Queue,
    now_ms: int,
    *,
    dead_letter_source: str | None,
    keep_receives: bool,
) -> tuple[list[Write], Moved]:
    """The writes that move claimed message ``seq`` of ``source`` to ``target``."""
    history = source.receives.get(seq, (0, 0))
    receives = history if keep_receives else (0, 0)
    source_group = source.group_of.get(seq)
    source.forget(seq)
    target_seq, mark = target.allocate_seq()
    # AWS: a FIFO dead-letter queue's retention counts from the move (the enqueue
    # timestamp resets); a standard one's from the original send.
    enqueued = now_ms if target.fifo and dead_letter_source is not None else record.enqueued_ms
    moved_record = record._replace(
        dead_letter_source=dead_letter_source,
        sequence_number=fifo.sequence_number(target_seq) if target.fifo else None,
        enqueued_ms=enqueued,
    )
    group = record.group_id if target.fifo else None
    source_key = keys.message_key(source.queue_id, seq)
    target_key = keys.message_key(target.queue_id, target_seq)
    state = MessageState(enqueued or record.sent_ms, now_ms, receives[0], receives[1], group)
    writes = [
        delete(Db.BODIES, source_key),
        delete(Db.STATES, source_key),
        put(Db.BODIES, target_key, pack_body(moved_record)),
        put(Db.STATES, target_key, pack_state(state)),
    ]
    if mark is not None:
        writes.append(put(Db.META, seq_mark_key(target.queue_id), keys.u64(mark)))
    return writes, Moved(target, target_seq, group, receives, source, seq, source_group, history)


def settle(runtime: SqsRuntime, moved: list[Moved], now_ms: int) -> None:
    """Index committed moves in their targets and wake their long-polls."""
    for item in moved:
        item.target.add(item.seq, now_ms, now_ms, item.group, item.receives)
        runtime.made_visible(item.target, 1)


def unmove(moved: list[Moved], now_ms: int) -> None:
    """The moves' commit failed: the messages are still the source's (in LMDB and, again,
    in its index, visible), and the targets must persist a fresh seq high-water mark."""
    for item in moved:
        item.target.seq_mark_lost()
        item.source.add(item.source_seq, now_ms, now_ms, item.source_group, item.source_receives)


def queue_arn(queue: Queue) -> str:
    """A queue's ARN in the region it was created in."""
    return f"arn:aws:sqs:{queue.record.region}:{queue.record.account_id}:{queue.record.name}"

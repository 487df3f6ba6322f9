"""Which queues exist: lookup by URL or name, per account, and the rebuild at start-up.

Queue URLs are ``{scheme}://{host}/{account}/{name}``; a request is routed by
the URL's path whatever its host, so URLs minted elsewhere work too.  A queue
is visible only to its own account.  Queue ids are allocated from a persisted
counter and never reused, so nothing minted for a deleted queue (receipt
handles) can touch a new queue of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from broker.context import RequestContext
from broker.errors import InvalidParameterValue, QueueDoesNotExist
from broker.sqs.queue import Queue
from storage import keys
from storage.records import QueueRecord, unpack_queue, unpack_state
from storage.store import Db, LmdbStore, Write, put

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
NEXT_QUEUE_ID = b"next_queue_id"
SEQ_MARK_PREFIX = b"seq:"


def seq_mark_key(queue_id: int) -> bytes:
    """Meta key of a queue's persisted sequence high-water mark."""
    return SEQ_MARK_PREFIX + keys.u64(queue_id)


def check_name(name: str, *, fifo: bool) -> None:
    """AWS's queue name rules: FIFO names end in ``.fifo`` (counted in the 80)."""
    if fifo:
        if not (name.endswith(".fifo") and _NAME.match(name[:-5]) and len(name) <= 80):
            raise InvalidParameterValue(
                "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                "underscores, must end with .fifo suffix and be 1 to 80 in length."
            )
    elif not _NAME.match(name):
        raise InvalidParameterValue(
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
        )


def queue_url(ctx: RequestContext, queue: Queue) -> str:
    """The queue's URL as the caller addressed this server."""
    return f"{ctx.base_url}/{queue.record.account_id}/{queue.record.name}"


def queue_arn(ctx: RequestContext, queue: Queue) -> str:
    """The queue's ARN in the caller's region."""
    return f"arn:aws:sqs:{ctx.region}:{queue.record.account_id}:{queue.record.name}"


class QueueRegistry:
    """Every live queue, indexed by (account, name) and by id."""

    def __init__(self) -> None:
        self._by_name: dict[tuple[str, str], Queue] = {}
        self.by_id: dict[int, Queue] = {}
        self.next_queue_id = 1

    def load(self, store: LmdbStore, now_ms: int) -> None:
        """Rebuild every queue's index from the store."""
        raw_next = store.get(Db.META, NEXT_QUEUE_ID)
        self.next_queue_id = keys.from_u64(raw_next) if raw_next else 1
        for _, raw in store.scan(Db.QUEUES):
            record = unpack_queue(raw)
            mark = store.get(Db.META, seq_mark_key(record.queue_id))
            last = store.last_key(Db.STATES, keys.queue_prefix(record.queue_id))
            next_seq = max(
                keys.from_u64(mark) if mark else 0, keys.split_message_key(last)[1] + 1 if last else 0
            )
            queue = Queue(record, next_seq)
            for key, value in store.scan(Db.STATES, keys.queue_prefix(record.queue_id)):
                queue.load(keys.split_message_key(key)[1], unpack_state(value), now_ms)
            self._add(queue)

    def allocate_id(self) -> tuple[int, Write]:
        """A new queue id and the write that persists the counter."""
        queue_id = self.next_queue_id
        self.next_queue_id += 1
        return queue_id, put(Db.META, NEXT_QUEUE_ID, keys.u64(self.next_queue_id))

    def add(self, record: QueueRecord) -> Queue:
        """Register a new queue."""
        queue = Queue(record)
        self._add(queue)
        return queue

    def _add(self, queue: Queue) -> None:
        self._by_name[(queue.record.account_id, queue.record.name)] = queue
        self.by_id[queue.queue_id] = queue

    def remove(self, queue: Queue) -> None:
        """Unregister a queue (its name is free again at once)."""
        del self._by_name[(queue.record.account_id, queue.record.name)]
        del self.by_id[queue.queue_id]
        queue.deleted = True

    def find(self, account_id: str, name: str) -> Queue | None:
        """The queue called ``name`` in ``account_id``, if any."""
        return self._by_name.get((account_id, name))

    def resolve(self, url: str, ctx: RequestContext) -> Queue:
        """The caller's queue addressed by ``url``, or QueueDoesNotExist."""
        parts = urlsplit(url).path.strip("/").split("/") if "/" in url else [ctx.account_id, url]
        if len(parts) == 2 and parts[0] == ctx.account_id:
            queue = self._by_name.get((parts[0], parts[1]))
            if queue is not None:
                return queue
        raise QueueDoesNotExist()

    def of_account(self, account_id: str) -> Iterator[Queue]:
        """The account's queues, by name."""
        for (account, _), queue in sorted(self._by_name.items()):
            if account == account_id:
                yield queue

    def all(self) -> list[Queue]:
        return list(self.by_id.values())

"""The group committer: one thread owns every LMDB write transaction.

Callers on the event loop :meth:`GroupCommitter.submit` a list of writes and get
a future.  Submissions made during one pass of the event loop are handed to the
thread together (one queue put, one wake-up, at the end of the pass).  The
thread takes the first pending hand-over, drains every other pending one,
applies them all in one transaction, commits (one fsync for all), then
resolves every waiting future in a single ``call_soon_threadsafe`` callback.
Under load batching is automatic; with one client the latency is one commit.
Writes are applied in submission order, so a later write never lands before an
earlier one.  If a combined transaction fails, each submission is retried on
its own so one bad write cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from storage.store import LmdbStore, Write

log = logging.getLogger(__name__)

CommitObserver = Callable[[int, float], None]
# (writes, the future the caller awaits, settle, abandon): settle/abandon only from commit_then
_Pending = tuple[
    Sequence[Write], "asyncio.Future[None]", Callable[[], object] | None, Callable[[], object] | None
]
_HandOver = list[_Pending]
_STOP = None


class GroupCommitter:
    """Batches writes from the event loop into few, durable LMDB commits."""

    def __init__(
        self,
        store: LmdbStore,
        loop: asyncio.AbstractEventLoop,
        *,
        observer: CommitObserver | None = None,
        flush_interval: float | None = None,
    ) -> None:
        self._store = store
        self._loop = loop
        self._observer = observer
        self._flush_interval = flush_interval
        self._queue: queue.SimpleQueue[_HandOver | None] = queue.SimpleQueue()
        self._gathering: _HandOver | None = None
        self._gatherings = 0  # hand-overs started so far
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="shoal-committer", daemon=True)
        self.commits = 0
        self.writes = 0

    def start(self) -> None:
        """Start the committer thread."""
        self._thread.start()

    def submit(self, writes: Sequence[Write]) -> asyncio.Future[None]:
        """Queue ``writes`` for the next commit; the future resolves once they are durable.

        Call it on the event loop's thread only.
        """
        future: asyncio.Future[None] = self._loop.create_future()
        self._enqueue((writes, future, None, None))
        return future

    def commit_then(
        self, writes: Sequence[Write], settle: Callable[[], object], abandon: Callable[[], object]
    ) -> asyncio.Future[None]:
        """Commit ``writes`` (none: wait for every earlier write); then ``settle`` (index
        what they wrote), or ``abandon`` if the commit failed.  Await the returned future.

        Either runs when the commit is resolved on the loop, before the waiter resumes,
        and even if the waiting request is cancelled meanwhile (its client went away):
        submitted writes commit regardless, so what they wrote must be indexed.
        Cancelling the returned future cancels only the wait (as ``asyncio.shield``
        would, with no second future or callback per request).
        """
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._enqueue((writes, waiter, settle, abandon))
        return waiter

    def next_hand_over(self) -> int:
        """The number of the hand-over the next submission joins: submissions with the same
        number are committed in one transaction, and settle in one callback."""
        return self._gatherings + (self._gathering is None)

    def _enqueue(self, pending: _Pending) -> None:
        gathering = self._gathering
        if gathering is None:
            gathering = self._gathering = []
            self._gatherings += 1
            if not self._closed:
                self._loop.call_soon(self._hand_over)
        gathering.append(pending)

    def _hand_over(self) -> None:
        gathered, self._gathering = self._gathering, None
        if gathered:
            self._queue.put(gathered)

    async def close(self) -> None:
        """Commit everything already submitted, then stop the thread.

        What the last commits' settle steps submit (a hand-off's put-back) is committed
        here, on the loop's thread, once the committer thread is gone.
        """
        self._hand_over()
        self._queue.put(_STOP)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
        self._closed = True
        while True:
            await asyncio.sleep(0)  # the last resolve callbacks, which may submit more
            late: list[_Pending] = []
            while not self._queue.empty():
                late += self._queue.get_nowait() or ()
            late += self._gathering or ()
            self._gathering = None
            if not late:
                return
            self._commit(late)

    def _run(self) -> None:
        last_flush = time.monotonic()
        timeout = self._flush_interval
        while True:
            try:
                first = self._queue.get(timeout=timeout)
            except queue.Empty:
                first = None
                if self._flush_interval is not None:
                    self._store.flush()
                    last_flush = time.monotonic()
                continue
            stop = first is _STOP
            batch: list[_Pending] = [] if first is None else list(first)
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                else:
                    batch += item
            if batch:
                self._commit(batch)
            if self._flush_interval is not None and (
                stop or time.monotonic() - last_flush >= self._flush_interval
            ):
                self._store.flush()
                last_flush = time.monotonic()
            if stop:
                return

    def _commit(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        errors: list[BaseException | None]
        try:
            self._store.apply([write for writes, *_ in batch for write in writes])
            errors = [None] * len(batch)
        except Exception:  # one failing submission must not fail its neighbours
            log.exception("group commit of %d submissions failed; retrying one by one", len(batch))
            errors = [self._commit_alone(writes) for writes, *_ in batch]
        elapsed = time.perf_counter() - started
        self.commits += 1
        self.writes += len(batch)
        self._loop.call_soon_threadsafe(self._resolve, batch, errors, elapsed)

    def _commit_alone(self, writes: Sequence[Write]) -> BaseException | None:
        try:
            self._store.apply(writes)
        except Exception as exc:
            return exc
        return None

    def _resolve(self, batch: list[_Pending], errors: list[BaseException | None], elapsed: float) -> None:
        for (_, future, settle, abandon), error in zip(batch, errors, strict=True):
            if settle is not None and abandon is not None:
                try:
                    if error is None:
                        settle()
                    else:
                        abandon()
                except Exception as failure:  # one bad settle must not strand the rest of the batch
                    log.exception("settling a commit failed")
                    error = error or failure
            if future.done():  # the wait was cancelled
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
        if self._observer is not None:
            self._observer(len(batch), elapsed)

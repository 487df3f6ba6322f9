"""The visible messages of a queue, in the order they are handed out.

Two implementations of one small interface:

* :class:`StandardReady`: runs of consecutive seqs in (approximately) send order.  Standard
  queues promise at-least-once, best-effort order.
* :class:`FifoReady`: one deque per message group, in send order, plus the
  groups that may be served now.  A group is *locked* while any of its
  messages is in flight (``lock``/``unlock`` count them), and a locked group is
  never served, so a group's messages go out strictly one batch after another
  in order.  ``take`` serves as few groups as possible: all it can from the
  first available group, then the next.

Deleting a visible message (with a receipt handle whose visibility expired,
or by the retention sweeper) marks its seq in ``gone`` rather than searching
the deques; ``take`` skips marked seqs.  Methods are synchronous and O(1)
amortised.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

Taken = tuple[int, str | None]
"""A message handed out: its seq and its group (None on standard queues)."""


class Ready(Protocol):
    """The visible messages of one queue."""

    def push(self, seq: int, group: str | None) -> None:
        """A message became visible (sent, delay over, or back from in flight)."""

    def discard(self, seq: int) -> None:
        """A visible message was deleted."""

    def take(self, limit: int) -> list[Taken]:
        """Hand out up to ``limit`` messages."""

    def lock(self, group: str | None) -> None:
        """One more message of ``group`` is in flight."""

    def unlock(self, group: str | None) -> None:
        """One message of ``group`` is no longer in flight."""

    def clear(self) -> None:
        """Forget everything (purge)."""

    def __len__(self) -> int: ...


class StandardReady:
    """Visible messages of a standard queue, as runs of consecutive seqs.

    Sends append consecutive seqs, so a backlog of millions is a handful of
    ``[start, end)`` runs (bytes, not tens of bytes, per message); a message
    back from flight is a run of one at the end.
    """

    def __init__(self) -> None:
        self._runs: deque[list[int]] = deque()
        self._count = 0
        self._gone: set[int] = set()

    def push(self, seq: int, group: str | None) -> None:
        runs = self._runs
        if runs and runs[-1][1] == seq:
            runs[-1][1] = seq + 1
        else:
            runs.append([seq, seq + 1])
        self._count += 1

    def discard(self, seq: int) -> None:
        self._gone.add(seq)

    def take(self, limit: int) -> list[Taken]:
        taken: list[Taken] = []
        runs, gone = self._runs, self._gone
        while runs and len(taken) < limit:
            seq = self._pop_front()
            if gone and seq in gone:
                gone.discard(seq)
                continue
            taken.append((seq, None))
        return taken

    def lock(self, group: str | None) -> None:
        pass

    def unlock(self, group: str | None) -> None:
        pass

    def clear(self) -> None:
        self._runs.clear()
        self._gone.clear()
        self._count = 0

    def __len__(self) -> int:
        return self._count - len(self._gone)

    def _pop_front(self) -> int:
        run = self._runs[0]
        seq = run[0]
        run[0] = seq + 1
        if run[0] == run[1]:
            self._runs.popleft()
        self._count -= 1
        return seq


class FifoReady:
    """Visible messages of a FIFO queue, per message group."""

    def __init__(self) -> None:
        self._groups: dict[str, deque[int]] = {}
        self._locks: dict[str, int] = {}
        self._available: deque[str] = deque()
        self._listed: set[str] = set()
        self._gone: set[int] = set()
        self._count = 0

    def push(self, seq: int, group: str | None) -> None:
        assert group is not None, "FIFO messages always have a group"
        seqs = self._groups.get(group)
        if seqs is None:
            seqs = self._groups[group] = deque()
        if not seqs or seq > seqs[-1]:
            seqs.append(seq)
        elif seq < seqs[0]:
            seqs.appendleft(seq)
        else:  # back from in flight behind an earlier one that also returned
            position = next(index for index, queued in enumerate(seqs) if queued > seq)
            seqs.insert(position, seq)
        self._count += 1
        self._offer(group)

    def discard(self, seq: int) -> None:
        self._gone.add(seq)
        self._count -= 1

    def take(self, limit: int) -> list[Taken]:
        taken: list[Taken] = []
        while self._available and len(taken) < limit:
            group = self._available.popleft()
            self._listed.discard(group)
            seqs = self._groups.get(group)
            if seqs is None or self._locks.get(group):
                continue
            served = 0
            while seqs and len(taken) < limit:
                seq = seqs.popleft()
                if seq in self._gone:
                    self._gone.discard(seq)
                    continue
                self._count -= 1
                taken.append((seq, group))
                served += 1
            if not seqs:
                del self._groups[group]
            elif not served:
                self._offer(group)
        return taken

    def lock(self, group: str | None) -> None:
        assert group is not None
        self._locks[group] = self._locks.get(group, 0) + 1

    def unlock(self, group: str | None) -> None:
        assert group is not None
        remaining = self._locks.get(group, 0) - 1
        if remaining > 0:
            self._locks[group] = remaining
            return
        self._locks.pop(group, None)
        self._offer(group)

    def clear(self) -> None:
        self._groups.clear()
        self._locks.clear()
        self._available.clear()
        self._listed.clear()
        self._gone.clear()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def _offer(self, group: str) -> None:
        if group not in self._listed and not self._locks.get(group) and self._groups.get(group):
            self._available.append(group)
            self._listed.add(group)

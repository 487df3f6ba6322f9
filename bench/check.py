"""The correctness check: every acknowledged message received exactly once.

Strategy: a :class:`Ledger` learns of each message twice: when the server
acknowledges its send (:meth:`Ledger.acknowledged`) and each time a receive
returns it (:meth:`Ledger.received`).  Keys are whatever identifies a message
in the scenario (a MessageId, or a sequence number carried in the body); a
fan-out keys by ``(queue, seq)``.  Order doesn't matter: a message may be
received before its send's reply arrives.  Sends that fail or time out are
not acknowledged, so receiving them is no error (the server may have stored
them anyway); they count as ``unacknowledged``.  The ledger never forgets, so
its memory is one dict entry per message of the run.

:meth:`Ledger.report` says what went wrong: duplicates (received more than
once), missing (acknowledged, never received), and a few sample keys of each.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

SAMPLES = 10


@dataclass(frozen=True, slots=True)
class CheckReport:
    acknowledged: int
    received: int
    duplicates: int
    """Messages received more than once (each counts once, however many extra copies)."""
    extra_copies: int
    missing: int
    unacknowledged: int
    """Messages received whose send was never acknowledged (failed or timed out)."""
    duplicate_samples: list[str] = field(default_factory=list)
    missing_samples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.missing == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "acknowledged": self.acknowledged,
            "received": self.received,
            "duplicates": self.duplicates,
            "extra_copies": self.extra_copies,
            "missing": self.missing,
            "unacknowledged": self.unacknowledged,
            "duplicate_samples": self.duplicate_samples,
            "missing_samples": self.missing_samples,
        }


class Ledger:
    """Acknowledged sends and receive counts, keyed by message identity."""

    __slots__ = ("_acked", "_seen", "copies", "outstanding")

    def __init__(self) -> None:
        self._acked: set[Hashable] = set()
        self._seen: dict[Hashable, int] = {}
        self.copies = 0  # receives recorded, duplicates included
        self.outstanding = 0  # acknowledged, not received yet

    def acknowledged(self, key: Hashable) -> None:
        if key not in self._acked:
            self._acked.add(key)
            if key not in self._seen:
                self.outstanding += 1

    def received(self, key: Hashable) -> bool:
        """Record a receive of ``key``; True the first time."""
        self.copies += 1
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        if n == 0 and key in self._acked:
            self.outstanding -= 1
        return n == 0

    def complete(self) -> bool:
        return self.outstanding == 0

    def report(self) -> CheckReport:
        dups = sorted((k for k, n in self._seen.items() if n > 1), key=str)
        missing = sorted((k for k in self._acked if k not in self._seen), key=str)
        return CheckReport(
            acknowledged=len(self._acked),
            received=len(self._seen),
            duplicates=len(dups),
            extra_copies=sum(self._seen[k] - 1 for k in dups),
            missing=len(missing),
            unacknowledged=sum(1 for k in self._seen if k not in self._acked),
            duplicate_samples=[f"{k} x{self._seen[k]}" for k in dups[:SAMPLES]],
            missing_samples=[str(k) for k in missing[:SAMPLES]],
        )


def describe(report: dict[str, Any]) -> str:
    """One line for the text summary."""
    if report["ok"]:
        line = f"{report['acknowledged']:,} acknowledged, all received exactly once"
    else:
        parts = [f"{report['acknowledged']:,} acknowledged, {report['received']:,} received"]
        if report["duplicates"]:
            parts.append(
                f"{report['duplicates']:,} DUPLICATED ({report['extra_copies']:,} extra copies; "
                f"e.g. {', '.join(report['duplicate_samples'])})"
            )
        if report["missing"]:
            parts.append(f"{report['missing']:,} MISSING (e.g. {', '.join(report['missing_samples'])})")
        line = "; ".join(parts)
    if report["unacknowledged"]:
        line += f"; {report['unacknowledged']:,} received whose send was not acknowledged"
    return line

"""Reading a server's CPU time and anonymous memory from ``/proc`` (Linux).

The scale benchmarks (``bench/connections.py``, ``bench/memory.py``) watch the
server process from outside, so they measure it whatever it runs.  The parsing
is pure (text in, numbers out) so it is unit-tested without a process:

* ``/proc/PID/stat``: fields 14 and 15 (``utime``, ``stime``) in clock ticks.
  Field 2 (``comm``) is in parentheses and may itself hold spaces or ``)``, so
  the fields are counted from the *last* ``)``.
* ``/proc/PID/status``: ``RssAnon:   69504 kB``: the anonymous resident memory,
  i.e. the heap, not LMDB's memory-mapped file pages (those are ``RssFile``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_ticks(stat: str) -> int:
    """``utime + stime`` of a ``/proc/PID/stat`` line, in clock ticks."""
    after_comm = stat[stat.rindex(")") + 2 :].split()
    # after_comm[0] is field 3 (state), so field n is after_comm[n - 3].
    return int(after_comm[14 - 3]) + int(after_comm[15 - 3])


def status_kb(status: str, key: str) -> int:
    """A ``kB`` value of ``/proc/PID/status`` (``RssAnon``, ``VmRSS``...)."""
    prefix = key + ":"
    for line in status.splitlines():
        if line.startswith(prefix):
            return int(line[len(prefix) :].split()[0])
    raise KeyError(key)


def cpu_share(ticks_before: int, ticks_after: int, seconds: float, ticks_per_second: int) -> float:
    """CPU used between two samples as a share of one core (1.0 = a whole core)."""
    if seconds <= 0:
        raise ValueError("the interval must be positive")
    return (ticks_after - ticks_before) / ticks_per_second / seconds


def per_item(before_kb: int, after_kb: int, items: int) -> float:
    """Bytes of growth per item between two kB readings."""
    if items <= 0:
        raise ValueError("items must be positive")
    return (after_kb - before_kb) * 1024 / items


@dataclass(frozen=True, slots=True)
class Sample:
    ticks: int
    rss_anon_kb: int
    at: float  # time.monotonic()


def sample(pid: int) -> Sample:
    """The process's CPU ticks and RssAnon now."""
    proc = Path("/proc") / str(pid)
    return Sample(
        cpu_ticks((proc / "stat").read_text()),
        status_kb((proc / "status").read_text(), "RssAnon"),
        time.monotonic(),
    )


def share_between(first: Sample, second: Sample) -> float:
    """CPU share of one core between two samples."""
    return cpu_share(first.ticks, second.ticks, second.at - first.at, TICKS_PER_SECOND)

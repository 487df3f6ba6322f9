"""bench.openloop: the fixed schedule's arithmetic and the body stamps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.openloop import NS, Schedule, Stamp, read_stamp, stamp


def test_intended_times_are_fixed_by_rate() -> None:
    s = Schedule(100.0, start_ns=5 * NS)
    assert [s.intended(i) for i in range(4)] == [
        5 * NS,
        5 * NS + 10_000_000,
        5 * NS + 20_000_000,
        5 * NS + 30_000_000,
    ]
    assert s.intended(100) == 6 * NS  # no drift: computed from the index, not accumulated


@pytest.mark.parametrize(
    ("now", "due"),
    [(-1, 0), (0, 1), (9_999_999, 1), (10_000_000, 2), (10_000_001, 2), (NS, 101), (10 * NS, 1001)],
)
def test_due_counts_messages_whose_time_has_come(now: int, due: int) -> None:
    assert Schedule(100.0, start_ns=0).due(now) == due


@given(
    rate=st.floats(min_value=0.1, max_value=1e6, allow_nan=False),
    start=st.integers(0, 10**15),
    offset=st.integers(0, 10**12),
)
def test_due_is_the_first_index_not_due(rate: float, start: int, offset: int) -> None:
    s = Schedule(rate, start)
    now = start + offset
    n = s.due(now)
    assert n >= 1 and s.intended(n - 1) <= now < s.intended(n)


def test_a_late_pacer_catches_up_in_a_burst() -> None:
    s = Schedule(1000.0, start_ns=0)
    sent = s.due(0)
    assert s.due(50_000_000) - sent == 50  # 50 ms late: 50 messages due at once, each with its own time


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Schedule(0, 0)


def test_stamp_round_trip_and_size() -> None:
    body = stamp("abcd1234", 42, 123_456_789_000, 100)
    assert len(body) == 100
    assert read_stamp(body) == Stamp("abcd1234", 42, 123_456_789_000)
    assert read_stamp(stamp("t", 1, 2, 0)) == Stamp("t", 1, 2)  # too small: the stamp wins over the size


@pytest.mark.parametrize("body", ["", "hello", "a:b:c:", "t:1:x:", "t:-1:5:"])
def test_foreign_bodies_have_no_stamp(body: str) -> None:
    assert read_stamp(body) is None

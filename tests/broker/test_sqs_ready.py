"""The visible-message containers of broker/sqs/ready.py, checked against a
plain list model with hypothesis: whatever the interleaving of pushes, takes,
and discards, the order and the count are the model's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from broker.sqs.ready import FifoReady, StandardReady

operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(0, 3)),  # push the next seq (+ a gap of 0-3)
        st.tuples(st.just("take"), st.integers(1, 10)),
        st.tuples(st.just("discard"), st.integers(0, 50)),
    ),
    max_size=200,
)


@given(operations)
def test_standard_ready_behaves_like_an_ordered_list(ops: list[tuple[str, int]]) -> None:
    ready, model = StandardReady(), []
    next_seq = 0
    for op, arg in ops:
        if op == "push":
            next_seq += arg
            ready.push(next_seq, None)
            model.append(next_seq)
            next_seq += 1
        elif op == "take":
            expected, model = model[:arg], model[arg:]
            assert [seq for seq, _ in ready.take(arg)] == expected
        elif op == "discard" and model:
            victim = model[arg % len(model)]
            ready.discard(victim)
            model.remove(victim)
        assert len(ready) == len(model)
    assert [seq for seq, _ in ready.take(10_000)] == model


def test_a_backlog_of_consecutive_sends_is_one_run() -> None:
    ready = StandardReady()
    for seq in range(100_000):
        ready.push(seq, None)
    assert len(ready._runs) == 1  # memory does not grow per message
    assert [seq for seq, _ in ready.take(3)] == [0, 1, 2]
    assert len(ready) == 99_997


def test_fifo_ready_serves_one_group_until_it_is_locked() -> None:
    ready = FifoReady()
    for seq, group in enumerate("AABBA"):
        ready.push(seq, group)
    taken = ready.take(10)
    assert taken == [(0, "A"), (1, "A"), (4, "A"), (2, "B"), (3, "B")]
    for _seq, group in taken:
        ready.lock(group)
    ready.push(5, "A")
    assert ready.take(10) == []  # A is locked while its messages are in flight
    for _seq, group in taken:
        if group == "A":
            ready.unlock(group)
    assert ready.take(10) == [(5, "A")]

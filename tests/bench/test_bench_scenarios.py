"""bench.scenarios.Fifo: groups round-robin, unique dedup ids, batches in one group or spread."""

from __future__ import annotations

from bench.scenarios import Fifo


def test_single_sends_round_robin() -> None:
    fifo = Fifo("u", 10, groups=3, batch=False, spread=False)
    sent = [fifo.params() for _ in range(7)]
    assert {action for action, _ in sent} == {"SendMessage"}
    assert [p["MessageGroupId"] for _, p in sent] == ["g0", "g1", "g2", "g0", "g1", "g2", "g0"]
    assert len({p["MessageDeduplicationId"] for _, p in sent}) == 7
    assert len(sent[0][1]["MessageBody"]) == 10


def test_batch_in_one_group() -> None:
    fifo = Fifo("u", 10, groups=100, batch=True, spread=False)
    first, second = (fifo.params()[1]["Entries"] for _ in range(2))
    assert {e["MessageGroupId"] for e in first} == {"g0"} and {e["MessageGroupId"] for e in second} == {"g1"}
    assert len({e["MessageDeduplicationId"] for e in first + second}) == 20


def test_batch_spread_over_groups() -> None:
    fifo = Fifo("u", 10, groups=15, batch=True, spread=True)
    first, second = (fifo.params()[1]["Entries"] for _ in range(2))
    assert [e["MessageGroupId"] for e in first] == [f"g{i}" for i in range(10)]
    assert [e["MessageGroupId"] for e in second] == [f"g{i % 15}" for i in range(10, 20)]
    assert [e["Id"] for e in first] == [str(i) for i in range(10)]


def test_dedup_ids_differ_between_runs() -> None:
    a, b = Fifo("u", 1, 1, False, False), Fifo("u", 1, 1, False, False)
    assert a.params()[1]["MessageDeduplicationId"] != b.params()[1]["MessageDeduplicationId"]

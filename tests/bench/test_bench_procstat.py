"""bench.procstat's /proc parsing, and the pure helpers of the scale benchmarks."""

from __future__ import annotations

import os

import pytest

from bench.memory import batch_entries
from bench.procstat import cpu_share, cpu_ticks, per_item, sample, share_between, status_kb

STAT = (
    "26672 (python) R 1 26666 26134 0 -1 4194560 28726 0 1 0 4840 319 0 0 20 0 6 0 572860 "
    "1421160448 73974 18446744073709551615 94649110126592 0 0 0 0 16781316 16386 0 0 0 17 0"
)


def test_cpu_ticks_adds_utime_and_stime() -> None:
    assert cpu_ticks(STAT) == 4840 + 319


def test_cpu_ticks_survives_a_command_name_with_spaces_and_parens() -> None:
    tricky = STAT.replace("(python)", "(we ird) (x))")
    assert cpu_ticks(tricky) == 4840 + 319


def test_status_kb_reads_the_named_line() -> None:
    status = "Name:\tpython\nVmRSS:\t  296080 kB\nRssAnon:\t   69504 kB\nRssFile:\t  226576 kB\n"
    assert status_kb(status, "RssAnon") == 69504
    assert status_kb(status, "RssFile") == 226576
    with pytest.raises(KeyError):
        status_kb(status, "RssShmem")


def test_cpu_share_and_per_item() -> None:
    assert cpu_share(100, 150, 10.0, 100) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        cpu_share(0, 1, 0.0, 100)
    assert per_item(1000, 2000, 1024) == 1000.0
    assert per_item(2000, 1000, 1024) == -1000.0
    with pytest.raises(ValueError):
        per_item(0, 1, 0)


def test_sample_reads_this_process() -> None:
    first = sample(os.getpid())
    sum(range(200_000))
    second = sample(os.getpid())
    assert first.rss_anon_kb > 0 and second.ticks >= first.ticks
    assert share_between(first, second) >= 0.0


def test_fifo_batches_spread_over_groups_with_unique_dedup_ids() -> None:
    first, second = batch_entries(0, "b", True, 15, "t"), batch_entries(1, "b", True, 15, "t")
    assert [e["MessageGroupId"] for e in first] == [f"g{i}" for i in range(10)]
    assert [e["MessageGroupId"] for e in second] == [f"g{i % 15}" for i in range(10, 20)]
    ids = {e["MessageDeduplicationId"] for e in first + second}
    assert len(ids) == 20
    assert [e["Id"] for e in first] == [str(i) for i in range(10)]


def test_standard_batches_have_no_fifo_fields() -> None:
    entries = batch_entries(3, "body", False, 10, "t")
    assert entries == [{"Id": str(i), "MessageBody": "body"} for i in range(10)]

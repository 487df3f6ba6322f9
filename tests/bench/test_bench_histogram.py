"""bench.histogram: exact below 2**SUB_BITS, bounded relative error above."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.histogram import SUB_BITS, Histogram, bucket_index, bucket_upper

values = st.integers(min_value=0, max_value=10**9)


def exact_percentile(data: list[int], p: float) -> int:
    ordered = sorted(data)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def test_buckets_are_contiguous_and_cover_every_value() -> None:
    previous = -1
    for index in range(40 * (1 << SUB_BITS)):
        upper = bucket_upper(index)
        assert upper > previous
        assert bucket_index(previous + 1) == index
        assert bucket_index(upper) == index
        previous = upper


@given(values)
def test_bucket_width_is_within_relative_precision(value: int) -> None:
    upper = bucket_upper(bucket_index(value))
    assert value <= upper <= value + value / (1 << SUB_BITS)


def test_small_values_are_exact() -> None:
    h = Histogram()
    for v in range(1, 101):
        h.record(v)
    assert [h.percentile(p) for p in (1, 50, 90, 99, 100)] == [1, 50, 90, 99, 100]
    assert (h.count, h.min, h.max, h.mean) == (100, 1, 100, 50.5)


@given(st.lists(values, min_size=1, max_size=300), st.sampled_from([50, 90, 99, 99.9, 100]))
def test_percentiles_err_high_by_less_than_the_precision(data: list[int], p: float) -> None:
    h = Histogram()
    for v in data:
        h.record(v)
    exact = exact_percentile(data, p)
    assert exact <= h.percentile(p) <= exact + exact / (1 << SUB_BITS)
    assert h.percentile(100) == max(data)


@given(st.lists(values), st.lists(values))
def test_merge_equals_recording_everything(a: list[int], b: list[int]) -> None:
    ha, hb, both = Histogram(), Histogram(), Histogram()
    for v in a:
        ha.record(v)
        both.record(v)
    for v in b:
        hb.record(v)
        both.record(v)
    ha.merge(hb)
    assert (ha.count, ha.min, ha.max, ha.total) == (both.count, both.min, both.max, both.total)
    assert [ha.percentile(p) for p in (50, 99, 100)] == [both.percentile(p) for p in (50, 99, 100)]


def test_empty_and_invalid() -> None:
    h = Histogram()
    assert (h.percentile(99), h.mean) == (0, 0.0)
    with pytest.raises(ValueError):
        h.record(-1)
    with pytest.raises(ValueError):
        h.percentile(0)

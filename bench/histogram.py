"""A log-bucketed latency histogram in the manner of HdrHistogram.

Strategy: values (non-negative integers, microseconds here) below ``2**SUB_BITS``
get one bucket each; above, every power-of-two range is cut into ``2**SUB_BITS``
equal buckets, so a bucket is never wider than ``1/2**SUB_BITS`` of its values
(< 0.8 % with 7 bits).  Recording is a bit_length, a shift and a list increment;
percentiles walk the cumulative counts and report a bucket's upper edge (never
above the exact maximum), so a reported percentile errs high, not low.
Histograms merge by adding counts, which is how per-connection data combines.
"""

from __future__ import annotations

import math

SUB_BITS = 7
_SUB = 1 << SUB_BITS


def bucket_index(value: int) -> int:
    """The bucket that holds ``value``; contiguous from 0 upwards."""
    if value < _SUB:
        return value
    shift = value.bit_length() - SUB_BITS - 1
    return (shift + 1) * _SUB + ((value >> shift) - _SUB)


def bucket_upper(index: int) -> int:
    """The largest value that lands in bucket ``index``."""
    if index < _SUB:
        return index
    shift = index // _SUB - 1
    low = (index % _SUB + _SUB) << shift
    return low + (1 << shift) - 1


class Histogram:
    """Counts of values in log-spaced buckets, with exact count, min, max and sum."""

    __slots__ = ("_counts", "count", "max", "min", "total")

    def __init__(self) -> None:
        self._counts: list[int] = []
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0

    def record(self, value: int) -> None:
        if value < 0:
            raise ValueError(f"histogram values are non-negative, got {value}")
        index = bucket_index(value)
        if index >= len(self._counts):
            self._counts.extend([0] * (index + 1 - len(self._counts)))
        self._counts[index] += 1
        self.min = value if self.count == 0 else min(self.min, value)
        self.max = max(self.max, value)
        self.count += 1
        self.total += value

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s values to this histogram."""
        if other.count == 0:
            return
        if len(other._counts) > len(self._counts):
            self._counts.extend([0] * (len(other._counts) - len(self._counts)))
        for index, n in enumerate(other._counts):
            self._counts[index] += n
        self.min = other.min if self.count == 0 else min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total

    def percentile(self, p: float) -> int:
        """The nearest-rank ``p``-th percentile (0 < p <= 100); 0 when empty."""
        if not 0 < p <= 100:
            raise ValueError(f"percentile must be in (0, 100], got {p}")
        if self.count == 0:
            return 0
        rank = max(1, math.ceil(p / 100 * self.count))
        seen = 0
        for index, n in enumerate(self._counts):
            seen += n
            if seen >= rank:
                return max(self.min, min(bucket_upper(index), self.max))
        return self.max

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

"""MD5OfMessageAttributes, which every send with attributes (and every receive asking for them) computes."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from broker.sqs.message import md5_of_attributes
from storage.records import MessageAttribute

ATTRIBUTES = [
    MessageAttribute("trace-id", "String", "4bf92f3577b34da6a3ce929d0e0e4736", None),
    MessageAttribute("priority", "Number", "7", None),
    MessageAttribute("payload", "Binary", None, bytes(range(64))),
]


@pytest.mark.parametrize("count", [1, 3, 10])
def test_md5_of_attributes(benchmark: BenchmarkFixture, count: int) -> None:
    attributes = [
        a._replace(name=f"{a.name}-{i}") for i, a in zip(range(count), ATTRIBUTES * 4, strict=False)
    ]
    digest = benchmark(md5_of_attributes, attributes)
    assert digest is not None and len(digest) == 32

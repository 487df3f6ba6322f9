"""``python -m bench.broker_cost`` runs end to end on a tiny load (so it cannot rot)."""

from __future__ import annotations

import asyncio

import pytest

from bench.broker_cost import run


def test_reports_every_path_and_direction(capsys: pytest.CaptureFixture[str]) -> None:
    moved = asyncio.run(run(messages=400, concurrency=4, sync=False))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        "broker: SendMessageBatch",
        "broker: ReceiveMessage + DeleteMessageBatch",
        "binary edge: SendMessageBatch",
        "binary edge: ReceiveMessage + DeleteMessageBatch",
        "HTTP JSON edge: SendMessageBatch",
        "HTTP JSON edge: ReceiveMessage + DeleteMessageBatch",
    ]
    assert all("µs CPU/msg" in line for line in lines)
    # Each path sent 400 messages and received and deleted every one of them.
    assert list(moved.values()) == [400] * 6

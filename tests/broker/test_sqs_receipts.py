"""Receipt handles: opaque, bound to one queue, tamper-evident; deleting twice succeeds."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker
from broker.errors import ReceiptHandleIsInvalid
from broker.sqs import api


async def received_handle(sqs: Sqs, url: str, body: str = "x") -> str:
    await sqs.send(url, body)
    [message] = await sqs.receive(url)
    assert message.receipt_handle is not None
    return message.receipt_handle


@pytest.mark.parametrize("handle", ["", "garbage", "not base64 !!", "AAAA", "\u00e9\u00e9"])
async def test_garbage_handle_is_invalid(sqs: Sqs, handle: str) -> None:
    url = await sqs.create()
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.delete(url, handle)
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.change_visibility(url, handle, 10)


async def test_tampered_handle_is_invalid(sqs: Sqs) -> None:
    url = await sqs.create()
    handle = await received_handle(sqs, url)
    raw = bytearray(base64.urlsafe_b64decode(handle))
    for position in (1, 10, len(raw) - 1):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        with pytest.raises(ReceiptHandleIsInvalid):
            await sqs.delete(url, base64.urlsafe_b64encode(bytes(tampered)).decode())
    await sqs.delete(url, handle)  # the genuine one still works


@pytest.mark.parametrize(
    "change", [lambda h: h + "\n", lambda h: " " + h, lambda h: h[:8] + " " + h[8:], lambda h: h + "!"]
)
async def test_a_handle_with_any_extra_character_is_invalid(sqs: Sqs, change: Callable[[str], str]) -> None:
    """Handles are matched exactly, as AWS does: whitespace or stray characters are not skipped."""
    url = await sqs.create()
    handle = await received_handle(sqs, url)
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.delete(url, change(handle))
    await sqs.delete(url, handle)


async def test_other_queues_handle_is_invalid(sqs: Sqs) -> None:
    first = await sqs.create("first")
    second = await sqs.create("second")
    handle = await received_handle(sqs, first)
    await sqs.send(second, "y")
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.delete(second, handle)
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.change_visibility(second, handle, 0)
    assert await sqs.counts(first) == (0, 1, 0)


async def test_deleting_twice_succeeds(sqs: Sqs) -> None:
    url = await sqs.create()
    handle = await received_handle(sqs, url)
    await sqs.delete(url, handle)
    await sqs.delete(url, handle)
    assert await sqs.counts(url) == (0, 0, 0)


async def test_each_receive_gets_a_different_handle(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    first = await received_handle(sqs, url)
    clock.advance(30)
    [again] = await sqs.receive(url)
    assert again.receipt_handle != first
    await sqs.delete(url, again.receipt_handle)
    assert await sqs.counts(url) == (0, 0, 0)


async def test_deleted_queues_handles_are_invalid_on_a_new_queue_of_that_name(sqs: Sqs) -> None:
    url = await sqs.create("q")
    handle = await received_handle(sqs, url)
    await sqs.call(api.DeleteQueue(queue_url=url))
    again = await sqs.create("q")
    await sqs.send(again, "new")
    with pytest.raises(ReceiptHandleIsInvalid):
        await sqs.delete(again, handle)
    assert await sqs.counts(again) == (1, 0, 0)


async def test_handle_survives_restart_with_same_secret(
    open_broker: Callable[[], Broker], ctx: RequestContext
) -> None:
    broker = open_broker()
    await broker.start()
    sqs = Sqs(broker, ctx)
    url = await sqs.create()
    handle = await received_handle(sqs, url)
    await broker.close()
    broker = open_broker()
    await broker.start()
    try:
        sqs = Sqs(broker, ctx)
        await sqs.delete(url, handle)
        assert await sqs.counts(url) == (0, 0, 0)
    finally:
        await broker.close()

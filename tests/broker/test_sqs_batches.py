"""Batch actions: SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch.

Whole-request errors (empty, too many entries, ids not distinct or invalid,
too long) fail the call; an entry's own error is a per-entry failure with
``SenderFault`` while its neighbours succeed.
"""

from __future__ import annotations

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    QueueDoesNotExist,
    TooManyEntriesInBatchRequest,
)
from broker.sqs import api

Entry = api.SendMessageBatchRequestEntry


async def test_send_batch_sends_every_entry(sqs: Sqs) -> None:
    url = await sqs.create()
    result = await sqs.call(
        api.SendMessageBatch(
            queue_url=url, entries=[Entry(id=f"m{i}", message_body=f"b{i}") for i in range(10)]
        )
    )
    assert [entry.id for entry in result.successful] == [f"m{i}" for i in range(10)]
    assert not result.failed
    assert len({entry.message_id for entry in result.successful}) == 10
    bodies = {m.body for m in await sqs.receive(url)} | {m.body for m in await sqs.receive(url)}
    assert bodies == {f"b{i}" for i in range(10)}


async def test_send_batch_entry_delay(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.call(
        api.SendMessageBatch(
            queue_url=url,
            entries=[
                Entry(id="now", message_body="now"),
                Entry(id="later", message_body="later", delay_seconds=5),
            ],
        )
    )
    assert await sqs.counts(url) == (1, 0, 1)
    clock.advance(5)
    assert await sqs.counts(url) == (2, 0, 0)


async def test_send_batch_md5s_per_entry(sqs: Sqs) -> None:
    url = await sqs.create()
    attribute = {"a": api.MessageAttributeValue(data_type="String", string_value="1")}
    result = await sqs.call(
        api.SendMessageBatch(
            queue_url=url, entries=[Entry(id="1", message_body="x", message_attributes=attribute)]
        )
    )
    single = await sqs.send(url, "x", message_attributes=attribute)
    assert result.successful[0].md5_of_message_body == single.md5_of_message_body
    assert result.successful[0].md5_of_message_attributes == single.md5_of_message_attributes


async def test_empty_batch(sqs: Sqs) -> None:
    url = await sqs.create()
    with pytest.raises(EmptyBatchRequest):
        await sqs.call(api.SendMessageBatch(queue_url=url, entries=[]))
    with pytest.raises(EmptyBatchRequest):
        await sqs.call(api.DeleteMessageBatch(queue_url=url, entries=[]))
    with pytest.raises(EmptyBatchRequest):
        await sqs.call(api.ChangeMessageVisibilityBatch(queue_url=url, entries=[]))


async def test_too_many_entries(sqs: Sqs) -> None:
    url = await sqs.create()
    entries = [Entry(id=str(i), message_body="x") for i in range(11)]
    with pytest.raises(TooManyEntriesInBatchRequest):
        await sqs.call(api.SendMessageBatch(queue_url=url, entries=entries))
    deletes = [api.DeleteMessageBatchRequestEntry(id=str(i), receipt_handle="h") for i in range(11)]
    with pytest.raises(TooManyEntriesInBatchRequest):
        await sqs.call(api.DeleteMessageBatch(queue_url=url, entries=deletes))
    assert await sqs.counts(url) == (0, 0, 0)


async def test_ids_not_distinct(sqs: Sqs) -> None:
    url = await sqs.create()
    entries = [Entry(id="same", message_body="a"), Entry(id="same", message_body="b")]
    with pytest.raises(BatchEntryIdsNotDistinct):
        await sqs.call(api.SendMessageBatch(queue_url=url, entries=entries))
    assert await sqs.counts(url) == (0, 0, 0)


@pytest.mark.parametrize("entry_id", ["", "has space", "dot.id", "x" * 81])
async def test_invalid_entry_id(sqs: Sqs, entry_id: str) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidBatchEntryId):
        await sqs.call(api.SendMessageBatch(queue_url=url, entries=[Entry(id=entry_id, message_body="x")]))


async def test_valid_entry_id_of_80_characters(sqs: Sqs) -> None:
    url = await sqs.create()
    entry_id = "A-z_9" * 16
    result = await sqs.call(
        api.SendMessageBatch(queue_url=url, entries=[Entry(id=entry_id, message_body="x")])
    )
    assert result.successful[0].id == entry_id


async def test_batch_request_too_long(sqs: Sqs) -> None:
    url = await sqs.create()
    half = "x" * 524_288
    await sqs.call(
        api.SendMessageBatch(
            queue_url=url, entries=[Entry(id="a", message_body=half), Entry(id="b", message_body=half)]
        )
    )
    with pytest.raises(BatchRequestTooLong):
        await sqs.call(
            api.SendMessageBatch(
                queue_url=url,
                entries=[Entry(id="a", message_body=half), Entry(id="b", message_body=half + "x")],
            )
        )
    assert await sqs.counts(url) == (2, 0, 0)


async def test_send_batch_per_entry_failures_are_sender_faults(sqs: Sqs) -> None:
    url = await sqs.create(MaximumMessageSize="1024")
    result = await sqs.call(
        api.SendMessageBatch(
            queue_url=url,
            entries=[
                Entry(id="ok", message_body="fine"),
                Entry(id="big", message_body="x" * 1025),
                Entry(id="bad", message_body="\x00"),
                Entry(id="late", message_body="x", delay_seconds=901),
            ],
        )
    )
    assert [entry.id for entry in result.successful] == ["ok"]
    failed = {entry.id: entry for entry in result.failed}
    assert set(failed) == {"big", "bad", "late"}
    assert all(entry.sender_fault for entry in result.failed)
    assert failed["big"].code == "InvalidParameterValue"
    assert failed["bad"].code == "InvalidMessageContents"
    assert failed["late"].code == "InvalidParameterValue"
    assert await sqs.counts(url) == (1, 0, 0)


async def test_batch_on_missing_queue(sqs: Sqs) -> None:
    with pytest.raises(QueueDoesNotExist):
        await sqs.call(
            api.SendMessageBatch(
                queue_url="http://localhost:4566/000000000000/missing",
                entries=[Entry(id="a", message_body="x")],
            )
        )


async def test_delete_batch_with_a_bad_handle(sqs: Sqs) -> None:
    url = await sqs.create()
    for body in ("a", "b"):
        await sqs.send(url, body)
    messages = await sqs.receive(url)
    entries = [
        api.DeleteMessageBatchRequestEntry(id=f"d{i}", receipt_handle=m.receipt_handle or "")
        for i, m in enumerate(messages)
    ]
    entries.append(api.DeleteMessageBatchRequestEntry(id="bad", receipt_handle="garbage"))
    result = await sqs.call(api.DeleteMessageBatch(queue_url=url, entries=entries))
    assert sorted(entry.id for entry in result.successful) == ["d0", "d1"]
    [failure] = result.failed
    assert (failure.id, failure.code, failure.sender_fault) == ("bad", "ReceiptHandleIsInvalid", True)
    assert await sqs.counts(url) == (0, 0, 0)


async def test_change_visibility_batch(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    for body in ("a", "b", "c"):
        await sqs.send(url, body)
    first, second, third = await sqs.receive(url)
    await sqs.delete(url, third.receipt_handle)
    result = await sqs.call(
        api.ChangeMessageVisibilityBatch(
            queue_url=url,
            entries=[
                api.ChangeMessageVisibilityBatchRequestEntry(
                    id="zero", receipt_handle=first.receipt_handle or "", visibility_timeout=0
                ),
                api.ChangeMessageVisibilityBatchRequestEntry(
                    id="long", receipt_handle=second.receipt_handle or "", visibility_timeout=100
                ),
                api.ChangeMessageVisibilityBatchRequestEntry(
                    id="gone", receipt_handle=third.receipt_handle or "", visibility_timeout=5
                ),
            ],
        )
    )
    assert sorted(entry.id for entry in result.successful) == ["long", "zero"]
    [failure] = result.failed
    assert (failure.id, failure.code, failure.sender_fault) == ("gone", "MessageNotInflight", True)
    assert [m.body for m in await sqs.receive(url, visibility_timeout=1000)] == ["a"]
    clock.advance(99.999)
    assert await sqs.receive(url) == []
    clock.advance(0.001)
    assert [m.body for m in await sqs.receive(url)] == ["b"]

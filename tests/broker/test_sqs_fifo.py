"""FIFO queues: creation rules and attributes, sends (group and deduplication
ids, the 5-minute window, sequence numbers), ordering and group locks,
ReceiveRequestAttemptId, system attributes, and restart."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqs_client import Restart, Sqs

from broker.clock import ManualClock
from broker.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    MissingParameter,
)
from broker.sqs import api

FIFO_ATTRIBUTES = {"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}


async def fifo_queue(sqs: Sqs, name: str = "q.fifo", **attributes: str) -> str:
    return await sqs.create(name, **{"FifoQueue": "true", **attributes})


async def send(
    sqs: Sqs, url: str, body: str, group: str = "g", dedup: str | None = None
) -> api.SendMessageResult:
    return await sqs.send(url, body, message_group_id=group, message_deduplication_id=dedup or body)


def entry(
    entry_id: str, body: str, group: str = "g", dedup: str | None = None
) -> api.SendMessageBatchRequestEntry:
    return api.SendMessageBatchRequestEntry(
        id=entry_id, message_body=body, message_group_id=group, message_deduplication_id=dedup or body
    )


# -- creation and attributes ---------------------------------------------------


async def test_fifo_queue_needs_fifo_suffix(sqs: Sqs) -> None:
    with pytest.raises(InvalidParameterValue, match=r"must end with \.fifo suffix"):
        await sqs.create("plain", FifoQueue="true")


async def test_fifo_suffix_needs_fifo_queue_attribute(sqs: Sqs) -> None:
    with pytest.raises(InvalidParameterValue):
        await sqs.create("q.fifo")
    with pytest.raises(InvalidParameterValue):
        await sqs.create("q.fifo", FifoQueue="false")


async def test_fifo_name_counts_suffix_in_80_characters(sqs: Sqs) -> None:
    await fifo_queue(sqs, "a" * 75 + ".fifo")
    with pytest.raises(InvalidParameterValue):
        await fifo_queue(sqs, "a" * 76 + ".fifo")


async def test_get_attributes_all_lists_fifo_attributes_with_defaults(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    values = await sqs.attributes(url)
    assert {name: values[name] for name in FIFO_ATTRIBUTES} == {
        "FifoQueue": "true",
        "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue",
        "FifoThroughputLimit": "perQueue",
    }


async def test_standard_queue_has_no_fifo_attributes(sqs: Sqs) -> None:
    url = await sqs.create("std")
    assert not FIFO_ATTRIBUTES & set(await sqs.attributes(url))


@pytest.mark.parametrize("name", ["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"])
async def test_fifo_attributes_unknown_on_standard_queue(sqs: Sqs, name: str) -> None:
    value = {"ContentBasedDeduplication": "true", "DeduplicationScope": "queue"}.get(name, "perQueue")
    with pytest.raises(InvalidAttributeName):
        await sqs.create("std", **{name: value})
    url = await sqs.create("std")
    with pytest.raises(InvalidAttributeName):
        await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={name: value}))


async def test_high_throughput_mode_attributes(sqs: Sqs) -> None:
    url = await fifo_queue(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    values = await sqs.attributes(url, "DeduplicationScope", "FifoThroughputLimit")
    assert values == {"DeduplicationScope": "messageGroup", "FifoThroughputLimit": "perMessageGroupId"}


async def test_per_message_group_throughput_needs_message_group_scope(sqs: Sqs) -> None:
    with pytest.raises(InvalidAttributeValue, match="perMessageGroupId"):
        await fifo_queue(sqs, FifoThroughputLimit="perMessageGroupId")
    with pytest.raises(InvalidAttributeValue, match="perMessageGroupId"):
        await fifo_queue(sqs, DeduplicationScope="queue", FifoThroughputLimit="perMessageGroupId")
    url = await fifo_queue(sqs, DeduplicationScope="messageGroup", FifoThroughputLimit="perMessageGroupId")
    with pytest.raises(InvalidAttributeValue):
        await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"DeduplicationScope": "queue"}))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DeduplicationScope", "group"),
        ("DeduplicationScope", "MessageGroup"),
        ("FifoThroughputLimit", "perGroup"),
        ("ContentBasedDeduplication", "yes"),
        ("FifoQueue", "maybe"),
    ],
)
async def test_bad_fifo_attribute_values(sqs: Sqs, name: str, value: str) -> None:
    with pytest.raises(InvalidAttributeValue):
        await fifo_queue(sqs, **{name: value})


async def test_fifo_queue_attribute_cannot_be_changed(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for value in ("false", "true"):
        with pytest.raises((InvalidAttributeName, InvalidAttributeValue)):
            await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"FifoQueue": value}))
    standard = await sqs.create("std")
    with pytest.raises((InvalidAttributeName, InvalidAttributeValue)):
        await sqs.call(api.SetQueueAttributes(queue_url=standard, attributes={"FifoQueue": "true"}))
    assert (await sqs.attributes(url, "FifoQueue")) == {"FifoQueue": "true"}


async def test_content_based_deduplication_can_be_turned_on_later(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"ContentBasedDeduplication": "true"}))
    await sqs.send(url, "body", message_group_id="g")
    assert await sqs.attributes(url, "ContentBasedDeduplication") == {"ContentBasedDeduplication": "true"}


# -- sends ---------------------------------------------------------------------


async def test_message_group_id_is_required(sqs: Sqs) -> None:
    url = await fifo_queue(sqs, ContentBasedDeduplication="true")
    with pytest.raises(MissingParameter, match="MessageGroupId"):
        await sqs.send(url, "x")


async def test_deduplication_id_required_without_content_based_deduplication(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    with pytest.raises(InvalidParameterValue) as raised:
        await sqs.send(url, "x", message_group_id="g")
    assert raised.value.message == (
        "The queue should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly"
    )


async def test_per_message_delay_rejected_on_fifo(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    with pytest.raises(InvalidParameterValue, match="DelaySeconds"):
        await sqs.send(url, "x", message_group_id="g", message_deduplication_id="d", delay_seconds=5)


async def test_queue_level_delay_applies_to_fifo(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs, DelaySeconds="10")
    await send(sqs, url, "late")
    assert await sqs.receive(url) == []
    clock.advance(10)
    assert [m.body for m in await sqs.receive(url)] == ["late"]


@pytest.mark.parametrize("field", ["message_group_id", "message_deduplication_id"])
@pytest.mark.parametrize("value", ["", "a" * 129, "with space", "é", "tab\t"])
async def test_id_characters_and_length(sqs: Sqs, field: str, value: str) -> None:
    url = await fifo_queue(sqs)
    fields = {"message_group_id": "g", "message_deduplication_id": "d", field: value}
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x", **fields)


async def test_ids_accept_every_punctuation_and_128_characters(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    await sqs.send(url, "x", message_group_id=punctuation, message_deduplication_id="a" * 128)
    await sqs.send(url, "y", message_group_id="b" * 128, message_deduplication_id=punctuation)
    [message] = await sqs.receive(url, max_messages=1, message_system_attribute_names=["MessageGroupId"])
    assert message.attributes == {"MessageGroupId": punctuation}


async def test_standard_queue_rejects_deduplication_id(sqs: Sqs) -> None:
    url = await sqs.create("std")
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x", message_deduplication_id="d")


async def test_duplicate_within_window_answers_original_and_is_delivered_once(
    sqs: Sqs, clock: ManualClock
) -> None:
    url = await fifo_queue(sqs)
    first = await send(sqs, url, "one", dedup="d")
    clock.advance(299)
    again = await send(sqs, url, "other body", dedup="d")
    assert (again.message_id, again.sequence_number) == (first.message_id, first.sequence_number)
    assert again.md5_of_message_body == hashlib.md5(b"other body").hexdigest()
    received = await sqs.receive(url)
    assert [(m.body, m.message_id) for m in received] == [("one", first.message_id)]
    await sqs.delete(url, received[0].receipt_handle)
    assert await sqs.receive(url) == []
    assert await sqs.counts(url) == (0, 0, 0)


async def test_duplicate_after_delete_is_still_a_duplicate(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs)
    first = await send(sqs, url, "one")
    [message] = await sqs.receive(url)
    await sqs.delete(url, message.receipt_handle)
    clock.advance(60)
    assert (await send(sqs, url, "one")).message_id == first.message_id
    assert await sqs.receive(url) == []


async def test_deduplication_window_ends_after_five_minutes(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs)
    first = await send(sqs, url, "one", dedup="d")
    clock.advance(301)
    fresh = await send(sqs, url, "two", dedup="d")
    assert fresh.message_id != first.message_id
    assert int(fresh.sequence_number or 0) > int(first.sequence_number or 0)
    assert [m.body for m in await sqs.receive(url)] == ["one", "two"]


async def test_window_counts_from_the_first_send_not_the_duplicate(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs)
    first = await send(sqs, url, "one", dedup="d")
    clock.advance(200)
    assert (await send(sqs, url, "one", dedup="d")).message_id == first.message_id
    clock.advance(101)
    assert (await send(sqs, url, "one", dedup="d")).message_id != first.message_id


async def test_content_based_deduplication_uses_body(sqs: Sqs) -> None:
    url = await fifo_queue(sqs, ContentBasedDeduplication="true")
    first = await sqs.send(url, "same", message_group_id="a")
    again = await sqs.send(url, "same", message_group_id="b")
    other = await sqs.send(url, "different", message_group_id="a")
    assert again.message_id == first.message_id
    assert other.message_id != first.message_id
    [message, _] = await sqs.receive(url, message_system_attribute_names=["MessageDeduplicationId"])
    assert message.attributes == {"MessageDeduplicationId": hashlib.sha256(b"same").hexdigest()}


async def test_explicit_deduplication_id_wins_over_content(sqs: Sqs) -> None:
    url = await fifo_queue(sqs, ContentBasedDeduplication="true")
    await sqs.send(url, "same", message_group_id="g", message_deduplication_id="1")
    await sqs.send(url, "same", message_group_id="g", message_deduplication_id="2")
    assert len(await sqs.receive(url)) == 2


async def test_deduplication_scope_queue_spans_groups(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    first = await send(sqs, url, "a", group="g1", dedup="d")
    assert (await send(sqs, url, "b", group="g2", dedup="d")).message_id == first.message_id
    assert len(await sqs.receive(url)) == 1


async def test_deduplication_scope_message_group(sqs: Sqs) -> None:
    url = await fifo_queue(sqs, DeduplicationScope="messageGroup")
    first = await send(sqs, url, "a", group="g1", dedup="d")
    second = await send(sqs, url, "b", group="g2", dedup="d")
    third = await send(sqs, url, "c", group="g1", dedup="d")
    assert second.message_id != first.message_id
    assert third.message_id == first.message_id
    assert sorted(m.body for m in await sqs.receive(url)) == ["a", "b"]


async def test_sequence_numbers_strictly_increase_as_128_bit_decimals(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    numbers = [(await send(sqs, url, f"m{i}", group=f"g{i % 3}")).sequence_number for i in range(20)]
    values = [int(number or "") for number in numbers]
    assert all(number is not None and number.isdigit() for number in numbers)
    assert all(0 < value < 2**128 for value in values)
    assert values == sorted(set(values))
    received = await sqs.receive(url, message_system_attribute_names=["SequenceNumber"])
    assert {m.attributes["SequenceNumber"] for m in received if m.attributes} <= set(numbers)


async def test_standard_queue_send_has_no_sequence_number(sqs: Sqs) -> None:
    url = await sqs.create("std")
    assert (await sqs.send(url, "x")).sequence_number is None


async def test_batch_with_duplicates_inside_one_batch(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    result = await sqs.call(
        api.SendMessageBatch(
            queue_url=url,
            entries=[entry("1", "a", dedup="x"), entry("2", "b", dedup="y"), entry("3", "c", dedup="x")],
        )
    )
    by_id = {item.id: item for item in result.successful}
    assert not result.failed and set(by_id) == {"1", "2", "3"}
    assert by_id["3"].message_id == by_id["1"].message_id
    assert by_id["3"].sequence_number == by_id["1"].sequence_number
    assert int(by_id["2"].sequence_number or 0) > int(by_id["1"].sequence_number or 0)
    assert [m.body for m in await sqs.receive(url)] == ["a", "b"]


async def test_batch_entry_errors_are_per_entry(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    result = await sqs.call(
        api.SendMessageBatch(
            queue_url=url,
            entries=[
                entry("ok", "a"),
                api.SendMessageBatchRequestEntry(
                    id="nogroup", message_body="b", message_deduplication_id="b"
                ),
                api.SendMessageBatchRequestEntry(id="nodedup", message_body="c", message_group_id="g"),
                api.SendMessageBatchRequestEntry(
                    id="delay",
                    message_body="d",
                    message_group_id="g",
                    message_deduplication_id="d",
                    delay_seconds=1,
                ),
            ],
        )
    )
    assert [item.id for item in result.successful] == ["ok"]
    codes = {item.id: (item.code, item.sender_fault) for item in result.failed}
    assert codes == {
        "nogroup": ("MissingParameter", True),
        "nodedup": ("InvalidParameterValue", True),
        "delay": ("InvalidParameterValue", True),
    }


async def test_duplicate_of_a_batch_entry_in_a_later_send(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    result = await sqs.call(api.SendMessageBatch(queue_url=url, entries=[entry("1", "a"), entry("2", "b")]))
    again = await send(sqs, url, "b")
    assert again.message_id == result.successful[1].message_id


# -- ordering and group locks ----------------------------------------------------


async def test_one_group_comes_in_send_order(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(25):
        await send(sqs, url, f"m{i}")
    bodies: list[str] = []
    while batch := await sqs.receive(url):
        bodies += [m.body or "" for m in batch]
        for message in batch:
            await sqs.delete(url, message.receipt_handle)
    assert bodies == [f"m{i}" for i in range(25)]


async def test_group_in_flight_blocks_later_messages(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(3):
        await send(sqs, url, f"m{i}")
    [first] = await sqs.receive(url, max_messages=1)
    assert first.body == "m0"
    for _ in range(10):
        assert await sqs.receive(url) == []
    assert await sqs.counts(url) == (2, 1, 0)
    await sqs.delete(url, first.receipt_handle)
    assert [m.body for m in await sqs.receive(url, max_messages=1)] == ["m1"]


async def test_group_in_flight_blocks_even_messages_sent_later(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    await send(sqs, url, "m0")
    [first] = await sqs.receive(url)
    await send(sqs, url, "m1")
    assert await sqs.receive(url) == []
    await sqs.delete(url, first.receipt_handle)
    assert [m.body for m in await sqs.receive(url)] == ["m1"]


async def test_visibility_timeout_returns_same_message_first(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs, VisibilityTimeout="30")
    for i in range(3):
        await send(sqs, url, f"m{i}")
    first = await sqs.receive(url, max_messages=2)
    assert [m.body for m in first] == ["m0", "m1"]
    clock.advance(29)
    assert await sqs.receive(url) == []
    clock.advance(1)
    again = await sqs.receive(url, attribute_names=["ApproximateReceiveCount"])
    assert [m.body for m in again] == ["m0", "m1", "m2"]
    assert [m.message_id for m in again[:2]] == [m.message_id for m in first]
    assert [m.attributes for m in again] == [
        {"ApproximateReceiveCount": "2"},
        {"ApproximateReceiveCount": "2"},
        {"ApproximateReceiveCount": "1"},
    ]


async def test_partly_deleted_batch_returns_the_rest_in_order(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs, VisibilityTimeout="30")
    for i in range(4):
        await send(sqs, url, f"m{i}")
    batch = await sqs.receive(url, max_messages=3)
    await sqs.delete(url, batch[0].receipt_handle)
    assert await sqs.receive(url) == []  # m1, m2 still in flight
    clock.advance(30)
    assert [m.body for m in await sqs.receive(url)] == ["m1", "m2", "m3"]


async def test_change_visibility_zero_releases_in_order(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(2):
        await send(sqs, url, f"m{i}")
    [first] = await sqs.receive(url, max_messages=1)
    await sqs.change_visibility(url, first.receipt_handle, 0)
    assert [m.body for m in await sqs.receive(url)] == ["m0", "m1"]


async def test_receive_fills_from_as_few_groups_as_possible(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(5):
        await send(sqs, url, f"a{i}", group="A")
        await send(sqs, url, f"b{i}", group="B")
    received = await sqs.receive(url, max_messages=10)
    assert [m.body for m in received] == [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]


async def test_receive_takes_one_group_when_it_fills_the_request(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(5):
        await send(sqs, url, f"a{i}", group="A")
        await send(sqs, url, f"b{i}", group="B")
    first = await sqs.receive(url, max_messages=3)
    assert [m.body for m in first] == ["a0", "a1", "a2"]
    second = await sqs.receive(url, max_messages=3)  # A is locked now
    assert [m.body for m in second] == ["b0", "b1", "b2"]
    assert await sqs.receive(url) == []


async def test_other_groups_flow_while_one_is_locked(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    await send(sqs, url, "a0", group="A")
    await send(sqs, url, "a1", group="A")
    await send(sqs, url, "b0", group="B")
    [a0] = await sqs.receive(url, max_messages=1)
    assert a0.body == "a0"
    assert [m.body for m in await sqs.receive(url)] == ["b0"]


async def test_concurrent_consumers_get_disjoint_groups(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(4):
        for group in "ABCD":
            await send(sqs, url, f"{group}{i}", group=group)
    batches = await asyncio.gather(*(sqs.receive(url, max_messages=4) for _ in range(6)))
    groups = [{(m.body or "")[0] for m in batch} for batch in batches if batch]
    assert len(groups) == 4
    assert all(len(g) == 1 for g in groups)
    assert set().union(*groups) == set("ABCD")
    for batch in batches:
        if batch:
            group = (batch[0].body or "")[0]
            assert [m.body for m in batch] == [f"{group}{i}" for i in range(4)]


async def test_many_groups_many_consumers_exactly_once_in_order(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    groups, per_group = 50, 20
    for i in range(per_group):
        for start in range(0, groups, 10):
            entries = [entry(str(g), f"{g}:{i}", group=f"g{g}") for g in range(start, start + 10)]
            await sqs.call(api.SendMessageBatch(queue_url=url, entries=entries))
    seen: dict[int, list[int]] = {g: [] for g in range(groups)}
    idle = 0

    async def consumer() -> None:
        nonlocal idle
        while True:
            batch = await sqs.receive(url, max_messages=10)
            if not batch:
                idle += 1
                if idle > 20:
                    return
                await asyncio.sleep(0)
                continue
            idle = 0
            for message in batch:
                group, index = map(int, (message.body or "").split(":"))
                seen[group].append(index)
            await sqs.call(
                api.DeleteMessageBatch(
                    queue_url=url,
                    entries=[
                        api.DeleteMessageBatchRequestEntry(id=str(n), receipt_handle=m.receipt_handle or "")
                        for n, m in enumerate(batch)
                    ],
                )
            )

    await asyncio.gather(*(consumer() for _ in range(4)))
    assert seen == {g: list(range(per_group)) for g in range(groups)}
    assert await sqs.counts(url) == (0, 0, 0)


# -- ReceiveRequestAttemptId ---------------------------------------------------------


async def test_retried_attempt_returns_same_messages_and_handles(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    for i in range(3):
        await send(sqs, url, f"m{i}", group=f"g{i}")
    first = await sqs.receive(url, max_messages=2, receive_request_attempt_id="attempt-1")
    retry = await sqs.receive(url, max_messages=2, receive_request_attempt_id="attempt-1")
    assert [(m.message_id, m.receipt_handle) for m in retry] == [
        (m.message_id, m.receipt_handle) for m in first
    ]
    other = await sqs.receive(url, max_messages=2, receive_request_attempt_id="attempt-2")
    assert [m.body for m in other] == ["m2"]
    assert await sqs.counts(url) == (0, 3, 0)


async def test_retried_attempt_does_not_resurrect_deleted_messages(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    await send(sqs, url, "m0")
    [message] = await sqs.receive(url, receive_request_attempt_id="a")
    await sqs.delete(url, message.receipt_handle)
    assert await sqs.receive(url, receive_request_attempt_id="a") == []
    assert await sqs.counts(url) == (0, 0, 0)


async def test_attempt_id_is_validated(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    with pytest.raises(InvalidParameterValue):
        await sqs.receive(url, receive_request_attempt_id="a b")
    with pytest.raises(InvalidParameterValue):
        await sqs.receive(url, receive_request_attempt_id="a" * 129)


# -- system attributes -----------------------------------------------------------------


async def test_fifo_system_attributes_returned_when_asked(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    sent = await send(sqs, url, "x", group="grp", dedup="dd")
    [plain] = await sqs.receive(url, visibility_timeout=0)
    assert plain.attributes is None
    [message] = await sqs.receive(
        url,
        visibility_timeout=0,
        message_system_attribute_names=["MessageGroupId", "MessageDeduplicationId", "SequenceNumber"],
    )
    assert message.attributes == {
        "MessageGroupId": "grp",
        "MessageDeduplicationId": "dd",
        "SequenceNumber": sent.sequence_number,
    }
    [everything] = await sqs.receive(url, attribute_names=["All"])
    assert everything.attributes is not None
    assert {"MessageGroupId", "MessageDeduplicationId", "SequenceNumber", "SentTimestamp"} <= set(
        everything.attributes
    )


async def test_standard_queue_accepts_and_returns_message_group_id(sqs: Sqs) -> None:
    url = await sqs.create("fair")
    await sqs.send(url, "x", message_group_id="tenant-1")
    [message] = await sqs.receive(url, message_system_attribute_names=["All"])
    assert message.attributes is not None
    assert message.attributes["MessageGroupId"] == "tenant-1"
    assert "SequenceNumber" not in message.attributes


async def test_standard_queue_does_not_lock_groups(sqs: Sqs) -> None:
    url = await sqs.create("fair")
    for i in range(3):
        await sqs.send(url, f"m{i}", message_group_id="tenant")
    [first] = await sqs.receive(url, max_messages=1)
    assert len(await sqs.receive(url)) == 2
    assert first.body == "m0"


# -- restart ------------------------------------------------------------------------


async def test_order_dedup_and_sequence_survive_restart(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await fifo_queue(sqs)
    sent = [await send(sqs, url, f"m{i}", group=f"g{i % 2}") for i in range(6)]
    sqs = await restart()
    clock.advance(100)
    duplicate = await send(sqs, url, "m3", group="g1")
    assert (duplicate.message_id, duplicate.sequence_number) == (sent[3].message_id, sent[3].sequence_number)
    fresh = await send(sqs, url, "m6", group="g0")
    assert int(fresh.sequence_number or 0) > int(sent[-1].sequence_number or 0)
    received = await sqs.receive(url)
    assert [m.body for m in received] == ["m0", "m2", "m4", "m6", "m1", "m3", "m5"]


async def test_dedup_window_still_ends_after_restart(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await fifo_queue(sqs)
    first = await send(sqs, url, "m")
    sqs = await restart()
    clock.advance(301)
    assert (await send(sqs, url, "m")).message_id != first.message_id


async def test_sequence_numbers_increase_after_restart_of_empty_queue(
    restartable: tuple[Sqs, Restart],
) -> None:
    sqs, restart = restartable
    url = await fifo_queue(sqs)
    last = await send(sqs, url, "m")
    [message] = await sqs.receive(url)
    await sqs.delete(url, message.receipt_handle)
    sqs = await restart()
    assert int((await send(sqs, url, "n")).sequence_number or 0) > int(last.sequence_number or 0)


async def test_group_lock_holds_across_restart_until_timeout(
    restartable: tuple[Sqs, Restart], clock: ManualClock
) -> None:
    sqs, restart = restartable
    url = await fifo_queue(sqs, VisibilityTimeout="60")
    for i in range(3):
        await send(sqs, url, f"a{i}", group="A")
    await send(sqs, url, "b0", group="B")
    [a0] = await sqs.receive(url, max_messages=1)
    assert a0.body == "a0"
    clock.advance(10)
    sqs = await restart()
    assert [m.body for m in await sqs.receive(url)] == ["b0"]
    assert await sqs.receive(url) == []
    clock.advance(50)
    assert [m.body for m in await sqs.receive(url)] == ["a0", "a1", "a2"]


async def test_retried_attempt_resets_the_visibility_timeout(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs, VisibilityTimeout="30")
    await send(sqs, url, "m0")
    [first] = await sqs.receive(url, receive_request_attempt_id="a")
    clock.advance(20)
    [retry] = await sqs.receive(url, receive_request_attempt_id="a")
    assert retry.receipt_handle == first.receipt_handle
    clock.advance(20)  # 40 s after the receive, 20 s after the retry
    assert await sqs.receive(url) == []
    clock.advance(10)
    assert [m.message_id for m in await sqs.receive(url)] == [first.message_id]


async def test_attempt_is_not_replayed_after_its_visibility_timeout(sqs: Sqs, clock: ManualClock) -> None:
    url = await fifo_queue(sqs, VisibilityTimeout="30")
    await send(sqs, url, "m0")
    [first] = await sqs.receive(url, receive_request_attempt_id="a")
    clock.advance(31)
    [again] = await sqs.receive(
        url, receive_request_attempt_id="a", attribute_names=["ApproximateReceiveCount"]
    )
    assert again.message_id == first.message_id
    assert again.receipt_handle != first.receipt_handle
    assert again.attributes == {"ApproximateReceiveCount": "2"}
    await sqs.delete(url, again.receipt_handle)
    assert await sqs.counts(url) == (0, 0, 0)


async def test_attempt_is_not_replayed_after_visibility_change(sqs: Sqs) -> None:
    url = await fifo_queue(sqs)
    await send(sqs, url, "m0")
    [first] = await sqs.receive(url, receive_request_attempt_id="a")
    await sqs.change_visibility(url, first.receipt_handle, 100)
    assert await sqs.receive(url, receive_request_attempt_id="a") == []

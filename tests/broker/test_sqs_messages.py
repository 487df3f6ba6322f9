"""SendMessage and ReceiveMessage: delays, MD5 digests, body and attribute
validation, size limits, visibility timeouts and ChangeMessageVisibility."""

from __future__ import annotations

import hashlib
import struct

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.errors import InvalidMessageContents, InvalidParameterValue, MessageNotInflight
from broker.sqs import api

String = api.MessageAttributeValue


def expected_md5_of_attributes(attributes: dict[str, api.MessageAttributeValue]) -> str:
    """AWS's documented MD5OfMessageAttributes, written from the developer guide.

    For each attribute in ascending name order: length-prefixed (4-byte
    big-endian) name, length-prefixed data type, one transport byte (1 for
    String/Number, 2 for Binary), length-prefixed value bytes.
    """
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        for field in (name.encode(), value.data_type.encode()):
            digest.update(struct.pack(">I", len(field)) + field)
        if value.data_type.startswith("Binary"):
            raw = value.binary_value or b""
            digest.update(b"\x02" + struct.pack(">I", len(raw)) + raw)
        else:
            raw = (value.string_value or "").encode()
            digest.update(b"\x01" + struct.pack(">I", len(raw)) + raw)
    return digest.hexdigest()


# -- send and receive --------------------------------------------------------


async def test_send_then_receive_the_same_message(sqs: Sqs) -> None:
    url = await sqs.create()
    sent = await sqs.send(url, "hello")
    [received] = await sqs.receive(url)
    assert received.message_id == sent.message_id
    assert received.body == "hello"
    assert received.md5_of_body == sent.md5_of_message_body == hashlib.md5(b"hello").hexdigest()
    assert received.receipt_handle


async def test_receive_from_empty_queue_returns_no_messages(sqs: Sqs) -> None:
    url = await sqs.create()
    result = await sqs.call(api.ReceiveMessage(queue_url=url))
    assert not result.messages


async def test_receive_defaults_to_one_message(sqs: Sqs) -> None:
    url = await sqs.create()
    for i in range(3):
        await sqs.send(url, str(i))
    result = await sqs.call(api.ReceiveMessage(queue_url=url))
    assert len(result.messages) == 1


async def test_receive_returns_at_most_max_number_of_messages(sqs: Sqs) -> None:
    url = await sqs.create()
    for i in range(12):
        await sqs.send(url, str(i))
    assert len(await sqs.receive(url, max_messages=10)) == 10
    assert len(await sqs.receive(url, max_messages=10)) == 2


@pytest.mark.parametrize("count", [0, 11, -1])
async def test_max_number_of_messages_out_of_range(sqs: Sqs, count: int) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.call(api.ReceiveMessage(queue_url=url, max_number_of_messages=count))


@pytest.mark.parametrize(
    "request_",
    [
        api.ReceiveMessage(queue_url="q", visibility_timeout=43_201),
        api.ReceiveMessage(queue_url="q", visibility_timeout=-1),
        api.ReceiveMessage(queue_url="q", wait_time_seconds=21),
        api.ReceiveMessage(queue_url="q", wait_time_seconds=-1),
    ],
)
async def test_receive_parameter_ranges(sqs: Sqs, request_: api.ReceiveMessage) -> None:
    await sqs.create("q")
    with pytest.raises(InvalidParameterValue):
        await sqs.call(request_)


async def test_system_attributes_on_receive(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    sent_at = clock.now_ms()
    await sqs.send(url, "x")
    clock.advance(2)
    [first] = await sqs.receive(url, attribute_names=["All"])
    assert first.attributes == {
        "SenderId": "000000000000",
        "SentTimestamp": str(sent_at),
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": str(sent_at + 2000),
    }
    clock.advance(30)
    [again] = await sqs.receive(url, message_system_attribute_names=["ApproximateReceiveCount"])
    assert again.attributes == {"ApproximateReceiveCount": "2"}


async def test_no_system_attributes_unless_asked(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    assert not received.attributes


async def test_trace_header_system_attribute_round_trips(sqs: Sqs) -> None:
    url = await sqs.create()
    header = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    sent = await sqs.send(
        url,
        "x",
        message_system_attributes={
            "AWSTraceHeader": api.MessageSystemAttributeValue(data_type="String", string_value=header)
        },
    )
    assert sent.md5_of_message_system_attributes == expected_md5_of_attributes(
        {"AWSTraceHeader": String(data_type="String", string_value=header)}
    )
    [received] = await sqs.receive(url, attribute_names=["AWSTraceHeader"])
    assert received.attributes == {"AWSTraceHeader": header}


# -- delays ------------------------------------------------------------------


async def test_per_message_delay(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.send(url, "late", delay_seconds=10)
    assert await sqs.receive(url) == []
    assert await sqs.counts(url) == (0, 0, 1)
    clock.advance(9.999)
    assert await sqs.receive(url) == []
    clock.advance(0.001)
    assert [m.body for m in await sqs.receive(url)] == ["late"]


async def test_queue_delay_applies_when_message_has_none(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(DelaySeconds="20")
    await sqs.send(url, "queue-delayed")
    await sqs.send(url, "immediate", delay_seconds=0)
    assert [m.body for m in await sqs.receive(url)] == ["immediate"]
    clock.advance(20)
    assert [m.body for m in await sqs.receive(url)] == ["queue-delayed"]


@pytest.mark.parametrize("delay", [-1, 901])
async def test_message_delay_range(sqs: Sqs, delay: int) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x", delay_seconds=delay)


async def test_deduplication_id_is_rejected_on_standard_queue(sqs: Sqs) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x", message_deduplication_id="d1")


# -- MD5 ---------------------------------------------------------------------


async def test_md5_of_body_is_md5_of_utf8_bytes(sqs: Sqs) -> None:
    url = await sqs.create()
    body = "héllo \U0001f600"
    sent = await sqs.send(url, body)
    assert sent.md5_of_message_body == hashlib.md5(body.encode()).hexdigest()


async def test_md5_of_message_attributes_matches_documented_algorithm(sqs: Sqs) -> None:
    url = await sqs.create()
    attributes = {
        "zeta": String(data_type="String", string_value="last"),
        "alpha": String(data_type="Number", string_value="-1.5e3"),
        "blob": String(data_type="Binary", binary_value=b"\x00\xff\x10"),
        "custom": String(data_type="String.custom-type", string_value="ünï"),
        "bin.typed": String(data_type="Binary.gif", binary_value=b"GIF89a"),
    }
    sent = await sqs.send(url, "x", message_attributes=attributes)
    assert sent.md5_of_message_attributes == expected_md5_of_attributes(attributes)
    [received] = await sqs.receive(url, message_attribute_names=["All"])
    assert received.message_attributes == attributes
    assert received.md5_of_message_attributes == sent.md5_of_message_attributes


@pytest.mark.parametrize(
    ("attributes", "md5"),
    [
        # Sample values used by AWS's SDK checksum tests and other SQS implementations.
        (
            {
                "test_attribute_name_2": String(data_type="String", string_value="test_attribute_value_2"),
                "test_attribute_name_1": String(data_type="String", string_value="test_attribute_value_1"),
            },
            "d53f3b558fe951154770f25cb63dbba9",
        ),
        (
            {"test_attribute_name": String(data_type="Binary", binary_value=b"test_attribute_value")},
            "23f6bd27ea87aab7dfeadcc9aebee495",
        ),
        (
            {"timestamp": String(data_type="Number", string_value="1493147359900")},
            "235c5c510d26fb653d073faed50ae77c",
        ),
    ],
)
async def test_md5_of_message_attributes_known_vectors(
    sqs: Sqs, attributes: dict[str, api.MessageAttributeValue], md5: str
) -> None:
    url = await sqs.create()
    assert (await sqs.send(url, "x", message_attributes=attributes)).md5_of_message_attributes == md5


async def test_no_attributes_means_no_md5_of_attributes(sqs: Sqs) -> None:
    url = await sqs.create()
    assert (await sqs.send(url, "x")).md5_of_message_attributes is None


async def test_receive_returns_only_requested_attributes_with_their_md5(sqs: Sqs) -> None:
    url = await sqs.create()
    attributes = {
        "a.one": String(data_type="String", string_value="1"),
        "a.two": String(data_type="String", string_value="2"),
        "b": String(data_type="String", string_value="3"),
    }
    await sqs.send(url, "x", message_attributes=attributes)
    [received] = await sqs.receive(url, message_attribute_names=["a.*"])
    chosen = {name: attributes[name] for name in ("a.one", "a.two")}
    assert received.message_attributes == chosen
    assert received.md5_of_message_attributes == expected_md5_of_attributes(chosen)


async def test_receive_without_attribute_names_returns_no_attributes(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "x", message_attributes={"a": String(data_type="String", string_value="1")})
    [received] = await sqs.receive(url)
    assert not received.message_attributes
    assert received.md5_of_message_attributes is None


# -- validation --------------------------------------------------------------


@pytest.mark.parametrize("char", ["\x00", "\x08", "\x0b", "\x1f", "\ud800", "\ufffe", "\uffff"])
async def test_invalid_body_characters(sqs: Sqs, char: str) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidMessageContents):
        await sqs.send(url, f"a{char}b")


async def test_allowed_body_characters(sqs: Sqs) -> None:
    url = await sqs.create()
    body = "\t\n\r \ud7ff\ue000\ufffd\U00010000\U0010ffff"
    await sqs.send(url, body)
    assert [m.body for m in await sqs.receive(url)] == [body]


async def test_empty_body_is_rejected(sqs: Sqs) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "")


async def test_size_limit_is_maximum_message_size_of_body(sqs: Sqs) -> None:
    url = await sqs.create(MaximumMessageSize="1024")
    await sqs.send(url, "x" * 1024)
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x" * 1025)
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "é" * 513)  # 1026 UTF-8 bytes


async def test_size_limit_counts_attributes(sqs: Sqs) -> None:
    url = await sqs.create(MaximumMessageSize="1024")
    # name (4) + type (6) + value (10) = 20 bytes of attribute
    attributes = {"name": String(data_type="String", string_value="0123456789")}
    await sqs.send(url, "x" * 1004, message_attributes=attributes)
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x" * 1005, message_attributes=attributes)


async def test_default_size_limit_is_one_mebibyte(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "x" * 1_048_576)
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x" * 1_048_577)


async def test_at_most_ten_message_attributes(sqs: Sqs) -> None:
    url = await sqs.create()
    ten = {f"a{i}": String(data_type="String", string_value="v") for i in range(10)}
    await sqs.send(url, "x", message_attributes=ten)
    eleven = {**ten, "a10": String(data_type="String", string_value="v")}
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x", message_attributes=eleven)


@pytest.mark.parametrize(
    "name", ["", ".start", "end.", "two..dots", "AWS.reserved", "amazon.reserved", "spa ce", "x" * 257]
)
async def test_invalid_attribute_names(sqs: Sqs, name: str) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.send(url, "x", message_attributes={name: String(data_type="String", string_value="v")})


@pytest.mark.parametrize(
    "value",
    [
        String(data_type="Text", string_value="v"),
        String(data_type="Stringy", string_value="v"),
        String(data_type="String", string_value=""),
        String(data_type="String"),
        String(data_type="Binary", string_value="v"),
        String(data_type="Number", string_value="twelve"),
        String(data_type="String", string_value="bad\x00char"),
    ],
)
async def test_invalid_attribute_types_and_values(sqs: Sqs, value: api.MessageAttributeValue) -> None:
    url = await sqs.create()
    with pytest.raises((InvalidParameterValue, InvalidMessageContents)):
        await sqs.send(url, "x", message_attributes={"attr": value})


# -- visibility ----------------------------------------------------------------


async def test_received_message_is_invisible_until_visibility_timeout(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(VisibilityTimeout="30")
    await sqs.send(url, "x")
    assert len(await sqs.receive(url)) == 1
    assert await sqs.counts(url) == (0, 1, 0)
    clock.advance(29.999)
    assert await sqs.receive(url) == []
    clock.advance(0.001)
    assert await sqs.counts(url) == (1, 0, 0)
    [again] = await sqs.receive(url, attribute_names=["ApproximateReceiveCount"])
    assert again.attributes == {"ApproximateReceiveCount": "2"}


async def test_receive_visibility_timeout_overrides_queue_default(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(VisibilityTimeout="30")
    await sqs.send(url, "x")
    await sqs.receive(url, visibility_timeout=5)
    clock.advance(5)
    assert len(await sqs.receive(url)) == 1


async def test_deleted_message_is_never_received_again(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    await sqs.delete(url, received.receipt_handle)
    clock.advance(60)
    assert await sqs.receive(url) == []
    assert await sqs.counts(url) == (0, 0, 0)


async def test_delete_after_visibility_expired_still_deletes(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    clock.advance(31)
    await sqs.delete(url, received.receipt_handle)
    assert await sqs.receive(url) == []
    assert await sqs.counts(url) == (0, 0, 0)


async def test_change_visibility_to_zero_makes_message_visible_at_once(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    await sqs.change_visibility(url, received.receipt_handle, 0)
    assert await sqs.counts(url) == (1, 0, 0)
    [again] = await sqs.receive(url, attribute_names=["ApproximateReceiveCount"])
    assert again.message_id == received.message_id
    assert again.attributes == {"ApproximateReceiveCount": "2"}


async def test_change_visibility_extends_from_now(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create(VisibilityTimeout="30")
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    clock.advance(20)
    await sqs.change_visibility(url, received.receipt_handle, 60)
    clock.advance(59.999)
    assert await sqs.receive(url) == []
    clock.advance(0.001)
    assert len(await sqs.receive(url)) == 1


async def test_change_visibility_of_message_not_in_flight(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    clock.advance(30)  # visible again
    with pytest.raises(MessageNotInflight):
        await sqs.change_visibility(url, received.receipt_handle, 10)


async def test_change_visibility_of_deleted_message(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    await sqs.delete(url, received.receipt_handle)
    with pytest.raises(MessageNotInflight):
        await sqs.change_visibility(url, received.receipt_handle, 10)


@pytest.mark.parametrize("timeout", [-1, 43_201])
async def test_change_visibility_range(sqs: Sqs, timeout: int) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    [received] = await sqs.receive(url)
    with pytest.raises(InvalidParameterValue):
        await sqs.change_visibility(url, received.receipt_handle, timeout)


async def test_zero_visibility_timeout_receive_leaves_message_visible(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.send(url, "x")
    assert len(await sqs.receive(url, visibility_timeout=0)) == 1
    assert len(await sqs.receive(url)) == 1

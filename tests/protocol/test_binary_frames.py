"""The binary protocol's frame codec: round trips, partial input, oversize, garbage, fuzz."""

from __future__ import annotations

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.errors import QueueDoesNotExist
from protocol.binary_frames import (
    NEED_DATA,
    Challenge,
    Error,
    Frame,
    FrameDecoder,
    FrameTooLarge,
    Hello,
    Malformed,
    Ping,
    Pong,
    Request,
    Result,
    Welcome,
    encode,
    pack_error,
    parse_body,
)

FRAMES: list[Frame] = [
    Hello(1, "test", "123456789012", None),
    Hello(1, "test", None, {"AccessKeyId": "AKID"}),
    Welcome(1, "shoal/0.1", 16 << 20, 1024),
    Request(7, "sqs", "SendMessage", {"QueueUrl": "u", "MessageBody": "b"}),
    Request(2**64 - 1, "sqs", "ListQueues", {}),
    Result(7, {"MessageId": "m", "Blob": b"\x00\xff"}),
    Error(7, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "gone", True),
    Error(None, "SerializationException", "SerializationException", "bad", True),
    Ping(3),
    Pong(3),
    Challenge(b"n" * 32),
]


def frame_of(value: object) -> bytes:
    body = msgpack.packb(value, use_bin_type=True)
    return len(body).to_bytes(4, "big") + body


def events(decoder: FrameDecoder) -> list[object]:
    out = []
    while (event := decoder.next_event()) is not NEED_DATA:
        out.append(event)
    return out


@pytest.mark.parametrize("frame", FRAMES, ids=lambda f: type(f).__name__)
def test_round_trip(frame: Frame) -> None:
    decoder = FrameDecoder()
    decoder.receive_data(encode(frame))
    assert events(decoder) == [frame]
    assert decoder.buffered == 0


def test_partial_input_is_need_data_byte_by_byte() -> None:
    stream = b"".join(encode(f) for f in FRAMES)
    decoder = FrameDecoder()
    got: list[object] = []
    for i in range(len(stream)):
        decoder.receive_data(stream[i : i + 1])
        got.extend(events(decoder))
    assert got == FRAMES


def test_many_frames_in_one_read() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(b"".join(encode(f) for f in FRAMES * 50))
    assert events(decoder) == FRAMES * 50


def test_pack_error_carries_the_wire_identity() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(pack_error(9, QueueDoesNotExist()))
    assert events(decoder) == [
        Error(
            9,
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist.",
            True,
        )
    ]


def test_oversize_length_is_fatal() -> None:
    decoder = FrameDecoder(max_frame=100)
    decoder.receive_data((101).to_bytes(4, "big"))
    with pytest.raises(FrameTooLarge):
        decoder.next_event()
    with pytest.raises(FrameTooLarge):  # the decoder stays unusable
        decoder.next_event()


def test_frame_at_the_limit_is_fine() -> None:
    frame = encode(Request(1, "sqs", "SendMessage", {"MessageBody": "x" * 200}))
    decoder = FrameDecoder(max_frame=len(frame) - 4)
    decoder.receive_data(frame)
    assert type(decoder.next_event()) is Request


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"\xc1", "not a msgpack value"),
        (b"\x92\x01", "not a msgpack value"),  # truncated inside the body
        (msgpack.packb([3, 1, "sqs", "X", {}]) + b"\x00", "not a msgpack value"),  # extra data
        (msgpack.packb({"a": 1}), "non-empty msgpack array"),
        (msgpack.packb([]), "non-empty msgpack array"),
        (msgpack.packb([99]), "unknown frame type"),
        (msgpack.packb(["REQUEST"]), "unknown frame type"),
        (msgpack.packb([3, -1, "sqs", "X", {}]), "unsigned"),
        (msgpack.packb([3, 1, "sqs", "X"]), "REQUEST needs"),
        (msgpack.packb([1, 1]), "HELLO needs"),
        (b"\x81\x91\x01\x02", "not a msgpack value"),  # a list as a map key
        (b"\xd4\x05\x00", "extension"),
        (b"\xa2\xff\xfe", "not a msgpack value"),  # invalid UTF-8
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    event = parse_body(body)
    assert type(event) is Malformed
    assert reason in event.reason


def test_malformed_request_keeps_its_id() -> None:
    event = parse_body(msgpack.packb([3, 42, "sqs", "SendMessage", [1, 2]]))
    assert event == Malformed(42, "REQUEST params must be a map")


def test_empty_frame_is_malformed_and_decoding_goes_on() -> None:
    decoder = FrameDecoder()
    decoder.receive_data(b"\x00\x00\x00\x00" + encode(Ping(1)))
    assert events(decoder) == [Malformed(None, "empty frame"), Ping(1)]


def test_buffer_compaction_keeps_partial_frames() -> None:
    frame = encode(Request(1, "sqs", "SendMessage", {"MessageBody": "x" * 1000}))
    decoder = FrameDecoder()
    for _ in range(200):
        decoder.receive_data(frame + frame[:10])
        assert len(events(decoder)) == 1
        decoder.receive_data(frame[10:])
        assert len(events(decoder)) == 1
    assert decoder.buffered == 0


# -- fuzz ------------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.binary()
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(1, 50))
def test_random_bytes_never_crash_the_decoder(data: bytes, chunk: int) -> None:
    decoder = FrameDecoder(max_frame=1 << 16)
    try:
        for i in range(0, len(data), chunk):
            decoder.receive_data(data[i : i + chunk])
            for event in events(decoder):
                assert isinstance(event, (*Frame.__args__, Malformed))  # type: ignore[attr-defined]
    except FrameTooLarge:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(values, min_size=1, max_size=6))
def test_random_msgpack_frames_decode_to_frames_or_malformed(bodies: list[object]) -> None:
    decoder = FrameDecoder()
    decoder.receive_data(b"".join(frame_of(b) for b in bodies))
    got = events(decoder)
    assert len(got) == len(bodies)
    assert all(isinstance(e, (*Frame.__args__, Malformed)) for e in got)  # type: ignore[attr-defined]


requests = st.builds(
    Request,
    st.integers(0, 2**64 - 1),
    st.text(max_size=10),
    st.text(max_size=30),
    st.dictionaries(st.text(max_size=10), values, max_size=5),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(requests, min_size=1, max_size=5), st.integers(1, 64))
def test_random_requests_round_trip_in_any_chunking(frames: list[Request], chunk: int) -> None:
    stream = b"".join(encode(f) for f in frames)
    decoder = FrameDecoder()
    got: list[object] = []
    for i in range(0, len(stream), chunk):
        decoder.receive_data(stream[i : i + chunk])
        got.extend(events(decoder))
    assert got == frames

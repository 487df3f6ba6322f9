"""Record encodings: the hot path's direct encoders read back exactly like the generic ones."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storage.records import (
    MessageAttribute,
    MessageBody,
    MessageState,
    pack_body,
    pack_new_body,
    pack_state,
    pack_state_of,
    unpack_body,
    unpack_state,
)

u64 = st.integers(0, 2**64 - 1)
text = st.text(max_size=40)
maybe_text = st.none() | text
attributes = st.lists(
    st.builds(MessageAttribute, text, text, maybe_text, st.none() | st.binary(max_size=20)), max_size=3
).map(tuple)


@given(u64, u64, u64, u64, maybe_text)
def test_state_fields_encode_like_the_generic_encoder(
    sent_ms: int, visible_at_ms: int, receive_count: int, first_receive_ms: int, group: str | None
) -> None:
    packed = pack_state_of(sent_ms, visible_at_ms, receive_count, first_receive_ms, group)
    expected = MessageState(sent_ms, visible_at_ms, receive_count, first_receive_ms, group)
    assert unpack_state(packed) == expected == unpack_state(pack_state(expected))
    if group is not None:  # written by the same Packer: the very same bytes
        assert packed == pack_state(expected)


@given(text, text, attributes, u64, text, text, maybe_text, maybe_text, maybe_text, maybe_text)
def test_new_body_is_byte_for_byte_the_generic_encoding(
    message_id: str,
    body: str,
    attrs: tuple[MessageAttribute, ...],
    sent_ms: int,
    sender_id: str,
    md5: str,
    trace: str | None,
    group: str | None,
    dedup: str | None,
    sequence: str | None,
) -> None:
    fields = (message_id, body, attrs, sent_ms, sender_id, md5, trace, group, dedup, sequence)
    record = MessageBody(*fields)
    assert pack_new_body(*fields) == pack_body(record)
    assert unpack_body(pack_new_body(*fields)) == record

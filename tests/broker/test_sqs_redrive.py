"""Dead-letter queues: RedrivePolicy and RedriveAllowPolicy validation, the
move at receive time (atomic, keeping the message), FIFO to FIFO,
ListDeadLetterSourceQueues, retention in the DLQ, and restart."""

from __future__ import annotations

import json

import pytest
from sqs_client import Restart, Sqs

from broker.clock import ManualClock
from broker.errors import InvalidParameterValue
from broker.sqs import api

ACCOUNT = "000000000000"


def arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:sqs:us-east-1:{account}:{name}"


def redrive(target: str, count: object = 2) -> str:
    return json.dumps({"deadLetterTargetArn": arn(target), "maxReceiveCount": count})


async def set_attributes(sqs: Sqs, url: str, **attributes: str) -> None:
    await sqs.call(api.SetQueueAttributes(queue_url=url, attributes=attributes))


# -- RedrivePolicy ---------------------------------------------------------------


@pytest.mark.parametrize("count", [1, "1", 1000, "1000", 7, "7"])
async def test_redrive_policy_accepts_counts_as_string_or_number(sqs: Sqs, count: object) -> None:
    await sqs.create("dlq")
    url = await sqs.create("src", RedrivePolicy=redrive("dlq", count))
    stored = json.loads((await sqs.attributes(url, "RedrivePolicy"))["RedrivePolicy"])
    assert stored == {"deadLetterTargetArn": arn("dlq"), "maxReceiveCount": int(str(count))}


@pytest.mark.parametrize("count", [0, "0", 1001, "1001", -1, "abc", None, True, 2.5])
async def test_redrive_policy_rejects_bad_counts(sqs: Sqs, count: object) -> None:
    await sqs.create("dlq")
    with pytest.raises(InvalidParameterValue):
        await sqs.create("src", RedrivePolicy=redrive("dlq", count))


@pytest.mark.parametrize(
    "document",
    [
        {"maxReceiveCount": 3},
        {"deadLetterTargetArn": arn("dlq")},
        {},
        {"deadLetterTargetArn": "not-an-arn", "maxReceiveCount": 3},
    ],
)
async def test_redrive_policy_missing_or_bad_members(sqs: Sqs, document: dict[str, object]) -> None:
    await sqs.create("dlq")
    with pytest.raises(InvalidParameterValue):
        await sqs.create("src", RedrivePolicy=json.dumps(document))


async def test_redrive_target_must_exist(sqs: Sqs) -> None:
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        await sqs.create("src", RedrivePolicy=redrive("missing"))
    url = await sqs.create("src")
    with pytest.raises(InvalidParameterValue):
        await set_attributes(sqs, url, RedrivePolicy=redrive("missing"))


async def test_redrive_target_must_be_in_the_same_account(sqs: Sqs) -> None:
    await sqs.create("dlq")
    policy = json.dumps({"deadLetterTargetArn": arn("dlq", "111111111111"), "maxReceiveCount": 3})
    with pytest.raises(InvalidParameterValue):
        await sqs.create("src", RedrivePolicy=policy)


async def test_redrive_target_must_have_the_same_type(sqs: Sqs) -> None:
    await sqs.create("dlq")
    await sqs.create("dlq.fifo", FifoQueue="true")
    with pytest.raises(InvalidParameterValue):
        await sqs.create("src.fifo", FifoQueue="true", RedrivePolicy=redrive("dlq"))
    with pytest.raises(InvalidParameterValue):
        await sqs.create("src", RedrivePolicy=redrive("dlq.fifo"))
    await sqs.create("src.fifo", FifoQueue="true", RedrivePolicy=redrive("dlq.fifo"))
    await sqs.create("src", RedrivePolicy=redrive("dlq"))


async def test_redrive_policy_set_later_and_removed(sqs: Sqs) -> None:
    await sqs.create("dlq")
    url = await sqs.create("src")
    await set_attributes(sqs, url, RedrivePolicy=redrive("dlq", "4"))
    assert json.loads((await sqs.attributes(url))["RedrivePolicy"])["maxReceiveCount"] == 4
    await set_attributes(sqs, url, RedrivePolicy="")
    assert "RedrivePolicy" not in await sqs.attributes(url)


# -- RedriveAllowPolicy ----------------------------------------------------------------


async def test_deny_all_refuses_every_source(sqs: Sqs) -> None:
    await sqs.create("dlq", RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    with pytest.raises(InvalidParameterValue):
        await sqs.create("src", RedrivePolicy=redrive("dlq"))
    url = await sqs.create("src")
    with pytest.raises(InvalidParameterValue):
        await set_attributes(sqs, url, RedrivePolicy=redrive("dlq"))


async def test_allow_all_is_the_default(sqs: Sqs) -> None:
    await sqs.create("dlq", RedriveAllowPolicy=json.dumps({"redrivePermission": "allowAll"}))
    await sqs.create("src", RedrivePolicy=redrive("dlq"))


async def test_by_queue_allows_only_listed_sources(sqs: Sqs) -> None:
    allow = {"redrivePermission": "byQueue", "sourceQueueArns": [arn("good")]}
    await sqs.create("dlq", RedriveAllowPolicy=json.dumps(allow))
    await sqs.create("good", RedrivePolicy=redrive("dlq"))
    with pytest.raises(InvalidParameterValue):
        await sqs.create("bad", RedrivePolicy=redrive("dlq"))


async def test_allow_policy_applies_when_the_source_sets_its_policy(sqs: Sqs) -> None:
    dlq = await sqs.create("dlq")
    await sqs.create("src", RedrivePolicy=redrive("dlq"))
    await set_attributes(sqs, dlq, RedriveAllowPolicy=json.dumps({"redrivePermission": "denyAll"}))
    with pytest.raises(InvalidParameterValue):
        await sqs.create("other", RedrivePolicy=redrive("dlq"))


@pytest.mark.parametrize(
    "document",
    [
        {"redrivePermission": "byQueue", "sourceQueueArns": [arn(f"s{i}") for i in range(11)]},
        {"redrivePermission": "byQueue"},
        {"redrivePermission": "byQueue", "sourceQueueArns": []},
        {"redrivePermission": "allowAll", "sourceQueueArns": [arn("s")]},
        {"redrivePermission": "somePeople"},
        {},
    ],
)
async def test_bad_redrive_allow_policies(sqs: Sqs, document: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterValue):
        await sqs.create("dlq", RedriveAllowPolicy=json.dumps(document))


async def test_by_queue_accepts_ten_sources(sqs: Sqs) -> None:
    allow = {"redrivePermission": "byQueue", "sourceQueueArns": [arn(f"s{i}") for i in range(10)]}
    url = await sqs.create("dlq", RedriveAllowPolicy=json.dumps(allow))
    assert json.loads((await sqs.attributes(url))["RedriveAllowPolicy"]) == allow


# -- the move ---------------------------------------------------------------------------


async def test_message_moves_after_max_receive_count(sqs: Sqs, clock: ManualClock) -> None:
    dlq = await sqs.create("dlq")
    src = await sqs.create("src", VisibilityTimeout="10", RedrivePolicy=redrive("dlq", 2))
    attributes = {"k": api.MessageAttributeValue(data_type="String", string_value="v")}
    sent = await sqs.send(src, "poison", message_attributes=attributes)
    sent_at = clock.now_ms()
    clock.advance(5)
    for attempt in (1, 2):
        [message] = await sqs.receive(src)
        assert message.message_id == sent.message_id
        assert await sqs.counts(src) == (0, 1, 0)
        assert await sqs.counts(dlq) == (0, 0, 0)
        clock.advance(10)
        assert await sqs.counts(src) == (1, 0, 0), attempt
    assert await sqs.receive(src) == []  # the third attempt moves it
    assert await sqs.counts(src) == (0, 0, 0)
    assert await sqs.counts(dlq) == (1, 0, 0)
    [moved] = await sqs.receive(dlq, attribute_names=["All"], message_attribute_names=["All"])
    assert (moved.message_id, moved.body) == (sent.message_id, "poison")
    assert moved.message_attributes == attributes
    assert moved.md5_of_message_attributes == sent.md5_of_message_attributes
    assert moved.attributes is not None
    assert moved.attributes["SentTimestamp"] == str(sent_at)
    assert moved.attributes["DeadLetterQueueSourceArn"] == arn("src")
    assert await sqs.counts(src) == (0, 0, 0)
    assert await sqs.counts(dlq) == (0, 1, 0)


async def test_max_receive_count_one(sqs: Sqs, clock: ManualClock) -> None:
    dlq = await sqs.create("dlq")
    src = await sqs.create("src", VisibilityTimeout="10", RedrivePolicy=redrive("dlq", 1))
    await sqs.send(src, "x")
    assert len(await sqs.receive(src)) == 1
    clock.advance(10)
    assert await sqs.receive(src) == []
    assert [m.body for m in await sqs.receive(dlq)] == ["x"]


async def test_deleted_before_max_is_not_moved(sqs: Sqs, clock: ManualClock) -> None:
    dlq = await sqs.create("dlq")
    src = await sqs.create("src", VisibilityTimeout="10", RedrivePolicy=redrive("dlq", 1))
    await sqs.send(src, "x")
    [message] = await sqs.receive(src)
    await sqs.delete(src, message.receipt_handle)
    clock.advance(10)
    assert await sqs.receive(src) == []
    assert await sqs.counts(dlq) == (0, 0, 0)


async def test_fifo_source_moves_to_fifo_dlq_keeping_group_and_order(sqs: Sqs, clock: ManualClock) -> None:
    dlq = await sqs.create("dlq.fifo", FifoQueue="true")
    src = await sqs.create(
        "src.fifo", FifoQueue="true", VisibilityTimeout="10", RedrivePolicy=redrive("dlq.fifo", 1)
    )
    for i in range(3):
        await sqs.send(src, f"m{i}", message_group_id="grp", message_deduplication_id=f"d{i}")
    assert [m.body for m in await sqs.receive(src)] == ["m0", "m1", "m2"]
    clock.advance(10)
    assert await sqs.receive(src) == []
    assert await sqs.counts(src) == (0, 0, 0)
    assert await sqs.counts(dlq) == (3, 0, 0)
    moved = await sqs.receive(dlq, attribute_names=["All"])
    assert [m.body for m in moved] == ["m0", "m1", "m2"]
    assert all(m.attributes and m.attributes["MessageGroupId"] == "grp" for m in moved)
    numbers = [int(m.attributes["SequenceNumber"]) for m in moved if m.attributes]
    assert numbers == sorted(numbers) and len(numbers) == 3


async def test_fifo_head_of_group_moves_and_next_is_delivered(sqs: Sqs, clock: ManualClock) -> None:
    dlq = await sqs.create("dlq.fifo", FifoQueue="true")
    src = await sqs.create(
        "src.fifo", FifoQueue="true", VisibilityTimeout="10", RedrivePolicy=redrive("dlq.fifo", 1)
    )
    await sqs.send(src, "m0", message_group_id="g", message_deduplication_id="0")
    [head] = await sqs.receive(src, max_messages=1)
    await sqs.send(src, "m1", message_group_id="g", message_deduplication_id="1")
    clock.advance(10)
    # the moved head does not use up MaxNumberOfMessages=1
    assert [m.body for m in await sqs.receive(src, max_messages=1)] == ["m1"]
    assert [m.message_id for m in await sqs.receive(dlq)] == [head.message_id]


async def test_list_dead_letter_source_queues_paginates(sqs: Sqs) -> None:
    dlq = await sqs.create("dlq")
    await sqs.create("other-dlq")
    sources = [await sqs.create(f"src{i}", RedrivePolicy=redrive("dlq")) for i in range(5)]
    await sqs.create("unrelated", RedrivePolicy=redrive("other-dlq"))
    await sqs.create("plain")
    everything = await sqs.call(api.ListDeadLetterSourceQueues(queue_url=dlq))
    assert sorted(everything.queue_urls) == sorted(sources)
    assert everything.next_token is None
    pages: list[str] = []
    token = None
    while True:
        page = await sqs.call(api.ListDeadLetterSourceQueues(queue_url=dlq, max_results=2, next_token=token))
        assert len(page.queue_urls) <= 2
        pages += page.queue_urls
        token = page.next_token
        if token is None:
            break
    assert sorted(pages) == sorted(sources)
    assert len(pages) == 5


async def test_list_dead_letter_source_queues_empty_and_bad_max(sqs: Sqs) -> None:
    dlq = await sqs.create("dlq")
    assert (await sqs.call(api.ListDeadLetterSourceQueues(queue_url=dlq))).queue_urls == []
    for bad in (0, 1001):
        with pytest.raises(InvalidParameterValue):
            await sqs.call(api.ListDeadLetterSourceQueues(queue_url=dlq, max_results=bad))


async def test_dlq_retention_counts_from_original_send(sqs: Sqs, clock: ManualClock) -> None:
    dlq = await sqs.create("dlq", MessageRetentionPeriod="120")
    src = await sqs.create("src", VisibilityTimeout="50", RedrivePolicy=redrive("dlq", 1))
    await sqs.send(src, "old")
    await sqs.receive(src)
    clock.advance(100)
    assert await sqs.receive(src) == []  # moved at t=100 s
    assert await sqs.counts(dlq) == (1, 0, 0)
    clock.advance(21)  # 121 s after the send, 21 s after the move
    assert await sqs.receive(dlq) == []


async def test_move_survives_restart(restartable: tuple[Sqs, Restart], clock: ManualClock) -> None:
    sqs, restart = restartable
    dlq = await sqs.create("dlq")
    src = await sqs.create("src", VisibilityTimeout="10", RedrivePolicy=redrive("dlq", 1))
    sent = await sqs.send(src, "x")
    await sqs.receive(src)
    clock.advance(10)
    assert await sqs.receive(src) == []
    sqs = await restart()
    assert await sqs.counts(src) == (0, 0, 0)
    assert await sqs.counts(dlq) == (1, 0, 0)
    [moved] = await sqs.receive(dlq, attribute_names=["DeadLetterQueueSourceArn"])
    assert moved.message_id == sent.message_id
    assert moved.attributes == {"DeadLetterQueueSourceArn": arn("src")}
    assert await sqs.receive(src) == []


async def test_redrive_policy_survives_restart(restartable: tuple[Sqs, Restart], clock: ManualClock) -> None:
    sqs, restart = restartable
    dlq = await sqs.create("dlq")
    src = await sqs.create("src", VisibilityTimeout="10", RedrivePolicy=redrive("dlq", 1))
    await sqs.send(src, "x")
    await sqs.receive(src)
    sqs = await restart()
    clock.advance(10)
    assert await sqs.receive(src) == []
    assert await sqs.counts(dlq) == (1, 0, 0)
    assert (await sqs.call(api.ListDeadLetterSourceQueues(queue_url=dlq))).queue_urls == [src]


async def test_fifo_dlq_retention_counts_from_the_move(sqs: Sqs, clock: ManualClock) -> None:
    """AWS: for FIFO queues the enqueue timestamp resets when a message moves to the DLQ."""
    dlq = await sqs.create("dlq.fifo", FifoQueue="true", MessageRetentionPeriod="120")
    src = await sqs.create(
        "src.fifo", FifoQueue="true", VisibilityTimeout="50", RedrivePolicy=redrive("dlq.fifo", 1)
    )
    await sqs.send(src, "old", message_group_id="g", message_deduplication_id="d")
    sent_at = clock.now_ms()
    await sqs.receive(src)
    clock.advance(100)
    assert await sqs.receive(src) == []  # moved at t=100 s
    clock.advance(110)  # 210 s after the send, 110 s after the move
    [kept] = await sqs.receive(dlq, visibility_timeout=0, attribute_names=["SentTimestamp"])
    assert kept.attributes == {"SentTimestamp": str(sent_at)}
    clock.advance(11)
    assert await sqs.receive(dlq) == []
    assert await sqs.counts(dlq) == (0, 0, 0)

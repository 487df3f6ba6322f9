"""Queue lifecycle and configuration: CreateQueue, GetQueueUrl, ListQueues,
Get/SetQueueAttributes, DeleteQueue, account isolation."""

from __future__ import annotations

import pytest
from sqs_client import Sqs

from broker.clock import ManualClock
from broker.context import RequestContext
from broker.core import Broker
from broker.errors import (
    InvalidAttributeName,
    InvalidAttributeValue,
    InvalidParameterValue,
    QueueDoesNotExist,
    QueueNameExists,
)
from broker.sqs import api

# -- CreateQueue -------------------------------------------------------------


async def test_create_queue_returns_url_with_account_and_name(sqs: Sqs) -> None:
    assert await sqs.create("orders") == "http://localhost:4566/000000000000/orders"


async def test_create_queue_is_idempotent_with_same_attributes(sqs: Sqs) -> None:
    first = await sqs.create("q", VisibilityTimeout="60")
    assert await sqs.create("q", VisibilityTimeout="60") == first
    assert await sqs.create("q") == first  # no attributes given: nothing to differ


async def test_create_queue_with_default_value_given_explicitly_matches_existing(sqs: Sqs) -> None:
    first = await sqs.create("q")
    assert await sqs.create("q", VisibilityTimeout="30", DelaySeconds="0") == first


async def test_create_queue_with_differing_attribute_is_queue_name_exists(sqs: Sqs) -> None:
    await sqs.create("q", VisibilityTimeout="60")
    with pytest.raises(QueueNameExists):
        await sqs.create("q", VisibilityTimeout="61")


@pytest.mark.parametrize("name", ["a", "A-b_9", "x" * 80])
async def test_valid_queue_names(sqs: Sqs, name: str) -> None:
    assert (await sqs.create(name)).endswith("/" + name)


@pytest.mark.parametrize("name", ["", "x" * 81, "has space", "dot.name", "slash/name", "ünïcode"])
async def test_invalid_queue_names(sqs: Sqs, name: str) -> None:
    with pytest.raises(InvalidParameterValue):
        await sqs.create(name)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("DelaySeconds", 0, 900),
        ("MaximumMessageSize", 1024, 1_048_576),
        ("MessageRetentionPeriod", 60, 1_209_600),
        ("ReceiveMessageWaitTimeSeconds", 0, 20),
        ("VisibilityTimeout", 0, 43_200),
        ("KmsDataKeyReusePeriodSeconds", 60, 86_400),
    ],
)
async def test_attribute_ranges_on_create_and_set(sqs: Sqs, name: str, low: int, high: int) -> None:
    await sqs.create("lo", **{name: str(low)})
    await sqs.create("hi", **{name: str(high)})
    for bad in (low - 1, high + 1, "ten"):
        with pytest.raises(InvalidAttributeValue):
            await sqs.create("bad", **{name: str(bad)})
        with pytest.raises(InvalidAttributeValue):
            await sqs.call(
                api.SetQueueAttributes(queue_url=await sqs.create("lo"), attributes={name: str(bad)})
            )
    assert (await sqs.attributes(await sqs.create("hi"), name))[name] == str(high)


async def test_boolean_attribute_must_be_true_or_false(sqs: Sqs) -> None:
    with pytest.raises(InvalidAttributeValue):
        await sqs.create("q", SqsManagedSseEnabled="yes")


async def test_policy_must_be_a_json_object(sqs: Sqs) -> None:
    with pytest.raises(InvalidAttributeValue):
        await sqs.create("q", Policy="not json")


async def test_unknown_attribute_is_invalid_attribute_name(sqs: Sqs) -> None:
    with pytest.raises(InvalidAttributeName):
        await sqs.create("q", Colour="blue")
    url = await sqs.create("q")
    with pytest.raises(InvalidAttributeName):
        await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"Colour": "blue"}))
    with pytest.raises(InvalidAttributeName):
        await sqs.attributes(url, "Colour")


async def test_fifo_queue_false_is_accepted_on_a_standard_queue(sqs: Sqs) -> None:
    url = await sqs.create("q", FifoQueue="false")
    assert "FifoQueue" not in await sqs.attributes(url)


# -- GetQueueUrl / ListQueues ------------------------------------------------


async def test_get_queue_url(sqs: Sqs) -> None:
    url = await sqs.create("q")
    assert (await sqs.call(api.GetQueueUrl(queue_name="q"))).queue_url == url
    owner = api.GetQueueUrl(queue_name="q", queue_owner_aws_account_id="000000000000")
    assert (await sqs.call(owner)).queue_url == url


async def test_get_queue_url_of_missing_queue(sqs: Sqs) -> None:
    with pytest.raises(QueueDoesNotExist):
        await sqs.call(api.GetQueueUrl(queue_name="missing"))


async def test_get_queue_url_of_other_owner_without_permission(sqs: Sqs) -> None:
    await sqs.create("q")
    with pytest.raises(QueueDoesNotExist):
        await sqs.call(api.GetQueueUrl(queue_name="q", queue_owner_aws_account_id="111111111111"))


async def test_queue_url_uses_the_host_the_client_used(broker: Broker, sqs: Sqs) -> None:
    await sqs.create("q")
    other = Sqs(broker, RequestContext(host="example.test:9000"))
    assert (await other.call(api.GetQueueUrl(queue_name="q"))).queue_url == (
        "http://example.test:9000/000000000000/q"
    )


async def test_queue_urls_minted_elsewhere_route_by_path(sqs: Sqs) -> None:
    await sqs.create("q")
    await sqs.send("https://sqs.us-east-1.amazonaws.com/000000000000/q", "hi")
    assert (await sqs.counts(await sqs.create("q")))[0] == 1


async def test_list_queues_with_prefix(sqs: Sqs) -> None:
    for name in ("beta", "alpha-1", "alpha-2"):
        await sqs.create(name)
    result = await sqs.call(api.ListQueues(queue_name_prefix="alpha"))
    assert [url.rsplit("/", 1)[1] for url in result.queue_urls] == ["alpha-1", "alpha-2"]
    assert result.next_token is None
    assert len((await sqs.call(api.ListQueues())).queue_urls) == 3


async def test_list_queues_pages_with_max_results_and_next_token(sqs: Sqs) -> None:
    names = [f"q{i:02}" for i in range(7)]
    for name in names:
        await sqs.create(name)
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        result = await sqs.call(api.ListQueues(max_results=3, next_token=token))
        seen += [url.rsplit("/", 1)[1] for url in result.queue_urls]
        pages += 1
        token = result.next_token
        if token is None:
            break
    assert seen == names
    assert pages == 3


@pytest.mark.parametrize("max_results", [0, 1001])
async def test_list_queues_max_results_range(sqs: Sqs, max_results: int) -> None:
    with pytest.raises(InvalidParameterValue):
        await sqs.call(api.ListQueues(max_results=max_results))


async def test_list_queues_with_no_queues(sqs: Sqs) -> None:
    assert not (await sqs.call(api.ListQueues())).queue_urls


# -- accounts ----------------------------------------------------------------


async def test_other_account_sees_no_queues(broker: Broker, sqs: Sqs) -> None:
    url = await sqs.create("q")
    other = Sqs(broker, RequestContext(account_id="111111111111"))
    assert not (await other.call(api.ListQueues())).queue_urls
    with pytest.raises(QueueDoesNotExist):
        await other.call(api.GetQueueUrl(queue_name="q"))
    with pytest.raises(QueueDoesNotExist):
        await other.send(url, "x")
    with pytest.raises(QueueDoesNotExist):
        await other.attributes(url)


async def test_same_name_in_two_accounts_are_two_queues(broker: Broker, sqs: Sqs) -> None:
    mine = await sqs.create("q")
    other = Sqs(broker, RequestContext(account_id="111111111111"))
    theirs = await other.create("q")
    assert theirs == "http://localhost:4566/111111111111/q"
    await other.send(theirs, "x")
    assert (await sqs.counts(mine))[0] == 0
    assert (await other.counts(theirs))[0] == 1


# -- Get/SetQueueAttributes --------------------------------------------------


async def test_get_all_attributes_of_a_new_queue(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create("q")
    values = await sqs.attributes(url, "All")
    assert values == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesDelayed": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
        "CreatedTimestamp": str(clock.now_ms() // 1000),
        "DelaySeconds": "0",
        "LastModifiedTimestamp": str(clock.now_ms() // 1000),
        "MaximumMessageSize": "1048576",
        "MessageRetentionPeriod": "345600",
        "QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
        "ReceiveMessageWaitTimeSeconds": "0",
        "SqsManagedSseEnabled": "true",
        "VisibilityTimeout": "30",
    }


async def test_get_single_attributes_returns_only_those(sqs: Sqs) -> None:
    url = await sqs.create("q", DelaySeconds="5")
    assert await sqs.attributes(url, "DelaySeconds", "VisibilityTimeout") == {
        "DelaySeconds": "5",
        "VisibilityTimeout": "30",
    }


async def test_get_no_attribute_names_returns_none(sqs: Sqs) -> None:
    url = await sqs.create("q")
    result = await sqs.call(api.GetQueueAttributes(queue_url=url))
    assert not result.attributes


async def test_counts_visible_not_visible_delayed(sqs: Sqs) -> None:
    url = await sqs.create("q")
    for _ in range(3):
        await sqs.send(url, "now")
    await sqs.send(url, "later", delay_seconds=60)
    assert await sqs.counts(url) == (3, 0, 1)
    await sqs.receive(url, max_messages=2)
    assert await sqs.counts(url) == (1, 2, 1)


async def test_set_queue_attributes_changes_values_and_last_modified(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create("q")
    clock.advance(100)
    await sqs.call(
        api.SetQueueAttributes(queue_url=url, attributes={"VisibilityTimeout": "45", "DelaySeconds": "3"})
    )
    values = await sqs.attributes(url)
    assert values["VisibilityTimeout"] == "45"
    assert values["DelaySeconds"] == "3"
    assert int(values["LastModifiedTimestamp"]) == int(values["CreatedTimestamp"]) + 100


async def test_set_policy_then_clear_it_with_empty_string(sqs: Sqs) -> None:
    url = await sqs.create("q")
    policy = '{"Version": "2012-10-17", "Statement": []}'
    await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"Policy": policy}))
    assert (await sqs.attributes(url, "Policy"))["Policy"] == policy
    await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"Policy": ""}))
    assert "Policy" not in await sqs.attributes(url)


async def test_new_visibility_timeout_applies_to_later_receives(sqs: Sqs, clock: ManualClock) -> None:
    url = await sqs.create("q")
    await sqs.call(api.SetQueueAttributes(queue_url=url, attributes={"VisibilityTimeout": "5"}))
    await sqs.send(url)
    assert await sqs.receive(url)
    clock.advance(5)
    assert await sqs.receive(url)


# -- DeleteQueue -------------------------------------------------------------


async def test_delete_queue_then_it_does_not_exist(sqs: Sqs) -> None:
    url = await sqs.create("q")
    await sqs.call(api.DeleteQueue(queue_url=url))
    with pytest.raises(QueueDoesNotExist):
        await sqs.send(url)
    with pytest.raises(QueueDoesNotExist):
        await sqs.call(api.DeleteQueue(queue_url=url))
    assert not (await sqs.call(api.ListQueues())).queue_urls


async def test_name_is_reusable_at_once_and_new_queue_is_empty(sqs: Sqs) -> None:
    url = await sqs.create("q", VisibilityTimeout="99")
    await sqs.send(url, "old")
    await sqs.call(api.DeleteQueue(queue_url=url))
    again = await sqs.create("q")
    assert again == url
    assert await sqs.counts(again) == (0, 0, 0)
    assert (await sqs.attributes(again, "VisibilityTimeout"))["VisibilityTimeout"] == "30"


async def test_empty_policy_and_kms_key_on_create_mean_not_set(sqs: Sqs) -> None:
    url = await sqs.create("q", Policy="", KmsMasterKeyId="")
    values = await sqs.attributes(url)
    assert "Policy" not in values
    assert "KmsMasterKeyId" not in values
    assert await sqs.create("q", Policy="") == url

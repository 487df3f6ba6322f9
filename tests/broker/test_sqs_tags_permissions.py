"""Queue tags (TagQueue, UntagQueue, ListQueueTags, tags on CreateQueue) and
the legacy permission actions that edit the queue's Policy (AddPermission,
RemovePermission)."""

from __future__ import annotations

import json

import pytest
from sqs_client import Sqs

from broker.errors import InvalidParameterValue, QueueDoesNotExist
from broker.sqs import api


async def tags_of(sqs: Sqs, url: str) -> dict[str, str]:
    return dict((await sqs.call(api.ListQueueTags(queue_url=url))).tags or {})


async def test_create_queue_with_tags(sqs: Sqs) -> None:
    result = await sqs.call(api.CreateQueue(queue_name="q", tags={"team": "core", "env": "dev"}))
    assert await tags_of(sqs, result.queue_url) == {"team": "core", "env": "dev"}


async def test_new_queue_has_no_tags(sqs: Sqs) -> None:
    assert await tags_of(sqs, await sqs.create()) == {}


async def test_tag_queue_adds_and_overwrites(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.call(api.TagQueue(queue_url=url, tags={"a": "1", "b": "2"}))
    await sqs.call(api.TagQueue(queue_url=url, tags={"b": "3", "c": "4"}))
    assert await tags_of(sqs, url) == {"a": "1", "b": "3", "c": "4"}


async def test_untag_queue_removes_keys_and_ignores_missing(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.call(api.TagQueue(queue_url=url, tags={"a": "1", "b": "2"}))
    await sqs.call(api.UntagQueue(queue_url=url, tag_keys=["a", "missing"]))
    assert await tags_of(sqs, url) == {"b": "2"}


async def test_at_most_50_tags(sqs: Sqs) -> None:
    url = await sqs.create()
    await sqs.call(api.TagQueue(queue_url=url, tags={f"k{i}": "v" for i in range(50)}))
    with pytest.raises(InvalidParameterValue):
        await sqs.call(api.TagQueue(queue_url=url, tags={"one-more": "v"}))
    assert len(await tags_of(sqs, url)) == 50


async def test_tagging_does_not_change_attributes(sqs: Sqs) -> None:
    url = await sqs.create()
    before = await sqs.attributes(url)
    await sqs.call(api.TagQueue(queue_url=url, tags={"a": "1"}))
    assert await sqs.attributes(url) == before


async def test_tags_of_missing_queue(sqs: Sqs) -> None:
    with pytest.raises(QueueDoesNotExist):
        await sqs.call(api.ListQueueTags(queue_url="http://localhost:4566/000000000000/missing"))


async def test_add_permission_writes_a_policy_statement(sqs: Sqs) -> None:
    url = await sqs.create("q")
    await sqs.call(
        api.AddPermission(
            queue_url=url, label="send-from-b", aws_account_ids=["111111111111"], actions=["SendMessage"]
        )
    )
    policy = json.loads((await sqs.attributes(url, "Policy"))["Policy"])
    assert policy["Version"] == "2012-10-17"
    [statement] = policy["Statement"]
    assert statement == {
        "Sid": "send-from-b",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "SQS:SendMessage",
        "Resource": "arn:aws:sqs:us-east-1:000000000000:q",
    }


async def test_add_permission_with_several_accounts_and_actions(sqs: Sqs) -> None:
    url = await sqs.create("q")
    await sqs.call(
        api.AddPermission(
            queue_url=url,
            label="many",
            aws_account_ids=["111111111111", "222222222222"],
            actions=["SendMessage", "ReceiveMessage"],
        )
    )
    [statement] = json.loads((await sqs.attributes(url, "Policy"))["Policy"])["Statement"]
    assert statement["Principal"]["AWS"] == [
        "arn:aws:iam::111111111111:root",
        "arn:aws:iam::222222222222:root",
    ]
    assert statement["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]


async def test_add_permission_with_existing_label(sqs: Sqs) -> None:
    url = await sqs.create()
    grant = api.AddPermission(queue_url=url, label="x", aws_account_ids=["111111111111"], actions=["*"])
    await sqs.call(grant)
    with pytest.raises(InvalidParameterValue):
        await sqs.call(grant)


@pytest.mark.parametrize(
    ("accounts", "actions"),
    [([], ["SendMessage"]), (["111111111111"], []), (["111111111111"], ["CreateQueue"])],
)
async def test_add_permission_needs_principal_and_valid_action(
    sqs: Sqs, accounts: list[str], actions: list[str]
) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.call(api.AddPermission(queue_url=url, label="x", aws_account_ids=accounts, actions=actions))


@pytest.mark.parametrize("label", ["has space", "x" * 81, "dot.label"])
async def test_add_permission_label_rules(sqs: Sqs, label: str) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.call(
            api.AddPermission(queue_url=url, label=label, aws_account_ids=["111111111111"], actions=["*"])
        )


async def test_remove_permission(sqs: Sqs) -> None:
    url = await sqs.create()
    for label in ("a", "b"):
        await sqs.call(
            api.AddPermission(queue_url=url, label=label, aws_account_ids=["111111111111"], actions=["*"])
        )
    await sqs.call(api.RemovePermission(queue_url=url, label="a"))
    statements = json.loads((await sqs.attributes(url, "Policy"))["Policy"])["Statement"]
    assert [statement["Sid"] for statement in statements] == ["b"]
    await sqs.call(api.RemovePermission(queue_url=url, label="b"))
    assert "Policy" not in await sqs.attributes(url)


async def test_remove_missing_permission(sqs: Sqs) -> None:
    url = await sqs.create()
    with pytest.raises(InvalidParameterValue):
        await sqs.call(api.RemovePermission(queue_url=url, label="never-added"))

"""Message-move tasks (DLQ redrive): Start/List/CancelMessageMoveTask, their
errors as AWS records them, moves back to each message's source or to a
DestinationArn, progress counters, and a task resumed after a restart."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable

import pytest
from sqs_client import Sqs

from broker.context import RequestContext
from broker.core import Broker
from broker.errors import InvalidParameterValue, ResourceNotFoundException
from broker.sqs import api


async def _arn(sqs: Sqs, url: str) -> str:
    return (await sqs.attributes(url, "QueueArn"))["QueueArn"]


async def _dead_lettered(sqs: Sqs, count: int, source: str = "src") -> tuple[str, str, str]:
    """A DLQ holding ``count`` messages dead-lettered from ``source``; (dlq url, dlq arn, source url)."""
    dlq = await sqs.create("dlq")
    dlq_arn = await _arn(sqs, dlq)
    policy = f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": 1}}'
    src = await sqs.create(source, RedrivePolicy=policy)
    for index in range(count):
        await sqs.send(src, f"m{index}")
    while len(await sqs.receive(src, visibility_timeout=0)):
        pass
    assert (await sqs.counts(src))[0] == 0
    assert (await sqs.counts(dlq))[0] == count
    return dlq, dlq_arn, src


async def _wait_for(sqs: Sqs, arn: str, status: str) -> api.ListMessageMoveTasksResultEntry:
    for _ in range(200):
        result = (await sqs.call(api.ListMessageMoveTasks(source_arn=arn))).results[0]
        if result.status == status:
            return result
        await asyncio.sleep(0.01)
    raise AssertionError(f"task never reached {status}: {result}")


async def test_messages_return_to_the_queue_they_were_dead_lettered_from(sqs: Sqs) -> None:
    dlq, dlq_arn, src = await _dead_lettered(sqs, 12)
    handle = (await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn))).task_handle
    assert handle
    done = await _wait_for(sqs, dlq_arn, "COMPLETED")
    assert done.approximate_number_of_messages_moved == 12
    assert done.approximate_number_of_messages_to_move == 12
    assert done.task_handle is None  # only running tasks show their handle
    assert await sqs.counts(dlq) == (0, 0, 0)
    bodies = set()
    while messages := await sqs.receive(src, attribute_names=["All"]):
        for message in messages:
            bodies.add(message.body)
            assert message.attributes is not None
            assert message.attributes["ApproximateReceiveCount"] == "1"  # the count starts over
            assert "DeadLetterQueueSourceArn" not in message.attributes
            await sqs.delete(src, message.receipt_handle)
    assert bodies == {f"m{index}" for index in range(12)}


async def test_destination_arn_overrides_the_original_source(sqs: Sqs) -> None:
    _, dlq_arn, src = await _dead_lettered(sqs, 3)
    other = await sqs.create("other")
    await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn, destination_arn=await _arn(sqs, other)))
    done = await _wait_for(sqs, dlq_arn, "COMPLETED")
    assert done.destination_arn == await _arn(sqs, other)
    assert (await sqs.counts(other))[0] == 3
    assert (await sqs.counts(src))[0] == 0


async def test_rate_limited_task_is_running_then_cancelled(sqs: Sqs) -> None:
    _, dlq_arn, _ = await _dead_lettered(sqs, 10)
    start = api.StartMessageMoveTask(source_arn=dlq_arn, max_number_of_messages_per_second=1)
    handle = (await sqs.call(start)).task_handle
    running = (await sqs.call(api.ListMessageMoveTasks(source_arn=dlq_arn))).results[0]
    assert running.status == "RUNNING"
    assert running.task_handle == handle
    assert running.max_number_of_messages_per_second == 1
    with pytest.raises(InvalidParameterValue, match="already a task running"):
        await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn))
    cancelled = await sqs.call(api.CancelMessageMoveTask(task_handle=handle))
    assert cancelled.approximate_number_of_messages_moved is not None
    final = await _wait_for(sqs, dlq_arn, "CANCELLED")
    assert final.approximate_number_of_messages_moved is not None
    assert final.approximate_number_of_messages_moved < 10


async def test_start_errors_are_those_aws_answers(sqs: Sqs) -> None:
    plain = await sqs.create("plain")
    with pytest.raises(InvalidParameterValue, match="must be configured as a Dead Letter Queue"):
        await sqs.call(api.StartMessageMoveTask(source_arn=await _arn(sqs, plain)))
    with pytest.raises(ResourceNotFoundException, match="SourceArn parameter doesn't exist"):
        await sqs.call(api.StartMessageMoveTask(source_arn="arn:aws:sqs:us-east-1:000000000000:missing"))
    _, dlq_arn, _ = await _dead_lettered(sqs, 1)
    with pytest.raises(ResourceNotFoundException, match="DestinationArn parameter doesn't exist"):
        await sqs.call(
            api.StartMessageMoveTask(
                source_arn=dlq_arn, destination_arn="arn:aws:sqs:us-east-1:000000000000:missing"
            )
        )
    with pytest.raises(InvalidParameterValue, match="MaxNumberOfMessagesPerSecond"):
        await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn, max_number_of_messages_per_second=501))


async def test_cancel_errors_are_those_aws_answers(sqs: Sqs) -> None:
    with pytest.raises(InvalidParameterValue, match=r"Value for parameter TaskHandle is invalid\."):
        await sqs.call(api.CancelMessageMoveTask(task_handle="not base64 at all!"))
    _, dlq_arn, _ = await _dead_lettered(sqs, 1)

    unknown = base64.urlsafe_b64encode(f"no-such-task {dlq_arn}".encode()).decode()
    with pytest.raises(ResourceNotFoundException, match=r"Task does not exist\."):
        await sqs.call(api.CancelMessageMoveTask(task_handle=unknown))
    gone_source = base64.urlsafe_b64encode(b"x arn:aws:sqs:us-east-1:000000000000:gone").decode()
    with pytest.raises(ResourceNotFoundException, match="SourceArn"):
        await sqs.call(api.CancelMessageMoveTask(task_handle=gone_source))


async def test_deleted_destination_fails_the_task_with_aws_reason(sqs: Sqs) -> None:
    dlq, dlq_arn, src = await _dead_lettered(sqs, 5)
    policy = f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": 1}}'
    await sqs.create("still-a-source", RedrivePolicy=policy)  # keeps the DLQ a DLQ
    await sqs.call(api.DeleteQueue(queue_url=src))
    await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn))
    failed = await _wait_for(sqs, dlq_arn, "FAILED")
    assert failed.failure_reason == "AWS.SimpleQueueService.NonExistentQueue"
    assert (await sqs.counts(dlq))[0] == 5  # nothing moved, nothing lost


async def test_list_returns_most_recent_first_up_to_max_results(sqs: Sqs) -> None:
    _, dlq_arn, _ = await _dead_lettered(sqs, 1)
    for _ in range(3):
        await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn))
        await _wait_for(sqs, dlq_arn, "COMPLETED")
    listed = (await sqs.call(api.ListMessageMoveTasks(source_arn=dlq_arn, max_results=10))).results
    assert len(listed) == 3
    started = [entry.started_timestamp for entry in listed]
    assert started == sorted(started, reverse=True)
    assert len((await sqs.call(api.ListMessageMoveTasks(source_arn=dlq_arn))).results) == 1


async def test_running_task_resumes_after_restart(
    open_broker: Callable[[], Broker], ctx: RequestContext
) -> None:
    broker = open_broker()
    await broker.start()
    sqs = Sqs(broker, ctx)
    _, dlq_arn, src = await _dead_lettered(sqs, 6)
    start = api.StartMessageMoveTask(source_arn=dlq_arn, max_number_of_messages_per_second=2)
    await sqs.call(start)
    await broker.close()  # mid-task: at most a few moved
    broker = open_broker()
    await broker.start()
    sqs = Sqs(broker, ctx)
    try:
        resumed = (await sqs.call(api.ListMessageMoveTasks(source_arn=dlq_arn))).results[0]
        assert resumed.status in ("RUNNING", "COMPLETED")
        visible_total = (await sqs.counts(src))[0] + (await sqs.counts(await sqs.create("dlq")))[0]
        assert visible_total == 6  # nothing lost or doubled by the interrupted move
    finally:
        await broker.close()


async def test_a_task_whose_start_request_was_cancelled_mid_commit_still_runs(
    broker: Broker, sqs: Sqs
) -> None:
    # The task is persisted RUNNING whatever becomes of the request (its client went away), so its
    # runner must start too, or the task stays RUNNING and blocks the source until a restart.
    _, dlq_arn, src = await _dead_lettered(sqs, 3)
    starting = asyncio.create_task(sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn)))
    await asyncio.sleep(0)
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    await broker.committer.submit(())
    await _wait_for(sqs, dlq_arn, "COMPLETED")
    assert (await sqs.counts(src))[0] == 3


async def test_a_cancel_landing_during_the_last_step_is_not_overwritten_by_completed(sqs: Sqs) -> None:
    _, dlq_arn, _ = await _dead_lettered(sqs, 1)
    handle = (await sqs.call(api.StartMessageMoveTask(source_arn=dlq_arn))).task_handle
    # The runner's first (and last) step is committing now; the cancel lands meanwhile.
    cancelled = await sqs.call(api.CancelMessageMoveTask(task_handle=handle))
    assert cancelled.approximate_number_of_messages_moved is not None
    final = await _wait_for(sqs, dlq_arn, "CANCELLED")
    assert final.status == "CANCELLED"

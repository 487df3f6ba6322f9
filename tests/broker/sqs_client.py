"""A thin test client over ``Broker.dispatch`` for the SQS broker tests.

It only shortens the calls (``await sqs.send(url, "x")``); every request is a
real ``broker.sqs.api`` dataclass through the real dispatch table, so a test
reads like the AWS action it exercises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from broker.context import RequestContext
from broker.core import Broker
from broker.sqs import api


class Sqs:
    """SQS calls as one account, against one broker."""

    def __init__(self, broker: Broker, ctx: RequestContext) -> None:
        self.broker = broker
        self.ctx = ctx

    async def call(self, request: object) -> Any:
        return await self.broker.dispatch("sqs", request, self.ctx)

    async def create(self, name: str = "q", **attributes: str) -> str:
        result = await self.call(api.CreateQueue(queue_name=name, attributes=attributes or None))
        url: str = result.queue_url
        return url

    async def send(self, url: str, body: str = "x", **fields: Any) -> api.SendMessageResult:
        result: api.SendMessageResult = await self.call(
            api.SendMessage(queue_url=url, message_body=body, **fields)
        )
        return result

    async def receive(self, url: str, max_messages: int = 10, **fields: Any) -> list[api.Message]:
        result = await self.call(
            api.ReceiveMessage(queue_url=url, max_number_of_messages=max_messages, **fields)
        )
        return list(result.messages or [])

    async def delete(self, url: str, handle: str | None) -> None:
        assert handle is not None
        await self.call(api.DeleteMessage(queue_url=url, receipt_handle=handle))

    async def change_visibility(self, url: str, handle: str | None, timeout: int) -> None:
        assert handle is not None
        await self.call(
            api.ChangeMessageVisibility(queue_url=url, receipt_handle=handle, visibility_timeout=timeout)
        )

    async def attributes(self, url: str, *names: str) -> dict[str, str]:
        result = await self.call(
            api.GetQueueAttributes(queue_url=url, attribute_names=list(names or ["All"]))
        )
        return dict(result.attributes or {})

    async def counts(self, url: str) -> tuple[int, int, int]:
        """(visible, not visible, delayed)."""
        values = await self.attributes(
            url,
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
        return (
            int(values["ApproximateNumberOfMessages"]),
            int(values["ApproximateNumberOfMessagesNotVisible"]),
            int(values["ApproximateNumberOfMessagesDelayed"]),
        )


Restart = Callable[[], Awaitable[Sqs]]
"""Closes the broker and returns a client of a fresh one on the same data dir."""

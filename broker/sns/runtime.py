"""What every SNS action shares: the topics and subscriptions, the store, the
committer, the clock, the signer, and the SQS service that fan-out writes into.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from broker.clock import Clock
from broker.sns.signing import Signer
from broker.sns.subscriptions import SubscriptionRegistry
from broker.sns.topics import TopicRegistry
from broker.sqs.service import SqsService
from storage.committer import GroupCommitter
from storage.store import LmdbStore, Write


@dataclass
class SnsRuntime:
    """Shared state of the SNS service."""

    store: LmdbStore
    committer: GroupCommitter
    clock: Clock
    sqs: SqsService
    signer: Signer | None = None
    topics: TopicRegistry = field(default_factory=TopicRegistry)
    subscriptions: SubscriptionRegistry = field(default_factory=SubscriptionRegistry)

    async def commit(self, writes: Sequence[Write]) -> None:
        """Wait until ``writes`` are durable (an empty list waits for every earlier write)."""
        await self.committer.submit(writes)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def sign(self) -> Signer:
        assert self.signer is not None, "SnsService.start() loads the signer"
        return self.signer

"""Which subscriptions exist: by ARN, per topic, and the rebuild at start-up.

A subscription's ARN is its topic's ARN, ``:``, and a UUID.  Records live in
the meta database under ``sns:s:`` + that UUID.  A subscription awaiting
confirmation (``confirmed`` false) has a ``token``; ConfirmSubscription finds
it by token.  Filter policies are compiled when set (so an invalid one is
rejected then) and again lazily after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from broker.sns.filter_policy import MESSAGE_ATTRIBUTES, FilterPolicy, compile_filter_policy
from broker.sns.topics import Topic
from storage.records import SubscriptionRecord, pack_record, unpack_subscription
from storage.store import Db, LmdbStore, Write, delete, put

SUBSCRIPTION_PREFIX = b"sns:s:"


def subscription_key(subscription_id: str) -> bytes:
    return SUBSCRIPTION_PREFIX + subscription_id.encode()


@dataclass
class Subscription:
    """A subscription and its compiled filter policy."""

    record: SubscriptionRecord
    topic: Topic
    _policy_source: tuple[str, str] | None = None
    _policy: FilterPolicy | None = None

    @property
    def arn(self) -> str:
        return f"{self.topic.arn}:{self.record.subscription_id}"

    @property
    def protocol(self) -> str:
        return self.record.protocol

    @property
    def attributes(self) -> dict[str, str]:
        return self.record.attributes

    @property
    def raw(self) -> bool:
        return self.record.attributes.get("RawMessageDelivery") == "true"

    def filter_policy(self) -> FilterPolicy | None:
        """The compiled FilterPolicy, if the subscription has one."""
        text = self.record.attributes.get("FilterPolicy")
        if not text:
            return None
        source = (text, self.record.attributes.get("FilterPolicyScope", MESSAGE_ATTRIBUTES))
        if source != self._policy_source:
            self._policy = compile_filter_policy(*source)
            self._policy_source = source
        return self._policy

    def write(self) -> Write:
        return put(Db.META, subscription_key(self.record.subscription_id), pack_record(self.record))

    def delete(self) -> Write:
        return delete(Db.META, subscription_key(self.record.subscription_id))


class SubscriptionRegistry:
    """Every live subscription, by id and (through :attr:`Topic.subscriptions`) per topic."""

    def __init__(self) -> None:
        self.by_id: dict[str, Subscription] = {}

    def load(self, store: LmdbStore, topics: dict[int, Topic]) -> list[Write]:
        """Rebuild from the store; return the writes that drop subscriptions of deleted topics."""
        orphans: list[Write] = []
        records = sorted(
            (unpack_subscription(raw) for _, raw in store.scan(Db.META, SUBSCRIPTION_PREFIX)),
            key=lambda r: r.created_ms,
        )
        for record in records:
            topic = topics.get(record.topic_id)
            if topic is None:
                orphans.append(delete(Db.META, subscription_key(record.subscription_id)))
            else:
                self.add(Subscription(record, topic))
        return orphans

    def add(self, subscription: Subscription) -> None:
        self.by_id[subscription.record.subscription_id] = subscription
        subscription.topic.subscriptions[subscription.record.subscription_id] = subscription

    def remove(self, subscription: Subscription) -> None:
        self.by_id.pop(subscription.record.subscription_id, None)
        subscription.topic.subscriptions.pop(subscription.record.subscription_id, None)

    def by_arn(self, arn: str) -> Subscription | None:
        topic_arn, _, subscription_id = arn.rpartition(":")
        found = self.by_id.get(subscription_id)
        return found if found is not None and found.topic.arn == topic_arn else None

    def by_token(self, topic: Topic, token: str) -> Subscription | None:
        for subscription in self.of_topic(topic):
            if subscription.record.token == token:
                return subscription
        return None

    @staticmethod
    def of_topic(topic: Topic) -> Iterator[Subscription]:
        for subscription in topic.subscriptions.values():
            assert isinstance(subscription, Subscription)
            yield subscription

    def of_account(self, account_id: str) -> Iterator[Subscription]:
        for subscription in self.by_id.values():
            if subscription.record.owner == account_id:
                yield subscription

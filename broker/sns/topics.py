"""Which topics exist: lookup by ARN, per account and region, and the rebuild at start-up.

Topic ARNs are ``arn:aws:sns:{region}:{account}:{name}``.  A topic is found
only by its own account (other accounts get NotFound, as without a policy
that grants them access).  Records live in the meta database under
``sns:t:`` + topic id (u64); ids come from a persisted counter and are never
reused, so state keyed by a deleted topic's id (its FIFO sequence mark and
deduplication entries) cannot leak into a new topic of the same name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from broker.errors import InvalidParameter, NotFound
from storage import keys
from storage.records import TopicRecord, pack_record, unpack_topic
from storage.store import Db, LmdbStore, Write, delete, put

TOPIC_PREFIX = b"sns:t:"
NEXT_TOPIC_ID = b"sns:next_topic_id"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FIFO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,251}\.fifo$")
_ARN = re.compile(r"^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$")


def topic_key(topic_id: int) -> bytes:
    return TOPIC_PREFIX + keys.u64(topic_id)


def check_name(name: str, *, fifo: bool) -> None:
    """AWS's topic name rules."""
    if fifo:
        if not _FIFO_NAME.match(name):
            raise InvalidParameter(
                "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only "
                "uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be "
                "between 1 and 256 characters long."
            )
    elif not _NAME.match(name):
        raise InvalidParameter("Invalid parameter: Topic Name")


def split_arn(arn: str) -> tuple[str, str, str] | None:
    """(region, account, name) of a topic ARN, or None if it is not one."""
    found = _ARN.match(arn)
    return (found.group(1), found.group(2), found.group(3)) if found else None


@dataclass
class Topic:
    """A topic: its record and the in-memory counters derived from it."""

    record: TopicRecord
    deleted_subscriptions: int = 0
    subscriptions: dict[str, object] = field(default_factory=dict)
    """Subscription id to subscription, in subscription order (filled by the subscription registry)."""

    @property
    def topic_id(self) -> int:
        return self.record.topic_id

    @property
    def arn(self) -> str:
        r = self.record
        return f"arn:aws:sns:{r.region}:{r.account_id}:{r.name}"

    @property
    def fifo(self) -> bool:
        return self.record.attributes.get("FifoTopic") == "true"

    @property
    def attributes(self) -> dict[str, str]:
        return self.record.attributes

    def write(self) -> Write:
        """The write that persists the current record."""
        return put(Db.META, topic_key(self.topic_id), pack_record(self.record))

    def delete(self) -> Write:
        """The write that forgets the record."""
        return delete(Db.META, topic_key(self.topic_id))


class TopicRegistry:
    """Every live topic, by (region, account, name) and by id."""

    def __init__(self) -> None:
        self._by_name: dict[tuple[str, str, str], Topic] = {}
        self.by_id: dict[int, Topic] = {}
        self.next_topic_id = 1

    def load(self, store: LmdbStore) -> None:
        raw_next = store.get(Db.META, NEXT_TOPIC_ID)
        self.next_topic_id = keys.from_u64(raw_next) if raw_next else 1
        for _, raw in store.scan(Db.META, TOPIC_PREFIX):
            self.add(unpack_topic(raw))

    def allocate_id(self) -> tuple[int, Write]:
        topic_id = self.next_topic_id
        self.next_topic_id += 1
        return topic_id, put(Db.META, NEXT_TOPIC_ID, keys.u64(self.next_topic_id))

    def add(self, record: TopicRecord) -> Topic:
        topic = Topic(record)
        self._by_name[(record.region, record.account_id, record.name)] = topic
        self.by_id[record.topic_id] = topic
        return topic

    def remove(self, topic: Topic) -> None:
        r = topic.record
        del self._by_name[(r.region, r.account_id, r.name)]
        del self.by_id[r.topic_id]

    def find(self, region: str, account_id: str, name: str) -> Topic | None:
        return self._by_name.get((region, account_id, name))

    def by_arn(self, arn: str) -> Topic | None:
        parts = split_arn(arn)
        return self._by_name.get(parts) if parts is not None else None

    def resolve(self, arn: str, account_id: str) -> Topic:
        """The caller's topic ``arn``, or NotFound (InvalidParameter if it is not a topic ARN)."""
        parts = split_arn(arn)
        if parts is None:
            raise InvalidParameter("Invalid parameter: TopicArn")
        topic = self._by_name.get(parts)
        if topic is None or parts[1] != account_id:
            raise NotFound("Topic does not exist")
        return topic

    def of_account(self, region: str, account_id: str) -> Iterator[Topic]:
        """The account's topics in a region, by ARN."""
        for (topic_region, account, _), topic in sorted(self._by_name.items()):
            if account == account_id and topic_region == region:
                yield topic

"""SNS fan-out micro-benchmark: Publish to a topic with N subscribed SQS queues.

Runs the broker in process (real LMDB in a temp dir, fsync on every group
commit, no HTTP) so the figure is the broker's: each Publish writes the
message into every queue in ONE commit and returns after it.  Reports
publishes/s and messages delivered/s (publishes x queues), for one publisher
and for several concurrent ones (whose commits the group committer batches).

    python -m bench.fanout_broker [--queues 100] [--publishes 200] [--concurrency 1 16] [--raw]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from broker.context import RequestContext
from broker.core import Broker, BrokerConfig
from broker.sns import api as sns_api
from broker.sqs import api as sqs_api


async def run(queues: int, publishes: int, concurrencies: list[int], raw: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(BrokerConfig(data_dir=Path(tmp)))
        await broker.start()
        ctx = RequestContext(request_id="bench")
        try:
            topic = await broker.dispatch("sns", sns_api.CreateTopic(name="fanout"), ctx)
            assert isinstance(topic, sns_api.CreateTopicResponse) and topic.topic_arn
            for i in range(queues):
                await broker.dispatch("sqs", sqs_api.CreateQueue(queue_name=f"fanout-{i}"), ctx)
                await broker.dispatch(
                    "sns",
                    sns_api.Subscribe(
                        topic_arn=topic.topic_arn,
                        protocol="sqs",
                        endpoint=f"arn:aws:sqs:us-east-1:{ctx.account_id}:fanout-{i}",
                        attributes={"RawMessageDelivery": "true"} if raw else None,
                    ),
                    ctx,
                )
            body = "x" * 200
            for concurrency in concurrencies:
                per_worker = max(1, publishes // concurrency)

                async def worker(arn: str = topic.topic_arn, n: int = per_worker) -> None:
                    for _ in range(n):
                        await broker.dispatch("sns", sns_api.Publish(topic_arn=arn, message=body), ctx)

                started = time.perf_counter()
                await asyncio.gather(*(worker() for _ in range(concurrency)))
                elapsed = time.perf_counter() - started
                total = per_worker * concurrency
                print(
                    f"queues={queues} raw={raw} concurrency={concurrency}: "
                    f"{total} publishes in {elapsed:.2f}s = {total / elapsed:,.0f} publishes/s, "
                    f"{total * queues / elapsed:,.0f} messages delivered/s, "
                    f"mean publish latency {elapsed / per_worker * 1000:.1f} ms"
                )
        finally:
            await broker.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--publishes", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--raw", action="store_true", help="RawMessageDelivery (no envelope, no signature)")
    args = parser.parse_args()
    asyncio.run(run(args.queues, args.publishes, args.concurrency, args.raw))


if __name__ == "__main__":
    main()

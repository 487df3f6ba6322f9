"""``python -m bench`` / ``shoal bench``: drive an SQS endpoint and report.

``main(argv) -> int`` is the whole interface: 0 after a run in which requests
succeeded, 1 if none did, 2 when the run could not start (bad arguments,
endpoint unreachable, queue not creatable).  Progress goes to stderr, the
summary (text, or one JSON object with ``--json``) to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

import orjson

from bench.binary import BinaryRun
from bench.check import describe
from bench.report import summary, text
from bench.run import PROTOCOLS, Options, Results, Run, SetupError
from bench.scenarios import SCENARIOS


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(value: str) -> float:
        number = kind(value)
        if number <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
        return number

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="shoal bench",
        description="Load generator for any SQS-compatible endpoint (AWS JSON 1.0 or Query protocol).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="scenarios:\n" + "\n".join(f"  {name:15} {desc}" for name, desc in SCENARIOS.items()),
    )
    p.add_argument("scenario", choices=list(SCENARIOS), help="what each connection does in a loop")
    p.add_argument("--endpoint", default="http://localhost:4566", help="default: %(default)s")
    p.add_argument(
        "--queue", default="shoal-bench", help="created if missing; a .fifo name makes a FIFO queue"
    )
    p.add_argument("--connections", type=_positive(int), default=32, help="default: %(default)s")
    p.add_argument(
        "--duration", type=_positive(float), default=10.0, help="measured seconds (default: %(default)s)"
    )
    p.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds first (default: %(default)s)"
    )
    p.add_argument(
        "--message-size", type=_positive(int), default=100, help="body bytes (default: %(default)s)"
    )
    p.add_argument("--prefill", type=int, default=0, metavar="N", help="send N messages before the run")
    p.add_argument(
        "--wait-time",
        type=int,
        default=0,
        choices=range(21),
        metavar="0-20",
        help="WaitTimeSeconds of receives (default: %(default)s)",
    )
    p.add_argument(
        "--timeout", type=_positive(float), default=30.0, help="per request (default: %(default)s s)"
    )
    p.add_argument("--region", default="us-east-1", help="SigV4 credential scope region")
    p.add_argument("--access-key-id", default="test", help="SigV4 credential access key id")
    p.add_argument(
        "--protocol",
        choices=[*PROTOCOLS, "binary"],
        default="json",
        help="wire protocol (default: %(default)s); binary: the msgpack protocol at --binary-endpoint",
    )
    p.add_argument(
        "--binary-endpoint", default="127.0.0.1:4567", help="binary: host:port or unix:/path (%(default)s)"
    )
    p.add_argument(
        "--pipeline", type=_positive(int), default=16, help="binary: requests in flight per connection"
    )
    p.add_argument(
        "--rate",
        type=_positive(float),
        default=0.0,
        help="open-loop msgs/s for latency (default 100) and fanout (default: closed loop)",
    )
    p.add_argument(
        "--groups", type=_positive(int), default=100, help="fifo: message groups (default: %(default)s)"
    )
    p.add_argument("--batch", action="store_true", help="fifo: SendMessageBatch of 10 in one group")
    p.add_argument("--spread", action="store_true", help="fifo --batch: the 10 entries in 10 groups")
    p.add_argument(
        "--queues", type=_positive(int), default=4, help="fanout: subscribed queues (default: %(default)s)"
    )
    p.add_argument(
        "--check",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check every acknowledged message is received exactly once "
        "(default: on for latency, fanout and receive-delete after --prefill)",
    )
    p.add_argument(
        "--drain",
        type=float,
        default=10.0,
        help="with --check: after the window, receivers go on until every message came "
        "or this many seconds pass without one (default: %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on errors; callers want a code
        return int(exc.code or 0)
    if args.warmup < 0 or args.prefill < 0:
        print("shoal bench: --warmup and --prefill must be >= 0", file=sys.stderr)
        return 2
    queue = args.queue
    if args.scenario == "fifo" and not queue.endswith(".fifo"):
        queue += ".fifo"
    options = Options(
        scenario=args.scenario,
        endpoint=args.endpoint,
        queue=queue,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        message_size=args.message_size,
        prefill=args.prefill,
        wait_time=args.wait_time,
        timeout=max(args.timeout, args.wait_time + 5.0),
        region=args.region,
        access_key_id=args.access_key_id,
        progress=not args.quiet,
        protocol=args.protocol,
        rate=args.rate,
        groups=args.groups,
        batch=args.batch,
        spread=args.spread,
        queues=args.queues,
        check=args.check,
        drain=max(args.drain, 0.0),
    )
    try:
        if args.protocol == "binary":
            results = _run(BinaryRun(options, args.binary_endpoint, int(args.pipeline)))
        else:
            results = _run(Run(options))
    except (SetupError, ValueError) as exc:
        print(f"shoal bench: {exc}", file=sys.stderr)
        return 2
    report = summary(results)
    if args.json:
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
    else:
        sys.stdout.write(text(report))
    sys.stdout.flush()
    if results.failure:
        return 2
    if results.check is not None and not results.check["ok"]:
        print(f"shoal bench: check failed: {describe(results.check)}", file=sys.stderr)
        return 3
    return 0 if results.messages or results.empty_receives else 1


def _run(run: Run | BinaryRun) -> Results:
    try:
        import uvloop
    except ImportError:  # the bench runs anywhere; uvloop only makes it cheaper
        return asyncio.run(run.execute())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run.execute())

"""The ``shoal`` command (also ``python -m broker``).

Subcommands: ``serve`` runs a server; ``bench`` hands its arguments untouched
to ``bench.cli:main(argv)`` when that module is installed (it is imported
only then, so the server never depends on the bench).

Every ``serve`` flag can also come from the environment as ``SHOAL_<FLAG>``
(``--data-dir`` is ``SHOAL_DATA_DIR``); a flag on the command line wins.  An
environment value is parsed and checked exactly like the flag.  Config files
are not supported yet, so there is no ``--config`` rather than one that would
be ignored.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from broker.binary_connection import BinaryLimits
from broker.context import DEFAULT_ACCOUNT, DEFAULT_REGION
from broker.logging_setup import LEVELS, configure
from broker.server import Durability, ServerConfig, run
from storage.errors import DataDirLocked

log = logging.getLogger("shoal.cli")

ENV_PREFIX = "SHOAL_"
_BINARY = BinaryLimits()
MIN_FRAME = 1024  # a HELLO and small requests must fit
MAX_FRAME = 2**32 - 1  # the length prefix is 4 bytes


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range 0-65535: {value}")
    return value


def _account(text: str) -> str:
    if len(text) != 12 or not text.isdigit():
        raise argparse.ArgumentTypeError(f"an account id is 12 digits: {text!r}")
    return text


def _number_in(kind: Callable[[str], float], low: float, high: float) -> Callable[[str], float]:
    """A parser of a finite ``kind`` number in ``[low, high]``."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}: {text!r}")
        return value

    return parse


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


def _choice(choices: Sequence[str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.lower()
        if value not in choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(choices)}")
        return value

    return parse


@dataclass(frozen=True, slots=True)
class _Option:
    flag: str
    default: str
    parse: Callable[[str], object]
    help: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.removeprefix("--").replace("-", "_").upper()


SERVE_OPTIONS = (
    _Option("--host", "127.0.0.1", str, "address to listen on"),
    _Option("--port", "4566", _port, "HTTP port of every AWS service (0: any free port)"),
    _Option("--binary-port", "4567", _port, "port of the binary protocol (0: disabled)"),
    _Option("--binary-socket", "", _optional_path, "Unix socket of the binary protocol (empty: none)"),
    _Option(
        "--binary-max-connections",
        str(_BINARY.max_connections),
        _number_in(int, 1, 1_000_000),
        "binary protocol: connections at once (more are refused)",
    ),
    _Option(
        "--binary-max-in-flight",
        str(_BINARY.max_in_flight),
        _number_in(int, 1, 1_000_000),
        "binary protocol: unanswered requests per connection before reading pauses",
    ),
    _Option(
        "--binary-max-frame",
        str(_BINARY.max_frame),
        _number_in(int, MIN_FRAME, MAX_FRAME),
        "binary protocol: largest frame in bytes (a larger one closes the connection)",
    ),
    _Option(
        "--binary-idle-timeout",
        str(_BINARY.idle_timeout),
        _number_in(float, 0.001, 31_536_000),
        "binary protocol: seconds a connection with nothing in flight may stay silent",
    ),
    _Option("--data-dir", "./shoal-data", Path, "directory of the LMDB log"),
    _Option("--account-id", DEFAULT_ACCOUNT, _account, "account of requests that name none"),
    _Option("--region", DEFAULT_REGION, str, "region of requests that name none"),
    _Option("--log-level", "info", _choice(LEVELS), "one of " + ", ".join(LEVELS)),
    _Option(
        "--config",
        "",
        _optional_path,
        "file declaring queues, topics and streams at start-up (part of the CLI contract; "
        "not supported yet: giving one is an error)",
    ),
    _Option(
        "--durability",
        "fsync",
        _choice(("fsync", "relaxed")),
        "fsync: acknowledge after each commit is synced; relaxed: periodic sync (weaker)",
    ),
)


def build_parser(environ: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The argument parser, with defaults taken from ``environ`` (``os.environ``)."""
    env = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(prog="shoal", description="Shoal: an SQS-compatible message broker.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the broker",
        description="Run the broker. Every flag can also be set as SHOAL_<FLAG>; the flag wins.",
    )
    for option in SERVE_OPTIONS:
        # argparse runs ``type`` over string defaults, so environment values are checked like flags.
        serve.add_argument(
            option.flag,
            type=option.parse,
            default=env.get(option.env, option.default),
            help=f"{option.help} (env {option.env}, default {option.default})",
        )
    commands.add_parser("bench", help="load-test a running server (shoal bench --help)", add_help=False)
    return parser


def server_config(args: argparse.Namespace) -> ServerConfig:
    """The server configuration that parsed ``serve`` arguments describe."""
    return ServerConfig(
        host=args.host,
        port=args.port,
        binary_port=args.binary_port,
        binary_socket=args.binary_socket,
        data_dir=args.data_dir,
        account_id=args.account_id,
        region=args.region,
        durability=Durability(args.durability),
        binary_limits=BinaryLimits(
            max_frame=args.binary_max_frame,
            max_in_flight=args.binary_max_in_flight,
            max_connections=args.binary_max_connections,
            idle_timeout=args.binary_idle_timeout,
        ),
    )


def _bench(argv: list[str]) -> int:
    try:
        bench = importlib.import_module("bench.cli")
    except ModuleNotFoundError as error:
        if error.name not in ("bench", "bench.cli"):
            raise
        print("shoal: the bench is not installed (no module bench.cli)", file=sys.stderr)
        return 2
    status = bench.main(argv)
    return int(status or 0)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``shoal`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["bench"]:
        return _bench(args_list[1:])
    args = build_parser().parse_args(args_list)
    configure(args.log_level)
    if args.config is not None:
        log.error("cannot start: --config %s: configuration files are not supported yet", args.config)
        return 2
    config = server_config(args)
    try:
        return run(config)
    except (OSError, DataDirLocked) as error:  # a busy port, an unusable or locked data dir
        log.error("cannot start: %s", error)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

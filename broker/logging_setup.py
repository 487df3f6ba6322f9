"""Process logging: stderr, one line per event, a level from the command line.

Rules: configured once, by the CLI, on the root logger; library code only
calls ``logging.getLogger("shoal.<part>")``.  A traceback is folded into its
event's line (newlines become `` | ``) so that every line of the log is one
event, which keeps it greppable and safe for line-based collectors.
"""

from __future__ import annotations

import logging
import sys

LEVELS = ("debug", "info", "warning", "error", "critical")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """A formatter that keeps each record, traceback included, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", " | ")


def configure(level: str) -> None:
    """Send every ``shoal.*`` record at ``level`` or above to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())

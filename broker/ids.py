"""Identifiers the broker mints: message ids, task ids.

They are random version-4 UUID strings, as AWS's are.  ``uuid.uuid4`` asks the
OS for entropy on every call, which costs more than the rest of a SendMessage's
bookkeeping; ids need uniqueness, not secrecy, so they come from a private
Mersenne Twister seeded once from the OS (2**122 random bits per id).
Receipt-handle MACs and other secrets keep using ``os.urandom``.
"""

from __future__ import annotations

import os
import random

_random = random.Random(os.urandom(32))
_random_bytes = _random.randbytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
"""The variant digit (``10xx`` in binary) for a random hex digit."""


def new_id() -> str:
    """A fresh random UUID4 string (``xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx``)."""
    digits = _random_bytes(16).hex()
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{_VARIANT[digits[16]]}{digits[17:20]}-{digits[20:]}"


def reseed_after_fork() -> None:
    """Give a forked child its own sequence (so two processes never mint the same ids)."""
    _random.seed(os.urandom(32))


os.register_at_fork(after_in_child=reseed_after_fork)

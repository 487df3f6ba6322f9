"""JSON documents that live inside queue attributes: Policy, RedrivePolicy,
RedriveAllowPolicy.

These are attribute *values* whose format AWS fixes as JSON, not a wire
format, so this is the one broker module that reads and writes JSON (the
layering test allows exactly this module).  Documents are written compactly,
as AWS returns them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def parse_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text``, or None if it is not valid JSON or not an object."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def write_object(document: Mapping[str, Any]) -> str:
    """``document`` as compact JSON."""
    return json.dumps(document, separators=(",", ":"))

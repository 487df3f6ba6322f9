"""The SQS Query protocol: the generic :class:`protocol.query.QueryCodec` with
SQS's model and its table of wire names (:data:`protocol.query_names.SQS_NAMES`:
every list and map flattened), SQS's errors for parameters that do not fit
(``MissingParameter``, ``InvalidParameterValue``), and the legacy ``QueueUrl``
taken from a request posted to the queue's path.
"""

from __future__ import annotations

from protocol.query import SCALARS, QueryCodec, bind_error, parse_params, trie
from protocol.query_names import SQS_NAMES

__all__ = ["CODEC", "SCALARS", "bind_error", "parse_params", "trie"]

CODEC = QueryCodec("sqs-query", SQS_NAMES)

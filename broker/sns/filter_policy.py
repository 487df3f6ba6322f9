"""SNS subscription filter policies: validated and compiled once, matched on every publish.

Rules (AWS's, as its SNS developer guide documents them).  A policy is a JSON
object.  Each key names a message attribute (scope ``MessageAttributes``) or a
property of the JSON message body (scope ``MessageBody``, where a nested object
in the policy follows the nested object of the same name in the body).  Keys
are ANDed; the array under a key is ORed: a literal (string, number, ``true``,
``false``, ``null``) matches an equal value, an object ``{"<operator>":
operand}`` applies one operator: ``prefix``, ``suffix``, ``equals-ignore-case``,
``anything-but`` (a value, a list of values, or ``{"prefix"|"suffix"|
"equals-ignore-case": s}``), ``numeric`` (``["=", n]``, ``[op, n]`` or
``[">"|">=", lo, "<"|"<=", hi]``), ``exists`` (true/false) and ``cidr``.
``"$or": [{...}, {...}]`` ORs whole sub-policies (recognized only with at
least two objects, none of them keyed by an operator name; otherwise ``$or`` is
an ordinary key).  A key's *values* are its leaf values in the message: a
String attribute is one string, a Number one number, a String.Array each
element of its JSON array, a Binary attribute nothing (SNS never compares
Binary); in the body, arrays are flattened so any element may match.  A key
with no values is absent: only ``exists: false`` matches it.  Strings and
numbers never compare equal to each other; numbers compare to five decimals
(``301.5`` equals ``3.015e2``).  Limits: 256 KB of text, at most 5 keys and
150 value combinations, numbers within +/-1e9.  Keys and combinations are
counted per ``$or`` path (each path's leaf keys; the product of its arrays'
lengths), combinations summed over paths as AWS's constraints page computes
them.  Invalid policies raise :class:`~broker.errors.InvalidParameter` with
AWS's message (``Invalid parameter: FilterPolicy: <reason>``; Subscribe
rewrites the prefix, see :data:`MESSAGE_PREFIX`), minus the Jackson
``at [Source: ...; line, column]`` suffix AWS appends to syntax-level errors.

Strategy: :func:`compile_filter_policy` walks the JSON once into a
:class:`_Clause` (field tests with full key paths, plus ``$or`` groups of
clauses).  Each array element becomes a *condition*, a closure over the key's
values built by the operator's entry in the table of
:mod:`broker.sns.filter_operators`; literals of one
key collapse into one frozenset test.  Matching is then only closure calls and
set look-ups; message values are normalized once per look-up (numbers to
:class:`Num`, a fixed-point integer, so ``1 == True`` style accidents cannot
happen), and the parsing of a body or String.Array shared by every
subscription of a publish is memoized.  Limits are checked on per-node
summaries (sum of combinations, max keys per path): the product of sums is
the sum over all ``$or`` paths, so paths are never expanded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Final

from broker.errors import InvalidParameter
from broker.sns.filter_operators import (
    OPERATORS,
    Condition,
    InvalidPolicy,
    Num,
    Value,
    number_value,
    policy_number,
    to_num,
)

MESSAGE_ATTRIBUTES: Final = "MessageAttributes"
MESSAGE_BODY: Final = "MessageBody"
SCOPES: Final = (MESSAGE_ATTRIBUTES, MESSAGE_BODY)
# SetSubscriptionAttributes answers with this prefix; Subscribe with
# "Invalid parameter: Attributes Reason: FilterPolicy: " (replace it there).
MESSAGE_PREFIX: Final = "Invalid parameter: FilterPolicy: "

MAX_POLICY_BYTES: Final = 256 * 1024
MAX_KEYS: Final = 5
MAX_COMBINATIONS: Final = 150

Path = tuple[str, ...]
Lookup = Callable[[Path], Sequence[Value]]


# --- the compiled tree ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Field:
    path: Path
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class _Clause:
    """Every field test holds and, in every ``$or`` group, some branch holds."""

    fields: tuple[_Field, ...]
    groups: tuple[tuple[_Clause, ...], ...]

    def holds(self, lookup: Lookup) -> bool:
        for field in self.fields:
            values = lookup(field.path)
            if not any(condition(values) for condition in field.conditions):
                return False
        return all(any(branch.holds(lookup) for branch in group) for group in self.groups)


class FilterPolicy:
    """A compiled filter policy; :meth:`matches` is pure and cheap."""

    __slots__ = ("_clause", "scope")

    def __init__(self, clause: _Clause, scope: str) -> None:
        self._clause = clause
        self.scope = scope

    def matches(self, attributes: Mapping[str, tuple[str, str]], body: str | None) -> bool:
        """Whether a message with these attributes (name -> (DataType, StringValue)) and body passes."""
        if self.scope == MESSAGE_ATTRIBUTES:
            return self._clause.holds(lambda path: _attribute_values(attributes.get(path[0])))
        if not self._clause.fields and not self._clause.groups:
            return True
        document = _parse_body(body) if body is not None else None
        if not isinstance(document, dict):
            return False
        return self._clause.holds(lambda path: _body_values(document, path))


# --- compiling ------------------------------------------------------------------------


@dataclass(slots=True)
class _Summary:
    combinations: int  # summed over the node's $or paths
    keys: int  # the most leaf keys on any one path


def compile_filter_policy(text: str, scope: str = MESSAGE_ATTRIBUTES) -> FilterPolicy:
    """Validate a FilterPolicy attribute value and compile it for ``scope``."""
    if scope not in SCOPES:
        raise InvalidParameter(
            f"Invalid parameter: FilterPolicyScope: Invalid value [{scope}]. "
            "Please use either MessageBody or MessageAttributes"
        )
    try:
        if len(text.encode("utf-8")) > MAX_POLICY_BYTES:
            raise InvalidPolicy("Filter policy is too long")  # AWS's wording unverified
        try:
            document = _decode(text)
        except ValueError:
            raise InvalidPolicy("failed to parse JSON.") from None
        if not isinstance(document, dict):
            raise InvalidPolicy("Filter is not an object")
        nested: list[Path] = []
        clause, summary = _compile_object(document, (), nested)
    except InvalidPolicy as reason:
        raise InvalidParameter(MESSAGE_PREFIX + str(reason)) from None
    if nested and scope == MESSAGE_ATTRIBUTES:
        raise InvalidParameter(
            "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
        )
    if summary.keys > MAX_KEYS:
        raise InvalidParameter(MESSAGE_PREFIX + f"Filter policy can not have more than {MAX_KEYS} keys")
    if summary.combinations > MAX_COMBINATIONS:
        raise InvalidParameter(MESSAGE_PREFIX + "Filter policy is too complex")
    return FilterPolicy(clause, scope)


def _is_or(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) >= 2
        and all(isinstance(b, dict) and OPERATORS.keys().isdisjoint(b) for b in value)
    )


def _compile_object(obj: dict[str, object], prefix: Path, nested: list[Path]) -> tuple[_Clause, _Summary]:
    fields: list[_Field] = []
    groups: list[tuple[_Clause, ...]] = []
    summary = _Summary(combinations=1, keys=0)
    for name, value in obj.items():
        if name == "$or" and _is_or(value):
            assert isinstance(value, list)
            branches = [_compile_object(branch, prefix, nested) for branch in value]
            groups.append(tuple(clause for clause, _ in branches))
            summary.combinations *= sum(s.combinations for _, s in branches)
            summary.keys += max(s.keys for _, s in branches)
        elif isinstance(value, list):
            if not value:
                raise InvalidPolicy("Empty arrays are not allowed")
            fields.append(_Field((*prefix, name), _compile_key(value)))
            summary.combinations *= len(value)
            summary.keys += 1
        elif isinstance(value, dict):
            nested.append((*prefix, name))
            clause, inner = _compile_object(value, (*prefix, name), nested)
            fields.extend(clause.fields)
            groups.extend(clause.groups)
            summary.combinations *= inner.combinations
            summary.keys += inner.keys
        else:
            raise InvalidPolicy(f'"{name}" must be an object or an array')
    return _Clause(tuple(fields), tuple(groups)), summary


def _compile_key(items: list[object]) -> tuple[Condition, ...]:
    literals: set[Value] = set()
    conditions: list[Condition] = []
    for item in items:
        if isinstance(item, dict):
            if len(item) != 1:
                raise InvalidPolicy("Only one key allowed in match expression")
            ((op, operand),) = item.items()
            compile_operator = OPERATORS.get(op)
            if compile_operator is None:
                raise InvalidPolicy(f"Unrecognized match type {op}")
            conditions.append(compile_operator(operand))
        elif isinstance(item, list):
            raise InvalidPolicy("Match value must be String, number, true, false, or null")
        elif isinstance(item, Decimal):
            literals.add(policy_number(item, "number"))
        else:
            assert item is None or isinstance(item, str | bool)
            literals.add(item)
    if literals:
        allowed = frozenset(literals)
        conditions.insert(0, lambda values: not allowed.isdisjoint(values))
    return tuple(conditions)


# --- message values -------------------------------------------------------------------


def _reject_constant(name: str) -> object:
    raise ValueError(f"non-standard JSON constant {name}")


def _decode_number(text: str) -> Num | None:
    return to_num(Decimal(text))


_MESSAGE_DECODER: Final = json.JSONDecoder(
    parse_float=_decode_number, parse_int=_decode_number, parse_constant=_reject_constant
)
_POLICY_DECODER: Final = json.JSONDecoder(
    parse_float=Decimal, parse_int=Decimal, parse_constant=_reject_constant
)


def _decode(text: str) -> object:
    return _POLICY_DECODER.decode(text)


@lru_cache(maxsize=8)  # one publish evaluates every subscription against the same body
def _parse_body(body: str) -> object:
    try:
        return _MESSAGE_DECODER.decode(body)
    except ValueError:
        return None


@lru_cache(maxsize=256)
def _string_array(text: str) -> tuple[Value, ...]:
    try:
        parsed = _MESSAGE_DECODER.decode(text)
    except ValueError:
        return ()
    if not isinstance(parsed, list):
        return ()
    return tuple(v for v in parsed if not isinstance(v, list | dict))


def _attribute_values(attribute: tuple[str, str] | None) -> Sequence[Value]:
    if attribute is None:
        return ()
    data_type, value = attribute
    if data_type == "String.Array":
        return _string_array(value)
    base = data_type.partition(".")[0]  # custom types: "Number.float", "String.id"
    if base == "String":
        return (value,)
    if base == "Number":
        num = number_value(value)
        return () if num is None else (num,)
    return ()  # Binary: SNS compares only String, String.Array and Number


def _body_values(document: dict[str, object], path: Path) -> Sequence[Value]:
    nodes: list[object] = [document]
    for name in path:
        children: list[object] = []
        for node in nodes:
            if isinstance(node, dict) and name in node:
                _flatten(node[name], children)
        nodes = children
    return [node for node in nodes if not isinstance(node, dict)]  # type: ignore[misc]


def _flatten(value: object, out: list[object]) -> None:
    if isinstance(value, list):
        for element in value:
            _flatten(element, out)
    else:
        out.append(value)

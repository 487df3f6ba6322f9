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
values built by the operator's entry in :data:`_OPERATORS`; literals of one
key collapse into one frozenset test.  Matching is then only closure calls and
set look-ups; message values are normalized once per look-up (numbers to
:class:`Num`, a fixed-point integer, so ``1 == True`` style accidents cannot
happen), and the parsing of a body or String.Array shared by every
subscription of a publish is memoized.  Limits are checked on per-node
summaries (sum of combinations, max keys per path): the product of sums is
the sum over all ``$or`` paths, so paths are never expanded.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

from broker.errors import InvalidParameter

MESSAGE_ATTRIBUTES: Final = "MessageAttributes"
MESSAGE_BODY: Final = "MessageBody"
SCOPES: Final = (MESSAGE_ATTRIBUTES, MESSAGE_BODY)
# SetSubscriptionAttributes answers with this prefix; Subscribe with
# "Invalid parameter: Attributes Reason: FilterPolicy: " (replace it there).
MESSAGE_PREFIX: Final = "Invalid parameter: FilterPolicy: "

MAX_POLICY_BYTES: Final = 256 * 1024
MAX_KEYS: Final = 5
MAX_COMBINATIONS: Final = 150
NUMERIC_LIMIT: Final = Decimal(10) ** 9
_SCALE: Final = Decimal(10) ** 5
_CLAMP: Final = 10**15  # |scaled| beyond any policy bound; keeps huge message numbers cheap


@dataclass(frozen=True, slots=True)
class Num:
    """A number as AWS compares it: the value times 10^5, rounded half-even."""

    scaled: int


Value = str | Num | bool | None
Path = tuple[str, ...]
# One element of a key's array, compiled: the key's values in the message
# (empty when absent) -> whether this element matches.
Condition = Callable[[Sequence[Value]], bool]
Lookup = Callable[[Path], Sequence[Value]]


class _Invalid(Exception):
    """A reason a policy is invalid (rendered once, with AWS's prefix)."""


def _to_num(d: Decimal) -> Num | None:
    if d.is_nan():
        return None
    if not d.is_finite() or abs(d) > _CLAMP:
        return Num(_CLAMP if d > 0 else -_CLAMP)
    return Num(int((d * _SCALE).to_integral_value(rounding=ROUND_HALF_EVEN)))


def _policy_number(d: Decimal, what: str) -> Num:
    if abs(d) > NUMERIC_LIMIT:
        raise _Invalid(f"Value of {what} must be between -1.0E9 and 1.0E9, inclusive")
    num = _to_num(d)
    assert num is not None  # the policy decoder rejects NaN
    return num


# --- operators: name -> compile(operand) -> Condition ---------------------------------


def _any(test: Callable[[Value], bool]) -> Condition:
    return lambda values: any(map(test, values))


def _string_operand(op: str, operand: object) -> str:
    if not isinstance(operand, str):
        raise _Invalid(f"{op} match pattern must be a string")
    return operand


def _prefix(operand: object) -> Condition:
    p = _string_operand("prefix", operand)
    return _any(lambda v: type(v) is str and v.startswith(p))


def _suffix(operand: object) -> Condition:
    s = _string_operand("suffix", operand)
    return _any(lambda v: type(v) is str and v.endswith(s))


def _equals_ignore_case(operand: object) -> Condition:
    folded = _string_operand("equals-ignore-case", operand).lower()
    return _any(lambda v: type(v) is str and v.lower() == folded)


def _exists(operand: object) -> Condition:
    if operand is True:
        return bool
    if operand is False:
        return lambda values: not values
    raise _Invalid("exists match pattern must be either true or false.")


def _cidr(operand: object) -> Condition:
    text = _string_operand("cidr", operand)
    if text.count("/") != 1:
        raise _Invalid("Malformed CIDR, one '/' required")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise _Invalid(f"Nonstandard IP address: {text.split('/')[0]}") from None

    def test(v: Value) -> bool:
        if type(v) is not str:
            return False
        try:
            return ipaddress.ip_address(v) in network
        except ValueError:
            return False

    return _any(test)


def _anything_but(operand: object) -> Condition:
    if isinstance(operand, dict):
        if len(operand) != 1:
            raise _Invalid("Only one key allowed in match expression")
        ((op, inner),) = operand.items()
        negated = _ANYTHING_BUT_OPERATORS.get(op)
        if negated is None:
            raise _Invalid(f"Unsupported anything-but pattern: {op}")
        match = negated(inner)
        return lambda values: any(not match((v,)) for v in values)
    items = operand if isinstance(operand, list) else [operand]
    if not items:
        raise _Invalid("Empty arrays are not allowed")
    excluded: set[Value] = set()
    for item in items:
        if isinstance(item, str):
            excluded.add(item)
        elif isinstance(item, Decimal):
            excluded.add(_policy_number(item, "anything-but"))
        elif isinstance(operand, list):
            raise _Invalid("Inside anything but list, start|null|boolean is not supported.")
        else:
            raise _Invalid("Value of anything-but must be an array or single string/number value.")
    frozen = frozenset(excluded)
    return _any(lambda v: v not in frozen)


_LOWER_BOUNDS: Final = {">": False, ">=": True}  # operator -> inclusive
_UPPER_BOUNDS: Final = {"<": False, "<=": True}


def _numeric(operand: object) -> Condition:
    if not isinstance(operand, list):
        raise _Invalid("Value of numeric must be an array.")
    terms = list(operand)

    def operator_at(i: int) -> str:
        term = terms[i] if i < len(terms) else None
        if not isinstance(term, str):
            shown = "]" if term is None else _show(term)
            raise _Invalid(f"Invalid member in numeric match: {shown}")
        return term

    def number_after(i: int, op: str) -> Num:
        term = terms[i + 1] if i + 1 < len(terms) else None
        if not isinstance(term, Decimal):
            raise _Invalid(f"Value of {'equals' if op == '=' else op} must be numeric")
        return _policy_number(term, op)

    first = operator_at(0)
    if first == "=":
        if len(terms) > 2:
            raise _Invalid("Too many elements in numeric expression")
        target = number_after(0, first).scaled
        return _any(lambda v: type(v) is Num and v.scaled == target)
    if first in _UPPER_BOUNDS:
        if len(terms) > 2:
            raise _Invalid("Too many elements in numeric expression")
        return _range(None, False, number_after(0, first).scaled, _UPPER_BOUNDS[first])
    if first not in _LOWER_BOUNDS:
        raise _Invalid(f"Unrecognized numeric range operator: {first}")
    low = number_after(0, first).scaled
    if len(terms) == 2:
        return _range(low, _LOWER_BOUNDS[first], None, False)
    second = terms[2]
    if not isinstance(second, str):
        raise _Invalid(f"Bad value in numeric range: {_show(second)}")
    if second not in _UPPER_BOUNDS:
        raise _Invalid(f"Bad numeric range operator: {second}")
    high = number_after(2, second).scaled
    if len(terms) > 4:
        raise _Invalid("Too many terms in numeric range expression")
    if low >= high:
        raise _Invalid("Bottom must be less than top")
    return _range(low, _LOWER_BOUNDS[first], high, _UPPER_BOUNDS[second])


def _range(low: int | None, low_incl: bool, high: int | None, high_incl: bool) -> Condition:
    def test(v: Value) -> bool:
        if type(v) is not Num:
            return False
        x = v.scaled
        if low is not None and (x < low or (x == low and not low_incl)):
            return False
        return high is None or x < high or (x == high and high_incl)

    return _any(test)


def _show(term: object) -> str:
    if isinstance(term, Decimal):
        return str(term)
    return json.dumps(term)


_OPERATORS: Final[dict[str, Callable[[object], Condition]]] = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
    "anything-but": _anything_but,
    "numeric": _numeric,
    "exists": _exists,
    "cidr": _cidr,
}
_ANYTHING_BUT_OPERATORS: Final = {
    "prefix": _prefix,
    "suffix": _suffix,
    "equals-ignore-case": _equals_ignore_case,
}


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
            raise _Invalid("Filter policy is too long")  # AWS's wording unverified
        try:
            document = _decode(text)
        except ValueError:
            raise _Invalid("failed to parse JSON.") from None
        if not isinstance(document, dict):
            raise _Invalid("Filter is not an object")
        nested: list[Path] = []
        clause, summary = _compile_object(document, (), nested)
    except _Invalid as reason:
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
        and all(isinstance(b, dict) and _OPERATORS.keys().isdisjoint(b) for b in value)
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
                raise _Invalid("Empty arrays are not allowed")
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
            raise _Invalid(f'"{name}" must be an object or an array')
    return _Clause(tuple(fields), tuple(groups)), summary


def _compile_key(items: list[object]) -> tuple[Condition, ...]:
    literals: set[Value] = set()
    conditions: list[Condition] = []
    for item in items:
        if isinstance(item, dict):
            if len(item) != 1:
                raise _Invalid("Only one key allowed in match expression")
            ((op, operand),) = item.items()
            compile_operator = _OPERATORS.get(op)
            if compile_operator is None:
                raise _Invalid(f"Unrecognized match type {op}")
            conditions.append(compile_operator(operand))
        elif isinstance(item, list):
            raise _Invalid("Match value must be String, number, true, false, or null")
        elif isinstance(item, Decimal):
            literals.add(_policy_number(item, "number"))
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
    return _to_num(Decimal(text))


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
        try:
            num = _to_num(Decimal(value))
        except InvalidOperation:
            return ()
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

"""The operators of SNS filter policies: a table from name to compiler.

Rules: each entry of :data:`OPERATORS` takes the operand of ``{"<name>":
operand}`` as decoded from the policy (strings, ``Decimal`` numbers, bools,
None, lists, dicts), validates it with AWS's reason on failure
(:class:`InvalidPolicy`), and returns a :data:`Condition`: a closure from a
key's values in the message (empty when the key is absent) to whether it
matches.  Values are normalized before they reach a condition: strings stay
``str``, numbers become :class:`Num` (fixed point, five decimals, so a number
never equals a string or a bool), JSON ``true``/``false``/``null`` stay Python
literals.  Policy numbers must lie within +/-1e9.

Strategy: all validation and pre-computation (bounds, folded case, networks,
frozensets) happens at compile time; a condition does type checks, compares and
set look-ups only.  The two value parsers that a publish repeats for every
subscription (Number text, IP address text) are memoized.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Final

NUMERIC_LIMIT: Final = Decimal(10) ** 9
_SCALE: Final = Decimal(10) ** 5
_CLAMP: Final = 10**15  # |scaled| beyond any policy bound; keeps huge message numbers cheap


@dataclass(frozen=True, slots=True)
class Num:
    """A number as AWS compares it: the value times 10^5, rounded half-even."""

    scaled: int


Value = str | Num | bool | None
# One element of a key's array, compiled: the key's values in the message
# (empty when absent) -> whether this element matches.
Condition = Callable[[Sequence[Value]], bool]


class InvalidPolicy(Exception):
    """Why a policy is invalid: AWS's reason, which the compiler prefixes once."""


def to_num(d: Decimal) -> Num | None:
    if d.is_nan():
        return None
    if not d.is_finite() or abs(d) > _CLAMP:
        return Num(_CLAMP if d > 0 else -_CLAMP)
    return Num(int((d * _SCALE).to_integral_value(rounding=ROUND_HALF_EVEN)))


@lru_cache(maxsize=1024)  # a publish checks the same attribute against every subscription
def number_value(text: str) -> Num | None:
    """A Number attribute's StringValue as a number (None when it is not one)."""
    try:
        return to_num(Decimal(text))
    except InvalidOperation:
        return None


def policy_number(d: Decimal, what: str) -> Num:
    if abs(d) > NUMERIC_LIMIT:
        raise InvalidPolicy(f"Value of {what} must be between -1.0E9 and 1.0E9, inclusive")
    num = to_num(d)
    assert num is not None  # the policy decoder rejects NaN
    return num


def _any(test: Callable[[Value], bool]) -> Condition:
    return lambda values: any(map(test, values))


def _string_operand(op: str, operand: object) -> str:
    if not isinstance(operand, str):
        raise InvalidPolicy(f"{op} match pattern must be a string")
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
    raise InvalidPolicy("exists match pattern must be either true or false.")


def _cidr(operand: object) -> Condition:
    text = _string_operand("cidr", operand)
    if text.count("/") != 1:
        raise InvalidPolicy("Malformed CIDR, one '/' required")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise InvalidPolicy(f"Nonstandard IP address: {text.split('/')[0]}") from None

    def test(v: Value) -> bool:
        address = _address(v) if type(v) is str else None
        return address is not None and address in network

    return _any(test)


@lru_cache(maxsize=1024)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _anything_but(operand: object) -> Condition:
    if isinstance(operand, dict):
        if len(operand) != 1:
            raise InvalidPolicy("Only one key allowed in match expression")
        ((op, inner),) = operand.items()
        negated = _ANYTHING_BUT_OPERATORS.get(op)
        if negated is None:
            raise InvalidPolicy(f"Unsupported anything-but pattern: {op}")
        match = negated(inner)
        return lambda values: any(not match((v,)) for v in values)
    items = operand if isinstance(operand, list) else [operand]
    if not items:
        raise InvalidPolicy("Empty arrays are not allowed")
    excluded: set[Value] = set()
    for item in items:
        if isinstance(item, str):
            excluded.add(item)
        elif isinstance(item, Decimal):
            excluded.add(policy_number(item, "anything-but"))
        elif isinstance(operand, list):
            raise InvalidPolicy("Inside anything but list, start|null|boolean is not supported.")
        else:
            raise InvalidPolicy("Value of anything-but must be an array or single string/number value.")
    frozen = frozenset(excluded)
    return _any(lambda v: v not in frozen)


_LOWER_BOUNDS: Final = {">": False, ">=": True}  # operator -> inclusive
_UPPER_BOUNDS: Final = {"<": False, "<=": True}


def _numeric(operand: object) -> Condition:
    if not isinstance(operand, list):
        raise InvalidPolicy("Value of numeric must be an array.")
    terms = list(operand)

    def operator_at(i: int) -> str:
        term = terms[i] if i < len(terms) else None
        if not isinstance(term, str):
            shown = "]" if term is None else _show(term)
            raise InvalidPolicy(f"Invalid member in numeric match: {shown}")
        return term

    def number_after(i: int, op: str) -> Num:
        term = terms[i + 1] if i + 1 < len(terms) else None
        if not isinstance(term, Decimal):
            raise InvalidPolicy(f"Value of {'equals' if op == '=' else op} must be numeric")
        return policy_number(term, op)

    first = operator_at(0)
    if first == "=":
        if len(terms) > 2:
            raise InvalidPolicy("Too many elements in numeric expression")
        target = number_after(0, first).scaled
        return _any(lambda v: type(v) is Num and v.scaled == target)
    if first in _UPPER_BOUNDS:
        if len(terms) > 2:
            raise InvalidPolicy("Too many elements in numeric expression")
        return _range(None, False, number_after(0, first).scaled, _UPPER_BOUNDS[first])
    if first not in _LOWER_BOUNDS:
        raise InvalidPolicy(f"Unrecognized numeric range operator: {first}")
    low = number_after(0, first).scaled
    if len(terms) == 2:
        return _range(low, _LOWER_BOUNDS[first], None, False)
    second = terms[2]
    if not isinstance(second, str):
        raise InvalidPolicy(f"Bad value in numeric range: {_show(second)}")
    if second not in _UPPER_BOUNDS:
        raise InvalidPolicy(f"Bad numeric range operator: {second}")
    high = number_after(2, second).scaled
    if len(terms) > 4:
        raise InvalidPolicy("Too many terms in numeric range expression")
    if low >= high:
        raise InvalidPolicy("Bottom must be less than top")
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
    """A policy term as the parser's error names it (a JSON token)."""
    if isinstance(term, bool):
        return "true" if term else "false"
    if term is None:
        return "null"
    if isinstance(term, str):
        return f'"{term}"'
    if isinstance(term, list | dict):
        return "[" if isinstance(term, list) else "{"
    return str(term)


OPERATORS: Final[dict[str, Callable[[object], Condition]]] = {
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

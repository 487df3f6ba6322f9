"""Properties of the SNS filter-policy engine, checked against plain Python."""

from __future__ import annotations

import ipaddress
import json
from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from broker.sns.filter_policy import MESSAGE_ATTRIBUTES, MESSAGE_BODY, compile_filter_policy

FAST = settings(max_examples=60, deadline=None)

names = st.text(alphabet="abcdefgh", min_size=1, max_size=3)
strings = st.text(max_size=8)
# Numbers AWS can compare: within +/-1e9, five decimals.
numbers = st.integers(min_value=-(10**14), max_value=10**14).map(lambda i: Decimal(i).scaleb(-5))


def number_text(d: Decimal) -> str:
    return format(d, "f")


def compile_json(document: dict[str, Any], scope: str = MESSAGE_ATTRIBUTES) -> Any:
    return compile_filter_policy(json.dumps(document, default=float), scope)


# An attribute: (DataType, StringValue) and the literal that should match it.
attribute = st.one_of(
    strings.map(lambda v: (("String", v), v)),
    numbers.map(lambda d: (("Number", number_text(d)), d)),
    st.lists(strings, min_size=1, max_size=4).flatmap(
        lambda items: st.sampled_from(items).map(lambda pick: (("String.Array", json.dumps(items)), pick))
    ),
)


def encode(document: Any) -> str:
    """JSON with Decimals written exactly (a policy text as a client would write it)."""
    if isinstance(document, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in document.items()) + "}"
    if isinstance(document, list):
        return "[" + ",".join(encode(v) for v in document) + "]"
    if isinstance(document, Decimal):
        return number_text(document)
    return json.dumps(document)


@FAST
@given(st.dictionaries(names, attribute, min_size=1, max_size=5))
def test_a_policy_of_a_messages_own_values_matches_it(message: dict[str, Any]) -> None:
    attributes = {name: typed for name, (typed, _) in message.items()}
    document = {name: [literal] for name, (_, literal) in message.items()}
    assert compile_filter_policy(encode(document)).matches(attributes, None)


@FAST
@given(st.dictionaries(names, st.one_of(strings, numbers), min_size=1, max_size=5))
def test_a_policy_of_a_bodys_own_values_matches_it(values: dict[str, Any]) -> None:
    body = encode({name: {"inner": [value, "other"]} for name, value in values.items()})
    document = {name: {"inner": [value]} for name, value in values.items()}
    assert compile_filter_policy(encode(document), MESSAGE_BODY).matches({}, body)


@FAST
@given(strings, strings)
def test_anything_but_a_value_never_matches_that_value(excluded: str, other: str) -> None:
    p = compile_json({"k": [{"anything-but": [excluded]}]})
    assert not p.matches({"k": ("String", excluded)}, None)
    assert p.matches({"k": ("String", other)}, None) is (other != excluded)


@FAST
@given(numbers, numbers)
def test_anything_but_a_number_never_matches_that_number(excluded: Decimal, other: Decimal) -> None:
    p = compile_filter_policy(encode({"k": [{"anything-but": excluded}]}))
    assert not p.matches({"k": ("Number", number_text(excluded))}, None)
    assert not p.matches({"k": ("Number", format(excluded, "e"))}, None)
    assert p.matches({"k": ("Number", number_text(other))}, None) is (other != excluded)


lower_ops = st.sampled_from([">", ">="])
upper_ops = st.sampled_from(["<", "<="])
COMPARE = {
    ">": Decimal.__gt__,
    ">=": Decimal.__ge__,
    "<": Decimal.__lt__,
    "<=": Decimal.__le__,
    "=": Decimal.__eq__,
}


@FAST
@given(st.sampled_from(["=", ">", ">=", "<", "<="]), numbers, numbers)
def test_one_sided_numeric_agrees_with_python(op: str, bound: Decimal, x: Decimal) -> None:
    p = compile_filter_policy(encode({"k": [{"numeric": [op, bound]}]}))
    assert p.matches({"k": ("Number", number_text(x))}, None) is COMPARE[op](x, bound)


@FAST
@given(lower_ops, upper_ops, numbers, numbers, numbers)
def test_numeric_range_membership_agrees_with_python(
    low_op: str, high_op: str, a: Decimal, b: Decimal, x: Decimal
) -> None:
    assume(a != b)
    low, high = sorted((a, b))
    p = compile_filter_policy(encode({"k": [{"numeric": [low_op, low, high_op, high]}]}))
    expected = COMPARE[low_op](x, low) and COMPARE[high_op](x, high)
    assert p.matches({"k": ("Number", number_text(x))}, None) is expected
    assert p.matches({"k": ("String", number_text(x))}, None) is False


@FAST
@given(strings, strings)
def test_string_operators_agree_with_python(pattern: str, value: str) -> None:
    attrs = {"k": ("String", value)}
    assert compile_json({"k": [{"prefix": pattern}]}).matches(attrs, None) is value.startswith(pattern)
    assert compile_json({"k": [{"suffix": pattern}]}).matches(attrs, None) is value.endswith(pattern)
    same = value.lower() == pattern.lower()
    assert compile_json({"k": [{"equals-ignore-case": pattern}]}).matches(attrs, None) is same
    assert compile_json({"k": [{"anything-but": {"prefix": pattern}}]}).matches(attrs, None) is not (
        value.startswith(pattern)
    )


@FAST
@given(st.ip_addresses(), st.ip_addresses(), st.integers(min_value=0, max_value=128))
def test_cidr_agrees_with_ipaddress(base: Any, address: Any, prefix: int) -> None:
    prefix = min(prefix, base.max_prefixlen)
    network = ipaddress.ip_network(f"{base}/{prefix}", strict=False)
    p = compile_json({"k": [{"cidr": f"{base}/{prefix}"}]})
    expected = address.version == network.version and address in network
    assert p.matches({"k": ("String", str(address))}, None) is expected


# Small flat policies over a small alphabet, so that matches are common.
small_values = st.sampled_from(["a", "b", "c"])
leaf = st.one_of(
    st.lists(small_values, min_size=1, max_size=2),
    st.just([{"exists": False}]),
    st.just([{"exists": True}]),
    st.lists(small_values, min_size=1, max_size=1).map(lambda v: [{"anything-but": v}]),
)
keys = st.sampled_from(["x", "y", "z"])
branch = st.dictionaries(keys, leaf, min_size=1, max_size=2)
message = st.dictionaries(keys, small_values, max_size=3)


@FAST
@given(branch, branch, st.one_of(st.none(), st.tuples(keys, leaf)), message)
def test_or_is_the_or_of_its_branches(
    left: dict[str, Any], right: dict[str, Any], shared: tuple[str, Any] | None, values: dict[str, str]
) -> None:
    attrs = {k: ("String", v) for k, v in values.items()}

    def matches(document: dict[str, Any]) -> bool:
        return bool(compile_json(document).matches(attrs, None))

    both: dict[str, Any] = {"$or": [left, right]}
    expected = matches(left) or matches(right)
    if shared is not None:
        both[shared[0]] = shared[1]
        expected = expected and matches({shared[0]: shared[1]})
    assert matches(both) is expected


@FAST
@given(branch, message)
def test_scopes_agree_on_flat_string_messages(document: dict[str, Any], values: dict[str, str]) -> None:
    attrs = {k: ("String", v) for k, v in values.items()}
    by_attributes = compile_json(document).matches(attrs, None)
    by_body = compile_json(document, MESSAGE_BODY).matches({}, json.dumps(values))
    assert by_attributes is by_body


@FAST
@given(branch, message)
def test_keys_are_anded(document: dict[str, Any], values: dict[str, str]) -> None:
    attrs = {k: ("String", v) for k, v in values.items()}
    each = [compile_json({k: v}).matches(attrs, None) for k, v in document.items()]
    assert compile_json(document).matches(attrs, None) is all(each)

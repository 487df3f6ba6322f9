"""SNS filter policies as data: (policy, message, expected match) and (policy, AWS's error).

Matching cases follow the examples of AWS's SNS developer guide (string, numeric,
key and IP address matching, AND/OR logic, payload filtering); error messages
are the ones AWS answers (recorded responses), minus Jackson's location suffix.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from broker.errors import InvalidParameter
from broker.sns.filter_policy import (
    MESSAGE_ATTRIBUTES,
    MESSAGE_BODY,
    FilterPolicy,
    compile_filter_policy,
)

Attrs = dict[str, tuple[str, str]]


def s(value: str) -> tuple[str, str]:
    return ("String", value)


def n(value: str) -> tuple[str, str]:
    return ("Number", value)


def arr(*values: Any) -> tuple[str, str]:
    return ("String.Array", json.dumps(list(values)))


def policy(document: dict[str, Any], scope: str = MESSAGE_ATTRIBUTES) -> FilterPolicy:
    return compile_filter_policy(json.dumps(document), scope)


# (policy, message attributes, expected)
ATTRIBUTE_CASES: list[tuple[dict[str, Any], Attrs, bool]] = [
    # exact strings: case-sensitive, OR within the array
    ({"c": ["rugby", "tennis"]}, {"c": s("rugby")}, True),
    ({"c": ["rugby", "tennis"]}, {"c": s("Rugby")}, False),
    ({"c": ["rugby", "tennis"]}, {"c": s("football")}, False),
    ({"c": ["rugby"]}, {}, False),
    ({"c": ["rugby"]}, {"other": s("rugby")}, False),
    ({"c": [""]}, {"c": s("")}, True),
    # strings and numbers never equal each other; numbers compare to 5 decimals
    ({"p": ["100"]}, {"p": n("100")}, False),
    ({"p": [100]}, {"p": s("100")}, False),
    ({"p": [100]}, {"p": n("100.0")}, True),
    ({"p": [100]}, {"p": n("1e2")}, True),
    ({"p": [301.5]}, {"p": n("3.015e2")}, True),
    ({"p": [301.5]}, {"p": n("301.50001")}, False),
    ({"p": [301.5]}, {"p": n("301.500001")}, True),
    ({"p": [0]}, {"p": n("-0")}, True),
    # String.Array: any element; JSON types kept
    ({"c": ["rugby"]}, {"c": arr("football", "rugby")}, True),
    ({"c": ["rugby"]}, {"c": arr("football")}, False),
    ({"c": ["rugby"]}, {"c": arr()}, False),
    ({"p": [100]}, {"p": arr(100, 50)}, True),
    ({"p": ["100"]}, {"p": arr(100)}, False),
    ({"f": [True]}, {"f": arr(True)}, True),
    ({"f": [True]}, {"f": s("true")}, False),
    ({"v": [None]}, {"v": arr(None)}, True),
    ({"v": [None]}, {}, False),  # null is a value, not absence
    ({"c": ["x"]}, {"c": ("String.Array", "not json")}, False),
    # custom data types keep their base type; Binary is never compared
    ({"c": ["x"]}, {"c": ("String.id", "x")}, True),
    ({"p": [{"numeric": [">", 1]}]}, {"p": ("Number.float", "1.5")}, True),
    ({"b": ["eA=="]}, {"b": ("Binary", "eA==")}, False),
    ({"b": [{"exists": True}]}, {"b": ("Binary", "eA==")}, False),
    ({"b": [{"exists": False}]}, {"b": ("Binary", "eA==")}, True),
    # anything-but: a list, a single value, numbers, prefix, suffix, equals-ignore-case
    ({"c": [{"anything-but": ["rugby", "tennis"]}]}, {"c": s("football")}, True),
    ({"c": [{"anything-but": ["rugby", "tennis"]}]}, {"c": s("rugby")}, False),
    ({"c": [{"anything-but": ["rugby", "tennis"]}]}, {}, False),
    ({"c": [{"anything-but": ["rugby", "tennis"]}]}, {"c": arr("rugby", "baseball")}, True),
    ({"c": [{"anything-but": ["rugby", "tennis"]}]}, {"c": arr("rugby", "tennis")}, False),
    ({"c": [{"anything-but": "rugby"}]}, {"c": s("football")}, True),
    ({"c": [{"anything-but": "rugby"}]}, {"c": s("rugby")}, False),
    ({"p": [{"anything-but": [100, 500]}]}, {"p": n("101")}, True),
    ({"p": [{"anything-but": [100, 500]}]}, {"p": n("100.1")}, True),
    ({"p": [{"anything-but": [100, 500]}]}, {"p": n("100")}, False),
    ({"p": [{"anything-but": [100, 500]}]}, {"p": n("5e2")}, False),
    ({"p": [{"anything-but": [100, 500]}]}, {"p": arr(100, 50)}, True),
    ({"p": [{"anything-but": 100}]}, {"p": n("100")}, False),
    ({"p": [{"anything-but": [100]}]}, {"p": s("100")}, True),
    ({"c": [{"anything-but": {"prefix": "bas"}}]}, {"c": s("basketball")}, False),
    ({"c": [{"anything-but": {"prefix": "bas"}}]}, {"c": s("football")}, True),
    ({"c": [{"anything-but": {"prefix": "bas"}}]}, {}, False),
    ({"c": [{"anything-but": {"suffix": "ball"}}]}, {"c": s("football")}, False),
    ({"c": [{"anything-but": {"suffix": "ball"}}]}, {"c": s("rugby")}, True),
    ({"c": [{"anything-but": {"equals-ignore-case": "RUGBY"}}]}, {"c": s("rugby")}, False),
    ({"c": [{"anything-but": {"equals-ignore-case": "RUGBY"}}]}, {"c": s("tennis")}, True),
    # prefix / suffix / equals-ignore-case: strings only
    ({"c": [{"prefix": "bas"}]}, {"c": s("basketball")}, True),
    ({"c": [{"prefix": "bas"}]}, {"c": s("ba")}, False),
    ({"c": [{"prefix": "bas"}]}, {"c": arr("rugby", "baseball")}, True),
    ({"p": [{"prefix": "1"}]}, {"p": n("100")}, False),
    ({"c": [{"suffix": "ball"}]}, {"c": s("football")}, True),
    ({"c": [{"suffix": "ball"}]}, {"c": s("ball")}, True),
    ({"c": [{"suffix": "ball"}]}, {"c": s("balls")}, False),
    ({"c": [{"equals-ignore-case": "RuGbY"}]}, {"c": s("rugby")}, True),
    ({"c": [{"equals-ignore-case": "RuGbY"}]}, {"c": s("RUGBY")}, True),
    ({"c": [{"equals-ignore-case": "RuGbY"}]}, {"c": s("rugby league")}, False),
    # numeric: =, one-sided, ranges; only numbers
    ({"p": [{"numeric": ["=", 301.5]}]}, {"p": n("301.5")}, True),
    ({"p": [{"numeric": ["=", 301.5]}]}, {"p": n("3.015e2")}, True),
    ({"p": [{"numeric": ["=", 301.5]}]}, {"p": n("301.6")}, False),
    ({"p": [{"numeric": ["=", 301.5]}]}, {"p": s("301.5")}, False),
    ({"p": [{"numeric": [">", 0, "<=", 5]}]}, {"p": n("0")}, False),
    ({"p": [{"numeric": [">", 0, "<=", 5]}]}, {"p": n("0.00001")}, True),
    ({"p": [{"numeric": [">", 0, "<=", 5]}]}, {"p": n("5")}, True),
    ({"p": [{"numeric": [">", 0, "<=", 5]}]}, {"p": n("5.00001")}, False),
    ({"p": [{"numeric": [">=", 0, "<", 5]}]}, {"p": n("0")}, True),
    ({"p": [{"numeric": [">=", 0, "<", 5]}]}, {"p": n("5")}, False),
    ({"p": [{"numeric": ["<", 0]}]}, {"p": n("-0.5")}, True),
    ({"p": [{"numeric": ["<", 0]}]}, {"p": n("0")}, False),
    ({"p": [{"numeric": ["<=", -1e9]}]}, {"p": n("-1000000000")}, True),
    ({"p": [{"numeric": [">=", 10]}]}, {"p": n("9.99999")}, False),
    ({"p": [{"numeric": [">", 1e9]}]}, {"p": n("1e300")}, True),
    ({"p": [{"numeric": [">", 5]}]}, {"p": arr(1, 7)}, True),
    ({"p": [{"numeric": [">", 5]}]}, {"p": arr("7")}, False),
    ({"p": [{"numeric": [">", 5]}]}, {"p": n("NaN")}, False),
    ({"p": [{"numeric": [">", 5]}]}, {"p": n("seven")}, False),
    # exists
    ({"store": [{"exists": True}]}, {"store": s("fans")}, True),
    ({"store": [{"exists": True}]}, {"other": s("fans")}, False),
    ({"store": [{"exists": False}]}, {"other": s("fans")}, True),
    ({"store": [{"exists": False}]}, {"store": s("fans")}, False),
    ({"store": [{"exists": False}, "fans"]}, {"store": s("fans")}, True),
    # cidr, IPv4 and IPv6
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("10.0.0.255")}, True),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("10.0.1.0")}, False),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("not an address")}, False),
    ({"ip": [{"cidr": "10.0.0.0/24"}]}, {"ip": s("::ffff:10.0.0.1")}, False),
    ({"ip": [{"cidr": "10.0.0.7/24"}]}, {"ip": s("10.0.0.1")}, True),
    ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": s("2001:db8::1")}, True),
    ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": s("2001:db9::1")}, False),
    ({"ip": [{"cidr": "2001:db8::/32"}]}, {"ip": s("10.0.0.1")}, False),
    # AND across keys, OR within a key's array
    ({"a": ["x"], "b": [{"numeric": [">", 100]}]}, {"a": s("x"), "b": n("101")}, True),
    ({"a": ["x"], "b": [{"numeric": [">", 100]}]}, {"a": s("x"), "b": n("99")}, False),
    ({"a": ["x"], "b": [{"numeric": [">", 100]}]}, {"b": n("101")}, False),
    ({"a": ["x", {"prefix": "y"}]}, {"a": s("yz")}, True),
    # $or, flat and nested
    (
        {"source": ["cw"], "$or": [{"metricName": ["CPU"]}, {"namespace": ["EC2"]}]},
        {"source": s("cw"), "metricName": s("CPU")},
        True,
    ),
    (
        {"source": ["cw"], "$or": [{"metricName": ["CPU"]}, {"namespace": ["EC2"]}]},
        {"source": s("cw"), "namespace": s("EC2")},
        True,
    ),
    (
        {"source": ["cw"], "$or": [{"metricName": ["CPU"]}, {"namespace": ["EC2"]}]},
        {"source": s("cw")},
        False,
    ),
    (
        {"source": ["cw"], "$or": [{"metricName": ["CPU"]}, {"namespace": ["EC2"]}]},
        {"metricName": s("CPU")},
        False,
    ),
    (
        {"$or": [{"a": ["1"]}, {"b": ["2"], "$or": [{"c": ["3"]}, {"d": ["4"]}]}]},
        {"b": s("2"), "d": s("4")},
        True,
    ),
    (
        {"$or": [{"a": ["1"]}, {"b": ["2"], "$or": [{"c": ["3"]}, {"d": ["4"]}]}]},
        {"b": s("2")},
        False,
    ),
    # "$or" that is not an OR (not at least two objects) is an ordinary key
    ({"$or": ["a", "b"]}, {"$or": s("b")}, True),
    ({"$or": ["a", "b"]}, {"x": s("b")}, False),
    # the empty policy matches everything
    ({}, {}, True),
]


@pytest.mark.parametrize(("document", "attributes", "expected"), ATTRIBUTE_CASES)
def test_attribute_scope(document: dict[str, Any], attributes: Attrs, expected: bool) -> None:
    assert policy(document).matches(attributes, "irrelevant body") is expected


# (policy, body, expected)
BODY_CASES: list[tuple[dict[str, Any], str | None, bool]] = [
    ({"c": ["rugby"]}, '{"c": "rugby"}', True),
    ({"c": ["rugby"]}, '{"c": "tennis"}', False),
    ({"c": ["rugby"]}, '{"c": ["tennis", "rugby"]}', True),
    ({"c": ["rugby"]}, '{"c": [["deep", ["rugby"]]]}', True),
    # nested keys follow nested objects, through arrays of objects
    ({"store": {"city": ["Paris"]}}, '{"store": {"city": "Paris"}}', True),
    ({"store": {"city": ["Paris"]}}, '{"store": {"city": "Rome"}}', False),
    ({"store": {"city": ["Paris"]}}, '{"store": "Paris"}', False),
    ({"store": {"city": ["Paris"]}}, '{"city": "Paris"}', False),
    ({"store": {"city": ["Paris"]}}, '{"store": [{"city": "Rome"}, {"city": "Paris"}]}', True),
    ({"a": {"b": {"c": ["x"]}, "d": ["y"]}}, '{"a": {"b": {"c": "x"}, "d": "y"}}', True),
    ({"a": {"b": {"c": ["x"]}, "d": ["y"]}}, '{"a": {"b": {"c": "x"}, "d": "z"}}', False),
    # JSON types: numbers, booleans, null
    ({"price": [{"numeric": [">", 100]}]}, '{"price": 101}', True),
    ({"price": [{"numeric": [">", 100]}]}, '{"price": "101"}', False),
    ({"price": [301.5]}, '{"price": 3.015e2}', True),
    ({"price": [{"anything-but": [100, 500]}]}, '{"price": 100.0}', False),
    ({"ok": [True]}, '{"ok": true}', True),
    ({"ok": [True]}, '{"ok": 1}', False),
    ({"ok": [False]}, '{"ok": 0}', False),
    ({"v": [None]}, '{"v": null}', True),
    ({"v": [None]}, "{}", False),
    ({"ip": [{"cidr": "192.168.0.0/16"}]}, '{"ip": "192.168.4.2"}', True),
    # exists on nested keys
    ({"a": {"b": [{"exists": False}]}}, '{"a": {}}', True),
    ({"a": {"b": [{"exists": False}]}}, "{}", True),
    ({"a": {"b": [{"exists": False}]}}, '{"a": {"b": 1}}', False),
    ({"a": {"b": [{"exists": True}]}}, '{"a": {"b": null}}', True),
    ({"a": {"b": [{"exists": True}]}}, '{"a": {"b": []}}', False),
    # $or inside a nested object keeps the path
    ({"a": {"$or": [{"b": ["1"]}, {"c": ["2"]}]}}, '{"a": {"c": "2"}}', True),
    ({"a": {"$or": [{"b": ["1"]}, {"c": ["2"]}]}}, '{"c": "2"}', False),
    # a body that is not a JSON object matches nothing
    ({"a": [{"exists": False}]}, "not json", False),
    ({"a": [{"exists": False}]}, "[1, 2]", False),
    ({"a": [{"exists": False}]}, '"a string"', False),
    ({"a": [{"exists": False}]}, '{"a": NaN}', False),
    ({"a": [{"exists": False}]}, None, False),
]


@pytest.mark.parametrize(("document", "body", "expected"), BODY_CASES)
def test_body_scope(document: dict[str, Any], body: str | None, expected: bool) -> None:
    assert policy(document, MESSAGE_BODY).matches({}, body) is expected


def test_body_scope_ignores_message_attributes() -> None:
    p = policy({"c": ["rugby"]}, MESSAGE_BODY)
    assert not p.matches({"c": s("rugby")}, '{"other": 1}')


def test_attribute_scope_ignores_the_body() -> None:
    p = policy({"c": ["rugby"]})
    assert not p.matches({}, '{"c": "rugby"}')


PREFIX = "Invalid parameter: FilterPolicy: "

# (scope, policy text, AWS's message after the "FilterPolicy: " prefix)
INVALID: list[tuple[str, str, str]] = [
    (MESSAGE_ATTRIBUTES, "{invalidjson}", "failed to parse JSON."),
    (MESSAGE_ATTRIBUTES, '{"a": NaN}', "failed to parse JSON."),
    (MESSAGE_ATTRIBUTES, '["a"]', "Filter is not an object"),
    (MESSAGE_ATTRIBUTES, '{"key_a": "value_one"}', '"key_a" must be an object or an array'),
    (MESSAGE_ATTRIBUTES, '{"key_a": 5}', '"key_a" must be an object or an array'),
    (MESSAGE_ATTRIBUTES, '{"key": {"suffix": "value"}}', '"suffix" must be an object or an array'),
    (MESSAGE_ATTRIBUTES, '{"key": []}', "Empty arrays are not allowed"),
    (MESSAGE_ATTRIBUTES, '{"key": [["value"]]}', "Match value must be String, number, true, false, or null"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"wrong-operator": true}]}', "Unrecognized match type wrong-operator"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"wildcard": "a*"}]}', "Unrecognized match type wildcard"),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"suffix": "value", "prefix": "value2"}]}',
        "Only one key allowed in match expression",
    ),
    (MESSAGE_ATTRIBUTES, '{"key": [{}]}', "Only one key allowed in match expression"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"suffix": 100}]}', "suffix match pattern must be a string"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"suffix": null}]}', "suffix match pattern must be a string"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"suffix": []}]}', "suffix match pattern must be a string"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"prefix": ["a"]}]}', "prefix match pattern must be a string"),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"equals-ignore-case": 1}]}',
        "equals-ignore-case match pattern must be a string",
    ),
    (MESSAGE_ATTRIBUTES, '{"key": [{"exists": null}]}', "exists match pattern must be either true or false."),
    (MESSAGE_ATTRIBUTES, '{"key": [{"exists": "no"}]}', "exists match pattern must be either true or false."),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": []}]}', "Invalid member in numeric match: ]"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": 5}]}', "Value of numeric must be an array."),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"numeric": ["operator"]}]}',
        "Unrecognized numeric range operator: operator",
    ),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [1, "<="]}]}', "Invalid member in numeric match: 1"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": ["=", "000"]}]}', "Value of equals must be numeric"),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"numeric": ["=", 1, ">", 0]}]}',
        "Too many elements in numeric expression",
    ),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">="]}]}', "Value of >= must be numeric"),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"numeric": ["<", 100, ">", 10]}]}',
        "Too many elements in numeric expression",
    ),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">=", 1, ">", 2]}]}', "Bad numeric range operator: >"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", 3, "<", 1]}]}', "Bottom must be less than top"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">=", 3, "<=", 3]}]}', "Bottom must be less than top"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", 20, "<="]}]}', "Value of <= must be numeric"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", 20, 30]}]}', "Bad value in numeric range: 30"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", 20, "test"]}]}', "Bad numeric range operator: test"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", "20", "<", "30"]}]}', "Value of > must be numeric"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", 20, "<", "30"]}]}', "Value of < must be numeric"),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"numeric": [">", 20, "<", 30, "<", 50]}]}',
        "Too many terms in numeric range expression",
    ),
    (MESSAGE_ATTRIBUTES, '{"key": [{"numeric": [">", 1000000001]}]}', "must be between -1.0E9 and 1.0E9"),
    (MESSAGE_ATTRIBUTES, '{"key": [-1e10]}', "must be between -1.0E9 and 1.0E9"),
    (MESSAGE_ATTRIBUTES, '{"key": [{"anything-but": []}]}', "Empty arrays are not allowed"),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"anything-but": [true]}]}',
        "Inside anything but list, start|null|boolean is not supported.",
    ),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"anything-but": null}]}',
        "Value of anything-but must be an array or single string/number value.",
    ),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"anything-but": {"numeric": [">", 1]}}]}',
        "Unsupported anything-but pattern: numeric",
    ),
    (
        MESSAGE_ATTRIBUTES,
        '{"key": [{"anything-but": {"prefix": 1}}]}',
        "prefix match pattern must be a string",
    ),
    (MESSAGE_ATTRIBUTES, '{"ip": [{"cidr": "10.0.0.1"}]}', "Malformed CIDR, one '/' required"),
    (MESSAGE_ATTRIBUTES, '{"ip": [{"cidr": "10.0.0.300/24"}]}', "Nonstandard IP address: 10.0.0.300"),
    (MESSAGE_ATTRIBUTES, '{"ip": [{"cidr": 10}]}', "cidr match pattern must be a string"),
    # "$or" with operator-named fields is an ordinary key whose array holds match expressions
    (
        MESSAGE_ATTRIBUTES,
        '{"$or": [{"numeric": 123}, {"prefix": "abc"}]}',
        "Value of numeric must be an array.",
    ),
    (MESSAGE_ATTRIBUTES, '{"$or": [{"a": ["x"]}]}', "Unrecognized match type a"),
    # limits
    (
        MESSAGE_ATTRIBUTES,
        json.dumps({f"k{i}": ["v"] for i in range(6)}),
        "Filter policy can not have more than 5 keys",
    ),
    (
        MESSAGE_BODY,
        json.dumps({"a": {"b": ["1"], "c": ["2"], "d": {"e": ["3"], "f": ["4"], "g": ["5"]}, "h": ["6"]}}),
        "Filter policy can not have more than 5 keys",
    ),
    (MESSAGE_ATTRIBUTES, json.dumps({"a": [str(i) for i in range(151)]}), "Filter policy is too complex"),
    (
        MESSAGE_ATTRIBUTES,
        json.dumps({"a": [str(i) for i in range(10)], "b": [str(i) for i in range(16)]}),
        "Filter policy is too complex",
    ),
    (
        MESSAGE_BODY,
        json.dumps({"a": {"b": {"c": [str(i) for i in range(13)]}, "d": [str(i) for i in range(12)]}}),
        "Filter policy is too complex",
    ),
    (
        # summed over $or paths: 1*(100 + 51) = 151
        MESSAGE_ATTRIBUTES,
        json.dumps({"$or": [{"a": [str(i) for i in range(100)]}, {"b": [str(i) for i in range(51)]}]}),
        "Filter policy is too complex",
    ),
    (
        # nested $or: 2 * (10 + 3 * (20 + 50)) = 440
        MESSAGE_ATTRIBUTES,
        json.dumps(
            {
                "s": ["x", "y"],
                "$or": [
                    {"a": [str(i) for i in range(10)]},
                    {
                        "b": ["1", "2", "3"],
                        "$or": [{"c": [str(i) for i in range(20)]}, {"d": [str(i) for i in range(50)]}],
                    },
                ],
            }
        ),
        "Filter policy is too complex",
    ),
    (
        MESSAGE_ATTRIBUTES,
        json.dumps({"a": ["x" * (256 * 1024)]}),
        "Filter policy is too long",
    ),
]


@pytest.mark.parametrize(("scope", "text", "reason"), INVALID)
def test_invalid_policies(scope: str, text: str, reason: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        compile_filter_policy(text, scope)
    assert caught.value.message.startswith(PREFIX), caught.value.message
    assert reason in caught.value.message
    assert caught.value.code == "InvalidParameter"


def test_nested_policy_rejected_for_attribute_scope() -> None:
    nested = '{"store": {"city": ["Paris"]}}'
    with pytest.raises(InvalidParameter) as caught:
        compile_filter_policy(nested)
    assert caught.value.message == (
        "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy"
    )
    compile_filter_policy(nested, MESSAGE_BODY)


def test_unknown_scope() -> None:
    with pytest.raises(InvalidParameter) as caught:
        compile_filter_policy("{}", "RandomValue")
    assert caught.value.message == (
        "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. "
        "Please use either MessageBody or MessageAttributes"
    )


VALID_AT_THE_LIMITS: list[tuple[str, dict[str, Any]]] = [
    (MESSAGE_ATTRIBUTES, {f"k{i}": ["v"] for i in range(5)}),
    (MESSAGE_ATTRIBUTES, {"a": [str(i) for i in range(150)]}),
    (MESSAGE_ATTRIBUTES, {"a": [str(i) for i in range(10)], "b": [str(i) for i in range(15)]}),
    # 3 keys per $or path (s, b, c|d) although 5 keys in all; 2 * (10 + 3 * (5 + 10)) = 110
    (
        MESSAGE_ATTRIBUTES,
        {
            "s": ["x", "y"],
            "$or": [
                {"a": [str(i) for i in range(10)]},
                {
                    "b": ["1", "2", "3"],
                    "$or": [{"c": [str(i) for i in range(5)]}, {"d": [str(i) for i in range(10)]}],
                },
            ],
        },
    ),
    # AWS's example: 4 * 3 = 12 combinations over the leaf keys key_d and key_f
    (
        MESSAGE_BODY,
        {"key_a": {"key_b": {"key_c": {"key_d": ["1", "2", "3", "4"]}}, "key_e": {"key_f": ["1", "2", "3"]}}},
    ),
    (MESSAGE_ATTRIBUTES, {"p": [{"numeric": [">=", -1e9, "<=", 1e9]}], "q": [1000000000, -1000000000]}),
    (MESSAGE_ATTRIBUTES, {"p": [{"numeric": [">", 0.000001]}]}),
]


@pytest.mark.parametrize(("scope", "document"), VALID_AT_THE_LIMITS)
def test_valid_at_the_limits(scope: str, document: dict[str, Any]) -> None:
    compile_filter_policy(json.dumps(document), scope)

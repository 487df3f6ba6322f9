"""HTTP/S delivery policies: validation, precedence and the retry schedule.

Rules (AWS's, "Amazon SNS message delivery retries"): a subscription's
DeliveryPolicy is ``{"healthyRetryPolicy", "throttlePolicy", "requestPolicy"}``;
a topic's is ``{"http": {"defaultHealthyRetryPolicy", "disableSubscriptionOverrides",
"defaultThrottlePolicy", "defaultRequestPolicy"}}``.  Retry fields and their
limits: ``minDelayTarget`` 1 to maxDelayTarget (default 20 s),
``maxDelayTarget`` minDelayTarget to 3,600 (default 20 s), ``numRetries`` 0
to 100 (default 3), ``numNoDelayRetries`` / ``numMinDelayRetries`` /
``numMaxDelayRetries`` 0 or more (default 0, their sum at most numRetries),
``backoffFunction`` linear (default), arithmetic, geometric or exponential;
``throttlePolicy.maxReceivesPerSecond`` 1 or more (default: no throttling).
Invalid policies answer ``Invalid parameter: DeliveryPolicy: <path> must ...``
(the form AWS uses, e.g. ``http.defaultHealthyRetryPolicy.numRetries must be
less than or equal to 100``) or ``Unexpected JSON member: <name>``.

Precedence, field by field: the subscription's policy, then the topic's
defaults, then AWS's (a topic with ``disableSubscriptionOverrides`` ignores
the subscription's).

The schedule: retry ``r`` (1-based) waits, after the previous attempt ended,
0 s in the immediate phase (the first numNoDelayRetries), minDelayTarget in
the pre-backoff phase (the next numMinDelayRetries), then the backoff phase's
``numRetries - noDelay - minDelay - maxDelay`` retries run from minDelayTarget
(first) to maxDelayTarget (last) along the backoff function, and the
post-backoff phase waits maxDelayTarget.  AWS shows the four curves only as a
graph; ours, with ``t`` from 0 to 1 across the backoff phase: linear
``min + (max-min)·t``, arithmetic ``min + (max-min)·t²``, geometric
``min + (max-min)·t³``, exponential ``min·(max/min)^t``.  No jitter (AWS adds
some), so schedules are exact and testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from broker.errors import InvalidParameter

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
MAX_RETRIES = 100
MAX_DELAY_SECONDS = 3600
MAX_TOTAL_RETRY_SECONDS = 3600
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
CONTENT_TYPES = ("text/plain", "application/json", "application/xml")

_RETRY_FIELDS = (
    "minDelayTarget",
    "maxDelayTarget",
    "numRetries",
    "numMaxDelayRetries",
    "numNoDelayRetries",
    "numMinDelayRetries",
    "backoffFunction",
)
_DEFAULT_RETRY: dict[str, object] = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A healthyRetryPolicy with every field resolved."""

    min_delay: int = 20
    max_delay: int = 20
    num_retries: int = 3
    num_no_delay: int = 0
    num_min_delay: int = 0
    num_max_delay: int = 0
    backoff: str = "linear"

    def delay_ms(self, retry: int) -> int | None:
        """Milliseconds to wait before retry ``retry`` (1-based); None once retries are exhausted."""
        if retry < 1 or retry > self.num_retries:
            return None
        if retry <= self.num_no_delay:
            return 0
        if retry <= self.num_no_delay + self.num_min_delay:
            return self.min_delay * 1000
        backoff_count = self.num_retries - self.num_no_delay - self.num_min_delay - self.num_max_delay
        index = retry - self.num_no_delay - self.num_min_delay - 1
        if index >= backoff_count:
            return self.max_delay * 1000
        t = index / (backoff_count - 1) if backoff_count > 1 else 0.0
        low, high = float(self.min_delay), float(self.max_delay)
        if self.backoff == "arithmetic":
            seconds = low + (high - low) * t * t
        elif self.backoff == "geometric":
            seconds = low + (high - low) * t**3
        elif self.backoff == "exponential":
            seconds = low * (high / low) ** t
        else:
            seconds = low + (high - low) * t
        return round(seconds * 1000)

    def to_document(self) -> dict[str, object]:
        """The policy as AWS shows it in EffectiveDeliveryPolicy (AWS's field order)."""
        return {
            "minDelayTarget": self.min_delay,
            "maxDelayTarget": self.max_delay,
            "numRetries": self.num_retries,
            "numMaxDelayRetries": self.num_max_delay,
            "numNoDelayRetries": self.num_no_delay,
            "numMinDelayRetries": self.num_min_delay,
            "backoffFunction": self.backoff,
        }


@dataclass(frozen=True, slots=True)
class EffectivePolicy:
    """What governs one HTTP/S subscription's deliveries."""

    retry: RetryPolicy = RetryPolicy()
    max_receives_per_second: int | None = None
    content_type: str = DEFAULT_CONTENT_TYPE

    def subscription_document(self) -> dict[str, object]:
        """A subscription's EffectiveDeliveryPolicy."""
        throttle = (
            {"maxReceivesPerSecond": self.max_receives_per_second}
            if self.max_receives_per_second is not None
            else None
        )
        return {
            "healthyRetryPolicy": self.retry.to_document(),
            "sicklyRetryPolicy": None,
            "throttlePolicy": throttle,
            "requestPolicy": {"headerContentType": self.content_type},
            "guaranteed": False,
        }


# -- validation -----------------------------------------------------------------


def check_subscription_policy(document: Mapping[str, object]) -> None:
    """Raise InvalidParameter (message after ``DeliveryPolicy: ``) unless ``document`` is valid."""
    _check_members(
        document, ("healthyRetryPolicy", "sicklyRetryPolicy", "throttlePolicy", "requestPolicy", "guaranteed")
    )
    _check_retry(document.get("healthyRetryPolicy"), "healthyRetryPolicy")
    _check_retry(document.get("sicklyRetryPolicy"), "sicklyRetryPolicy")
    _check_throttle(document.get("throttlePolicy"), "throttlePolicy")
    _check_request(document.get("requestPolicy"), "requestPolicy")


def check_topic_policy(document: Mapping[str, object]) -> None:
    """Raise InvalidParameter (message after ``DeliveryPolicy: ``) unless ``document`` is valid."""
    _check_members(document, ("http", "https"))
    for protocol in ("http", "https"):
        section = document.get(protocol)
        if section is None:
            continue
        if not isinstance(section, Mapping):
            raise _invalid(f"{protocol} must be a JSON object")
        _check_members(
            section,
            (
                "defaultHealthyRetryPolicy",
                "defaultSicklyRetryPolicy",
                "disableSubscriptionOverrides",
                "defaultThrottlePolicy",
                "defaultRequestPolicy",
            ),
        )
        _check_retry(section.get("defaultHealthyRetryPolicy"), f"{protocol}.defaultHealthyRetryPolicy")
        _check_retry(section.get("defaultSicklyRetryPolicy"), f"{protocol}.defaultSicklyRetryPolicy")
        _check_throttle(section.get("defaultThrottlePolicy"), f"{protocol}.defaultThrottlePolicy")
        _check_request(section.get("defaultRequestPolicy"), f"{protocol}.defaultRequestPolicy")
        overrides = section.get("disableSubscriptionOverrides")
        if overrides is not None and not isinstance(overrides, bool):
            raise _invalid(f"{protocol}.disableSubscriptionOverrides must be a boolean")


def _invalid(reason: str) -> InvalidParameter:
    return InvalidParameter(reason)


def _check_members(document: Mapping[str, object], allowed: tuple[str, ...]) -> None:
    for name in document:
        if name not in allowed:
            raise _invalid(f"Unexpected JSON member: {name}")


def _int_field(policy: Mapping[str, object], name: str, path: str) -> int | None:
    value = policy.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"{path}.{name} must be an integer")
    return value


def _check_retry(policy: object, path: str) -> None:
    if policy is None:
        return
    if not isinstance(policy, Mapping):
        raise _invalid(f"{path} must be a JSON object")
    _check_members(policy, _RETRY_FIELDS)
    values = {name: _int_field(policy, name, path) for name in _RETRY_FIELDS if name != "backoffFunction"}
    low = values["minDelayTarget"] if values["minDelayTarget"] is not None else 20
    high = values["maxDelayTarget"] if values["maxDelayTarget"] is not None else 20
    retries = values["numRetries"] if values["numRetries"] is not None else 3
    if low < 1:
        raise _invalid(f"{path}.minDelayTarget must be greater than or equal to 1")
    if high > MAX_DELAY_SECONDS:
        raise _invalid(f"{path}.maxDelayTarget must be less than or equal to {MAX_DELAY_SECONDS}")
    if low > high:
        raise _invalid(f"{path}.maxDelayTarget must be greater than or equal to minDelayTarget")
    if retries < 0:
        raise _invalid(f"{path}.numRetries must be greater than or equal to 0")
    if retries > MAX_RETRIES:
        raise _invalid(f"{path}.numRetries must be less than or equal to {MAX_RETRIES}")
    phases = 0
    for name in ("numNoDelayRetries", "numMinDelayRetries", "numMaxDelayRetries"):
        count = values[name] or 0
        if count < 0:
            raise _invalid(f"{path}.{name} must be greater than or equal to 0")
        phases += count
    if phases > retries:
        raise _invalid(
            f"{path}.numRetries must be greater than or equal to "
            "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries"
        )
    backoff = policy.get("backoffFunction")
    if backoff is not None and backoff not in BACKOFF_FUNCTIONS:
        raise _invalid(f"{path}.backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")


def _check_throttle(policy: object, path: str) -> None:
    if policy is None:
        return
    if not isinstance(policy, Mapping):
        raise _invalid(f"{path} must be a JSON object")
    _check_members(policy, ("maxReceivesPerSecond",))
    rate = _int_field(policy, "maxReceivesPerSecond", path)
    if rate is not None and rate < 1:
        raise _invalid(f"{path}.maxReceivesPerSecond must be greater than or equal to 1")


def _check_request(policy: object, path: str) -> None:
    if policy is None:
        return
    if not isinstance(policy, Mapping):
        raise _invalid(f"{path} must be a JSON object")
    _check_members(policy, ("headerContentType",))
    content_type = policy.get("headerContentType")
    if content_type is None:
        return
    if not isinstance(content_type, str) or content_type.split(";")[0].strip() not in CONTENT_TYPES:
        raise _invalid(f"{path}.headerContentType must be one of {', '.join(CONTENT_TYPES)}")


# -- resolution -----------------------------------------------------------------


def resolve(
    subscription: Mapping[str, object] | None, topic: Mapping[str, object] | None, protocol: str = "http"
) -> EffectivePolicy:
    """The effective policy of an HTTP/S subscription from the parsed (valid) documents."""
    section_raw = (topic or {}).get(protocol) or (topic or {}).get("http") or {}
    section: Mapping[str, object] = section_raw if isinstance(section_raw, Mapping) else {}
    sub: Mapping[str, object] = (
        {} if section.get("disableSubscriptionOverrides") is True else (subscription or {})
    )
    retry: dict[str, object] = dict(_DEFAULT_RETRY)
    for layer in (section.get("defaultHealthyRetryPolicy"), sub.get("healthyRetryPolicy")):
        if isinstance(layer, Mapping):
            retry.update({k: v for k, v in layer.items() if v is not None})
    throttle: object = None
    content_type = DEFAULT_CONTENT_TYPE
    for throttle_layer, request_layer in (
        (section.get("defaultThrottlePolicy"), section.get("defaultRequestPolicy")),
        (sub.get("throttlePolicy"), sub.get("requestPolicy")),
    ):
        if isinstance(throttle_layer, Mapping) and throttle_layer.get("maxReceivesPerSecond") is not None:
            throttle = throttle_layer["maxReceivesPerSecond"]
        if isinstance(request_layer, Mapping) and isinstance(request_layer.get("headerContentType"), str):
            content_type = str(request_layer["headerContentType"])
    return EffectivePolicy(
        retry=RetryPolicy(
            min_delay=_as_int(retry["minDelayTarget"]),
            max_delay=_as_int(retry["maxDelayTarget"]),
            num_retries=_as_int(retry["numRetries"]),
            num_no_delay=_as_int(retry["numNoDelayRetries"]),
            num_min_delay=_as_int(retry["numMinDelayRetries"]),
            num_max_delay=_as_int(retry["numMaxDelayRetries"]),
            backoff=str(retry["backoffFunction"]),
        ),
        max_receives_per_second=_as_int(throttle) if throttle is not None else None,
        content_type=content_type,
    )


def topic_document(topic: Mapping[str, object] | None) -> dict[str, object]:
    """A topic's EffectiveDeliveryPolicy: its ``http`` defaults over AWS's."""
    section_raw = (topic or {}).get("http") or {}
    section: Mapping[str, object] = section_raw if isinstance(section_raw, Mapping) else {}
    effective = resolve(None, topic)
    http: dict[str, object] = {
        "defaultHealthyRetryPolicy": effective.retry.to_document(),
        "disableSubscriptionOverrides": section.get("disableSubscriptionOverrides") is True,
    }
    if effective.max_receives_per_second is not None:
        http["defaultThrottlePolicy"] = {"maxReceivesPerSecond": effective.max_receives_per_second}
    http["defaultRequestPolicy"] = {"headerContentType": effective.content_type}
    return {"http": http}


def _as_int(value: object) -> int:
    assert isinstance(value, int)
    return value

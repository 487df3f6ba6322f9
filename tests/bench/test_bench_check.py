"""bench.check.Ledger: acknowledged vs received, in any order."""

from __future__ import annotations

from bench.check import Ledger, describe


def test_exactly_once_in_any_order() -> None:
    ledger = Ledger()
    ledger.received(2)  # a receive may beat its send's reply
    for key in range(3):
        ledger.acknowledged(key)
    assert not ledger.complete() and ledger.outstanding == 2
    ledger.received(0)
    ledger.received(1)
    assert ledger.complete()
    report = ledger.report()
    assert report.ok and (report.acknowledged, report.received, report.duplicates, report.missing) == (
        3,
        3,
        0,
        0,
    )
    assert describe(report.as_dict()) == "3 acknowledged, all received exactly once"


def test_duplicates_missing_and_unacknowledged() -> None:
    ledger = Ledger()
    for key in ("a", "b", "c"):
        ledger.acknowledged(key)
    ledger.acknowledged("a")  # acknowledged twice is still one message
    for key in ("a", "a", "a", "b", "zombie"):
        ledger.received(key)
    report = ledger.report()
    assert not report.ok
    assert (report.duplicates, report.extra_copies, report.missing, report.unacknowledged) == (1, 2, 1, 1)
    assert report.duplicate_samples == ["a x3"] and report.missing_samples == ["c"]
    line = describe(report.as_dict())
    assert "1 DUPLICATED (2 extra copies; e.g. a x3)" in line and "1 MISSING (e.g. c)" in line
    assert ledger.copies == 5 and ledger.outstanding == 1


def test_fanout_keys() -> None:
    ledger = Ledger()
    for q in range(3):
        ledger.acknowledged((q, 7))
    assert ledger.received((0, 7)) and not ledger.received((0, 7))
    assert ledger.report().missing_samples == ["(1, 7)", "(2, 7)"]

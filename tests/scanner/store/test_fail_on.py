"""--fail-on any|new|never and waivers in the exit code."""

from __future__ import annotations

from datetime import date

import pytest
from store_factory import HIK, PC, dev, run

from scanner.model import Change, Status, Waiver
from scanner.outcome import ExitCode, exit_code


@pytest.mark.parametrize(
    ("change", "complete", "fail_on", "expected"),
    [
        (Change.NEW, True, "new", ExitCode.COVERED),
        (Change.UNCHANGED, True, "new", ExitCode.CLEAR),
        (Change.CHANGED, True, "new", ExitCode.CLEAR),
        (Change.UNCHANGED, False, "new", ExitCode.INCOMPLETE),
        (Change.UNCHANGED, True, "any", ExitCode.COVERED),
        (Change.NEW, True, "never", ExitCode.CLEAR),
        (Change.NEW, False, "never", ExitCode.INCOMPLETE),
    ],
)
def test_fail_on(change: Change, complete: bool, fail_on: str, expected: ExitCode) -> None:
    r = run([dev("198.18.0.11", HIK, Status.COVERED, change=change)], complete=complete)
    assert exit_code(r, fail_on) is expected


def test_review_only_new_gives_4_with_fail_on_new() -> None:
    r = run([dev("198.18.0.11", HIK, Status.REVIEW), dev("198.18.0.2", PC)])
    assert exit_code(r, "new") is ExitCode.REVIEW


def test_an_active_waiver_does_not_count() -> None:
    w = Waiver(f"mac:{HIK}", "bench", "CISO", date(2099, 1, 1))
    waived = dev("198.18.0.11", HIK, Status.COVERED, waiver=w)
    assert exit_code(run([waived])) is ExitCode.CLEAR
    expired = dev("198.18.0.11", HIK, Status.COVERED, waiver=w, waiver_expired=True)
    assert exit_code(run([expired])) is ExitCode.COVERED

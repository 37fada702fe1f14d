from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fingerprints.oui import load_oui_database
from scanner.identify import DeviceDraft
from scanner.model import Evidence, Identity, Status
from scanner.policy import COVERED_AT, combine, judge

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def draft(*evidence: tuple[str, str | None, float]) -> DeviceDraft:
    evs = tuple(Evidence(sig, "v", vendor, c, "test", T0) for sig, vendor, c in evidence)
    return DeviceDraft("198.18.0.5", "A4:14:37:00:00:01", "lab0", T0, T0, Identity(evidence=evs))


def test_no_evidence_is_clear_with_a_caveat() -> None:
    f = judge(draft(("oui", "Axis Communications AB", 0.0)))
    assert f.status is Status.CLEAR and f.basis is None and f.confidence == 0.0
    assert "not that the device is proven" in f.rationale


def test_strong_oui_is_covered_with_basis() -> None:
    f = judge(draft(("oui", "hikvision", 0.8)))
    assert f.status is Status.COVERED and f.covered_vendor == "hikvision"
    assert f.basis is not None and f.basis.prong == "(f)(3)(B)"
    assert "0.80" in f.rationale and "0.75" in f.rationale


def test_weak_signal_alone_is_review() -> None:
    f = judge(draft(("oui", "hikvision", 0.5)))
    assert f.status is Status.REVIEW and f.basis is not None


def test_independent_weak_signals_add_up() -> None:
    f = judge(draft(("oui", "dahua", 0.5), ("http", "dahua", 0.5)))
    assert f.status is Status.COVERED and f.confidence == pytest.approx(0.75)


def test_repeated_sightings_of_one_signal_do_not_add_up() -> None:
    f = judge(draft(("oui", "dahua", 0.5), ("oui", "dahua", 0.5)))
    assert f.status is Status.REVIEW and f.confidence == pytest.approx(0.5)


def test_conflicting_vendors_go_to_review_with_both_sides() -> None:
    f = judge(draft(("oui", "hikvision", 0.8), ("sadp", "dahua", 0.6)))
    assert f.status is Status.REVIEW
    assert "Hikvision" in f.rationale and "Dahua" in f.rationale


def test_non_covered_vendor_names_never_count() -> None:
    assert judge(draft(("oui", "Axis Communications AB", 0.9))).status is Status.CLEAR


@given(st.lists(st.floats(0, 1), max_size=6))
def test_combine_is_bounded_and_at_least_the_best(cs: list[float]) -> None:
    c = combine(cs)
    assert 0.0 <= c <= 1.0
    assert c >= max(cs, default=0.0) - 1e-12


def test_table_statuses_agree_with_the_threshold() -> None:
    """The OUI table's status column and the policy threshold must never disagree."""
    for block in load_oui_database().covered_blocks():
        if block.status is Status.COVERED:
            assert block.certainty >= COVERED_AT, block
        else:
            assert block.certainty < COVERED_AT, block

"""The vendor definitions: the Section 889 basis every covered finding quotes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fingerprints import FINGERPRINT_DB_VERSION
from fingerprints.oui import OuiDatabase
from fingerprints.vendors import (
    DISCLAIMER,
    VENDOR_KEYS,
    basis_for,
    vendor_display_name,
    vendor_info,
)
from scanner.model import Basis

PRONG = {
    "hikvision": "(f)(3)(B)",
    "dahua": "(f)(3)(B)",
    "hytera": "(f)(3)(B)",
    "huawei": "(f)(3)(A)",
    "zte": "(f)(3)(A)",
}
ENTITY = {
    "hikvision": "Hangzhou Hikvision Digital Technology Company",
    "dahua": "Dahua Technology Company",
    "hytera": "Hytera Communications Corporation",
    "huawei": "Huawei Technologies Company",
    "zte": "ZTE Corporation",
}


def test_vendor_keys() -> None:
    assert VENDOR_KEYS == ("hikvision", "dahua", "hytera", "huawei", "zte")


@pytest.mark.parametrize("vendor", VENDOR_KEYS)
def test_basis(vendor: str) -> None:
    basis = basis_for(vendor)
    assert isinstance(basis, Basis)
    assert basis.vendor == vendor
    assert basis.entity == ENTITY[vendor]
    assert basis.prong == PRONG[vendor]
    assert "Pub. L. 115-232" in basis.statute
    assert f"Section 889{PRONG[vendor]}" in basis.statute
    assert basis.far_clauses == ("FAR 52.204-24", "FAR 52.204-25", "FAR 52.204-26")
    dates = {date for _, date in basis.effective}
    assert {"2019-08-13", "2020-08-13", "2019-12-13", "2020-10-26"} <= dates
    assert "one business day" in basis.reporting_duty
    assert "10 business days" in basis.reporting_duty
    assert "https://dibnet.dod.mil" in basis.reporting_duty
    assert "52.204-25(d)" in basis.reporting_duty
    assert vendor_display_name(vendor) in basis.citation
    assert any("DA 21-309" in item and "12 Mar 2021" in item for item in basis.other_lists)
    for item in basis.other_lists:
        assert re.search(r"\[(confirmed|uncertain|verify)\]$", item), item


@pytest.mark.parametrize("vendor", ["hikvision", "dahua", "hytera"])
def test_prong_b_carries_the_purpose_qualification(vendor: str) -> None:
    qualification = basis_for(vendor).purpose_qualification
    assert qualification is not None
    assert "public safety" in qualification
    assert "critical infrastructure" in qualification
    assert "national security" in qualification
    assert "video surveillance" in basis_for(vendor).statute


@pytest.mark.parametrize("vendor", ["huawei", "zte"])
def test_prong_a_has_no_purpose_qualification(vendor: str) -> None:
    assert basis_for(vendor).purpose_qualification is None


def test_research_confidence_tags_are_kept() -> None:
    def tag(vendor: str, name: str) -> str:
        return next(f.confidence for f in vendor_info(vendor).lists if f.list == name)

    assert tag("hikvision", "Commerce Entity List") == "confirmed"
    assert tag("dahua", "Commerce Entity List") == "confirmed"
    assert tag("huawei", "Commerce Entity List") == "confirmed"
    assert tag("hytera", "Commerce Entity List") == "uncertain"
    assert tag("zte", "Commerce Entity List") == "uncertain"
    for vendor in VENDOR_KEYS:
        assert tag(vendor, "FCC Covered List") == "confirmed"
        assert tag(vendor, "DoD Chinese military companies") == "verify"


def test_unknown_vendor_raises_key_error() -> None:
    with pytest.raises(KeyError):
        basis_for("uniview")
    with pytest.raises(KeyError):
        vendor_display_name("Hikvision")  # keys, not display names


def test_display_names() -> None:
    names = [vendor_display_name(v) for v in VENDOR_KEYS]
    assert names == ["Hikvision", "Dahua", "Hytera", "Huawei", "ZTE"]


def test_every_covered_block_has_a_basis(db: OuiDatabase) -> None:
    vendors = {c.vendor for c in db.covered_blocks()}
    assert vendors == set(VENDOR_KEYS)
    for cov in db.covered_blocks():
        assert basis_for(cov.vendor).vendor == cov.vendor


def test_every_oui_subsidiary_is_described(entities: dict[str, Any]) -> None:
    """A report names the subsidiary a MAC points at; the vendor page must know it too."""
    for ent in entities["entity"]:
        if ent["relation"] == "vendor":
            assert ent["entity"] == vendor_display_name(ent["vendor"])
            continue
        known = {(a.name, a.relation) for a in vendor_info(ent["vendor"]).subsidiaries}
        assert (ent["entity"], ent["relation"]) in known, ent["entity"]


def test_disclaimer() -> None:
    assert "not a legal determination" in DISCLAIMER
    assert "reasonable inquiry" in DISCLAIMER


def test_fingerprint_db_version() -> None:
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", FINGERPRINT_DB_VERSION)

"""The five covered vendors and the Section 889 rule each one falls under.

The legal text lives in ``data/vendors.toml`` rather than in code so that a compliance reviewer can
check and correct it without reading Python, and so that every fact about another government list
keeps the confidence tag the research gave it: a report must not state as settled what the
research only remembered.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from scanner.model import Basis

__all__ = [
    "DISCLAIMER",
    "VENDOR_KEYS",
    "Affiliate",
    "ListFact",
    "VendorInfo",
    "basis_for",
    "vendor_display_name",
    "vendor_info",
]

# Fixed order: reports and summaries list vendors this way, statute order within each prong.
VENDOR_KEYS: tuple[str, ...] = ("hikvision", "dahua", "hytera", "huawei", "zte")

DISCLAIMER = (
    "This report is evidence gathered to support a reasonable inquiry (FAR 4.2101, "
    "FAR 52.204-24/-25/-26); it is not a legal determination that any device is or is not "
    "covered telecommunications equipment. A 'clear' device showed no covered-vendor evidence "
    "to the probes that ran, which is not proof of absence. Confirm findings with your "
    "contracting officer or counsel."
)

CONFIDENCE_TAGS = ("confirmed", "uncertain", "verify")


@dataclass(frozen=True)
class Affiliate:
    name: str
    legal_name: str
    relation: str  # subsidiary | affiliate
    note: str


@dataclass(frozen=True)
class ListFact:
    """A vendor's standing on another government list, with how sure the research was."""

    list: str
    fact: str
    confidence: str  # confirmed | uncertain | verify

    def render(self) -> str:
        return f"{self.list}: {self.fact} [{self.confidence}]"


@dataclass(frozen=True)
class VendorInfo:
    key: str
    display_name: str
    entity: str
    prong: str
    subsidiaries: tuple[Affiliate, ...]
    lists: tuple[ListFact, ...]
    citation: str


@cache
def _data() -> dict[str, Any]:
    text = (resources.files("fingerprints") / "data" / "vendors.toml").read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    if tuple(data["vendor"]) != VENDOR_KEYS:
        raise ValueError(f"vendors.toml must define exactly {VENDOR_KEYS} in that order")
    return data


def _key(vendor: str) -> str:
    if vendor not in VENDOR_KEYS:
        raise KeyError(f"not a covered vendor: {vendor!r} (expected one of {VENDOR_KEYS})")
    return vendor


@cache
def vendor_info(vendor: str) -> VendorInfo:
    raw = _data()["vendor"][_key(vendor)]
    lists = tuple(ListFact(i["list"], i["fact"], i["confidence"]) for i in raw.get("lists", []))
    for item in lists:
        if item.confidence not in CONFIDENCE_TAGS:
            raise ValueError(f"{vendor}: unknown confidence tag {item.confidence!r}")
    return VendorInfo(
        key=vendor,
        display_name=raw["display_name"],
        entity=raw["entity"],
        prong=raw["prong"],
        subsidiaries=tuple(
            Affiliate(s["name"], s["legal_name"], s["relation"], s["note"])
            for s in raw.get("subsidiaries", [])
        ),
        lists=lists,
        citation=raw["citation"],
    )


def vendor_display_name(vendor: str) -> str:
    """The short name a reader knows ("Hikvision"), not the statutory one."""
    return vendor_info(vendor).display_name


@cache
def basis_for(vendor: str) -> Basis:
    """The rule a finding quotes. Huawei and ZTE are covered for any telecommunications equipment
    under (f)(3)(A); Hikvision, Dahua and Hytera only for the purposes (f)(3)(B) lists, so only
    their basis carries a purpose qualification, and the report must show it. Raises KeyError
    for a vendor key outside VENDOR_KEYS."""
    info = vendor_info(vendor)
    data = _data()
    common = data["common"]
    prong = data["prong"][info.prong]
    return Basis(
        vendor=vendor,
        entity=info.entity,
        prong=info.prong,
        statute=f"Section 889{info.prong} of {common['act']}: {prong['text']}",
        far_clauses=tuple(common["far_clauses"]),
        effective=tuple((e["what"], e["date"]) for e in common["effective"]),
        purpose_qualification=prong.get("purpose_qualification"),
        reporting_duty=common["reporting_duty"],
        citation=info.citation,
        other_lists=tuple(item.render() for item in info.lists),
    )

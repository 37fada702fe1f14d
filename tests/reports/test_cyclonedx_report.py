"""The CycloneDX report: a valid 1.6 BOM, checked by cyclonedx-python-lib's own validator."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from reports.cyclonedx_report import CycloneDxFormat
from scanner.model import ScanRun

SCRIPT = "<script>alert(1)</script>"


def validated(run: ScanRun) -> dict[str, Any]:
    text = CycloneDxFormat().render(run).decode("utf-8")
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    doc: dict[str, Any] = json.loads(text)
    return doc


def properties(component: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in component.get("properties", [])}


def test_a_valid_cyclonedx_1_6_bom_of_devices(sample_run: ScanRun) -> None:
    doc = validated(sample_run)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    assert [c["type"] for c in doc["components"]] == ["device"] * len(sample_run.devices)
    # The library orders components its own way; find the covered camera by its verdict.
    (first,) = [c for c in doc["components"] if properties(c)["ndaa-scan:status"] == "covered"]
    assert first["name"] == "DS-2CD2043G2-I"
    assert first["version"] == "V5.7.3 build 220112"
    assert first["manufacturer"]["name"] == "Hikvision"
    props = properties(first)
    assert props["ndaa-scan:status"] == "covered"
    assert props["ndaa-scan:covered_vendor"] == "hikvision"
    assert props["ndaa-scan:serial"] == "DS-2CD2043G2-I20230101AAWRJ12345678"
    assert props["ndaa-scan:model"] == "DS-2CD2043G2-I"
    assert props["ndaa-scan:firmware"] == "V5.7.3 build 220112"
    assert props["ndaa-scan:confidence"] == "0.975"
    assert "(f)(3)(B)" in props["ndaa-scan:basis"]
    verdicts = sorted(properties(c)["ndaa-scan:covered_vendor"] for c in doc["components"])
    assert verdicts == ["dahua", "hikvision", "none", "none"]
    meta = {p["name"]: p["value"] for p in doc["metadata"]["properties"]}
    assert meta["ndaa-scan:scan_id"] == sample_run.id
    assert meta["ndaa-scan:site"] == "HQ building A"
    assert doc["metadata"]["tools"]["components"][0]["name"] == "ndaa-scan"


def test_same_run_same_bytes(sample_run: ScanRun) -> None:
    assert CycloneDxFormat().render(sample_run) == CycloneDxFormat().render(sample_run)


def test_devices_with_the_same_serial_stay_distinct(factory: Any) -> None:
    twin = factory.covered_hikvision(ip="198.18.0.11", mac="a4:14:37:00:00:02")
    doc = validated(factory.run([factory.covered_hikvision(), twin]))
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(set(refs)) == 2


@pytest.mark.parametrize(
    "hostile",
    [
        SCRIPT,
        '"><img src=x onerror=alert(1)>',
        '=HYPERLINK("http://x")',
        "\u202egpj.exe",
        "M" * 100_000,
    ],
)
def test_hostile_strings_stay_valid_json_text(factory: Any, hostile: str) -> None:
    device = replace(factory.covered_hikvision(model=hostile, serial=hostile), site=hostile)
    doc = validated(factory.run([device]))
    component = doc["components"][0]
    assert component["name"] == hostile
    assert properties(component)["ndaa-scan:serial"] == hostile


def test_empty_and_bare_devices(factory: Any) -> None:
    validated(factory.run([]))
    bare = factory.device(ip=None, mac=None, manufacturer=None)
    doc = validated(factory.run([bare, factory.device(ip="198.18.0.7", mac=None)]))
    assert {c["name"] for c in doc["components"]} == {"ip:None", "198.18.0.7"}

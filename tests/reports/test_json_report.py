"""The JSON report: the design.md contract, its order, and bytes that are always valid JSON."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

import pytest

from reports.json_report import SCHEMA_ID, JsonFormat, to_dict
from reports.schema import validate
from scanner.model import Change, ScanRun, Status

DEVICE_KEYS = [
    "key", "ip", "mac", "interface", "hostnames", "other_ips", "notes", "manufacturer", "brand",
    "model", "serial", "firmware", "device_type", "covered_vendor", "status", "confidence",
    "rationale", "evidence", "basis", "first_seen", "last_seen", "change", "site", "waiver",
]  # fmt: skip
SCAN_KEYS = [
    "id", "site", "started", "finished", "complete", "targets", "target_count", "excludes",
    "interfaces", "rate", "retries", "timeout", "scanner_version", "fingerprint_version",
    "oui_registry", "probes", "warnings",
]  # fmt: skip
OFFSET = re.compile(r"[+-]\d{2}:\d{2}$")


def parsed(run: ScanRun) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(JsonFormat().render(run))
    return loaded


def test_document_shape(sample_run: ScanRun) -> None:
    doc = to_dict(sample_run)
    assert list(doc) == ["schema", "scan", "devices", "summary"]
    assert doc["schema"] == SCHEMA_ID == "ndaa-scan/1"
    assert list(doc["scan"]) == SCAN_KEYS
    assert list(doc["scan"]["oui_registry"]) == ["name", "version", "date"]
    assert list(doc["scan"]["probes"][0]) == [
        "name", "interface", "sent", "answered", "duration", "status", "error",
    ]  # fmt: skip
    for device in doc["devices"]:
        assert list(device) == DEVICE_KEYS
        for item in device["evidence"]:
            assert list(item) == [
                "signal", "value", "vendor", "certainty", "source", "observed_at", "interface",
                "detail",
            ]  # fmt: skip
    assert list(doc["summary"]) == ["total", "covered", "review", "clear", "by_vendor"]


def test_sample_validates_against_the_schema(sample_run: ScanRun) -> None:
    validate(to_dict(sample_run))
    validate(parsed(sample_run))


def test_covered_device_carries_evidence_and_basis(sample_run: ScanRun) -> None:
    hikvision = parsed(sample_run)["devices"][0]
    assert hikvision["status"] == "covered"
    assert hikvision["covered_vendor"] == "hikvision"
    assert hikvision["key"] == "serial:DS-2CD2043G2-I20230101AAWRJ12345678"
    assert hikvision["confidence"] == 0.975  # rounded to 3 places
    assert [item["signal"] for item in hikvision["evidence"]] == ["oui", "sadp"]
    assert hikvision["evidence"][0]["value"] == "A4:14:37"
    basis = hikvision["basis"]
    assert basis["prong"] == "(f)(3)(B)"
    assert basis["far_clauses"] == ["52.204-24", "52.204-25", "52.204-26"]
    assert basis["effective"] == {
        "Section 889(a)(1)(A)": "2019-08-13",
        "Section 889(a)(1)(B)": "2020-08-13",
    }


def test_clear_device_has_no_basis_even_if_the_policy_attached_one(factory: Any) -> None:
    device = factory.clear_axis(basis=factory.hikvision_basis)
    doc = to_dict(factory.run([device]))
    assert doc["devices"][0]["basis"] is None
    validate(doc)


def test_proxy_arp_note_and_failed_probe_are_kept(sample_run: ScanRun) -> None:
    doc = to_dict(sample_run)
    router = next(d for d in doc["devices"] if d["notes"])
    assert router["other_ips"] == ["198.18.1.1", "198.18.1.2"]
    assert router["notes"][0].startswith("proxy-ARP")
    wsd = next(p for p in doc["scan"]["probes"] if p["name"] == "wsd")
    assert wsd["status"] == "failed"
    assert "multicast" in wsd["error"]
    assert doc["scan"]["complete"] is False


def test_devices_sorted_by_status_then_ip_numerically(factory: Any) -> None:
    devices = [
        factory.clear_axis(ip=None, mac="00:40:8c:00:00:99"),
        factory.clear_axis(ip="2001:db8::1", mac="00:40:8c:00:00:98"),
        factory.clear_axis(ip="198.18.0.100", mac="00:40:8c:00:00:97"),
        factory.review_dahua(ip="198.18.0.200"),
        factory.clear_axis(ip="198.18.0.9", mac="00:40:8c:00:00:96"),
        factory.covered_hikvision(ip="198.18.0.50"),
        factory.review_dahua(ip="198.18.0.10", mac="3c:ef:8c:00:00:10"),
        factory.covered_hikvision(ip="198.18.0.7", serial="B"),
    ]
    order = [(d["status"], d["ip"]) for d in to_dict(factory.run(devices))["devices"]]
    assert order == [
        ("covered", "198.18.0.7"),
        ("covered", "198.18.0.50"),
        ("review", "198.18.0.10"),
        ("review", "198.18.0.200"),
        ("clear", "198.18.0.9"),
        ("clear", "198.18.0.100"),
        ("clear", "2001:db8::1"),
        ("clear", None),
    ]


def test_output_is_deterministic_whatever_the_input_order(factory: Any) -> None:
    devices = [factory.clear_axis(), factory.covered_hikvision(), factory.review_dahua()]
    first = JsonFormat().render(factory.run(devices))
    assert first == JsonFormat().render(factory.run(devices))
    assert first == JsonFormat().render(factory.run(list(reversed(devices))))


def test_summary_counts_and_vendors(factory: Any) -> None:
    devices = [
        factory.covered_hikvision(),
        factory.covered_hikvision(ip="198.18.0.11", serial="S2"),
        factory.review_dahua(),
        factory.review_dahua(ip="198.18.0.12", mac="3c:ef:8c:00:00:12", vendor=None, basis=None),
        factory.clear_axis(),
    ]
    summary = to_dict(factory.run(devices))["summary"]
    assert summary == {
        "total": 5,
        "covered": 2,
        "review": 2,
        "clear": 1,
        "by_vendor": {"hikvision": 2, "dahua": 1, "unknown": 1},
    }
    assert "exit_code" not in summary  # the CLI owns exit codes


def test_timestamps_carry_a_timezone(sample_run: ScanRun, factory: Any) -> None:
    doc = to_dict(sample_run)
    assert doc["scan"]["started"] == "2025-06-03T14:00:00+02:00"
    naive = factory.run(started=datetime(2025, 6, 3, 14, 0), finished=datetime(2025, 6, 3, 14, 1))
    scan = to_dict(naive)["scan"]
    # A naive datetime is local time; the report pins the local offset rather than omit it.
    assert OFFSET.search(scan["started"]) and OFFSET.search(scan["finished"])
    assert datetime.fromisoformat(scan["started"]).replace(tzinfo=None) == datetime(
        2025, 6, 3, 14, 0
    )


def test_render_format(factory: Any) -> None:
    run = factory.run([factory.clear_axis(manufacturer="Société Générale Caméras")])
    data = JsonFormat().render(run)
    assert data.endswith(b"}\n")
    assert data.startswith(b'{\n  "schema": "ndaa-scan/1",\n')
    assert "Société Générale Caméras".encode() in data  # ensure_ascii=False


def test_nan_confidence_fails_loudly_instead_of_writing_invalid_json(factory: Any) -> None:
    run = factory.run([factory.covered_hikvision(confidence=math.nan)])
    with pytest.raises(ValueError):
        JsonFormat().render(run)


def test_lone_surrogate_from_device_bytes_round_trips(factory: Any) -> None:
    model = b"DS-\xff-cam".decode("utf-8", errors="surrogateescape")
    run = factory.run([factory.clear_axis(model=model)])
    data = JsonFormat().render(run)
    data.decode("utf-8")  # still valid UTF-8
    assert json.loads(data)["devices"][0]["model"] == model


def test_change_values_pass_through(factory: Any) -> None:
    devices = [
        factory.clear_axis(ip=f"198.18.0.{n}", mac=f"00:40:8c:00:01:{n:02x}", change=change)
        for n, change in enumerate(Change, start=1)
    ]
    doc = to_dict(factory.run(devices))
    assert [d["change"] for d in doc["devices"]] == [change.value for change in Change]
    assert {d["status"] for d in doc["devices"]} == {Status.CLEAR.value}
    validate(doc)

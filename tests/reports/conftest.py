"""Hand-made scan runs for the report tests: no scanner, no network, every field chosen."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from scanner.model import (
    Basis,
    Change,
    Device,
    Evidence,
    Finding,
    Identity,
    OuiSource,
    ProbeStats,
    ProbeStatus,
    ScanRun,
    Scope,
    Status,
)

T0 = datetime(2025, 6, 3, 14, 0, 0, tzinfo=timezone(timedelta(hours=2)))
OUI_SOURCE = OuiSource(name="IEEE MA-L (arp-scan copy)", version="2025.03", date="2025-03-01")

HIKVISION_DUTY = (
    "Report it to the Contracting Officer within one business day of identification, and within "
    "10 further business days report the mitigation actions taken (FAR 52.204-25(d))."
)
HIKVISION_PURPOSE = (
    "for the purpose of public safety, security of government facilities, physical security "
    "surveillance of critical infrastructure, and other national security purposes"
)
HIKVISION_BASIS = Basis(
    vendor="hikvision",
    entity="Hangzhou Hikvision Digital Technology Company",
    prong="(f)(3)(B)",
    statute="Pub. L. 115-232, Section 889",
    far_clauses=("52.204-24", "52.204-25", "52.204-26"),
    effective=(("Section 889(a)(1)(A)", "2019-08-13"), ("Section 889(a)(1)(B)", "2020-08-13")),
    purpose_qualification=HIKVISION_PURPOSE,
    reporting_duty=HIKVISION_DUTY,
    citation="Section 889(f)(3)(B) names video surveillance equipment produced by Hikvision.",
    other_lists=("FCC Covered List (2021-03-12)", "Commerce Entity List (2019-10-09)"),
)
DAHUA_BASIS = replace(
    HIKVISION_BASIS,
    vendor="dahua",
    entity="Dahua Technology Company",
    citation="Section 889(f)(3)(B) names video surveillance equipment produced by Dahua.",
)


def evidence(
    signal: str = "oui",
    value: str = "A4:14:37",
    vendor: str | None = "hikvision",
    certainty: float = 0.6,
    **fields: Any,
) -> Evidence:
    defaults: dict[str, Any] = {
        "source": f"{OUI_SOURCE.name} {OUI_SOURCE.date}",
        "observed_at": T0 + timedelta(seconds=3),
        "interface": "eth0",
        "detail": "OUI registered to Hangzhou Hikvision Digital Technology Co.,Ltd.",
    }
    defaults.update(fields)
    return Evidence(signal=signal, value=value, vendor=vendor, certainty=certainty, **defaults)


def make_device(
    ip: str | None = "198.18.0.20",
    mac: str | None = "00:40:8c:12:34:56",
    *,
    status: Status = Status.CLEAR,
    vendor: str | None = None,
    basis: Basis | None = None,
    confidence: float = 0.0,
    rationale: str = "No covered-vendor evidence.",
    evidence: Iterable[Evidence] = (),
    interface: str = "eth0",
    hostnames: Iterable[str] = (),
    other_ips: Iterable[str] = (),
    notes: Iterable[str] = (),
    change: Change = Change.NEW,
    **identity: Any,
) -> Device:
    """A device with a finding; ``identity`` takes Identity's text fields (manufacturer, ...)."""
    return Device(
        ip=ip,
        mac=mac,
        interface=interface,
        identity=Identity(covered_vendor=vendor, evidence=tuple(evidence), **identity),
        finding=Finding(
            status=status,
            confidence=confidence,
            covered_vendor=vendor,
            basis=basis,
            rationale=rationale,
        ),
        first_seen=T0 + timedelta(seconds=2),
        last_seen=T0 + timedelta(seconds=40),
        hostnames=tuple(hostnames),
        other_ips=tuple(other_ips),
        notes=tuple(notes),
        change=change,
    )


def covered_hikvision(**overrides: Any) -> Device:
    fields: dict[str, Any] = {
        "ip": "198.18.0.10",
        "mac": "a4:14:37:00:00:01",
        "status": Status.COVERED,
        "vendor": "hikvision",
        "basis": HIKVISION_BASIS,
        "confidence": 0.97512,
        "rationale": "Hikvision SADP reply and a Hikvision OUI.",
        "evidence": (
            evidence(),
            evidence(
                "sadp",
                "DS-2CD2043G2-I",
                certainty=0.95,
                source="fingerprints/sadp 2025.06",
                detail="Hikvision-proprietary discovery protocol answered.",
            ),
        ),
        "manufacturer": "Hikvision",
        "brand": "Hikvision",
        "model": "DS-2CD2043G2-I",
        "serial": "DS-2CD2043G2-I20230101AAWRJ12345678",
        "firmware": "V5.7.3 build 220112",
        "device_type": "IP camera",
        "hostnames": ("cam-lobby.example.test",),
    }
    fields.update(overrides)
    return make_device(**fields)


def review_dahua(**overrides: Any) -> Device:
    fields: dict[str, Any] = {
        "ip": "198.18.0.9",
        "mac": "3c:ef:8c:00:00:02",
        "status": Status.REVIEW,
        "vendor": "dahua",
        "basis": DAHUA_BASIS,
        "confidence": 0.4,
        "rationale": "A Dahua OUI and nothing else; not a known product line.",
        "evidence": (
            evidence(
                value="3C:EF:8C",
                vendor="dahua",
                certainty=0.4,
                detail="OUI registered to Zhejiang Dahua Technology Co., Ltd.",
            ),
        ),
        "manufacturer": None,
        "change": Change.CHANGED,
    }
    fields.update(overrides)
    return make_device(**fields)


def clear_axis(**overrides: Any) -> Device:
    fields: dict[str, Any] = {
        "ip": "198.18.0.30",
        "mac": "00:40:8c:00:00:03",
        "manufacturer": "Axis Communications",
        "brand": "AXIS",
        "model": "P3245-LV",
        "device_type": "IP camera",
        "evidence": (
            evidence(
                value="00:40:8C",
                vendor="Axis Communications AB",
                certainty=0.6,
                detail="OUI registered to Axis Communications AB, not a covered company.",
            ),
        ),
        "change": Change.UNCHANGED,
    }
    fields.update(overrides)
    return make_device(**fields)


def proxy_arp_router(**overrides: Any) -> Device:
    fields: dict[str, Any] = {
        "ip": "198.18.0.1",
        "mac": "02:00:5e:10:00:01",
        "other_ips": ("198.18.1.1", "198.18.1.2"),
        "notes": ("proxy-ARP: one MAC answered for 3 addresses",),
    }
    fields.update(overrides)
    return make_device(**fields)


def default_probes() -> tuple[ProbeStats, ...]:
    return (
        ProbeStats("arp", sent=254, answered=4, duration=1.25, interface="eth0"),
        ProbeStats("sadp", sent=2, answered=1, duration=2.0, interface="eth0"),
        ProbeStats("dhip", sent=2, answered=0, duration=2.0, interface="eth0"),
        ProbeStats(
            "wsd",
            interface="eth0",
            status=ProbeStatus.FAILED,
            error="cannot join multicast group 239.255.255.250: No such device",
        ),
    )


def make_run(
    devices: Iterable[Device] | None = None,
    *,
    probes: Iterable[ProbeStats] | None = None,
    complete: bool = False,
    warnings: Iterable[str] = ("WS-Discovery did not run on eth0.",),
    **fields: Any,
) -> ScanRun:
    """A run of the sample devices, shuffled out of report order to exercise sorting."""
    if devices is None:
        devices = (clear_axis(), covered_hikvision(), proxy_arp_router(), review_dahua())
    scope = fields.pop(
        "scope",
        Scope(
            targets=("198.18.0.0/24",),
            interfaces=("eth0",),
            excludes=("198.18.0.128/25",),
            target_count=128,
            site="HQ building A",
        ),
    )
    return ScanRun(
        id=fields.pop("id", "run-20250603-140000"),
        scope=scope,
        started=fields.pop("started", T0),
        finished=fields.pop("finished", T0 + timedelta(seconds=42.5)),
        scanner_version=fields.pop("scanner_version", "0.1.0"),
        fingerprint_version=fields.pop("fingerprint_version", "2025.06.1"),
        oui_source=fields.pop("oui_source", OUI_SOURCE),
        probes=tuple(default_probes() if probes is None else probes),
        devices=tuple(devices),
        complete=complete,
        warnings=tuple(warnings),
        **fields,
    )


class Factory:
    """The builders, handed to tests as one fixture (hypothesis tests call them per example)."""

    evidence = staticmethod(evidence)
    device = staticmethod(make_device)
    covered_hikvision = staticmethod(covered_hikvision)
    review_dahua = staticmethod(review_dahua)
    clear_axis = staticmethod(clear_axis)
    proxy_arp_router = staticmethod(proxy_arp_router)
    run = staticmethod(make_run)
    hikvision_basis = HIKVISION_BASIS
    hikvision_duty = HIKVISION_DUTY
    t0 = T0


@pytest.fixture
def factory() -> type[Factory]:
    return Factory


@pytest.fixture
def sample_run() -> ScanRun:
    return make_run()

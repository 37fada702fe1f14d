"""Hand-made runs for the store tests: no scanner, no network."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from scanner.model import (
    Basis,
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

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
OUI = OuiSource("IEEE registry (pymanuf)", "2026.10.1", "2026-10-01")
BASIS = Basis(
    vendor="hikvision",
    entity="Hangzhou Hikvision Digital Technology Company",
    prong="(f)(3)(B)",
    statute="Pub. L. 115-232, Section 889",
    far_clauses=("52.204-24", "52.204-25"),
    effective=(("Section 889(a)(1)(A)", "2019-08-13"),),
    purpose_qualification="public safety",
    reporting_duty="Report within one business day.",
    citation="Section 889(f)(3)(B) names Hikvision.",
    other_lists=("FCC Covered List",),
)


def dev(
    ip: str | None,
    mac: str | None,
    status: Status = Status.CLEAR,
    *,
    serial: str | None = None,
    firmware: str | None = None,
    manufacturer: str | None = None,
    model: str | None = None,
    at: datetime = T0,
    **extra: Any,
) -> Device:
    covered = status is not Status.CLEAR
    evidence = (
        Evidence("oui", (mac or "")[:8], "hikvision", 0.9, "IEEE 2026-10-01", at, "eth0", "why"),
    )
    return Device(
        ip=ip,
        mac=mac,
        interface="eth0",
        identity=Identity(
            manufacturer=manufacturer or ("Hikvision" if covered else None),
            model=model,
            serial=serial,
            firmware=firmware,
            covered_vendor="hikvision" if covered else None,
            evidence=evidence if covered else (),
        ),
        finding=Finding(
            status=status,
            confidence=0.9 if covered else 0.0,
            covered_vendor="hikvision" if covered else None,
            basis=BASIS if covered else None,
            rationale="OUI block of Hikvision" if covered else "no covered-vendor evidence",
        ),
        first_seen=at,
        last_seen=at,
        **extra,
    )


def run(
    devices: list[Device],
    *,
    site: str = "default",
    hours: float = 0,
    complete: bool = True,
    run_id: str | None = None,
) -> ScanRun:
    started = T0 + timedelta(hours=hours)
    return ScanRun(
        id=run_id or str(uuid.uuid4()),
        scope=Scope(("198.18.0.0/24",), ("eth0",), target_count=256, site=site),
        started=started,
        finished=started + timedelta(seconds=5),
        scanner_version="0.1.0",
        fingerprint_version="2026.11",
        oui_source=OUI,
        probes=(ProbeStats("arp", 256, len(devices), 1.5, ProbeStatus.OK, None, "eth0"),),
        devices=tuple(devices),
        complete=complete,
        warnings=() if complete else ("probe arp on eth0: partial",),
    )


HIK = "A4:14:37:5E:21:0B"
DAHUA = "3C:EF:8C:11:22:33"
PC = "00:40:8C:12:34:56"
PRINTER = "00:11:22:33:44:55"

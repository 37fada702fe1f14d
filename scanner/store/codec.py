"""Device <-> the JSON document of a device row, and the identity key that ties runs together.

Kept apart from the report's JSON (reports/json_report.py) on purpose: the report is a contract
for readers, this is what the store needs to turn a row back into the same Device.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from scanner.model import Basis, Change, Device, Evidence, Finding, Identity, Status, Waiver


def identity_key(device: Device) -> str:
    """Who a device is across runs: serial, else MAC, else IP plus what it is (manufacturer and
    model), so a DHCP address change keeps the device and a different box on a MAC-less
    address does not inherit another's history."""
    serial = device.identity.serial
    if serial:
        return f"serial:{serial}"
    if device.mac:
        return f"mac:{device.mac.upper()}"
    ident = device.identity
    return f"ip:{device.ip or ''}|{ident.manufacturer or ''}|{ident.model or ''}"


def _evidence(e: Evidence) -> list[Any]:
    return [
        e.signal,
        e.value,
        e.vendor,
        e.certainty,
        e.source,
        e.observed_at.isoformat(),
        e.interface,
        e.detail,
    ]


def _basis(b: Basis) -> dict[str, Any]:
    return {
        "vendor": b.vendor,
        "entity": b.entity,
        "prong": b.prong,
        "statute": b.statute,
        "far_clauses": list(b.far_clauses),
        "effective": [list(p) for p in b.effective],
        "purpose_qualification": b.purpose_qualification,
        "reporting_duty": b.reporting_duty,
        "citation": b.citation,
        "other_lists": list(b.other_lists),
    }


def _waiver(w: Waiver) -> dict[str, Any]:
    return {
        "match": w.match,
        "justification": w.justification,
        "approver": w.approver,
        "expires": w.expires.isoformat(),
        "reference": w.reference,
    }


def device_data(d: Device) -> dict[str, Any]:
    i, f = d.identity, d.finding
    return {
        "ip": d.ip,
        "mac": d.mac,
        "interface": d.interface,
        "hostnames": list(d.hostnames),
        "other_ips": list(d.other_ips),
        "notes": list(d.notes),
        "identity": {
            "manufacturer": i.manufacturer,
            "brand": i.brand,
            "model": i.model,
            "serial": i.serial,
            "firmware": i.firmware,
            "device_type": i.device_type,
            "covered_vendor": i.covered_vendor,
            "evidence": [_evidence(e) for e in i.evidence],
        },
        "finding": {
            "status": f.status.value,
            "confidence": f.confidence,
            "covered_vendor": f.covered_vendor,
            "rationale": f.rationale,
            "basis": _basis(f.basis) if f.basis is not None else None,
        },
        "first_seen": d.first_seen.isoformat(),
        "last_seen": d.last_seen.isoformat(),
        "change": d.change.value,
        "site": d.site,
        "waiver": _waiver(d.waiver) if d.waiver is not None else None,
        "waiver_expired": d.waiver_expired,
    }


def _load_basis(b: dict[str, Any]) -> Basis:
    return Basis(
        vendor=b["vendor"],
        entity=b["entity"],
        prong=b["prong"],
        statute=b["statute"],
        far_clauses=tuple(b["far_clauses"]),
        effective=tuple((str(k), str(v)) for k, v in b["effective"]),
        purpose_qualification=b["purpose_qualification"],
        reporting_duty=b["reporting_duty"],
        citation=b["citation"],
        other_lists=tuple(b["other_lists"]),
    )


def device_from_data(data: dict[str, Any]) -> Device:
    i, f, w = data["identity"], data["finding"], data["waiver"]
    evidence = tuple(
        Evidence(s, v, vendor, c, src, datetime.fromisoformat(at), iface, detail)
        for s, v, vendor, c, src, at, iface, detail in i["evidence"]
    )
    return Device(
        ip=data["ip"],
        mac=data["mac"],
        interface=data["interface"],
        identity=Identity(
            manufacturer=i["manufacturer"],
            brand=i["brand"],
            model=i["model"],
            serial=i["serial"],
            firmware=i["firmware"],
            device_type=i["device_type"],
            covered_vendor=i["covered_vendor"],
            evidence=evidence,
        ),
        finding=Finding(
            status=Status(f["status"]),
            confidence=f["confidence"],
            covered_vendor=f["covered_vendor"],
            basis=_load_basis(f["basis"]) if f["basis"] is not None else None,
            rationale=f["rationale"],
        ),
        first_seen=datetime.fromisoformat(data["first_seen"]),
        last_seen=datetime.fromisoformat(data["last_seen"]),
        hostnames=tuple(data["hostnames"]),
        other_ips=tuple(data["other_ips"]),
        notes=tuple(data["notes"]),
        change=Change(data["change"]),
        site=data["site"],
        waiver=(
            Waiver(
                match=w["match"],
                justification=w["justification"],
                approver=w["approver"],
                expires=date.fromisoformat(w["expires"]),
                reference=w["reference"],
            )
            if w is not None
            else None
        ),
        waiver_expired=data["waiver_expired"],
    )

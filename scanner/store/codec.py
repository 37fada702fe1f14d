"""Device <-> the JSON document of a device row, and the identity key that ties runs together.

Kept apart from the report's JSON (reports/json_report.py) on purpose: the report is a contract
for readers, this is what the store needs to turn a row back into the same Device.
"""

from __future__ import annotations

from collections.abc import Callable
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


class Moments:
    """datetime.isoformat, remembering the object it was last given: a device's sightings and
    its evidence usually share one datetime object, and a /16 asks 200,000 times."""

    __slots__ = ("_moment", "_text")

    def __init__(self) -> None:
        self._moment: datetime | None = None
        self._text = ""

    def __call__(self, moment: datetime) -> str:
        if moment is not self._moment:
            self._text = moment.isoformat()
            self._moment = moment
        return self._text


def _evidence(e: Evidence, when: Callable[[datetime], str]) -> list[Any]:
    return [
        e.signal,
        e.value,
        e.vendor,
        e.certainty,
        e.source,
        when(e.observed_at),
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


def _drop_empty(doc: dict[str, Any]) -> dict[str, Any]:
    """Most devices of a big sweep are plain ARP answers with nothing but an address: leaving
    out the empty fields halves the document and its encoding time."""
    return {k: v for k, v in doc.items() if v is not None and v != [] and v != ""}


def device_data(d: Device, when: Callable[[datetime], str] | None = None) -> dict[str, Any]:
    when = when or Moments()
    i, f = d.identity, d.finding
    first = when(d.first_seen)
    last = when(d.last_seen)
    doc = _drop_empty(
        {
            "ip": d.ip,
            "mac": d.mac,
            "interface": d.interface,
            "hostnames": list(d.hostnames),
            "other_ips": list(d.other_ips),
            "notes": list(d.notes),
            "manufacturer": i.manufacturer,
            "brand": i.brand,
            "model": i.model,
            "serial": i.serial,
            "firmware": i.firmware,
            "device_type": i.device_type,
            "identity_vendor": i.covered_vendor,
            "evidence": [_evidence(e, when) for e in i.evidence],
            "status": f.status.value,
            "confidence": f.confidence,
            "covered_vendor": f.covered_vendor,
            "rationale": f.rationale,
            "basis": _basis(f.basis) if f.basis is not None else None,
            "first_seen": first,
            "last_seen": last if last != first else None,
            "change": d.change.value,
            "site": d.site,
            "waiver": _waiver(d.waiver) if d.waiver is not None else None,
        }
    )
    if d.waiver_expired:
        doc["waiver_expired"] = True
    return doc


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
    get = data.get
    w = get("waiver")
    basis = get("basis")
    first_seen = datetime.fromisoformat(data["first_seen"])
    last = get("last_seen")
    return Device(
        ip=get("ip"),
        mac=get("mac"),
        interface=get("interface", ""),
        identity=Identity(
            manufacturer=get("manufacturer"),
            brand=get("brand"),
            model=get("model"),
            serial=get("serial"),
            firmware=get("firmware"),
            device_type=get("device_type"),
            covered_vendor=get("identity_vendor"),
            evidence=tuple(
                Evidence(s, v, vendor, c, src, datetime.fromisoformat(at), iface, detail)
                for s, v, vendor, c, src, at, iface, detail in get("evidence", ())
            ),
        ),
        finding=Finding(
            status=Status(data["status"]),
            confidence=get("confidence", 0.0),
            covered_vendor=get("covered_vendor"),
            basis=_load_basis(basis) if basis is not None else None,
            rationale=get("rationale", ""),
        ),
        first_seen=first_seen,
        last_seen=datetime.fromisoformat(last) if last else first_seen,
        hostnames=tuple(get("hostnames", ())),
        other_ips=tuple(get("other_ips", ())),
        notes=tuple(get("notes", ())),
        change=Change(get("change", "new")),
        site=get("site", ""),
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
        waiver_expired=get("waiver_expired", False),
    )

"""Device <-> the JSON document of a device row, and the identity key that ties runs together.

Kept apart from the report's JSON (reports/json_report.py) on purpose: the report is a contract
for readers, this is what the store needs to turn a row back into the same Device.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
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


class Strings:
    """The run's table of repeated texts. A /16 repeats the same evidence source, OUI detail,
    rationale and Section 889 basis tens of thousands of times; each device document refers to
    them by number, which halves the store's size and its write time."""

    MIN = 24  # shorter texts are cheaper inline than as a reference

    def __init__(self, table: list[str] | None = None) -> None:
        self.table: list[str] = table if table is not None else []
        self._index: dict[str, int] = {text: n for n, text in enumerate(self.table)}
        self._bases: dict[Basis, int] = {}
        self._loaded: dict[int, Basis] = {}
        self._repeated: set[str] | None = None  # None: every long text goes into the table

    def expect(self, devices: Iterable[Device]) -> None:
        """Take note of which texts repeat in these devices: only those go into the table (a
        raw frame, different for every device, would only grow it)."""
        seen: set[str] = set()
        repeated: set[str] = set()
        for d in devices:
            texts = [d.finding.rationale]
            for e in d.identity.evidence:
                texts += (e.source, e.detail)
            for text in texts:
                if text in seen:
                    repeated.add(text)
                else:
                    seen.add(text)
        self._repeated = repeated

    def ref(self, text: str | None) -> str | int | None:
        if text is None or len(text) < self.MIN:
            return text
        if self._repeated is not None and text not in self._repeated:
            return text
        n = self._index.get(text)
        if n is None:
            n = self._index[text] = len(self.table)
            self.table.append(text)
        return n

    def text(self, value: str | int | None) -> str | None:
        return self.table[value] if isinstance(value, int) else value

    def basis_ref(self, basis: Basis) -> int:
        n = self._bases.get(basis)
        if n is None:
            n = self._bases[basis] = len(self.table)
            self.table.append(json.dumps(_basis(basis)))
        return n

    def basis(self, n: int) -> Basis:
        found = self._loaded.get(n)
        if found is None:
            found = self._loaded[n] = _load_basis(json.loads(self.table[n]))
        return found


def _same(a: datetime, b: datetime) -> bool:
    """The same moment written the same way (a round trip must give back equal objects)."""
    return a is b or (a == b and a.utcoffset() == b.utcoffset())


def _evidence(
    e: Evidence, last_seen: datetime, when: Callable[[datetime], str], strings: Strings
) -> list[Any]:
    return [
        e.signal,
        e.value,
        e.vendor,
        e.certainty,
        strings.ref(e.source),
        None if _same(e.observed_at, last_seen) else when(e.observed_at),  # usually is
        e.interface,
        strings.ref(e.detail),
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


def device_data(
    d: Device, strings: Strings, when: Callable[[datetime], str] | None = None
) -> dict[str, Any]:
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
            "evidence": [_evidence(e, d.last_seen, when, strings) for e in i.evidence],
            "status": f.status.value,
            "confidence": f.confidence,
            "covered_vendor": f.covered_vendor,
            "rationale": strings.ref(f.rationale),
            "basis": strings.basis_ref(f.basis) if f.basis is not None else None,
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


def device_from_data(data: dict[str, Any], strings: Strings) -> Device:
    get = data.get
    text = strings.text
    w = get("waiver")
    basis = get("basis")
    first_seen = datetime.fromisoformat(data["first_seen"])
    last = get("last_seen")
    last_seen = datetime.fromisoformat(last) if last else first_seen
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
                Evidence(
                    sig,
                    v,
                    vendor,
                    c,
                    text(src) or "",
                    datetime.fromisoformat(at) if at is not None else last_seen,
                    iface,
                    text(detail) or "",
                )
                for sig, v, vendor, c, src, at, iface, detail in get("evidence", ())
            ),
        ),
        finding=Finding(
            status=Status(data["status"]),
            confidence=get("confidence", 0.0),
            covered_vendor=get("covered_vendor"),
            basis=strings.basis(basis) if basis is not None else None,
            rationale=text(get("rationale")) or "",
        ),
        first_seen=first_seen,
        last_seen=last_seen,
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

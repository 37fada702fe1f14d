"""The JSON report (``ndaa-scan/1``): the machine-readable contract of design.md.

Users' scripts and the nightly cron job read this document, so its shape is fixed by
``reports/schema/report.schema.json`` and its output is deterministic: the same run always gives
the same bytes, which keeps diffs between reports meaningful.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from scanner.model import Basis, Device, Evidence, ProbeStats, ScanRun, Status

from .base import ReportFormat

SCHEMA_ID = "ndaa-scan/1"
COVERED_VENDORS = ("hikvision", "dahua", "hytera", "huawei", "zte")
UNKNOWN_VENDOR = "unknown"
"""``summary.by_vendor`` key for a flagged device whose vendor the policy left empty."""

_STATUS_ORDER = {Status.COVERED: 0, Status.REVIEW: 1, Status.CLEAR: 2}

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
"""Exactly the IPv4 texts ``ipaddress`` accepts: ASCII digits, 0-255, no leading zeros."""


def _when(moment: datetime) -> str:
    # A naive datetime means local time (that is what datetime.now() returns); the report must
    # still say which zone, so pin it to the local offset instead of leaving it ambiguous.
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.astimezone()
    return moment.isoformat()


def _ip_order(ip: str | None) -> tuple[int, int, str]:
    """Numeric order (IPv4 before IPv6); anything unparsable goes last, in text order."""
    if ip:
        # Fast path for the common case: ipaddress costs microseconds per call, and a /16 sweep
        # sorts 65,536 addresses. The pattern admits only what ip_address() reads as IPv4, and
        # inet_aton reads such a text as ip_address() does.
        if isinstance(ip, str) and _DOTTED_QUAD.fullmatch(ip):
            return (4, int.from_bytes(socket.inet_aton(ip), "big"), ip)
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            pass
        else:
            return (address.version, int(address), ip)
    return (99, 0, ip or "")


def device_order(device: Device) -> tuple[Any, ...]:
    """Covered first, then review, then clear; by IP inside a status; the key breaks ties."""
    return (_STATUS_ORDER[device.finding.status], _ip_order(device.ip), device.key)


def in_report_order(devices: Iterable[Device]) -> list[Device]:
    """The devices as every report lists them: ``sorted(devices, key=device_order)``."""
    devices = list(devices)
    keys = _flat_keys(devices)
    if keys is None:
        return sorted(devices, key=device_order)
    return [devices[index] for index in sorted(range(len(devices)), key=keys.__getitem__)]


def _flat_keys(devices: list[Device]) -> list[str] | None:
    """Sort keys as plain strings, when every device has an IPv4 address; else None.

    A /16 sweep sorts 65,536 devices, and device_order's 131,072 tuples can set off a full
    garbage collection of the whole run (a quarter of a second); strings are not tracked by the
    collector. For a dotted quad the text follows from the number, so ``device_order`` compares
    the status, the number, then the key, which is what comparing the status digit, the number
    written with ten digits, and the key, one after the other, does too.
    """
    keys: list[str] = []
    for device in devices:
        ip = device.ip
        if not (isinstance(ip, str) and _DOTTED_QUAD.fullmatch(ip)):
            return None
        number = int.from_bytes(socket.inet_aton(ip), "big")
        keys.append(f"{_STATUS_ORDER[device.finding.status]}{number:010d}{device.key}")
    return keys


class _Moments:
    """``_when``, remembering the datetime object it was last given.

    A device's first and last sighting and its evidence usually share one datetime object, so a
    large run asks for the same text several times in a row. Compared by identity, not
    equality: two equal datetimes may still print differently (another offset, or ``fold``).
    """

    __slots__ = ("_moment", "_text")

    def __init__(self) -> None:
        self._moment: datetime | None = None
        self._text = ""

    def __call__(self, moment: datetime) -> str:
        if moment is not self._moment:
            self._text = _when(moment)
            self._moment = moment
        return self._text


def _evidence(item: Evidence, when: Callable[[datetime], str] = _when) -> dict[str, Any]:
    return {
        "signal": item.signal,
        "value": item.value,
        "vendor": item.vendor,
        "certainty": round(item.certainty, 3),
        "source": item.source,
        "observed_at": when(item.observed_at),
        "interface": item.interface,
        "detail": item.detail,
    }


def _basis(basis: Basis) -> dict[str, Any]:
    return {
        "vendor": basis.vendor,
        "entity": basis.entity,
        "prong": basis.prong,
        "statute": basis.statute,
        "far_clauses": list(basis.far_clauses),
        "effective": dict(basis.effective),
        "purpose_qualification": basis.purpose_qualification,
        "reporting_duty": basis.reporting_duty,
        "citation": basis.citation,
        "other_lists": list(basis.other_lists),
    }


def _waiver(device: Device) -> dict[str, Any] | None:
    waiver = device.waiver
    if waiver is None:
        return None
    return {
        "match": waiver.match,
        "justification": waiver.justification,
        "approver": waiver.approver,
        "expires": waiver.expires.isoformat(),
        "reference": waiver.reference,
        "expired": device.waiver_expired,
    }


def device_dict(device: Device, when: Callable[[datetime], str] = _when) -> dict[str, Any]:
    """One entry of the report's ``devices`` list."""
    identity, finding = device.identity, device.finding
    # The contract: a clear device quotes no rule, whatever the policy attached.
    basis = finding.basis if finding.status is not Status.CLEAR else None
    return {
        "key": device.key,
        "ip": device.ip,
        "mac": device.mac,
        "interface": device.interface,
        "hostnames": list(device.hostnames),
        "other_ips": list(device.other_ips),
        "notes": list(device.notes),
        "manufacturer": identity.manufacturer,
        "brand": identity.brand,
        "model": identity.model,
        "serial": identity.serial,
        "firmware": identity.firmware,
        "device_type": identity.device_type,
        "covered_vendor": finding.covered_vendor,
        "status": finding.status.value,
        "confidence": round(finding.confidence, 3),
        "rationale": finding.rationale,
        "evidence": [_evidence(item, when) for item in identity.evidence],
        "basis": _basis(basis) if basis is not None else None,
        "first_seen": when(device.first_seen),
        "last_seen": when(device.last_seen),
        "change": device.change.value,
        "site": device.site,
        "waiver": _waiver(device),
    }


def _probe(probe: ProbeStats) -> dict[str, Any]:
    return {
        "name": probe.name,
        "interface": probe.interface,
        "sent": probe.sent,
        "answered": probe.answered,
        "duration": round(probe.duration, 3),
        "status": probe.status.value,
        "error": probe.error,
    }


def _summary(devices: list[Device]) -> dict[str, Any]:
    statuses = Counter(device.finding.status for device in devices)
    vendors = Counter(
        device.finding.covered_vendor or UNKNOWN_VENDOR
        for device in devices
        if device.finding.status is not Status.CLEAR
    )
    return {
        "total": len(devices),
        "covered": statuses[Status.COVERED],
        "review": statuses[Status.REVIEW],
        "clear": statuses[Status.CLEAR],
        # Most-flagged vendor first, so the first key is the headline; name breaks ties.
        "by_vendor": dict(sorted(vendors.items(), key=lambda item: (-item[1], item[0]))),
    }


def document(run: ScanRun, devices: list[Device], listed: Any) -> dict[str, Any]:
    """The whole report around ``listed``, the value written under ``"devices"``.

    ``devices`` must be in report order. The formats that lay out each device themselves (the
    HTML page, and ``render`` below for speed) fill in ``listed`` their own way.
    """
    scope = run.scope
    return {
        "schema": SCHEMA_ID,
        "scan": {
            "id": run.id,
            "site": scope.site,
            "started": _when(run.started),
            "finished": _when(run.finished),
            "complete": run.complete,
            "targets": list(scope.targets),
            "target_count": scope.target_count,
            "excludes": list(scope.excludes),
            "interfaces": list(scope.interfaces),
            "rate": scope.rate,
            "retries": scope.retries,
            "timeout": scope.timeout,
            "scanner_version": run.scanner_version,
            "fingerprint_version": run.fingerprint_version,
            "oui_registry": {
                "name": run.oui_source.name,
                "version": run.oui_source.version,
                "date": run.oui_source.date,
            },
            "probes": [_probe(probe) for probe in run.probes],
            "warnings": list(run.warnings),
        },
        "devices": listed,
        "summary": _summary(devices),
    }


def to_dict(run: ScanRun) -> dict[str, Any]:
    """The report as plain JSON-ready data; the HTML report is built from the same parts."""
    devices = in_report_order(run.devices)
    when = _Moments()
    return document(run, devices, [device_dict(device, when) for device in devices])


def _utf8(text: str) -> bytes:
    # Device strings may carry lone surrogates (bytes decoded with surrogateescape); UTF-8 cannot
    # encode them, but a JSON \\uXXXX escape can, and it reads back as the same string.
    return text.encode("utf-8", errors="backslashreplace")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dumps(document: dict[str, Any]) -> bytes:
    """The one way every JSON report is written: the scan header indented for people, and one
    device per line.

    One line a device keeps a diff of two reports (or ``grep``) device-by-device, and it goes
    through json's C encoder (given an indent, json falls back to pure Python, which takes
    seconds on a /16 sweep).
    """
    devices = document.get("devices")
    if not isinstance(devices, list) or not devices:
        return _utf8(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    # NUL never appears raw in JSON (it is written \\u0000), so it marks the device list's place.
    marked = {**document, "devices": "\0"}
    text = json.dumps(marked, indent=2, ensure_ascii=False, allow_nan=False)
    head, tail = text.split('"\\u0000"')
    body = ",\n    ".join(_compact(device) for device in devices)
    return _utf8(f"{head}[\n    {body}\n  ]{tail}\n")


def render(run: ScanRun) -> bytes:
    return dumps(to_dict(run))


class JsonFormat(ReportFormat):
    """The ``ndaa-scan/1`` document, for scripts, the store and ``diff``."""

    name = "json"
    suffix = ".json"
    media_type = "application/json"

    def render(self, run: ScanRun) -> bytes:
        return render(run)

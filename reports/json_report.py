"""The JSON report (``ndaa-scan/1``): the machine-readable contract of design.md.

Users' scripts and the nightly cron job read this document, so its shape is fixed by
``reports/schema/report.schema.json`` and its output is deterministic: the same run always gives
the same bytes, which keeps diffs between reports meaningful.
"""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from datetime import datetime
from typing import Any

from scanner.model import Basis, Device, Evidence, ProbeStats, ScanRun, Status

from .base import ReportFormat

SCHEMA_ID = "ndaa-scan/1"
COVERED_VENDORS = ("hikvision", "dahua", "hytera", "huawei", "zte")
UNKNOWN_VENDOR = "unknown"
"""``summary.by_vendor`` key for a flagged device whose vendor the policy left empty."""

_STATUS_ORDER = {Status.COVERED: 0, Status.REVIEW: 1, Status.CLEAR: 2}


def _when(moment: datetime) -> str:
    # A naive datetime means local time (that is what datetime.now() returns); the report must
    # still say which zone, so pin it to the local offset instead of leaving it ambiguous.
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.astimezone()
    return moment.isoformat()


def _ip_order(ip: str | None) -> tuple[int, int, str]:
    """Numeric order (IPv4 before IPv6); anything unparsable goes last, in text order."""
    if ip:
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


def _evidence(item: Evidence) -> dict[str, Any]:
    return {
        "signal": item.signal,
        "value": item.value,
        "vendor": item.vendor,
        "certainty": round(item.certainty, 3),
        "source": item.source,
        "observed_at": _when(item.observed_at),
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


def _device(device: Device) -> dict[str, Any]:
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
        "evidence": [_evidence(item) for item in identity.evidence],
        "basis": _basis(basis) if basis is not None else None,
        "first_seen": _when(device.first_seen),
        "last_seen": _when(device.last_seen),
        "change": device.change.value,
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


def to_dict(run: ScanRun) -> dict[str, Any]:
    """The report as plain JSON-ready data; the HTML report is built from the same dict."""
    scope = run.scope
    devices = sorted(run.devices, key=device_order)
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
        "devices": [_device(device) for device in devices],
        "summary": _summary(devices),
    }


def dumps(document: dict[str, Any]) -> bytes:
    """Serialise a report dict the one way every JSON report is written."""
    # allow_nan=False: a NaN confidence must fail loudly, not produce a file no parser reads.
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    # Device strings may carry lone surrogates (bytes decoded with surrogateescape); UTF-8 cannot
    # encode them, but a JSON \\uXXXX escape can, and it reads back as the same string.
    return text.encode("utf-8", errors="backslashreplace")


class JsonFormat(ReportFormat):
    """The ``ndaa-scan/1`` document, for scripts, the store and ``diff``."""

    name = "json"
    suffix = ".json"
    media_type = "application/json"

    def render(self, run: ScanRun) -> bytes:
        return dumps(to_dict(run))

"""A saved JSON report read back into a ScanRun, so ``ndaa-scan report`` can render any format.

The JSON report is the one document every run leaves behind; re-rendering from it (rather than
keeping every format of every run) lets a user make the PDF or the CSV later. It is the inverse
of ``json_report.to_dict``: rendering a loaded run to JSON gives the same document back.
Anything that is not an ``ndaa-scan/1`` report raises ReportLoadError saying where and why.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

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
    Waiver,
)

from .json_report import SCHEMA_ID


class ReportLoadError(ValueError):
    """The input is not a readable ndaa-scan/1 JSON report; the message says why."""


def _evidence(item: dict[str, Any]) -> Evidence:
    return Evidence(
        signal=item["signal"],
        value=item["value"],
        vendor=item["vendor"],
        certainty=float(item["certainty"]),
        source=item["source"],
        observed_at=datetime.fromisoformat(item["observed_at"]),
        interface=item["interface"],
        detail=item["detail"],
    )


def _basis(data: dict[str, Any] | None) -> Basis | None:
    if data is None:
        return None
    return Basis(
        vendor=data["vendor"],
        entity=data["entity"],
        prong=data["prong"],
        statute=data["statute"],
        far_clauses=tuple(data["far_clauses"]),
        effective=tuple((str(what), str(when)) for what, when in data["effective"].items()),
        purpose_qualification=data["purpose_qualification"],
        reporting_duty=data["reporting_duty"],
        citation=data["citation"],
        other_lists=tuple(data["other_lists"]),
    )


def _waiver(data: dict[str, Any] | None) -> tuple[Waiver | None, bool]:
    if data is None:
        return None, False
    waiver = Waiver(
        match=data["match"],
        justification=data["justification"],
        approver=data["approver"],
        expires=date.fromisoformat(data["expires"]),
        reference=data.get("reference", ""),
    )
    return waiver, bool(data.get("expired", False))


def _device(data: dict[str, Any]) -> Device:
    waiver, expired = _waiver(data.get("waiver"))
    return Device(
        ip=data["ip"],
        mac=data["mac"],
        interface=data["interface"],
        identity=Identity(
            manufacturer=data["manufacturer"],
            brand=data["brand"],
            model=data["model"],
            serial=data["serial"],
            firmware=data["firmware"],
            device_type=data["device_type"],
            covered_vendor=data["covered_vendor"],
            evidence=tuple(_evidence(item) for item in data["evidence"]),
        ),
        finding=Finding(
            status=Status(data["status"]),
            confidence=float(data["confidence"]),
            covered_vendor=data["covered_vendor"],
            basis=_basis(data["basis"]),
            rationale=data["rationale"],
        ),
        first_seen=datetime.fromisoformat(data["first_seen"]),
        last_seen=datetime.fromisoformat(data["last_seen"]),
        hostnames=tuple(data["hostnames"]),
        other_ips=tuple(data["other_ips"]),
        notes=tuple(data["notes"]),
        change=Change(data["change"]),
        site=data.get("site", ""),
        waiver=waiver,
        waiver_expired=expired,
    )


def _probe(data: dict[str, Any]) -> ProbeStats:
    return ProbeStats(
        name=data["name"],
        sent=int(data["sent"]),
        answered=int(data["answered"]),
        duration=float(data["duration"]),
        status=ProbeStatus(data["status"]),
        error=data["error"],
        interface=data["interface"],
    )


def from_dict(doc: Any) -> ScanRun:
    """The run a JSON report describes; ReportLoadError names the first field that is wrong."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_ID:
        found = doc.get("schema") if isinstance(doc, dict) else type(doc).__name__
        raise ReportLoadError(f"not an {SCHEMA_ID} report (schema: {found!r})")
    where = "scan"
    try:
        scan = doc["scan"]
        registry = scan["oui_registry"]
        scope = Scope(
            targets=tuple(scan["targets"]),
            interfaces=tuple(scan["interfaces"]),
            excludes=tuple(scan["excludes"]),
            rate=int(scan["rate"]),
            retries=int(scan["retries"]),
            timeout=float(scan["timeout"]),
            target_count=int(scan["target_count"]),
            site=scan["site"],
        )
        probes = tuple(_probe(probe) for probe in scan["probes"])
        devices = []
        for number, device in enumerate(doc["devices"]):
            where = f"devices[{number}]"
            devices.append(_device(device))
        where = "scan"
        return ScanRun(
            id=scan["id"],
            scope=scope,
            started=datetime.fromisoformat(scan["started"]),
            finished=datetime.fromisoformat(scan["finished"]),
            scanner_version=scan["scanner_version"],
            fingerprint_version=scan["fingerprint_version"],
            oui_source=OuiSource(registry["name"], registry["version"], registry["date"]),
            probes=probes,
            devices=tuple(devices),
            complete=bool(scan["complete"]),
            warnings=tuple(scan["warnings"]),
        )
    except KeyError as exc:
        raise ReportLoadError(f"{where}: missing field {exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ReportLoadError(f"{where}: {exc}") from None


def load(path: str | Path) -> ScanRun:
    """Read a JSON report file; ReportLoadError for anything unreadable or not a report."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise ReportLoadError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ReportLoadError(f"{str(path)!r} is not UTF-8 text ({exc.reason})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportLoadError(
            f"{str(path)!r} is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return from_dict(doc)

"""The CSV report: one row per device, for the spreadsheet a compliance officer keeps.

RFC 4180 (comma, double quotes, CRLF) through the ``csv`` module. Spreadsheets run a cell that
starts with ``=``, ``+``, ``-``, ``@``, tab or CR as a formula, and every value here may come from
a hostile device, so such cells get a leading apostrophe (OWASP's "CSV injection" advice): the
spreadsheet then shows the text as typed and runs nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from scanner.model import Device, ScanRun, Status

from .base import ReportFormat
from .json_report import in_report_order

COLUMNS = (
    "status",
    "covered_vendor",
    "manufacturer",
    "brand",
    "model",
    "serial",
    "firmware",
    "device_type",
    "ip",
    "mac",
    "interface",
    "site",
    "confidence",
    "change",
    "waiver",
    "top_evidence",
    "first_seen",
    "last_seen",
    "key",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would read as a formula with ``'`` so it stays text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _waiver(device: Device) -> str:
    waiver = device.waiver
    if waiver is None:
        return ""
    state = "EXPIRED" if device.waiver_expired else "waived"
    ref = f", ref {waiver.reference}" if waiver.reference else ""
    return (
        f"{state} until {waiver.expires.isoformat()} by {waiver.approver}{ref}: "
        f"{waiver.justification}"
    )


def _top_evidence(device: Device) -> str:
    """The strongest evidence item in a few words: why the row is flagged."""
    items = device.identity.evidence
    if not items:
        return ""
    best = max(items, key=lambda item: item.certainty)
    return f"{best.signal} {best.value} ({best.certainty * 100:.0f}%)"


def _row(device: Device) -> list[str]:
    identity, finding = device.identity, device.finding
    return [
        finding.status.value,
        finding.covered_vendor or "",
        identity.manufacturer or "",
        identity.brand or "",
        identity.model or "",
        identity.serial or "",
        identity.firmware or "",
        identity.device_type or "",
        device.ip or "",
        device.mac or "",
        device.interface,
        device.site,
        f"{finding.confidence:.3f}",
        device.change.value,
        _waiver(device),
        _top_evidence(device) if finding.status is not Status.CLEAR else "",
        device.first_seen.isoformat(),
        device.last_seen.isoformat(),
        device.key,
    ]


def rows(devices: Iterable[Device]) -> list[list[str]]:
    """Header then one neutralised row per device, in report order."""
    body = [[neutralise(cell) for cell in _row(device)] for device in in_report_order(devices)]
    return [list(COLUMNS), *body]


def render(run: ScanRun) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, dialect="excel", lineterminator="\r\n").writerows(rows(run.devices))
    # Lone surrogates (undecodable device bytes) cannot be UTF-8; show them as escapes.
    return out.getvalue().encode("utf-8", errors="backslashreplace")


class CsvFormat(ReportFormat):
    """One row per device, RFC 4180, safe to open in a spreadsheet."""

    name = "csv"
    suffix = ".csv"
    media_type = "text/csv; charset=utf-8; header=present"

    def render(self, run: ScanRun) -> bytes:
        return render(run)

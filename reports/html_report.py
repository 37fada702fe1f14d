"""The HTML report: one self-contained file a compliance officer can open, print and file.

It is built from the same dict as the JSON report, so both always say the same thing. Every
string in it may come from a device on the network (banners, ONVIF names, SADP descriptions), so
it is treated as hostile: autoescaping is on, invisible and direction-changing characters are
shown as ``[U+XXXX]`` instead of being obeyed, very long values are clipped, and a
Content-Security-Policy forbids scripts and any remote fetch.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from scanner.model import ScanRun

from .base import ReportFormat
from .json_report import UNKNOWN_VENDOR, to_dict

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE = "report.html.j2"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_TEXT = 2000
"""Longest value shown in full; beyond it the JSON report has the rest."""
MAX_CELL = 120
"""Longest value shown in an inventory cell, so one hostile banner cannot wreck the table."""
MAX_WHERE = 6
"""Addresses listed per vendor in the summary before "and N more"."""

VENDOR_NAMES = {
    "hikvision": "Hikvision",
    "dahua": "Dahua",
    "hytera": "Hytera",
    "huawei": "Huawei",
    "zte": "ZTE",
    UNKNOWN_VENDOR: "Vendor not named",
}
STATUS_LABELS = {"covered": "Covered", "review": "Needs review", "clear": "Clear"}
CHANGE_LABELS = {
    "new": "New since last scan",
    "changed": "Changed since last scan",
    "unchanged": "",
    "gone": "Gone: not seen in this scan",
}
_SHOWN_AS_IS = frozenset("\n\t")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def visible(text: str) -> str:
    """Show control, format (bidi overrides, zero-width) and surrogate characters as codes.

    Escaping stops markup, but not a U+202E that reverses how the rest of a line reads, nor a
    zero-width space hidden in a serial number: the reader must see what the device sent.
    """
    if text.isprintable():
        return text
    return "".join(
        f"[U+{ord(char):04X}]"
        if char not in _SHOWN_AS_IS and unicodedata.category(char) in _HIDDEN_CATEGORIES
        else char
        for char in text
    )


def clip(text: str, limit: int = MAX_CELL) -> str:
    """Cut a long value and say how much is missing, rather than drop it silently."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters; see the JSON report]"


def _sanitise(value: Any) -> Any:
    if isinstance(value, str):
        return clip(visible(value), MAX_TEXT)
    if isinstance(value, dict):
        # Keys too: by_vendor and effective are keyed by data, and must match sanitised values.
        return {_sanitise(key): _sanitise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sanitise(item) for item in value]
    return value


def when(iso: str) -> str:
    """A timestamp a person reads at a glance, keeping its zone: 2025-06-03 14:02:11 UTC+02:00."""
    moment = datetime.fromisoformat(iso)
    zone = moment.strftime("%z")
    zone = "UTC" if zone in ("+0000", "") else f"UTC{zone[:3]}:{zone[3:5]}"
    return f"{moment:%Y-%m-%d %H:%M:%S} {zone}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def vendor_name(key: str | None) -> str:
    if key is None:
        return "—"
    return VENDOR_NAMES.get(key, key)


def _where(device: dict[str, Any]) -> str:
    address = device["ip"] or device["mac"] or device["key"]
    return f"{address} ({device['interface']})" if device["interface"] else str(address)


def _vendors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per flagged vendor: how many, why (entity and prong), where (addresses)."""
    rows: dict[str, dict[str, Any]] = {
        key: {
            "key": key,
            "name": vendor_name(key),
            "covered": 0,
            "review": 0,
            "why": None,
            "where": [],
        }
        for key in doc["summary"]["by_vendor"]
    }
    for device in doc["devices"]:
        if device["status"] == "clear":
            continue
        row = rows[device["covered_vendor"] or UNKNOWN_VENDOR]
        row[device["status"]] += 1
        row["where"].append(_where(device))
        basis = device["basis"]
        if row["why"] is None and basis is not None:
            row["why"] = f"{basis['entity']}, Section 889 {basis['prong']}"
    for row in rows.values():
        where: list[str] = row["where"]
        row["more"] = max(0, len(where) - MAX_WHERE)
        row["where"] = where[:MAX_WHERE]
    return list(rows.values())


def _quoted(doc: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """Distinct texts of one basis field over the covered devices, with the vendors they cover.

    The duties come from each device's Basis, never from this module: the policy owns the law.
    """
    vendors: dict[str, list[str]] = defaultdict(list)
    for device in doc["devices"]:
        basis = device["basis"]
        if device["status"] != "covered" or basis is None or not basis[field]:
            continue
        name = vendor_name(basis["vendor"])
        if name not in vendors[basis[field]]:
            vendors[basis[field]].append(name)
    return [{"text": text, "vendors": names} for text, names in vendors.items()]


def _view(run: ScanRun) -> dict[str, Any]:
    doc: dict[str, Any] = _sanitise(to_dict(run))
    scan = doc["scan"]
    for number, device in enumerate(doc["devices"], start=1):
        device["anchor"] = f"device-{number}"
    probes = scan["probes"]
    return {
        "doc": doc,
        "scan": scan,
        "summary": doc["summary"],
        "devices": doc["devices"],
        "flagged": [device for device in doc["devices"] if device["status"] != "clear"],
        "vendors": _vendors(doc),
        "duties": _quoted(doc, "reporting_duty"),
        "purposes": _quoted(doc, "purpose_qualification"),
        "not_ok": [probe for probe in probes if probe["status"] != "ok"],
        "unanswered": [
            probe
            for probe in probes
            if probe["status"] == "ok" and probe["sent"] > 0 and probe["answered"] == 0
        ],
        "elapsed": duration((run.finished - run.started).total_seconds()),
        "csp": CSP,
    }


@cache
def environment() -> Environment:
    """The one Jinja2 environment; imported lazily so ``ndaa-scan --help`` does not pay for it."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=True, default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        when=when,
        clip=clip,
        percent=percent,
        vendor_name=vendor_name,
        duration=duration,
        status_label=STATUS_LABELS.__getitem__,
        change_label=CHANGE_LABELS.__getitem__,
    )
    return env


class HtmlFormat(ReportFormat):
    """A self-contained page for people: summary first, then inventory, evidence and limits."""

    name = "html"
    suffix = ".html"
    media_type = "text/html; charset=utf-8"

    def render(self, run: ScanRun) -> bytes:
        html = environment().get_template(TEMPLATE).render(_view(run))
        return html.encode("utf-8")

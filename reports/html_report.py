"""The HTML report: one self-contained file a compliance officer can open, print and file.

It is built from the same parts as the JSON report (``document``, ``device_dict``), so both
always say the same thing. Every string in it may come from a device on the network (banners,
ONVIF names, SADP descriptions), so it is treated as hostile: autoescaping is on, invisible and
direction-changing characters are shown as ``[U+XXXX]`` instead of being obeyed, very long values
are clipped, and a Content-Security-Policy forbids scripts and any remote fetch.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from scanner.model import Change, Device, ScanRun, Status

from .base import ReportFormat
from .json_report import UNKNOWN_VENDOR, device_dict, document, in_report_order

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE = "report.html.j2"
SCRIPT_RESOURCE = "report.js"


@cache
def script() -> str:
    """The page's one script (sorting, filtering, search), inlined so the file stands alone."""
    return resources.files("reports").joinpath("templates", SCRIPT_RESOURCE).read_text("utf-8")


HEAD_SCRIPT = 'document.documentElement.classList.add("js");'
"""Marks a page whose scripts run, so the inventory can wait for the parser (see the CSS)."""


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def csp() -> str:
    """No remote fetches at all, and only the page's two scripts, by their hashes: a
    ``<script>`` smuggled in by a device string would not run even if escaping failed."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {_hash(HEAD_SCRIPT)} {_hash(script())}; base-uri 'none'; form-action 'none'"
    )


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
SIGNAL_WORDS = {
    "oui": "MAC address block",
    "arp": "MAC address block",
    "sadp": "Hikvision SADP discovery reply",
    "dhip": "Dahua DHIP discovery reply",
    "wsd": "WS-Discovery reply",
    "onvif": "ONVIF device information",
    "http": "web server banner",
    "rtsp": "RTSP server banner",
    "mdns": "mDNS name",
    "ssdp": "UPnP description",
    "snmp": "SNMP system description",
}
"""What a signal is, in words a compliance officer reads: the "why" on the first screen."""
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


_CLIPPED = re.compile(r"… \[([0-9]+) more characters; see the JSON report\]\Z")


def clip(text: str, limit: int = MAX_CELL) -> str:
    """Cut a long value and say how much is missing, rather than drop it silently.

    A value already clipped (to MAX_TEXT, for the page) and clipped again for a cell still says
    how much of the original is missing, not how much of the first cut. Only a marker right at
    MAX_TEXT is ours: a device string is clipped before it could put one there.
    """
    if len(text) <= limit:
        return text
    missing = len(text) - limit
    already = _CLIPPED.search(text, MAX_TEXT)
    if already is not None and already.start() == MAX_TEXT and limit < MAX_TEXT:
        missing = already.start() - limit + int(already.group(1))
    return f"{text[:limit]}… [{missing} more characters; see the JSON report]"


def _clean(text: str) -> str:
    """``clip(visible(text), MAX_TEXT)``; the usual short, printable value costs two C calls."""
    if len(text) <= MAX_TEXT and text.isprintable():
        return text
    return clip(visible(text), MAX_TEXT)


def _sanitise(value: Any) -> Any:
    if isinstance(value, str):
        return _clean(value)
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
    place = ", ".join(part for part in (device["site"], device["interface"]) if part)
    return f"{address} ({place})" if place else str(address)


def signal_words(signal: str) -> str:
    return SIGNAL_WORDS.get(signal.lower(), signal)


def _strongest(device: dict[str, Any]) -> dict[str, Any] | None:
    """The evidence item that weighs most: "why" in a word, first on the page."""
    items: list[dict[str, Any]] = device["evidence"]
    pointing = [item for item in items if item["vendor"] == device["covered_vendor"]] or items
    return max(pointing, key=lambda item: item["certainty"], default=None)


def _vendors(summary: dict[str, Any], flagged: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per flagged vendor: how many, why (entity, prong, evidence), where (addresses)."""
    rows: dict[str, dict[str, Any]] = {
        key: {
            "key": key,
            "name": vendor_name(key),
            "covered": 0,
            "review": 0,
            "why": None,
            "signals": Counter(),
            "where": [],
        }
        for key in summary["by_vendor"]
    }
    for device in flagged:
        row = rows[device["covered_vendor"] or UNKNOWN_VENDOR]
        row[device["status"]] += 1
        row["where"].append(_where(device))
        basis = device["basis"]
        if row["why"] is None and basis is not None:
            row["why"] = f"{basis['entity']}, Section 889 {basis['prong']}"
        strongest = _strongest(device)
        if strongest is not None:
            row["signals"][signal_words(strongest["signal"])] += 1
    for row in rows.values():
        where: list[str] = row["where"]
        row["more"] = max(0, len(where) - MAX_WHERE)
        row["where"] = where[:MAX_WHERE]
        signals: Counter[str] = row.pop("signals")
        row["evidence"] = [
            f"{name} ({count})" if len(signals) > 1 else name
            for name, count in signals.most_common(3)
        ]
    # Covered first: the company with the most covered devices heads the first screen.
    return sorted(rows.values(), key=lambda row: (-row["covered"], -row["review"], row["name"]))


def _quoted(flagged: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Distinct texts of one basis field over the covered devices, with the vendors they cover.

    The duties come from each device's Basis, never from this module: the policy owns the law.
    """
    vendors: dict[str, list[str]] = defaultdict(list)
    for device in flagged:
        basis = device["basis"]
        if device["status"] != "covered" or basis is None or not basis[field]:
            continue
        name = vendor_name(basis["vendor"])
        if name not in vendors[basis[field]]:
            vendors[basis[field]].append(name)
    return [{"text": text, "vendors": names} for text, names in vendors.items()]


# The chart: covered devices by vendor, each bar split by device type. Inline SVG (no script, no
# remote asset), built here because its geometry is arithmetic; every label is escaped.
CHART_COLOURS = ("#b42318", "#e0703a", "#8a4b00", "#6b3fa0", "#1a4fa3", "#2f7f86", "#5b6474")
CHART_WIDTH, CHART_LABEL, CHART_BAR, CHART_GAP = 760, 150, 26, 10


def _chart(flagged: list[dict[str, Any]]) -> Markup | None:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for device in flagged:
        if device["status"] == "covered":
            kind = clip(device["device_type"] or "type not known", 40)
            counts[vendor_name(device["covered_vendor"] or UNKNOWN_VENDOR)][kind] += 1
    if not counts:
        return None
    totals = Counter({vendor: sum(kinds.values()) for vendor, kinds in counts.items()})
    kinds = Counter[str]()
    for per_vendor in counts.values():
        kinds.update(per_vendor)
    shown = [kind for kind, _ in kinds.most_common(len(CHART_COLOURS) - 1)]
    colour = {kind: CHART_COLOURS[n] for n, kind in enumerate(shown)}
    other = "other types"
    biggest = max(totals.values())
    span = CHART_WIDTH - CHART_LABEL - 60
    parts: list[str] = []
    y = 0
    for vendor, total in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        parts.append(
            f'<text x="{CHART_LABEL - 8}" y="{y + 18}" text-anchor="end" '
            f'class="chart-label">{_escape(clip(vendor, 24))}</text>'
        )
        x = float(CHART_LABEL)
        merged: Counter[str] = Counter()
        for kind, count in counts[vendor].items():
            merged[kind if kind in colour else other] += count
        for kind, count in sorted(merged.items(), key=lambda item: (-item[1], item[0])):
            width = span * count / biggest
            fill = colour.get(kind, CHART_COLOURS[-1])
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{CHART_BAR}" '
                f'fill="{fill}"><title>{_escape(f"{vendor}, {kind}: {count}")}</title></rect>'
            )
            x += width
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 18}" class="chart-count">{total}</text>')
        y += CHART_BAR + CHART_GAP
    legend = [*shown, *([other] if len(kinds) > len(shown) else [])]
    lx = float(CHART_LABEL)
    for kind in legend:
        fill = colour.get(kind, CHART_COLOURS[-1])
        parts.append(f'<rect x="{lx:.1f}" y="{y + 4}" width="12" height="12" fill="{fill}"/>')
        label = clip(kind, 24)
        parts.append(
            f'<text x="{lx + 16:.1f}" y="{y + 15}" class="chart-legend">{_escape(label)}</text>'
        )
        lx += 16 + 7.5 * len(label) + 18
    height = y + 24
    width = max(CHART_WIDTH, int(lx))
    return Markup(
        f'<svg class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>Covered devices by company and device type</title>{''.join(parts)}</svg>"
    )


# The inventory: one row per device, and a /16 sweep has 65,536 devices. Rendered by Jinja, each
# row costs tens of microseconds (macro calls, a dozen escapes that each build a Markup,
# attribute lookups), seconds in all; so rows are built here instead, as the template wrote them,
# with every value escaped by markupsafe as autoescape would (tests/reports/test_large_runs.py
# holds them to the Jinja row they replace). Nearly all are clear devices, which need nothing
# else: only flagged devices get an evidence section, rendered by the template from their dicts.

_MARKUP_CHARS = re.compile("[&<>'\"]")
"""The characters markupsafe.escape replaces; text without them is its own escape."""
_NONE = '<span class="none">—</span>'


def _escape(value: Any) -> str:
    """``markupsafe.escape(value)`` as plain text, without building a Markup for plain text."""
    if type(value) is str and not _MARKUP_CHARS.search(value):
        return value
    return str(escape(value))


def _field(value: Any) -> Any:
    """A device value as _sanitise leaves it."""
    return _clean(value) if isinstance(value, str) else value


def _soft_str(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _text(value: Any, limit: int) -> str:
    """The template's text() macro, with a limit: a dash for nothing, else the value, clipped."""
    if value is None or value == "":
        return _NONE
    return _escape(clip(value, limit))


def _cell(raw: Any, limit: int) -> str:
    """``_text(_field(raw), limit)``, at once for the usual value that needs no change at all.

    ``limit`` is never above MAX_TEXT, so a value within it is not clipped by _field either.
    """
    if (
        type(raw) is str
        and 0 < len(raw) <= limit
        and raw.isprintable()
        and not _MARKUP_CHARS.search(raw)
    ):
        return raw
    return _text(_field(raw), limit)


def _badge(status: Any) -> str:
    """The start of a row's status cell, for a status value (``Status.value``)."""
    status = _field(status)
    return (
        f'<td><span class="badge badge-{_escape(status)}">{_escape(STATUS_LABELS[status])}</span>'
    )


def _change(change: Any) -> str:
    """The change note under the badge, for a change value (``Change.value``)."""
    change = _field(change)
    label = CHANGE_LABELS[change]
    return f'<span class="change change-{_escape(change)}">{_escape(label)}</span>' if label else ""


def _flagged(status: Any) -> bool:
    """Whether a device's status is other than clear (its ``Status.value``, sanitised)."""
    return status is not Status.CLEAR if type(status) is Status else status.value != "clear"


_BADGES = {status: _badge(status.value) for status in Status}
_CHANGES = {change: _change(change.value) for change in Change}


def row_classes(status: str, waiver: dict[str, Any] | None, change: str) -> str:
    """The row's classes, which the page's filters read: status, waiver state, change."""
    classes = [f"row-{status}"]
    if waiver is not None:
        classes.append("is-waiver-expired" if waiver["expired"] else "is-waived")
    if change in ("new", "changed", "gone"):
        classes.append(f"is-{change}")
    return " ".join(classes)


_OPENINGS = {
    (status, change): f'<tr class="{row_classes(status.value, None, change.value)}">\n'
    for status in Status
    for change in Change
}


def waiver_note(waiver: dict[str, Any] | None) -> str:
    """The waiver, in the status cell: waived (until when, by whom) or expired and flagged again."""
    if waiver is None:
        return ""
    if waiver["expired"]:
        return f"Waiver expired {waiver['expires']}: flagged again"
    return f"Waived until {waiver['expires']} ({waiver['approver']})"


def _inventory_row(device: Device, anchor: str, show_site: bool = False) -> str:
    # The fields are those of device_dict(device), sanitised as _sanitise would: the page says
    # what the JSON report says.
    identity, finding = device.identity, device.finding
    status, change = finding.status, device.change
    waiver = None
    if device.waiver is not None:
        waiver = {
            "expired": device.waiver_expired,
            "expires": device.waiver.expires.isoformat(),
            "approver": _field(device.waiver.approver),
        }
    if waiver is None and type(status) is Status and type(change) is Change:
        opening = _OPENINGS[status, change]
    else:
        classes = row_classes(_field(status.value), waiver, _field(change.value))
        opening = f'<tr class="{_escape(classes)}">\n'
    parts = [opening, _BADGES[status] if type(status) is Status else _badge(status.value)]
    if waiver is not None:
        css = "waiver waiver-expired" if waiver["expired"] else "waiver"
        parts.append(f'<span class="{css}">{_escape(clip(waiver_note(waiver)))}</span>')
    parts.append(_CHANGES[change] if type(change) is Change else _change(change.value))
    if _flagged(status):
        parts.append(f'<span class="change"><a href="#{_escape(anchor)}">evidence</a></span>')
    parts.append("</td>\n")
    if show_site:
        parts.append(f"<td>{_cell(device.site, 40)}</td>\n")
    vendor = _field(finding.covered_vendor)
    parts.append(
        f"<td>{_escape(vendor_name(vendor)) if vendor else _NONE}</td>\n"
        f"<td>{_cell(identity.manufacturer, 60)}</td>\n"
        f"<td>{_cell(identity.brand, 60)}</td>\n"
        f"<td>{_cell(identity.model, 80)}</td>\n"
        f'<td class="mono">{_cell(identity.serial, 60)}</td>\n'
        f"<td>{_cell(identity.firmware, 60)}</td>\n"
        f'<td class="mono">{_cell(device.ip, 45)}'
    )
    if device.other_ips:
        other_ips = [_field(value) for value in device.other_ips]
        parts.extend(f"<br>{_escape(clip(value, 45))}" for value in other_ips[:5])
        if len(other_ips) > 5:
            parts.append(f'<br><span class="small">and {len(other_ips) - 5} more</span>')
    if device.hostnames:
        hostnames = [_field(value) for value in device.hostnames]
        # The template's join filter: plain text, unless an item is already markup.
        if any(hasattr(value, "__html__") for value in hostnames):
            joined: str = escape(", ").join(hostnames)
        else:
            joined = ", ".join(map(str, hostnames))
        parts.append(f'<br><span class="small">{_escape(clip(joined, 80))}</span>')
    if device.interface:
        parts.append(f'<br><span class="small">on {_cell(device.interface, 30)}</span>')
    parts.append(
        f'</td>\n<td class="mono">{_cell(device.mac, 45)}</td>\n'
        f'<td class="num">{_escape(percent(round(finding.confidence, 3)))}</td>\n<td>'
    )
    if device.notes:
        parts.append("<br>".join(_escape(clip(_field(note))) for note in device.notes))
    else:
        parts.append(_NONE)
    parts.append("</td>\n</tr>\n")
    return "".join(parts)


def _probe_line(probes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each probe once, its interfaces added up: the header's "which probes ran, what answered"."""
    merged: dict[str, dict[str, Any]] = {}
    for probe in probes:
        row = merged.setdefault(
            probe["name"], {"name": probe["name"], "sent": 0, "answered": 0, "problems": []}
        )
        row["sent"] += probe["sent"]
        row["answered"] += probe["answered"]
        if probe["status"] != "ok":
            row["problems"].append(probe["status"])
    return list(merged.values())


def _view(run: ScanRun) -> dict[str, Any]:
    devices = in_report_order(run.devices)
    doc: dict[str, Any] = _sanitise(document(run, devices, []))
    scan = doc["scan"]
    show_site = any(device.site for device in devices)
    rows: list[str] = []
    flagged: list[dict[str, Any]] = []
    waived = expired = 0
    sites: set[str] = set()
    for number, device in enumerate(devices, start=1):
        anchor = f"device-{number}"
        rows.append(_inventory_row(device, anchor, show_site))
        if device.site:
            sites.add(_field(device.site))
        if device.waiver is not None:
            if device.waiver_expired:
                expired += 1
            elif _flagged(device.finding.status):
                waived += 1
        if _flagged(device.finding.status):
            detail: dict[str, Any] = _sanitise(device_dict(device))
            detail["anchor"] = anchor
            detail["strongest"] = _strongest(detail)
            flagged.append(detail)
    probes = scan["probes"]
    summary = doc["summary"]
    return {
        "doc": doc,
        "scan": scan,
        "summary": summary,
        # Every value in the rows went through _escape: this is the one place the page marks
        # text as safe, with the chart and the script below.
        "inventory": Markup("".join(rows)),
        "show_site": show_site,
        "sites": sorted(sites),
        "vendor_options": [vendor_name(key) for key in summary["by_vendor"]],
        "flagged": flagged,
        "vendors": _vendors(summary, flagged),
        "chart": _chart(flagged),
        "waived": waived,
        "expired": expired,
        "duties": _quoted(flagged, "reporting_duty"),
        "purposes": _quoted(flagged, "purpose_qualification"),
        "probe_line": _probe_line(probes),
        "not_ok": [probe for probe in probes if probe["status"] != "ok"],
        "unanswered": [
            probe
            for probe in probes
            if probe["status"] == "ok" and probe["sent"] > 0 and probe["answered"] == 0
        ],
        "proxied": sum(1 for device in devices if len(device.other_ips) > 0),
        # Every device new: no earlier run to compare with, so "new since last scan" says nothing.
        "first_run": all(device.change is Change.NEW for device in devices),
        "elapsed": duration((run.finished - run.started).total_seconds()),
        "csp": csp(),
        "script": Markup(script()),
        "head_script": Markup(HEAD_SCRIPT),
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
        signal_words=signal_words,
        waiver_note=waiver_note,
        row_classes=row_classes,
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

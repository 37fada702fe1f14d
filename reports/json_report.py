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

from scanner.model import Basis, Change, Device, Evidence, ProbeStats, ScanRun, Status

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


def dumps(document: Any) -> bytes:
    """Serialise a report dict the one way every JSON report is written.

    The bytes are exactly those of ``json.dumps(document, indent=2, ensure_ascii=False,
    allow_nan=False) + "\n"`` (a test holds the two together), built several times faster: given
    an indent, the standard library uses its pure-Python encoder, which takes seconds on a /16
    sweep. Strings still go through json's own C escaping.
    """
    chunks: list[str] = []
    if type(document) is dict:
        _encode_dict(document, "", chunks, set())
    else:
        chunks.append(_text(document, ""))
    chunks.append("\n")
    return _utf8("".join(chunks))


# Serialisation. Everything below writes what json.dumps(indent=2, ensure_ascii=False,
# allow_nan=False) writes; `indent` is always the indentation of the line a value starts on.

_encode_str: Callable[[str], str] = json.encoder.encode_basestring
"""json's own string escaping for ``ensure_ascii=False`` (the C version when available)."""
_INFINITY = float("inf")


class _Raw:
    """Text already serialised at the depth where it is placed (the report's device list)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _encode_float(value: float) -> str:
    # allow_nan=False: a NaN confidence must fail loudly, not produce a file no parser reads.
    if value != value or value == _INFINITY or value == -_INFINITY:
        raise ValueError(f"Out of range float values are not JSON compliant: {value!r}")
    return float.__repr__(value)


def _encode_key(key: Any) -> str:
    """A dict key as json writes it: strings, and the scalars json turns into strings."""
    if isinstance(key, str):
        return _encode_str(key)
    if isinstance(key, float):
        return _encode_str(_encode_float(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _encode_str(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _encode_other(value: Any, indent: str) -> str:
    """Anything the fast paths do not know (tuples, subclasses, objects json refuses).

    json's indented output has no newline except between items (a newline inside a string is
    written as the escape ``\\n``), so the standard encoding of the value, with its lines moved
    right by ``indent``, is exactly the text it has at that depth of the document.
    """
    if type(value) is _Raw:
        return value.text
    text = json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)
    return text.replace("\n", "\n" + indent) if indent else text


def _text(value: Any, indent: str) -> str:
    """One value of any kind."""
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if kind is float:
        return _encode_float(value)
    if kind is dict or kind is list:
        chunks: list[str] = []
        if kind is dict:
            _encode_dict(value, indent, chunks, set())
        else:
            _encode_list(value, indent, chunks, set())
        return "".join(chunks)
    if kind is int:
        return int.__repr__(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _encode_other(value, indent)


def _encode_dict(obj: dict[Any, Any], indent: str, out: list[str], open_: set[int]) -> None:
    if not obj:
        out.append("{}")
        return
    if id(obj) in open_:
        raise ValueError("Circular reference detected")
    open_.add(id(obj))
    inner = indent + "  "
    separator = "{\n" + inner
    for key, value in obj.items():
        kind = type(value)
        head = f"{separator}{_encode_str(key) if type(key) is str else _encode_key(key)}: "
        separator = ",\n" + inner
        if kind is str:
            out.append(head + _encode_str(value))
        elif value is None:
            out.append(head + "null")
        elif kind is dict:
            out.append(head)
            _encode_dict(value, inner, out, open_)
        elif kind is list:
            out.append(head)
            _encode_list(value, inner, out, open_)
        elif kind is float:
            out.append(head + _encode_float(value))
        elif kind is int:
            out.append(head + int.__repr__(value))
        elif value is True:
            out.append(head + "true")
        elif value is False:
            out.append(head + "false")
        else:
            out.append(head)
            out.append(_encode_other(value, inner))
    out.append(f"\n{indent}}}")
    open_.discard(id(obj))


def _encode_list(obj: list[Any], indent: str, out: list[str], open_: set[int]) -> None:
    if not obj:
        out.append("[]")
        return
    if id(obj) in open_:
        raise ValueError("Circular reference detected")
    open_.add(id(obj))
    inner = indent + "  "
    separator = "[\n" + inner
    for value in obj:
        kind = type(value)
        if kind is str:
            out.append(separator + _encode_str(value))
        elif value is None:
            out.append(separator + "null")
        elif kind is dict:
            out.append(separator)
            _encode_dict(value, inner, out, open_)
        elif kind is list:
            out.append(separator)
            _encode_list(value, inner, out, open_)
        elif kind is float:
            out.append(separator + _encode_float(value))
        elif kind is int:
            out.append(separator + int.__repr__(value))
        elif value is True:
            out.append(separator + "true")
        elif value is False:
            out.append(separator + "false")
        else:
            out.append(separator)
            out.append(_encode_other(value, inner))
        separator = ",\n" + inner
    out.append(f"\n{indent}]")
    open_.discard(id(obj))


def _strings(values: Any, indent: str) -> str:
    """``list(values)``: a few strings, usually."""
    items = list(values)
    if items and all(type(item) is str for item in items):
        inner = indent + "  "
        return f"[\n{inner}{(',' + chr(10) + inner).join(map(_encode_str, items))}\n{indent}]"
    return _text(items, indent)


# The device list, written straight from the model. A /16 sweep has 65,536 devices; building
# their dicts (to_dict) and then walking them costs seconds, mostly in per-key work that is the
# same for every device. So the keys below are literal text and only the values are encoded,
# strings that repeat across devices (sources, details, makers) only once per report. This must
# stay in step with device_dict and _evidence, key for key: the tests compare the bytes with
# those of the standard json encoder over to_dict(run), for many runs.

_DEVICE = " " * 4
"""Where a device's braces sit: a list item under the top-level "devices" key."""
_AT = _DEVICE + "  "
"""Where a device's fields sit."""
_FIELD = "\n" + _AT
_ITEM = _AT + "  "
"""Where an evidence item's braces sit."""
_ITEM_AT = _ITEM + "  "
_ITEM_FIELD = "\n" + _ITEM_AT
_ITEMS = ",\n" + _ITEM
"""Between two evidence items."""
_STATUS_TEXT = {status: _encode_str(status.value) for status in Status}
_CHANGE_TEXT = {change: _encode_str(change.value) for change in Change}


class _Memo(dict[Any, str]):
    """The text of each string value already written in this report, and of None.

    Evidence sources, details and vendors, makers, rationales and interfaces repeat across
    thousands of devices and can be long: each is escaped once per report, and a look-up in
    the f-strings below is no function call at all. Only exact strings are remembered; any
    other hashable value (str subclasses included) is written afresh each time, at ``indent``;
    an unhashable one raises TypeError and the device is written by the exact path instead.
    """

    __slots__ = ("indent",)

    def __init__(self, indent: str) -> None:
        super().__init__({None: "null"})
        self.indent = indent

    def __missing__(self, key: Any) -> str:
        if type(key) is str:
            text = self[key] = _encode_str(key)
            return text
        return _text(key, self.indent)


def _rounded(value: Any) -> str:
    """``round(value, 3)`` as text."""
    return _text(round(value, 3), "")


class _Floats(dict[float, str]):
    """``_rounded(value)`` for each float already written (confidences and certainties repeat).

    Only non-zero floats are looked up here: 0.0 and -0.0 are one key but print differently
    (round() keeps either as it is, so ``f"{value}"``, the float's repr, is the text of a zero).
    An integral float equals an int that prints without ".0", so it is not remembered either.
    """

    __slots__ = ()

    def __missing__(self, key: float) -> str:
        text = _rounded(key)
        if key % 1:
            self[key] = text
        return text


class _Bases:
    """Each Basis serialised once per report: a policy shares one object among its devices."""

    __slots__ = ("_done",)

    def __init__(self) -> None:
        self._done: dict[int, tuple[Basis, str]] = {}

    def __call__(self, basis: Basis) -> str:
        # Keyed by identity; the entry keeps its Basis alive so the id is not reused meanwhile.
        hit = self._done.get(id(basis))
        if hit is None:
            hit = self._done[id(basis)] = (basis, _text(_basis(basis), _AT))
        return hit[1]


class _Writer:
    """Writes each device's entry of the list, with what the report's devices share."""

    __slots__ = ("bases", "floats", "items", "memo", "when")

    def __init__(self) -> None:
        self.memo = _Memo(_AT)
        self.items = _Memo(_ITEM_AT)
        self.floats = _Floats()
        self.when = _Moments()
        self.bases = _Bases()

    def device(self, device: Device) -> str:
        """The device's entry, as ``_text(device_dict(device), _DEVICE)`` writes it."""
        try:
            return self._entry(device)
        except Exception:
            # A value of a type the model does not declare (a list for a string, a NaN): the
            # exact path writes it as json does, or fails as json does.
            return _text(device_dict(device), _DEVICE)

    def _item(self, item: Evidence, seen: datetime, seen_json: str) -> str:
        """The text of ``_evidence(item)`` at its place in the device's entry."""
        memo, at = self.items, _ITEM_FIELD
        # Usually the very datetime the device was first seen at, already written.
        moment = item.observed_at
        observed = seen_json if moment is seen else _encode_str(self.when(moment))
        value = item.certainty
        if type(value) is float:  # zero is never a key of _Floats, which says why
            certainty = self.floats[value] if value else f"{value}"
        else:
            certainty = _rounded(value)
        return (
            f'{{{at}"signal": {memo[item.signal]},'
            f'{at}"value": {_encode_str(item.value)},'
            f'{at}"vendor": {memo[item.vendor]},'
            f'{at}"certainty": {certainty},'
            f'{at}"source": {memo[item.source]},'
            f'{at}"observed_at": {observed},'
            f'{at}"interface": {memo[item.interface]},'
            f'{at}"detail": {memo[item.detail]}'
            f"\n{_ITEM}}}"
        )

    def _entry(self, device: Device) -> str:
        memo, at = self.memo, _FIELD
        identity, finding = device.identity, device.finding
        status, change = finding.status, device.change
        ip, mac, serial = device.ip, device.mac, identity.serial
        hostnames, other_ips, notes = device.hostnames, device.other_ips, device.notes
        # The contract: a clear device quotes no rule, whatever the policy attached.
        basis = finding.basis if status is not Status.CLEAR else None
        seen = device.first_seen
        first = _encode_str(self.when(seen))
        last = first if device.last_seen is seen else _encode_str(self.when(device.last_seen))
        value = finding.confidence
        if type(value) is float:  # zero is never a key of _Floats, which says why
            confidence = self.floats[value] if value else f"{value}"
        else:
            confidence = _rounded(value)
        items = [self._item(item, seen, first) for item in identity.evidence]
        evidence = f"[\n{_ITEM}{_ITEMS.join(items)}\n{_AT}]" if items else "[]"
        return (
            f'{{{at}"key": {_encode_str(device.key)},'
            f'{at}"ip": {"null" if ip is None else _encode_str(ip)},'
            f'{at}"mac": {"null" if mac is None else _encode_str(mac)},'
            f'{at}"interface": {memo[device.interface]},'
            f'{at}"hostnames": {"[]" if hostnames == () else _strings(hostnames, _AT)},'
            f'{at}"other_ips": {"[]" if other_ips == () else _strings(other_ips, _AT)},'
            f'{at}"notes": {"[]" if notes == () else _strings(notes, _AT)},'
            f'{at}"manufacturer": {memo[identity.manufacturer]},'
            f'{at}"brand": {memo[identity.brand]},'
            f'{at}"model": {memo[identity.model]},'
            f'{at}"serial": {"null" if serial is None else _encode_str(serial)},'
            f'{at}"firmware": {memo[identity.firmware]},'
            f'{at}"device_type": {memo[identity.device_type]},'
            f'{at}"covered_vendor": {memo[finding.covered_vendor]},'
            f'{at}"status": '
            f"{_STATUS_TEXT[status] if type(status) is Status else _encode_str(status.value)},"
            f'{at}"confidence": {confidence},'
            f'{at}"rationale": {memo[finding.rationale]},'
            f'{at}"evidence": {evidence},'
            f'{at}"basis": {"null" if basis is None else self.bases(basis)},'
            f'{at}"first_seen": {first},'
            f'{at}"last_seen": {last},'
            f'{at}"change": '
            f"{_CHANGE_TEXT[change] if type(change) is Change else _encode_str(change.value)}"
            f"\n{_DEVICE}}}"
        )


def _utf8(text: str) -> bytes:
    # Device strings may carry lone surrogates (bytes decoded with surrogateescape); UTF-8 cannot
    # encode them, but a JSON \\uXXXX escape can, and it reads back as the same string.
    return text.encode("utf-8", errors="backslashreplace")


def render(run: ScanRun) -> bytes:
    """The report's bytes: ``dumps(to_dict(run))``, without building the device dicts.

    Each device is encoded to UTF-8 on its own and the bytes are joined once: one non-Latin-1
    character anywhere would otherwise make the whole document a two-bytes-per-character string,
    copied several times on its way to bytes.
    """
    devices = in_report_order(run.devices)
    if not devices:
        return dumps(document(run, devices, []))
    # NUL never appears raw in JSON (it is written \\u0000), so it marks the device list's place.
    head, tail = _text(document(run, devices, _Raw("\0")), "").split("\0")
    writer = _Writer()
    separator = _utf8(",\n" + _DEVICE)
    parts = [_utf8(f"{head}[\n{_DEVICE}")]
    for device in devices:
        parts.append(writer.device(device).encode("utf-8", errors="backslashreplace"))  # _utf8
        parts.append(separator)
    parts[-1] = _utf8(f"\n  ]{tail}\n")
    return b"".join(parts)


class JsonFormat(ReportFormat):
    """The ``ndaa-scan/1`` document, for scripts, the store and ``diff``."""

    name = "json"
    suffix = ".json"
    media_type = "application/json"

    def render(self, run: ScanRun) -> bytes:
        return render(run)

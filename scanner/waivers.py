"""Accepted exceptions: a TOML file of waivers, each for one device by serial or MAC, with a
justification, an approver and an expiry date.

A waiver never hides a device: the device stays in every report, marked waived with its
justification. An active waiver only keeps it out of the exit code; once the date has passed the
device is flagged again (and the report says the waiver expired). A malformed file is a usage
error naming the line, since a silently ignored waiver file is worse than none.

    [[waiver]]
    mac = "A4:14:37:5E:21:0B"          # or: serial = "DS-2CD2043G0-I20190101AAWR"
    justification = "Lab bench, isolated VLAN; replacement on PO 4471"
    approver = "J. Smith, CISO"
    expires = 2027-03-31
    reference = "CR-1042"               # optional
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from scanner.errors import UserError
from scanner.model import Device, Waiver

_HEADER = re.compile(r"^\s*\[\[\s*waiver\s*\]\]")
_MAC = re.compile(r"^[0-9A-F]{2}([:-]?[0-9A-F]{2}){5}$")
_KEYS = {"serial", "mac", "justification", "approver", "expires", "reference"}
EXAMPLE = 'e.g. [[waiver]] mac = "A4:14:37:5E:21:0B" justification = "..." approver = "..." '
EXAMPLE += "expires = 2027-03-31"


def normalize_mac(value: str) -> str | None:
    text = value.strip().upper().replace(".", "")
    if not _MAC.match(text) and not re.fullmatch(r"[0-9A-F]{12}", text):
        return None
    digits = re.sub(r"[^0-9A-F]", "", text)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def parse(text: str, source: str = "waiver file") -> tuple[Waiver, ...]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{source} is not valid TOML: {exc}", EXAMPLE) from None
    lines = [n for n, line in enumerate(text.splitlines(), 1) if _HEADER.match(line)]
    extra = sorted(set(doc) - {"waiver"})
    if extra:
        raise UserError(
            f"{source}: unknown top-level key {extra[0]!r}",
            "each waiver is a [[waiver]] table; " + EXAMPLE,
        )
    entries = doc.get("waiver", [])
    if not isinstance(entries, list):
        raise UserError(f"{source}: 'waiver' must be [[waiver]] tables", EXAMPLE)
    waivers: list[Waiver] = []
    seen: dict[str, str] = {}
    for index, entry in enumerate(entries):
        where = f"{source} line {lines[index]}" if index < len(lines) else source
        where += f" (waiver #{index + 1})"
        waiver = _one(entry, where)
        if waiver.match in seen:
            raise UserError(
                f"{where}: a second waiver for {waiver.match}",
                f"the first is at {seen[waiver.match]}",
            )
        seen[waiver.match] = where
        waivers.append(waiver)
    return tuple(waivers)


def _text(entry: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise UserError(f"{where}: {key} must be a string, not {value!r}")
    if required and not value.strip():
        raise UserError(f"{where}: {key} is missing or empty", EXAMPLE)
    return value.strip()


def _one(entry: Any, where: str) -> Waiver:
    if not isinstance(entry, dict):
        raise UserError(f"{where}: a waiver must be a table", EXAMPLE)
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise UserError(
            f"{where}: unknown key {unknown[0]!r}", f"known: {', '.join(sorted(_KEYS))}"
        )
    if ("serial" in entry) == ("mac" in entry):
        raise UserError(f"{where}: give exactly one of serial or mac", EXAMPLE)
    if "mac" in entry:
        raw = _text(entry, "mac", where)
        mac = normalize_mac(raw)
        if mac is None:
            raise UserError(f"{where}: {raw!r} is not a MAC address", "e.g. A4:14:37:5E:21:0B")
        match = f"mac:{mac}"
    else:
        match = f"serial:{_text(entry, 'serial', where)}"
    justification = _text(entry, "justification", where)
    approver = _text(entry, "approver", where)
    expires = entry.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            expires = None
    if not isinstance(expires, date) or hasattr(expires, "hour"):
        raise UserError(
            f"{where}: expires must be a date (YYYY-MM-DD), not {entry.get('expires')!r}",
            "every waiver ends: e.g. expires = 2027-03-31",
        )
    return Waiver(
        match=match,
        justification=justification,
        approver=approver,
        expires=expires,
        reference=_text(entry, "reference", where, required=False),
    )


def load(path: str | Path) -> tuple[Waiver, ...]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(
            f"cannot read waiver file {str(path)!r}: {reason}",
            "check the path given to --waivers or NDAA_SCAN_WAIVERS",
        ) from None
    return parse(text, f"waiver file {str(path)!r}")


def _device_matches(device: Device) -> tuple[str, ...]:
    keys = []
    if device.identity.serial:
        keys.append(f"serial:{device.identity.serial}")
    if device.mac:
        mac = normalize_mac(device.mac)
        if mac:
            keys.append(f"mac:{mac}")
    return tuple(keys)


def apply(
    devices: Iterable[Device], waivers: Iterable[Waiver], today: date
) -> tuple[tuple[Device, ...], tuple[Waiver, ...]]:
    """Attach each device's waiver (serial before MAC), marking it expired after its date.
    Returns the devices and the waivers that matched nothing (worth a warning: a typo, or
    equipment that has left)."""
    by_match = {w.match: w for w in waivers}
    used: set[str] = set()
    out = []
    for device in devices:
        waiver = next((by_match[k] for k in _device_matches(device) if k in by_match), None)
        if waiver is None:
            out.append(device)
            continue
        used.add(waiver.match)
        out.append(
            dataclasses.replace(device, waiver=waiver, waiver_expired=not waiver.active(today))
        )
    unused = tuple(w for w in by_match.values() if w.match not in used)
    return tuple(out), unused


def is_waived(device: Device) -> bool:
    """Under an active waiver: still reported, not counted toward the exit code."""
    return device.waiver is not None and not device.waiver_expired

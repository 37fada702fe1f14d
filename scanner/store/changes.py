"""What changed between two runs of a site: the `change` of each device in a new run, and the
`diff` between any two runs (new, gone, changed, reappeared; covered first)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scanner.model import Change, Device, ScanRun, Status
from scanner.store.codec import identity_key

_RANK = {Status.COVERED: 0, Status.REVIEW: 1, Status.CLEAR: 2}
CATEGORIES = ("new", "reappeared", "changed", "gone")


_FIELDS = (
    "ip",
    "mac",
    "status",
    "covered_vendor",
    "manufacturer",
    "brand",
    "model",
    "serial",
    "firmware",
    "device_type",
    "interface",
    "hostnames",
)


def _values(d: Device) -> tuple[str | None, ...]:
    """The fields a change is judged by, in _FIELDS order."""
    i = d.identity
    return (
        d.ip,
        d.mac,
        d.finding.status.value,
        d.finding.covered_vendor,
        i.manufacturer,
        i.brand,
        i.model,
        i.serial,
        i.firmware,
        i.device_type,
        d.interface,
        ", ".join(d.hostnames) or None,
    )


def _with(device: Device, **values: object) -> Device:
    """dataclasses.replace without its per-call cost (about 15 us, a second on a /16): a shallow
    copy of a frozen dataclass with some fields set, which is all replace() does for Device."""
    copy = object.__new__(Device)
    copy.__dict__.update(device.__dict__, **values)
    return copy


def changed_fields(old: Device, new: Device) -> tuple[tuple[str, str | None, str | None], ...]:
    """(field, old value, new value) for every field a reader would call a change. Confidence
    and timestamps are left out: they move on every run without meaning anything."""
    pairs = zip(_FIELDS, _values(old), _values(new), strict=True)
    return tuple((name, a, b) for name, a, b in pairs if a != b)


def digest(device: Device) -> str:
    """A short hash of the fields `changed_fields` compares, stored with each device so a new
    run is compared with the previous one without reading that run's devices back whole."""
    return hashlib.blake2b(repr(_values(device)).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True)
class Mark:
    """What the comparison needs of a device in the previous run."""

    digest: str
    first_seen: datetime


def marks_of(run: ScanRun) -> dict[str, Mark]:
    return {identity_key(d): Mark(digest(d), d.first_seen) for d in run.devices}


def annotate(run: ScanRun, previous: Mapping[str, Mark] | None) -> ScanRun:
    """Fill each device's `change` against the previous run of the site (its marks, by
    identity key) and carry its `first_seen` over; with no previous run every device is new."""
    if previous is None:
        return run
    devices = []
    for d in run.devices:
        old = previous.get(identity_key(d))
        if old is None:
            devices.append(d if d.change is Change.NEW else _with(d, change=Change.NEW))
            continue
        change = Change.UNCHANGED if old.digest == digest(d) else Change.CHANGED
        devices.append(_with(d, change=change, first_seen=min(old.first_seen, d.first_seen)))
    return dataclasses.replace(run, devices=tuple(devices))


@dataclass(frozen=True)
class DiffEntry:
    category: str  # one of CATEGORIES
    device: Device  # the new sighting; the old one for "gone"
    changes: tuple[tuple[str, str | None, str | None], ...] = ()

    @property
    def rank(self) -> int:
        return _RANK[self.device.finding.status]


@dataclass(frozen=True)
class Diff:
    old: ScanRun
    new: ScanRun
    entries: tuple[DiffEntry, ...]
    unchanged: int

    def count(self, category: str) -> int:
        return sum(1 for e in self.entries if e.category == category)


def _severity(entry: DiffEntry, old: Device | None) -> int:
    ranks = [entry.rank] + ([_RANK[old.finding.status]] if old is not None else [])
    return min(ranks)


def diff(old: ScanRun, new: ScanRun, seen_before: Iterable[str] = ()) -> Diff:
    """`seen_before`: identity keys of the site's runs earlier than `old`; a device missing from
    `old` but in one of those is "reappeared", not "new"."""
    earlier = set(seen_before)
    before = {identity_key(d): d for d in old.devices}
    after = {identity_key(d): d for d in new.devices}
    ranked: list[tuple[tuple[Any, ...], DiffEntry]] = []
    unchanged = 0
    for key, d in after.items():
        prev = before.get(key)
        if prev is None:
            entry = DiffEntry("reappeared" if key in earlier else "new", d)
        else:
            changes = changed_fields(prev, d)
            if not changes:
                unchanged += 1
                continue
            entry = DiffEntry("changed", d, changes)
        ranked.append(((_severity(entry, prev), CATEGORIES.index(entry.category), key), entry))
    for key, d in before.items():
        if key not in after:
            entry = DiffEntry("gone", d)
            ranked.append(((entry.rank, CATEGORIES.index("gone"), key), entry))
    ranked.sort(key=lambda pair: pair[0])
    return Diff(old, new, tuple(e for _, e in ranked), unchanged)


def _run_info(run: ScanRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "site": run.scope.site,
        "started": run.started.isoformat(),
        "complete": run.complete,
        "devices": len(run.devices),
    }


def _waived(d: Device) -> bool:
    return d.waiver is not None and not d.waiver_expired


def to_dict(result: Diff) -> dict[str, Any]:
    return {
        "schema": "ndaa-scan-diff/1",
        "old": _run_info(result.old),
        "new": _run_info(result.new),
        "summary": {c: result.count(c) for c in CATEGORIES} | {"unchanged": result.unchanged},
        "devices": [
            {
                "category": e.category,
                "key": identity_key(e.device),
                "ip": e.device.ip,
                "mac": e.device.mac,
                "status": e.device.finding.status.value,
                "covered_vendor": e.device.finding.covered_vendor,
                "manufacturer": e.device.identity.manufacturer,
                "model": e.device.identity.model,
                "waived": _waived(e.device),
                "changes": [{"field": f, "old": a, "new": b} for f, a, b in e.changes],
            }
            for e in result.entries
        ],
    }


def _when(run: ScanRun) -> str:
    return run.started.astimezone().strftime("%Y-%m-%d %H:%M")


def render_text(result: Diff) -> str:
    old, new = result.old, result.new
    lines = [
        f"site {new.scope.site}: run {old.id[:8]} ({_when(old)}) -> run {new.id[:8]} "
        f"({_when(new)}{'' if new.complete else ', INCOMPLETE'})",
        ", ".join(f"{result.count(c)} {c}" for c in CATEGORIES) + f", {result.unchanged} unchanged",
    ]
    for e in result.entries:
        d = e.device
        who = " ".join(x for x in (d.identity.manufacturer, d.identity.model) if x)
        line = (
            f"{e.category.upper():<11} {d.finding.status.value:<8} {d.ip or '-':<15} "
            f"{d.mac or '-':<17} {who}"
        )
        if _waived(d):
            line += " [waived]"
        lines.append(line.rstrip())
        for name, a, b in e.changes:
            lines.append(f"{'':<12}{name}: {a or '-'} -> {b or '-'}")
    return "\n".join(lines) + "\n"


def exit_code(result: Diff) -> int:
    """1 when covered equipment appeared (new or reappeared, not under an active waiver), 4 when
    only review devices did, else 0 (design.md's codes, applied to what appeared)."""
    appeared = [
        e.device
        for e in result.entries
        if e.category in ("new", "reappeared") and not _waived(e.device)
    ]
    if any(d.finding.status is Status.COVERED for d in appeared):
        return 1
    if any(d.finding.status is Status.REVIEW for d in appeared):
        return 4
    return 0

"""The domain: plain, frozen data passed between the pipeline's stages.

Each stage (discovery -> identification -> policy -> reports) takes and returns these objects and
never reaches back into an earlier stage, so every stage can be tested on hand-made values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Status(StrEnum):
    COVERED = "covered"
    REVIEW = "review"
    CLEAR = "clear"


class ProbeStatus(StrEnum):
    OK = "ok"
    PARTIAL = "partial"  # ran, but something limited what it could see (e.g. send errors)
    FAILED = "failed"  # could not run at all; the scan goes on without it
    SKIPPED = "skipped"


class Change(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    GONE = "gone"


@dataclass(frozen=True)
class Scope:
    """What the user asked to scan, after config, environment and flags were merged."""

    targets: tuple[str, ...]
    interfaces: tuple[str, ...]
    excludes: tuple[str, ...] = ()
    rate: int = 500
    retries: int = 1
    timeout: float = 0.5
    target_count: int = 0
    site: str = "default"
    listen: float = 3.0  # seconds the discovery probes listen for replies
    probes: tuple[str, ...] = ()  # probes to run; empty = all


@dataclass(frozen=True)
class Observation:
    """One thing one probe saw, exactly as seen: the raw excerpt is kept for the evidence trail."""

    probe: str
    interface: str
    observed_at: datetime
    ip: str | None
    mac: str | None
    fields: tuple[tuple[str, str], ...] = ()
    raw: str = ""  # hex or text excerpt of what arrived, bounded in length

    def field(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None


@dataclass(frozen=True)
class Evidence:
    """A signal that says something about who made a device, and how sure it is."""

    signal: str  # e.g. "oui", "arp"
    value: str  # the raw value the signal read, e.g. "A4:14:37"
    vendor: str | None  # covered vendor key, or the registrant/maker it points at
    certainty: float  # 0..1
    source: str  # where the rule and the data came from, e.g. the registry copy and its date
    observed_at: datetime
    interface: str = ""
    detail: str = ""  # the explanation a reader sees: why this value means what it means


@dataclass(frozen=True)
class Basis:
    """The Section 889 rule that applies to a covered vendor, as the report quotes it."""

    vendor: str  # covered vendor key, e.g. "hikvision"
    entity: str  # the statutory entity, e.g. "Hangzhou Hikvision Digital Technology Company"
    prong: str  # e.g. "(f)(3)(B)"
    statute: str  # citation text
    far_clauses: tuple[str, ...]
    effective: tuple[tuple[str, str], ...]  # (what, ISO date)
    purpose_qualification: str | None  # (f)(3)(B) vendors only
    reporting_duty: str
    citation: str  # the paragraph a report shows under "why flagged"
    other_lists: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identity:
    """What identification concluded about one device, before policy is applied."""

    manufacturer: str | None = None
    brand: str | None = None
    model: str | None = None
    serial: str | None = None
    firmware: str | None = None
    device_type: str | None = None
    covered_vendor: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Finding:
    """The policy's verdict on one device."""

    status: Status
    confidence: float
    covered_vendor: str | None
    basis: Basis | None
    rationale: str


@dataclass(frozen=True)
class Waiver:
    """An accepted exception from the user's waiver file. A waived device stays in every report;
    the waiver only changes what the exit code and the summary count as needing action."""

    match: str  # the device key it applies to: "serial:…" or "mac:…"
    justification: str
    approver: str
    expires: date
    reference: str = ""  # ticket, memo or approval number

    def active(self, on: date) -> bool:
        return on <= self.expires


@dataclass(frozen=True)
class Device:
    ip: str | None
    mac: str | None
    interface: str
    identity: Identity
    finding: Finding
    first_seen: datetime
    last_seen: datetime
    hostnames: tuple[str, ...] = ()
    other_ips: tuple[str, ...] = ()  # further addresses the same MAC answered for
    notes: tuple[str, ...] = ()  # e.g. proxy-ARP, an IP claimed by two MACs
    change: Change = Change.NEW
    site: str = ""  # set when a report combines several sites
    waiver: Waiver | None = None
    waiver_expired: bool = False  # a waiver matched but its date has passed: flagged again

    @property
    def key(self) -> str:
        """Stable identity across runs: serial, else MAC, else IP."""
        if self.identity.serial:
            return f"serial:{self.identity.serial}"
        if self.mac:
            return f"mac:{self.mac}"
        return f"ip:{self.ip}"


@dataclass(frozen=True)
class ProbeStats:
    name: str
    sent: int = 0
    answered: int = 0
    duration: float = 0.0
    status: ProbeStatus = ProbeStatus.OK
    error: str | None = None
    interface: str = ""


@dataclass(frozen=True)
class ProbeResult:
    stats: ProbeStats
    observations: tuple[Observation, ...] = ()


@dataclass(frozen=True)
class OuiSource:
    """Which copy of the IEEE registry the OUI tables came from; carried into every finding."""

    name: str
    version: str
    date: str  # ISO date of the registry data


@dataclass(frozen=True)
class ScanRun:
    id: str
    scope: Scope
    started: datetime
    finished: datetime
    scanner_version: str
    fingerprint_version: str
    oui_source: OuiSource
    probes: tuple[ProbeStats, ...]
    devices: tuple[Device, ...]
    complete: bool = True
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def count(self, status: Status) -> int:
        return sum(1 for d in self.devices if d.finding.status is status)

"""Identification: group observations into devices and read who made each one.

Observations are grouped by MAC (an address's MAC comes from ARP when the reply itself has none),
or by address for hosts behind a router, which show no MAC. Each group's evidence is the MAC's
registry block plus every signature that matched what the device disclosed. The maker is decided
by the firmware's tells, not the label: an LTS unit answering SADP is Hikvision-made, the label
becomes the brand. Proxy-ARP is decided here because it changes what a device is: one MAC
answering for many addresses is one box (a router or firewall), never many devices.
"""

from __future__ import annotations

import re
import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from fingerprints.oui import OuiDatabase, OuiMatch
from fingerprints.signatures import SignatureDB, SignatureMatch, load_signatures
from fingerprints.vendors import VENDOR_KEYS, vendor_display_name
from scanner.model import Evidence, Identity, Observation

PROXY_ARP_MIN_IPS = 4  # a MAC answering for this many addresses or more is treated as proxy-ARP
STRONG = 0.75  # a tell this certain decides the maker, whatever the label says
MAX_FIELD = 256  # characters of a disclosed identity value kept
MAX_UNMATCHED = 3  # observations per probe shown as evidence though no signature matched
# Who to believe for an identity field: what the device's management API says about itself,
# then its vendor's own discovery protocol, then the generic protocols, then banners.
AUTHORITY = (
    "onvif", "sadp", "dhip", "dahua-legacy", "snmp", "ssdp", "wsd", "mdns", "rtsp", "http",
    "tls", "tcp", "sadp-l2",
)  # fmt: skip
_RANK = {probe: rank for rank, probe in enumerate(AUTHORITY)}
IDENTITY_FIELDS = ("model", "serial", "firmware", "device_type", "brand", "manufacturer")
# Labels OEM firmware uses when the reseller asked for no name: they name nobody.
PLACEHOLDER_LABELS = frozenset({"private", "general", "oem", "none", "unknown", "null", "-"})


@dataclass(frozen=True)
class DeviceDraft:
    """A device before policy: where it was seen, and what it is."""

    ip: str | None
    mac: str | None
    interface: str
    first_seen: datetime
    last_seen: datetime
    identity: Identity
    other_ips: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()


def _ip_key(ip: str | None) -> int:
    return int.from_bytes(socket.inet_aton(ip), "big") if ip else -1


def oui_evidence(
    mac: str, match: OuiMatch | None, db: OuiDatabase, seen: datetime, interface: str
) -> Evidence:
    src = db.source
    source = f"IEEE registry via {src.name} {src.version} (data of {src.date})"
    prefix = mac[:8]
    if match is None:
        first = int(mac[:2], 16)
        if first & 0x02:
            detail = (
                "locally administered MAC (randomised or virtual): its prefix names no maker, "
                "so it can neither implicate nor clear the device"
            )
        else:
            detail = "prefix not found in the registry copy"
        return Evidence("oui", prefix, None, 0.0, source, seen, interface, detail)
    block = match.block
    value = f"{mac[: {24: 8, 28: 10, 36: 13}.get(block.bits, 8)]} (/{block.bits})"
    if match.covered is None:
        detail = f"registered to {block.registrant!r}, not a covered vendor or affiliate"
        return Evidence("oui", value, block.registrant, 0.0, source, seen, interface, detail)
    cov = match.covered
    detail = (
        f"registered to {block.registrant!r}: {cov.entity}, {cov.relation} of covered vendor "
        f"{cov.vendor}. {cov.note}".strip()
    )
    return Evidence("oui", value, cov.vendor, cov.certainty, source, seen, interface, detail)


def _identity_from_oui(match: OuiMatch | None, ev: Evidence) -> Identity:
    if match is None:
        return Identity(evidence=(ev,))
    if match.covered is not None:
        return Identity(
            manufacturer=match.covered.entity,
            covered_vendor=match.covered.vendor,
            evidence=(ev,),
        )
    return Identity(manufacturer=match.block.registrant, evidence=(ev,))


def _sighting(obs: Observation) -> Evidence:
    return Evidence(
        signal=obs.probe,
        value=f"{obs.ip} is-at {obs.mac}",
        vendor=None,
        certainty=0.0,
        source=f"{obs.probe} reply on {obs.interface}",
        observed_at=obs.observed_at,
        interface=obs.interface,
        detail=f"raw frame: {obs.raw[:168]}",
    )


def _group_key(obs: Observation, arp_mac: dict[str, str]) -> str | None:
    """Which device an observation belongs to: the MAC ARP saw at its address, else the MAC the
    reply names, else its address (a host behind a router)."""
    if obs.probe == "arp":
        return obs.mac
    if obs.ip and obs.ip in arp_mac:
        return arp_mac[obs.ip]
    if obs.mac:
        return obs.mac
    return f"ip:{obs.ip}" if obs.ip else None


def _clean(value: str) -> str:
    return " ".join(value.split())[:MAX_FIELD]


def _match_evidence(obs: Observation, match: SignatureMatch) -> Evidence:
    sig = match.signature
    where = f"{obs.probe} reply from {obs.ip or obs.mac}" + (
        f" on {obs.interface}" if obs.interface else ""
    )
    return Evidence(
        signal=obs.probe,
        value=f"{sig.field}: {_clean(match.value)}",
        vendor=sig.vendor or sig.maker,
        certainty=sig.certainty if sig.vendor else 0.0,
        source=f"{sig.source} [signature {sig.id}]",
        observed_at=obs.observed_at,
        interface=obs.interface,
        detail=f"{sig.description} ({where}). Raw: {obs.raw[:300]}",
    )


def _seen_evidence(obs: Observation) -> Evidence:
    shown = ", ".join(f"{k}={_clean(v)[:80]}" for k, v in obs.fields[:8])
    return Evidence(
        signal=obs.probe,
        value=shown[:MAX_FIELD] or "(reply)",
        vendor=None,
        certainty=0.0,
        source=f"{obs.probe} reply from {obs.ip or obs.mac}",
        observed_at=obs.observed_at,
        interface=obs.interface,
        detail=f"seen; no signature matched. Raw: {obs.raw[:300]}",
    )


@dataclass
class _Reading:
    """What the non-ARP observations of one device say."""

    evidence: list[Evidence]
    fields: dict[str, str]  # identity field -> value from the most authoritative source
    hostnames: list[str]
    makers: dict[str, float]  # maker -> strongest certainty of a tell naming it
    covered: dict[str, float]  # covered vendor -> strongest certainty
    maker_of: dict[str, str]  # covered vendor -> the maker name its tells use


def _read(observations: list[Observation], sigs: SignatureDB) -> _Reading:
    reading = _Reading([], {}, [], {}, {}, {})
    ranks: dict[str, int] = {}
    unmatched: dict[str, int] = defaultdict(int)
    seen_values: set[tuple[str, str]] = set()
    for obs in sorted(observations, key=lambda o: (_RANK.get(o.probe, 99), o.observed_at)):
        rank = _RANK.get(obs.probe, 99)
        for name, value in obs.fields:
            if name in ("brand", "manufacturer") and value.strip().casefold() in PLACEHOLDER_LABELS:
                continue
            if name in IDENTITY_FIELDS and value.strip() and ranks.get(name, 100) > rank:
                reading.fields[name] = _clean(value)
                ranks[name] = rank
            elif name in _KIND_HINTS and "kind_hint" not in reading.fields:
                kind = device_kind(value)
                if kind in _KNOWN_KINDS:
                    reading.fields["kind_hint"] = kind
            elif name == "hostname" and value.strip():
                host = _clean(value)
                if host not in reading.hostnames and len(reading.hostnames) < 8:
                    reading.hostnames.append(host)
        matches = sigs.match(obs.probe, obs.fields)
        for match in matches:
            key = (match.signature.id, match.value)
            if key in seen_values:
                continue  # the same tell seen again (a retry, a second reply) adds nothing
            seen_values.add(key)
            reading.evidence.append(_match_evidence(obs, match))
            sig = match.signature
            reading.makers[sig.maker] = max(reading.makers.get(sig.maker, 0.0), sig.certainty)
            if sig.vendor:
                if sig.certainty > reading.covered.get(sig.vendor, 0.0):
                    reading.maker_of[sig.vendor] = sig.maker
                reading.covered[sig.vendor] = max(
                    reading.covered.get(sig.vendor, 0.0), sig.certainty
                )
            for name, value in sig.sets:  # implied by a tell: the least authority there is
                reading.fields.setdefault(name, value)
        if not matches and unmatched[obs.probe] < MAX_UNMATCHED:
            unmatched[obs.probe] += 1
            reading.evidence.append(_seen_evidence(obs))
    return reading


def _decide(
    match: OuiMatch | None, oui_identity: Identity, reading: _Reading
) -> tuple[Identity, list[str]]:
    """Maker, brand and covered vendor from the OUI and the tells; notes for an OEM unit."""
    fields = reading.fields
    notes: list[str] = []
    manufacturer = oui_identity.manufacturer
    covered_vendor = oui_identity.covered_vendor
    brand = fields.get("brand")
    strong = {v: c for v, c in reading.covered.items() if c >= STRONG and v in VENDOR_KEYS}
    if strong:
        vendor = max(strong, key=lambda v: strong[v])
        if covered_vendor != vendor:
            # The firmware decides the maker; the MAC block and the label become the brand.
            label = (
                brand or fields.get("manufacturer") or (match.block.registrant if match else None)
            )
            manufacturer = vendor_display_name(vendor)
            covered_vendor = vendor
            if label and label.casefold() != manufacturer.casefold():
                brand = label
                notes.append(
                    f"OEM: labelled {label!r} but its firmware gives it away as made by "
                    f"{manufacturer} (see the {', '.join(_signals(reading, vendor))} evidence)"
                )
    elif manufacturer is None:
        # No MAC block to go by (a routed host, a random MAC): the strongest tell names the maker.
        if reading.covered:
            vendor = max(reading.covered, key=lambda v: reading.covered[v])
            covered_vendor = vendor
            manufacturer = reading.maker_of.get(vendor) or vendor_display_name(vendor)
        elif reading.makers:
            manufacturer = max(reading.makers, key=lambda m: reading.makers[m])
        else:
            manufacturer = fields.get("manufacturer")
    elif covered_vendor is None and reading.covered:
        covered_vendor = max(reading.covered, key=lambda v: reading.covered[v])
    if brand is None and fields.get("manufacturer") and manufacturer:
        claimed = fields["manufacturer"]
        if claimed.casefold() not in manufacturer.casefold():
            brand = claimed
    identity = Identity(
        manufacturer=manufacturer,
        brand=brand,
        model=fields.get("model"),
        serial=fields.get("serial"),
        firmware=fields.get("firmware"),
        device_type=device_kind(fields.get("device_type")) or fields.get("kind_hint"),
        covered_vendor=covered_vendor,
        evidence=oui_identity.evidence + tuple(reading.evidence),
    )
    return identity, notes


# What devices call themselves -> the few kinds a report groups by. First match wins.
_KINDS = (
    (re.compile(r"\b(?:nvr|dvr|xvr|hvr|recorder|NetworkVideoRecorder)\b", re.I), "recorder"),
    (re.compile(r"\b(?:ipc|ip ?camera|camera|NetworkVideoTransmitter|ptz|sd)\b", re.I), "camera"),
    (re.compile(r"\b(?:repeater|radio|base ?station)\b", re.I), "radio"),
    (re.compile(r"\b(?:switch)\b", re.I), "switch"),
    (re.compile(r"\b(?:router|gateway|ont|onu|cpe)\b", re.I), "router"),
    (re.compile(r"\b(?:printer)\b", re.I), "printer"),
)


_KNOWN_KINDS = frozenset(kind for _, kind in _KINDS)
_KIND_HINTS = ("types", "upnp_device_type", "service")  # protocol fields that say what it is


def device_kind(value: str | None) -> str | None:
    """A device's own word for what it is, as one of a few kinds; unknown words stay as they
    are (a report should not hide what the device said)."""
    if not value:
        return None
    for pattern, kind in _KINDS:
        if pattern.search(value):
            return kind
    return value


def _signals(reading: _Reading, vendor: str) -> list[str]:
    return sorted({ev.signal for ev in reading.evidence if ev.vendor == vendor})


def identify(
    observations: list[Observation], db: OuiDatabase, sigs: SignatureDB | None = None
) -> list[DeviceDraft]:
    """One draft per MAC (or per address, for hosts seen without one); addresses answered by two
    MACs are kept on both, with a note."""
    sigs = load_signatures() if sigs is None else sigs
    arp_mac: dict[str, str] = {}
    for obs in observations:
        if obs.probe == "arp" and obs.ip and obs.mac:
            arp_mac.setdefault(obs.ip, obs.mac)
    groups: dict[str, list[Observation]] = defaultdict(list)
    macs_by_ip: dict[str, set[str]] = defaultdict(set)
    for obs in observations:
        key = _group_key(obs, arp_mac)
        if key is None:
            continue
        groups[key].append(obs)
        if obs.probe == "arp" and obs.ip and obs.mac:
            macs_by_ip[obs.ip].add(obs.mac)

    drafts = []
    for key, seen in groups.items():
        mac = None if key.startswith("ip:") else key
        sightings_of = [o for o in seen if o.probe == "arp"]
        replies = [o for o in seen if o.probe != "arp"]
        sightings_of.sort(key=lambda o: (_ip_key(o.ip), o.observed_at))
        anchor = sightings_of or sorted(replies, key=lambda o: (_ip_key(o.ip), o.observed_at))
        ips = sorted({o.ip for o in anchor if o.ip}, key=_ip_key)
        notes: list[str] = []
        if len(ips) >= PROXY_ARP_MIN_IPS:
            notes.append(
                f"proxy-ARP: this MAC answered for {len(ips)} addresses ({ips[0]} to "
                f"{ips[-1]}); counted as one device (a router, firewall or proxy answering "
                f"for others), not as {len(ips)} devices"
            )
        elif len(ips) > 1:
            notes.append(f"answers for {len(ips)} addresses: {', '.join(ips)}")
        for ip in ips:
            others = sorted(macs_by_ip[ip] - {key})
            if others:
                notes.append(f"{ip} was also claimed by {', '.join(others)}")
        first = min(o.observed_at for o in seen)
        last = max(o.observed_at for o in seen)
        interface = anchor[0].interface
        if mac is not None:
            match = db.lookup(mac)
            identity = _identity_from_oui(match, oui_evidence(mac, match, db, first, interface))
        else:
            match, identity = None, Identity()
            notes.append(
                "seen only at layer 3 and above (no MAC: behind a router), so identified from "
                "what it answered alone"
            )
        identity = Identity(
            manufacturer=identity.manufacturer,
            covered_vendor=identity.covered_vendor,
            evidence=identity.evidence + tuple(_sighting(o) for o in sightings_of[:8]),
        )
        hostnames: tuple[str, ...] = ()
        if replies:
            reading = _read(replies, sigs)
            identity, oem_notes = _decide(match, identity, reading)
            notes += oem_notes
            hostnames = tuple(reading.hostnames)
        drafts.append(
            DeviceDraft(
                ip=ips[0] if ips else None,
                mac=mac,
                interface=interface,
                first_seen=first,
                last_seen=last,
                identity=identity,
                other_ips=tuple(ips[1:]),
                notes=tuple(notes),
                hostnames=hostnames,
            )
        )
    drafts.sort(key=lambda d: (_ip_key(d.ip), d.mac or ""))
    return drafts

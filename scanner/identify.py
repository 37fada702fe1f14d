"""Identification: group observations into devices and read who made each one.

For now the only signals are ARP sightings and the MAC's registry block. Proxy-ARP is decided
here because it changes what a device is: one MAC answering for many addresses is one box (a
router or firewall), never many devices.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from fingerprints.oui import OuiDatabase, OuiMatch
from scanner.model import Evidence, Identity, Observation

PROXY_ARP_MIN_IPS = 4  # a MAC answering for this many addresses or more is treated as proxy-ARP


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


def identify(observations: list[Observation], db: OuiDatabase) -> list[DeviceDraft]:
    """One draft per MAC; addresses answered by two MACs are kept on both, with a note."""
    by_mac: dict[str, list[Observation]] = defaultdict(list)
    macs_by_ip: dict[str, set[str]] = defaultdict(set)
    for obs in observations:
        if obs.mac is None:
            continue
        by_mac[obs.mac].append(obs)
        if obs.ip:
            macs_by_ip[obs.ip].add(obs.mac)

    drafts = []
    for mac, seen in by_mac.items():
        seen.sort(key=lambda o: (_ip_key(o.ip), o.observed_at))
        ips = sorted({o.ip for o in seen if o.ip}, key=_ip_key)
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
            others = sorted(macs_by_ip[ip] - {mac})
            if others:
                notes.append(f"{ip} was also claimed by {', '.join(others)}")
        first = min(o.observed_at for o in seen)
        last = max(o.observed_at for o in seen)
        interface = seen[0].interface
        match = db.lookup(mac)
        identity = _identity_from_oui(match, oui_evidence(mac, match, db, first, interface))
        sightings = tuple(_sighting(o) for o in seen[:8])
        identity = Identity(
            manufacturer=identity.manufacturer,
            covered_vendor=identity.covered_vendor,
            evidence=identity.evidence + sightings,
        )
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
            )
        )
    drafts.sort(key=lambda d: (_ip_key(d.ip), d.mac or ""))
    return drafts

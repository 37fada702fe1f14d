"""Orchestration: run the probes concurrently, then identification and policy, into a ScanRun."""

from __future__ import annotations

import gc
import importlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

from fingerprints import FINGERPRINT_DB_VERSION
from fingerprints.oui import load_oui_database
from scanner import __version__, identify, policy
from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus, ScanRun
from scanner.probes.base import Probe, ProbeContext

PROBES = (
    # (module, class); phase-1 and phase-2 probes alike, in the order their stats are listed.
    ("scanner.probes.arp", "ArpProbe"),
    ("scanner.probes.wsd", "WsdProbe"),
    ("scanner.probes.ssdp", "SsdpProbe"),
    ("scanner.probes.mdns", "MdnsProbe"),
    ("scanner.probes.sadp", "SadpProbe"),
    ("scanner.probes.dhip", "DhipProbe"),
    ("scanner.probes.dhip", "DahuaLegacyProbe"),
    ("scanner.probes.onvif", "OnvifProbe"),
    ("scanner.probes.snmp", "SnmpProbe"),
    ("scanner.probes.tcp_ports", "TcpSweepProbe"),
    ("scanner.probes.http", "HttpProbe"),
    ("scanner.probes.rtsp", "RtspProbe"),
    ("scanner.probes.tcp_ports", "TcpPortsProbe"),
)


FINDERS = ("arp", "tcp-sweep")
# A probe that ran, or that had nothing to do (SNMP without communities), leaves the scan
# complete; partial or failed probes make it incomplete (exit 3 when nothing is covered).
DONE = (ProbeStatus.OK, ProbeStatus.SKIPPED)


def default_probes(enabled: tuple[str, ...] = ()) -> list[Probe]:
    """Every probe, or only those named in `enabled`. The finders always run: the ARP sweep
    (local hosts) and the TCP sweep (hosts on routed subnets), since the rest ask what they
    found."""
    probes: list[Probe] = []
    for module_name, class_name in PROBES:
        probe_class = getattr(importlib.import_module(module_name), class_name)
        if not enabled or probe_class.name in enabled or probe_class.name in FINDERS:
            probes.append(probe_class())
    return probes


def probe_names() -> list[str]:
    return [probe.name for probe in default_probes()]


def run_phase(ctx: ProbeContext, probes: list[Probe]) -> list[ProbeResult]:
    if not probes:
        return []
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        return [r for rs in pool.map(lambda p: p.run_safely(ctx), probes) for r in rs]


def run_scan(ctx: ProbeContext, probes: list[Probe] | None = None) -> ScanRun:
    probes = probes if probes is not None else default_probes(ctx.scope.probes)
    started = datetime.now(UTC)
    results = run_phase(ctx, [p for p in probes if p.phase == 1])
    later = [p for p in probes if p.phase != 1]
    if later and not ctx.stop.is_set():
        prior = tuple(o for r in results for o in r.observations)
        results += run_phase(replace(ctx, prior=prior), later)
    stats: list[ProbeStats] = [r.stats for r in results]
    observations: list[Observation] = [o for r in results for o in r.observations]
    db = load_oui_database()
    # Identification allocates a few small objects per device and none of them form cycles;
    # pausing the cyclic GC for it makes a /16's worth of devices a third faster.
    gc.disable()
    try:
        devices = policy.apply(identify.identify(observations, db))
    finally:
        gc.enable()
    warnings = [
        f"probe {s.name}{' on ' + s.interface if s.interface else ''}: {s.status.value}"
        f"{': ' + s.error if s.error else ''}"
        for s in stats
        if s.status not in DONE
    ]
    complete = not ctx.stop.is_set() and all(s.status in DONE for s in stats)
    return ScanRun(
        id=str(uuid.uuid4()),
        scope=ctx.scope,
        started=started,
        finished=datetime.now(UTC),
        scanner_version=__version__,
        fingerprint_version=FINGERPRINT_DB_VERSION,
        oui_source=db.source,
        probes=tuple(stats),
        devices=tuple(devices),
        complete=complete,
        warnings=tuple(warnings),
    )

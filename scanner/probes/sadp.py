"""Hikvision SADP: an `inquiry` to 239.255.255.250:37020 and to broadcast, and meanwhile a
passive listener for the legacy layer-2 SADP frames (EtherType 0x8033) devices broadcast.

A ProbeMatch is Hikvision firmware talking whatever label is on the box, so the observation
carries what the device said verbatim; identification decides the rest. The layer-2 listener
transmits nothing: its results are named `sadp-l2` (sent is always 0, answered = devices heard).
"""

from __future__ import annotations

import hashlib
import select
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes.base import Probe, ProbeContext, interface_failure
from scanner.probes.discovery_udp import (
    MAX_HOSTS,
    MAX_RAW,
    PER_HOST_DATAGRAMS,
    PER_HOST_REPLIES,
    Discovery,
    run_discovery,
)
from scanner.targets import SweepPlan
from scanner.wire import sadp

L2_NAME = "sadp-l2"
PACKET_OUTGOING = 4
# ProbeMatch element -> observation field (identity fields first, verbatim)
FIELD_MAP = (
    ("DeviceDescription", "model"),
    ("DeviceSN", "serial"),
    ("SoftwareVersion", "firmware"),
    ("Activated", "activated"),
    ("DetailOEMCode", "oem_code"),
    ("DeviceType", "sadp_device_type"),
    ("HttpPort", "http_port"),
    ("CommandPort", "command_port"),
    ("SDKOverTLSPort", "sdk_tls_port"),
    ("DSPVersion", "dsp_version"),
    ("IPv4Address", "ipv4_address"),
    ("DHCP", "dhcp"),
    ("BootTime", "boot_time"),
    ("Uuid", "uuid"),
)


def observation_fields(match: sadp.ProbeMatch) -> tuple[tuple[str, str], ...]:
    fields = [("reply", "sadp-probematch")]
    for element, name in FIELD_MAP:
        value = match.get(element)
        if value:
            fields.append((name, value))
    if match.partial:
        fields.append(("parse", "lenient"))
    return tuple(fields)


def parse_udp(data: bytes) -> tuple[str | None, tuple[tuple[str, str], ...], str] | None:
    match = sadp.parse_probe_match(data)
    if match is None:
        return None
    raw = data[:MAX_RAW].decode("utf-8", errors="backslashreplace")
    return match.mac, observation_fields(match), raw


def l2_fields(frame: sadp.L2Frame) -> tuple[tuple[str, str], ...]:
    return (
        ("reply", L2_NAME),
        ("query", frame.query_name),
        ("origin", "device" if frame.origin == sadp.ORIGIN_DEVICE else f"0x{frame.origin:02x}"),
        ("ipv4_address", frame.sender_ip),
        ("netmask", frame.netmask),
        ("checksum", "ok" if frame.checksum_ok else "mismatch"),
    )


class SadpProbe(Probe):
    name = "sadp"

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        if not ctx.plans:
            return []
        spec = Discovery(
            name=self.name,
            port=sadp.PORT,
            request=lambda: sadp.build_inquiry(str(uuid.uuid4())),
            parse=parse_udp,
            max_reply=sadp.MAX_REPLY,
            group=sadp.GROUP,
        )
        jobs = len(ctx.plans) * 2
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            udp = [pool.submit(run_discovery, ctx, plan, spec) for plan in ctx.plans]
            l2 = [pool.submit(listen_l2, ctx, plan) for plan in ctx.plans]
            return [f.result() for f in udp] + [f.result() for f in l2]


def _open_l2(plan: SweepPlan) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(sadp.ETH_P_SADP))
    try:
        # Bound to one EtherType on one interface: the kernel drops everything else for us.
        sock.bind((plan.interface.name, sadp.ETH_P_SADP))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def listen_l2(ctx: ProbeContext, plan: SweepPlan) -> ProbeResult:
    """Collect layer-2 SADP frames for the listen window; sends nothing."""
    label = plan.interface.name
    started = time.perf_counter()
    try:
        sock = _open_l2(plan)
    except OSError as exc:
        return interface_failure(L2_NAME, label, exc)
    deadline = started + max(0.2, ctx.scope.listen)
    ours = (plan.interface.mac or "").upper()
    seen: dict[str, set[bytes]] = {}
    looked_at: dict[str, int] = {}
    observations: list[Observation] = []
    with sock:
        while not ctx.stop.is_set():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            ready, _, _ = select.select([sock], [], [], min(remaining, 0.1))
            for _ in range(256 if ready else 0):
                try:
                    frame, addr = sock.recvfrom(sadp.MAX_FRAME + 1)
                except OSError:
                    break
                if len(addr) > 2 and addr[2] == PACKET_OUTGOING:
                    continue
                obs = _take_frame(plan, frame, ours, seen, looked_at)
                if obs is not None:
                    observations.append(obs)
    status, error = ProbeStatus.OK, None
    if ctx.stop.is_set() and time.perf_counter() < deadline:
        status, error = ProbeStatus.PARTIAL, "interrupted before the listen window ended"
    stats = ProbeStats(
        name=L2_NAME,
        interface=label,
        sent=0,
        answered=len({o.mac for o in observations}),
        duration=round(time.perf_counter() - started, 3),
        status=status,
        error=error,
    )
    return ProbeResult(stats, tuple(observations))


def _take_frame(
    plan: SweepPlan,
    frame: bytes,
    ours: str,
    seen: dict[str, set[bytes]],
    looked_at: dict[str, int],
) -> Observation | None:
    parsed = sadp.parse_l2_frame(frame)
    if parsed is None or parsed.src_mac == ours:
        return None
    count = looked_at.get(parsed.src_mac, 0)
    if count >= PER_HOST_DATAGRAMS or (count == 0 and len(looked_at) >= MAX_HOSTS):
        return None
    looked_at[parsed.src_mac] = count + 1
    ip: str | None = parsed.sender_ip
    if ip and not plan.contains(int.from_bytes(socket.inet_aton(ip), "big")):
        return None  # outside the scope (or excluded)
    # Counter and checksum change with every announcement; one observation per distinct content.
    key = hashlib.blake2b(frame[:18] + frame[22:26] + frame[28:], digest_size=16).digest()
    digests = seen.setdefault(parsed.src_mac, set())
    if key in digests or len(digests) >= PER_HOST_REPLIES:
        return None
    digests.add(key)
    return Observation(
        probe=L2_NAME,
        interface=plan.interface.name,
        observed_at=datetime.now(UTC),
        ip=ip,
        mac=parsed.sender_mac if parsed.sender_mac != "00:00:00:00:00:00" else parsed.src_mac,
        fields=l2_fields(parsed),
        raw=frame[: MAX_RAW // 2].hex(),
    )

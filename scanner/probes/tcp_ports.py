"""Vendor TCP ports by connect, and hosts beyond routers by connect (no ARP there).

`tcp-ports` (phase 2): for each live host, which of the cameras' and recorders' ports are open
(research §0: Hikvision 8000/8443, Dahua 37777, telnet 23, web and RTSP ports; the shared port
map of scanner/probes/portscan.py) and what the device says unprompted on them, capped in bytes
and time; nothing is ever sent.

`tcp-sweep` (phase 1): for routed plans (`ProbeContext.routed`), find live hosts by a
non-blocking connect sweep over a few camera ports: a SYN-ACK or a reset from any of them means a
host is there. Its observations (mac None) put those hosts in `ctx.live_hosts()` for phase 2.

Both emit observations of family `tcp` (fingerprints/signatures/tcp.toml): `port`, `state`,
`banner` (printable text), `banner_hex` (first 64 bytes), `banner_size`, `cut`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from ipaddress import IPv4Address

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import portscan, tcpio
from scanner.probes.base import Probe, ProbeContext
from scanner.probes.limits import DEFAULT, Budget, Politeness, for_each_host

FAMILY = "tcp"
# Open ports are reported for all of portscan.PROBE_PORTS; only those where a device may talk
# first are read for a banner (web and RTSP ports wait for the client: their probes ask them).
CLIENT_FIRST = frozenset({80, 443, 554, 8080, 8443})
BANNER_WAIT = 0.5  # seconds to wait for an unprompted first byte
SWEEP_PORTS: tuple[int, ...] = (80, 554, 443, 8000, 37777)


def _printable(data: bytes) -> str:
    """Telnet option negotiation (IAC sequences) removed, then the printable text."""
    out = bytearray()
    i = 0
    while i < len(data):
        byte = data[i]
        if byte == 0xFF and i + 1 < len(data):
            i += 3 if data[i + 1] in (0xFB, 0xFC, 0xFD, 0xFE) else 2
            continue
        if 0x20 <= byte < 0x7F or byte in (0x0A, 0x0D, 0x09):
            out.append(byte)
        i += 1
    return " ".join(out.decode("ascii").split())[:1024]


def banner_fields(data: bytes) -> list[tuple[str, str]]:
    if not data:
        return []
    fields = [("banner_hex", data[:64].hex()), ("banner_size", str(len(data)))]
    text = _printable(data[:4096])
    if text:
        fields.append(("banner", text))
    return fields


class TcpPortsProbe(Probe):
    name = "tcp-ports"
    phase = 2

    def __init__(self, politeness: Politeness = DEFAULT) -> None:
        self.politeness = politeness

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        hosts = ctx.live_hosts()
        states, connects = portscan.port_map(ctx)
        progress = ctx.progress_for(f"{self.name} hosts")

        results = for_each_host(
            sorted(hosts),
            lambda ip: self._host(ip, hosts[ip], states.get(ip, {})),
            workers=self.politeness.total,
            stop=ctx.stop,
            progress=progress,
        )
        observations = tuple(o for obs, _ in results for o in obs)
        stats = ProbeStats(
            name=self.name,
            sent=connects + sum(n for _, n in results),
            answered=len({o.ip for o in observations}),
            duration=round(time.perf_counter() - started, 3),
            status=ProbeStatus.PARTIAL if ctx.stop.is_set() else ProbeStatus.OK,
        )
        return [ProbeResult(stats, observations)]

    def _host(
        self, ip: str, where: tuple[str | None, str], states: dict[int, str]
    ) -> tuple[list[Observation], int]:
        """One observation per open port; ports whose device may talk first are connected to
        again and read (capped) for an unprompted banner."""
        mac, interface = where
        budget = Budget(self.politeness.host_budget)
        found: list[Observation] = []
        sent = 0
        for port in portscan.PROBE_PORTS:
            if states.get(port) != portscan.OPEN:
                continue
            fields = [("port", str(port)), ("state", "open")]
            raw = f"{ip}:{port} open"
            if port not in CLIENT_FIRST and not budget.expired:
                ex = tcpio.exchange(
                    ip, port, budget=budget, idle=BANNER_WAIT, politeness=self.politeness
                )
                sent += 1
                if ex.data:
                    fields += banner_fields(ex.data)
                    fields += [("cut", ex.cut), ("read_ms", str(round(ex.elapsed * 1000)))]
                    raw = ex.data[:1024].hex()
            found.append(
                Observation(FAMILY, interface, datetime.now(UTC), ip, mac, tuple(fields), raw)
            )
        return found, sent


class TcpSweepProbe(Probe):
    """Finds hosts beyond routers (phase 1): at most `per_host` connects in flight per address,
    at most portscan.IN_FLIGHT overall, each abandoned after the connect timeout; a host is
    asked no more once any port answered (a SYN-ACK or a reset)."""

    name = "tcp-sweep"
    phase = 1

    def __init__(self, politeness: Politeness = DEFAULT, ports: tuple[int, ...] = SWEEP_PORTS):
        self.politeness = politeness
        self.ports = ports

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        if not ctx.routed:
            return []
        started = time.perf_counter()
        where = {
            str(IPv4Address(addr)): plan.interface
            for plan in ctx.routed
            for addr in plan.addresses()
        }
        progress = ctx.progress_for(f"{self.name} addresses")

        result = portscan.sweep(
            ((ip, self.ports) for ip in where),
            stop_rule=portscan.until_answer,
            stop=ctx.stop,
            per_host=self.politeness.per_host,
            timeout=self.politeness.connect_timeout,
            progress=progress,
        )
        observations = []
        for host in result.hosts:
            if not host.answered:
                continue
            fields = [("reply", "tcp-connect")]
            fields += [(_FIELD[s], str(p)) for p, s in sorted(host.states.items()) if s in _FIELD]
            raw = f"{host.ip}: " + ", ".join(f"{p} {s}" for p, s in sorted(host.states.items()))
            seen = datetime.fromtimestamp(host.first_answer, UTC)
            observations.append(
                Observation(FAMILY, where[host.ip], seen, host.ip, None, tuple(fields), raw)
            )
        interrupted = ctx.stop.is_set()
        stats = ProbeStats(
            name=self.name,
            sent=result.sent,
            answered=len(observations),
            duration=round(time.perf_counter() - started, 3),
            status=ProbeStatus.PARTIAL if result.error or interrupted else ProbeStatus.OK,
            error=result.error or ("interrupted" if interrupted else None),
            interface=",".join(dict.fromkeys(p.interface for p in ctx.routed)),
        )
        return [ProbeResult(stats, tuple(observations))]


_FIELD = {portscan.OPEN: "port", portscan.CLOSED: "closed_port"}

"""Vendor TCP ports by connect, and hosts beyond routers by connect (no ARP there).

`tcp-ports` (phase 2): for each live host, connect to the cameras' and recorders' ports
(research §0: Hikvision 8000/8443, Dahua 37777, telnet 23, web and RTSP ports) and read what the
device says unprompted, capped in bytes and time; nothing is ever sent. A host whose first two
ports both time out is treated as filtered and left alone.

`tcp-sweep` (phase 1): for routed plans (`ProbeContext.routed`), find live hosts by a
non-blocking connect sweep over a few camera ports: a SYN-ACK or a reset from any of them means a
host is there. Its observations (mac None) put those hosts in `ctx.live_hosts()` for phase 2.

Both emit observations of family `tcp` (fingerprints/signatures/tcp.toml): `port`, `state`,
`banner` (printable text), `banner_hex` (first 64 bytes), `banner_size`, `cut`.
"""

from __future__ import annotations

import errno
import selectors
import socket
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from ipaddress import IPv4Address

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import tcpio
from scanner.probes.base import Probe, ProbeContext
from scanner.probes.limits import DEFAULT, Budget, Politeness, for_each_host
from scanner.targets import RoutedPlan

FAMILY = "tcp"
# Ports whose devices talk first, or whose mere openness is a tell; client-first ports (web,
# RTSP) are only connected to here, the HTTP and RTSP probes ask them.
PORTS: tuple[int, ...] = (80, 443, 554, 8000, 8080, 8443, 37777, 23)
CLIENT_FIRST = frozenset({80, 443, 554, 8080, 8443})
BANNER_WAIT = 0.5  # seconds to wait for an unprompted first byte
SWEEP_PORTS: tuple[int, ...] = (80, 554, 443, 8000, 37777)
SWEEP_IN_FLIGHT = 512


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

    def __init__(self, politeness: Politeness = DEFAULT, ports: tuple[int, ...] = PORTS) -> None:
        self.politeness = politeness
        self.ports = ports

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        hosts = ctx.live_hosts()
        label = f"{self.name} hosts"

        def progress(done: int) -> None:
            if ctx.progress is not None:
                ctx.progress(label, done)

        results = for_each_host(
            sorted(hosts),
            lambda ip: self._host(ip, hosts[ip]),
            workers=self.politeness.total,
            stop=ctx.stop,
            progress=progress,
        )
        observations = tuple(o for obs, _ in results for o in obs)
        stats = ProbeStats(
            name=self.name,
            sent=sum(n for _, n in results),
            answered=len({o.ip for o in observations}),
            duration=round(time.perf_counter() - started, 3),
            status=ProbeStatus.PARTIAL if ctx.stop.is_set() else ProbeStatus.OK,
        )
        return [ProbeResult(stats, observations)]

    def _host(self, ip: str, where: tuple[str | None, str]) -> tuple[list[Observation], int]:
        mac, interface = where
        budget = Budget(self.politeness.host_budget)
        found: list[Observation] = []
        silent = 0
        sent = 0
        for index, port in enumerate(self.ports):
            if budget.expired or (index == 2 and silent == 2):
                break
            if port in CLIENT_FIRST:
                ex = self._connect_only(ip, port, budget)
            else:
                ex = tcpio.exchange(
                    ip, port, budget=budget, idle=BANNER_WAIT, politeness=self.politeness
                )
            sent += 1
            silent += ex.state == "timeout"
            if ex.state != "open":
                continue
            fields = [("port", str(port)), ("state", "open"), *banner_fields(ex.data)]
            if ex.data:
                fields += [("cut", ex.cut), ("read_ms", str(round(ex.elapsed * 1000)))]
            raw = ex.data[:1024].hex() if ex.data else f"{ip}:{port} open"
            found.append(
                Observation(FAMILY, interface, datetime.now(UTC), ip, mac, tuple(fields), raw)
            )
        return found, sent

    def _connect_only(self, ip: str, port: int, budget: Budget) -> tcpio.Exchange:
        """Connect and close at once: a web or RTSP port waits for the client to speak."""
        quick = replace(self.politeness, max_response=0)
        return tcpio.exchange(ip, port, budget=budget, politeness=quick)


# --- routed subnets: the connect sweep -------------------------------------------------------


@dataclass
class _Host:
    ip: str
    plan: RoutedPlan
    ports: deque[int]
    in_flight: int = 0
    open_ports: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    first_seen: float = 0.0


class TcpSweepProbe(Probe):
    """Finds hosts beyond routers: at most `per_host` connects in flight per address, at most
    SWEEP_IN_FLIGHT overall, each abandoned after the connect timeout."""

    name = "tcp-sweep"
    phase = 1

    def __init__(
        self,
        politeness: Politeness = DEFAULT,
        ports: tuple[int, ...] = SWEEP_PORTS,
        in_flight: int = SWEEP_IN_FLIGHT,
    ) -> None:
        self.politeness = politeness
        self.ports = ports
        self.in_flight = in_flight

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        if not ctx.routed:
            return []
        started = time.perf_counter()
        hosts = [
            _Host(str(IPv4Address(addr)), plan, deque(self.ports))
            for plan in ctx.routed
            for addr in plan.addresses()
        ]
        sent, error = self._sweep(hosts, ctx)
        live = [h for h in hosts if h.open_ports or h.refused]
        observations = []
        for host in live:
            fields = [("reply", "tcp-connect")]
            fields += [("port", str(p)) for p in sorted(host.open_ports)]
            fields += [("closed_port", str(p)) for p in sorted(host.refused)]
            raw = f"{host.ip}: open {sorted(host.open_ports)}, refused {sorted(host.refused)}"
            seen = datetime.fromtimestamp(host.first_seen, UTC)
            observations.append(
                Observation(FAMILY, host.plan.interface, seen, host.ip, None, tuple(fields), raw)
            )
        status = ProbeStatus.OK
        if error or ctx.stop.is_set():
            status = ProbeStatus.PARTIAL
        stats = ProbeStats(
            name=self.name,
            sent=sent,
            answered=len(live),
            duration=round(time.perf_counter() - started, 3),
            status=status,
            error=error or ("interrupted" if ctx.stop.is_set() else None),
            interface=",".join(dict.fromkeys(p.interface for p in ctx.routed)),
        )
        return [ProbeResult(stats, tuple(observations))]

    def _sweep(self, hosts: list[_Host], ctx: ProbeContext) -> tuple[int, str | None]:
        """Non-blocking connects, many in flight; a host stops being asked once it answered."""
        per_host = self.politeness.per_host
        timeout = self.politeness.connect_timeout
        selector = selectors.DefaultSelector()
        pending: dict[socket.socket, tuple[_Host, int, float]] = {}
        queue = deque(hosts)
        sent = 0
        error: str | None = None
        label = f"{self.name} addresses"
        finished = 0
        try:
            while (queue or pending) and not ctx.stop.is_set():
                # Start connects: round-robin over hosts so none waits behind another's ports.
                for _ in range(len(queue)):
                    if len(pending) >= self.in_flight:
                        break
                    host = queue.popleft()
                    answered = host.open_ports or host.refused
                    if answered or not host.ports:
                        if host.in_flight == 0:
                            finished += 1
                            if ctx.progress is not None:
                                ctx.progress(label, finished)
                        else:
                            queue.append(host)
                        continue
                    if host.in_flight < per_host:
                        port = host.ports.popleft()
                        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        sock.setblocking(False)
                        code = sock.connect_ex((host.ip, port))
                        sent += 1
                        if code in (0, errno.EINPROGRESS):
                            selector.register(sock, selectors.EVENT_WRITE)
                            pending[sock] = (host, port, time.monotonic() + timeout)
                            host.in_flight += 1
                        else:
                            self._record(host, port, code)
                            sock.close()
                    queue.append(host)
                wait = min((d for _, _, d in pending.values()), default=time.monotonic())
                events = selector.select(max(0.0, min(0.05, wait - time.monotonic())))
                for key, _ in events:
                    sock = key.fileobj  # type: ignore[assignment]
                    host, port, _deadline = pending.pop(sock)
                    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    self._record(host, port, code)
                    host.in_flight -= 1
                    selector.unregister(sock)
                    sock.close()
                now = time.monotonic()
                for sock, (host, _port, deadline) in list(pending.items()):
                    if now >= deadline:
                        del pending[sock]
                        host.in_flight -= 1
                        selector.unregister(sock)
                        sock.close()
        except OSError as exc:
            error = f"connect sweep stopped: {exc.strerror or exc}"
        finally:
            for sock in pending:
                sock.close()
            selector.close()
        return sent, error

    @staticmethod
    def _record(host: _Host, port: int, code: int) -> None:
        if code in (0, errno.ECONNREFUSED) and not host.first_seen:
            host.first_seen = time.time()
        if code == 0:
            host.open_ports.append(port)
        elif code == errno.ECONNREFUSED:
            host.refused.append(port)

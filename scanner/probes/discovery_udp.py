"""The send-and-listen loop shared by the vendor discovery probes (SADP, DHIP, Dahua 5050).

One UDP socket per interface: it sends the request to the multicast group and the broadcast
addresses in a few rounds early in the window, and the devices answer unicast to it. Every reply
is hostile: read with a size cap, parsed by a pure wire function, and a host that floods is cut
off after a few distinct replies, so nothing a device sends can stall the window or fill memory.
"""

from __future__ import annotations

import hashlib
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import IPv4Network

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes.base import ProbeContext, interface_failure
from scanner.targets import SweepPlan

MAX_DATAGRAM = 65535
PER_HOST_REPLIES = 4  # distinct replies kept per host
PER_HOST_DATAGRAMS = 64  # datagrams looked at per host; the rest of a flood is dropped unread
MAX_HOSTS = 65536
MAX_FIELD = 1024
MAX_RAW = 2048
ROUNDS = 2
LIMITED_BROADCAST = "255.255.255.255"

# (reply bytes) -> (mac, fields, raw excerpt) or None when it is not a reply we understand
Parser = Callable[[bytes], "tuple[str | None, tuple[tuple[str, str], ...], str] | None"]


@dataclass(frozen=True)
class Discovery:
    name: str  # the probe's name, in stats and observations
    port: int
    request: Callable[[], bytes]  # built once per round, so a request can carry a fresh id
    parse: Parser
    max_reply: int
    group: str | None = None  # multicast group, if the protocol has one
    broadcast: bool = True  # send to the subnet broadcast and to 255.255.255.255


def subnet_broadcast(plan: SweepPlan) -> str | None:
    """The broadcast address of the interface network that holds the plan's source address."""
    for addr, net in plan.interface.networks:
        if addr == plan.source_ip:
            network = IPv4Network(net, strict=False)
            if network.prefixlen < 31:
                return str(network.broadcast_address)
    return None


def destinations(spec: Discovery, plan: SweepPlan, *, on_device: bool = True) -> list[str]:
    """The group, the subnet broadcast, and 255.255.255.255 when the socket is bound to the
    interface (unbound, the limited broadcast would leave by whichever interface routes it)."""
    out = [spec.group] if spec.group else []
    if spec.broadcast:
        limited = LIMITED_BROADCAST if on_device else None
        out += [a for a in (subnet_broadcast(plan), limited) if a]
    return list(dict.fromkeys(out))


def open_socket(plan: SweepPlan) -> tuple[socket.socket, bool]:
    """Bound to the interface (SO_BINDTODEVICE, else the source address: then the second value
    is False), multicast out of it with TTL 1, broadcast allowed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(plan.source_ip))
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, plan.interface.name.encode())
            sock.bind(("0.0.0.0", 0))
            on_device = True
        except PermissionError:
            sock.bind((plan.source_ip, 0))
            on_device = False
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock, on_device


@dataclass
class _Collector:
    plan: SweepPlan
    spec: Discovery
    observations: list[Observation]
    seen: dict[str, set[bytes]]
    looked_at: dict[str, int]
    answered: set[str]

    def take(self, data: bytes, ip: str) -> None:
        if ip == self.plan.source_ip or len(data) > self.spec.max_reply:
            return
        count = self.looked_at.get(ip, 0)
        if count >= PER_HOST_DATAGRAMS or (count == 0 and len(self.looked_at) >= MAX_HOSTS):
            return
        self.looked_at[ip] = count + 1
        if not self.plan.contains(int.from_bytes(socket.inet_aton(ip), "big")):
            return  # outside the scope (or excluded): not ours to report
        digests = self.seen.setdefault(ip, set())
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if digest in digests or len(digests) >= PER_HOST_REPLIES:
            return
        digests.add(digest)
        parsed = self.spec.parse(data)
        if parsed is None:
            return
        mac, fields, raw = parsed
        self.answered.add(ip)
        self.observations.append(
            Observation(
                probe=self.spec.name,
                interface=self.plan.interface.name,
                observed_at=datetime.now(UTC),
                ip=ip,
                mac=mac,
                fields=tuple((k, v[:MAX_FIELD]) for k, v in fields),
                raw=raw[:MAX_RAW],
            )
        )


def run_discovery(ctx: ProbeContext, plan: SweepPlan, spec: Discovery) -> ProbeResult:
    """Send `spec`'s request on one interface and collect replies for the listen window."""
    label = plan.interface.name
    started = time.perf_counter()
    try:
        sock, on_device = open_socket(plan)
    except OSError as exc:
        return interface_failure(spec.name, label, exc)
    window = max(0.2, ctx.scope.listen)
    gap = min(1.0, window / 3)
    deadline = started + window
    targets = destinations(spec, plan, on_device=on_device)
    sent = 0
    errors: list[str] = []
    collector = _Collector(plan, spec, [], {}, {}, set())
    rounds_done = 0
    next_send = started
    with sock:
        while not ctx.stop.is_set():
            now = time.perf_counter()
            if now >= deadline:
                break
            if rounds_done < ROUNDS and now >= next_send:
                request = spec.request()
                for dest in targets:
                    try:
                        sock.sendto(request, (dest, spec.port))
                        sent += 1
                    except OSError as exc:
                        errors.append(f"{dest}: {exc.strerror or exc}")
                rounds_done += 1
                next_send = now + gap
            wait = deadline - now
            if rounds_done < ROUNDS:
                wait = min(wait, max(0.0, next_send - now))
            ready, _, _ = select.select([sock], [], [], min(wait, 0.1))
            if ready:
                _drain(sock, collector)
    status = ProbeStatus.OK
    error = None
    if errors:
        error = "; ".join(dict.fromkeys(errors))
        status = ProbeStatus.PARTIAL if sent else ProbeStatus.FAILED
    if ctx.stop.is_set() and time.perf_counter() < deadline:
        status = ProbeStatus.PARTIAL
        error = error or "interrupted before the listen window ended"
    stats = ProbeStats(
        name=spec.name,
        interface=label,
        sent=sent,
        answered=len(collector.answered),
        duration=round(time.perf_counter() - started, 3),
        status=status,
        error=error,
    )
    return ProbeResult(stats, tuple(collector.observations))


def _drain(sock: socket.socket, collector: _Collector, batch: int = 256) -> None:
    """Read what is queued (at most `batch` datagrams, so the clock is checked between)."""
    for _ in range(batch):
        try:
            data, addr = sock.recvfrom(MAX_DATAGRAM)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        collector.take(data, addr[0])


def run_on_all(
    ctx: ProbeContext, specs: Sequence[Discovery], run: Callable[..., ProbeResult] = run_discovery
) -> list[ProbeResult]:
    """Every spec on every interface at once: the windows overlap, so the cost is one window."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = [(plan, spec) for plan in ctx.plans for spec in specs]
    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: run(ctx, job[0], job[1]), jobs))

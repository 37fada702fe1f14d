"""Non-blocking TCP connect sweeps: many connects in flight from one thread, so a host that
silently drops SYNs costs one connect timeout, not a worker's time per port.

Two users: the routed-subnet discovery (`tcp-sweep`: is anything there?) and the phase-2 port
map (`port_map`): which of the probes' ports answer on each live host, computed once and shared
by the HTTP, RTSP and vendor-port probes, so none of them waits on a dead port or a silent host.
At most `per_host` connects to one address are in flight at a time (the politeness limit).
"""

from __future__ import annotations

import errno
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scanner.probes.base import ProbeContext
from scanner.probes.limits import DEFAULT

OPEN, CLOSED, SILENT, UNREACHABLE = "open", "closed", "silent", "unreachable"
IN_FLIGHT = 512
# Every port a phase-2 TCP probe asks: web, RTSP, Hikvision SDK (8000/8443), Dahua 37777, telnet.
PROBE_PORTS: tuple[int, ...] = (80, 443, 554, 8000, 8080, 8443, 37777, 23)


@dataclass
class HostPorts:
    ip: str
    ports: deque[int]
    states: dict[int, str] = field(default_factory=dict)
    in_flight: int = 0
    first_answer: float = 0.0  # time.time() of the first SYN-ACK or reset

    @property
    def answered(self) -> bool:
        return any(s in (OPEN, CLOSED) for s in self.states.values())

    def open_ports(self) -> list[int]:
        return [p for p, s in self.states.items() if s == OPEN]


StopRule = Callable[[HostPorts], bool]  # True: ask this host no more ports


def until_answer(host: HostPorts) -> bool:
    """Discovery: one SYN-ACK or reset proves the host is there."""
    return host.answered


def until_silent(host: HostPorts) -> bool:
    """Port map: every port, unless the first two went unanswered (a host dropping SYNs); while
    an unanswered host still has a connect in flight after one went silent, ask nothing new."""
    if host.answered:
        return False
    lost = sum(s in (SILENT, UNREACHABLE) for s in host.states.values())
    return lost >= 2 or (lost >= 1 and host.in_flight > 0)


@dataclass
class SweepResult:
    hosts: list[HostPorts]
    sent: int
    error: str | None = None


def sweep(
    targets: Iterable[tuple[str, tuple[int, ...]]],
    *,
    stop_rule: StopRule,
    stop: threading.Event | None = None,
    per_host: int = DEFAULT.per_host,
    timeout: float = DEFAULT.connect_timeout,
    in_flight: int = IN_FLIGHT,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """Connect to each (ip, ports) in port order, round-robin over hosts, and record each port's
    state. Sockets are closed as soon as the handshake is decided: nothing is ever sent."""
    hosts = [HostPorts(ip, deque(ports)) for ip, ports in targets]
    queue = deque(hosts)
    pending: dict[socket.socket, tuple[HostPorts, int, float]] = {}
    selector = selectors.DefaultSelector()
    sent = finished = 0
    error: str | None = None

    def settle(host: HostPorts, port: int, code: int) -> None:
        if code in (0, errno.ECONNREFUSED) and not host.first_answer:
            host.first_answer = time.time()
        if code == 0:
            host.states[port] = OPEN
        elif code == errno.ECONNREFUSED:
            host.states[port] = CLOSED
        elif code in (errno.ETIMEDOUT, errno.EINPROGRESS):
            host.states[port] = SILENT
        else:
            host.states[port] = UNREACHABLE

    try:
        while (queue or pending) and not (stop is not None and stop.is_set()):
            for _ in range(len(queue)):
                if len(pending) >= in_flight:
                    break
                host = queue.popleft()
                if stop_rule(host) or not host.ports:
                    if host.in_flight:
                        queue.append(host)  # let its last connects settle first
                    else:
                        finished += 1
                        if progress is not None:
                            progress(finished)
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
                        settle(host, port, code)
                        sock.close()
                queue.append(host)
            soonest = min((d for _, _, d in pending.values()), default=time.monotonic())
            wait = max(0.0, min(0.05, soonest - time.monotonic())) if pending else 0.0
            for key, _ in selector.select(wait) if pending else ():
                sock = key.fileobj  # type: ignore[assignment]
                host, port, _deadline = pending.pop(sock)
                settle(host, port, sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
                host.in_flight -= 1
                selector.unregister(sock)
                sock.close()
            now = time.monotonic()
            for sock, (host, port, deadline) in list(pending.items()):
                if now >= deadline:
                    del pending[sock]
                    settle(host, port, errno.ETIMEDOUT)
                    host.in_flight -= 1
                    selector.unregister(sock)
                    sock.close()
    except OSError as exc:
        error = f"connect sweep stopped: {exc.strerror or exc}"
    finally:
        for sock in pending:
            sock.close()
        selector.close()
    return SweepResult(hosts, sent, error)


# --- the shared phase-2 port map --------------------------------------------------------------


@dataclass
class _Map:
    prior: tuple[object, ...]  # the phase-1 observations it was made for (identity matters)
    done: threading.Event
    states: dict[str, dict[int, str]] = field(default_factory=dict)
    sent: int = 0


_lock = threading.Lock()
_maps: dict[int, _Map] = {}


def port_map(ctx: ProbeContext) -> tuple[dict[str, dict[int, str]], int]:
    """ip -> {port: state} for every live host of `ctx` over PROBE_PORTS, and the connects it
    took. Computed by the first probe that asks; the others wait for it and share it."""
    key = id(ctx.prior)
    with _lock:
        entry = _maps.get(key)
        mine = entry is None or entry.prior is not ctx.prior
        if mine:
            for old in [k for k, v in _maps.items() if v.done.is_set()]:
                del _maps[old]  # earlier scans' maps (their probes have them already)
            entry = _maps[key] = _Map(ctx.prior, threading.Event())
    assert entry is not None
    if not mine:
        entry.done.wait()
        return entry.states, entry.sent
    try:
        hosts = sorted(ctx.live_hosts())
        result = sweep(((ip, PROBE_PORTS) for ip in hosts), stop_rule=until_silent, stop=ctx.stop)
        entry.states.update({h.ip: dict(h.states) for h in result.hosts})
        entry.sent = result.sent
        return entry.states, entry.sent
    finally:
        entry.done.set()

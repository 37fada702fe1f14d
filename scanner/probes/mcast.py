"""Shared plumbing of the multicast discovery probes (WS-Discovery, SSDP): interface-bound UDP
sockets, a send-and-listen loop that ends with its window, and a per-host cap on replies.

A discovery probe's cost is its listen window, so everything here is about keeping to it: sends
happen only inside the window, the loop wakes often enough to honour `stop`, and a host that
floods us is kept to a few distinct replies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Event

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus

MAX_DATAGRAM = 65535
PER_HOST = 8  # observations kept from one host
PARSE_BUDGET = 256  # distinct datagrams parsed per host: a flood costs a bounded amount of CPU
MAX_REPLIES = 8192  # datagrams parsed per interface, whatever the number of hosts
RAW_LIMIT = 2048  # characters of `Observation.raw`
FIELD_LIMIT = 1024  # characters of one observation field
_SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
_POLL = 0.1  # seconds: how soon `stop` is noticed


def udp_socket(iface: str, source_ip: str, *, port: int = 0, group: str = "") -> socket.socket:
    """A UDP socket tied to one interface for sending multicast from `source_ip` (TTL 1, no
    loopback of our own datagrams). With `group`, bound to `port` on any address and joined to
    the group on that interface, to hear announcements (Hello, NOTIFY) sent to the group."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # Without CAP_NET_RAW this fails; the address binding below still picks the interface.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, iface.encode()[:15])
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source_ip))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        if group:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(("", port))
            mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(source_ip))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            sock.bind((source_ip, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass
class ReplyCap:
    """Admits each distinct datagram once, at most `per_host` per source address: repeats are
    free, and a host's flood of garbage uses up only its own budget (its genuine reply usually
    still gets through, since the budget is far above what a real device sends)."""

    per_host: int = PARSE_BUDGET
    total: int = MAX_REPLIES
    seen: dict[str, set[bytes]] = field(default_factory=dict)
    kept: int = 0
    dropped: int = 0

    def admit(self, ip: str, data: bytes) -> bool:
        digests = self.seen.setdefault(ip, set())
        digest = hashlib.blake2b(data, digest_size=16).digest()
        if digest in digests or len(digests) >= self.per_host or self.kept >= self.total:
            self.dropped += 1
            return False
        digests.add(digest)
        self.kept += 1
        return True


Dest = tuple[str, int] | tuple[str, int, int, int]  # IPv4, or IPv6 with flow info and scope
Send = tuple[float, socket.socket, bytes, Dest]  # (offset in the window, socket, payload, dest)
Handler = Callable[[socket.socket, bytes, tuple[str, int]], None]


def send_and_listen(
    sends: Sequence[Send],
    listen: Sequence[socket.socket],
    window: float,
    stop: Event,
    on_datagram: Handler,
) -> tuple[int, str | None]:
    """Send each datagram at its offset into the window, hand every datagram that arrives to
    `on_datagram` until the window ends or `stop` is set; returns (datagrams sent, last send
    error). Nothing is sent after the window."""
    start = time.monotonic()
    deadline = start + window
    pending = sorted(sends, key=lambda s: s[0])
    sent = 0
    error: str | None = None
    with selectors.DefaultSelector() as selector:
        for sock in listen:
            selector.register(sock, selectors.EVENT_READ)
        while not stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                break
            while pending and start + pending[0][0] <= now:
                _, sock, payload, dest = pending.pop(0)
                try:
                    sock.sendto(payload, dest)
                    sent += 1
                except OSError as exc:
                    error = f"send to {dest[0]}:{dest[1]}: {exc.strerror or exc}"
            wake = deadline if not pending else min(deadline, start + pending[0][0])
            for key, _ in selector.select(max(0.0, min(_POLL, wake - time.monotonic()))):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                for _ in range(64):  # drain, but let the clock be checked now and then
                    try:
                        data, addr = ready.recvfrom(MAX_DATAGRAM)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    on_datagram(ready, data, (str(addr[0]), int(addr[1])))
    return sent, error


def window_result(
    name: str,
    iface: str,
    started: float,
    *,
    sent: int,
    answered: int,
    observations: tuple[Observation, ...],
    error: str | None,
    stopped: bool,
    note: str | None = None,
) -> ProbeResult:
    """The result of one listen window on `iface` (begun at `started`, time.perf_counter()):
    PARTIAL when sending failed (`error`) or the scan was stopped; `note` says what else went
    wrong when nothing did."""
    status = ProbeStatus.OK
    if error or stopped:
        status = ProbeStatus.PARTIAL
        error = error or "interrupted before the listen window ended"
    stats = ProbeStats(
        name=name,
        interface=iface,
        sent=sent,
        answered=answered,
        duration=round(time.perf_counter() - started, 3),
        status=status,
        error=error or note,
    )
    return ProbeResult(stats, observations)


def in_plan(plan_contains: Callable[[int], bool], ip: str) -> bool:
    try:
        return plan_contains(int.from_bytes(socket.inet_aton(ip), "big"))
    except OSError:
        return False


# /proc/thread-self/net is the calling thread's network namespace (/proc/net is the process's).
_NET = "/proc/thread-self/net" if os.path.isdir("/proc/thread-self/net") else "/proc/net"
IF_INET6 = f"{_NET}/if_inet6"
_IFA_F_TENTATIVE, _IFA_F_DADFAILED = 0x40, 0x08


def ipv6_link_local(iface: str, path: str = IF_INET6) -> str | None:
    """The interface's usable IPv6 link-local address (what FF02::C is reached from), or None
    when it has none: IPv6 off, or the address still in duplicate address detection."""
    try:
        with open(path, encoding="ascii", errors="replace") as source:
            lines = source.read(1 << 20).splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) != 6 or parts[5] != iface or len(parts[0]) != 32:
            continue
        try:
            scope, flags = int(parts[3], 16), int(parts[4], 16)
            packed = bytes.fromhex(parts[0])
        except ValueError:
            continue
        if scope == 0x20 and not flags & (_IFA_F_TENTATIVE | _IFA_F_DADFAILED):
            return socket.inet_ntop(socket.AF_INET6, packed)
    return None


def udp6_socket(iface: str, index: int, link_local: str) -> socket.socket:
    """A UDP socket sending IPv6 multicast out of one interface from its link-local address
    (hop limit 1, no loopback of our own datagrams)."""
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, iface.encode()[:15])
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((link_local, 0, 0, index))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


ARP_TABLE = f"{_NET}/arp"
_TABLE_MAX = 16 << 20  # bytes of the kernel's table read (a /16 of neighbours is ~5 MB)
_TABLE_TTL = 0.5  # seconds a read of the table is reused
_MISS_TTL = 0.02  # ... or, for an address it did not hold, this long


class _Neighbours:
    """The kernel's neighbour table, read whole and reused for a while however many replies
    arrive (a flood must not turn into a flood of 5 MB reads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._read_at: dict[str, float] = {}
        self._tables: dict[str, dict[tuple[str, str], str]] = {}

    def lookup(self, ip: str, iface: str, path: str) -> str | None:
        with self._lock:
            age = time.monotonic() - self._read_at.get(path, -1e9)
            known = self._tables.get(path, {})
            # A miss may be a host the kernel learnt a moment ago: re-read sooner then.
            if age > _TABLE_TTL or ((ip, iface) not in known and age > _MISS_TTL):
                known = self._tables[path] = _read_table(path)
                self._read_at[path] = time.monotonic()
            return known.get((ip, iface))


def _read_table(path: str) -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    try:
        with open(path, encoding="ascii", errors="replace") as source:
            lines = source.read(_TABLE_MAX).splitlines()[1:]
    except OSError:
        return table
    for line in lines:
        parts = line.split()
        if len(parts) >= 6 and len(parts[3]) == 17 and parts[3] != "00:00:00:00:00:00":
            table[(parts[0], parts[5])] = parts[3].upper()
    return table


_NEIGHBOURS = _Neighbours()


def neighbour_mac(ip: str, iface: str, path: str = ARP_TABLE) -> str | None:
    """The MAC the kernel learnt for `ip` on `iface` (a device that answered us had to resolve
    our address, so it is usually there), upper-case; None when unknown."""
    return _NEIGHBOURS.lookup(ip, iface, path)


def now() -> datetime:
    return datetime.now(UTC)


def bound(value: str, limit: int = FIELD_LIMIT) -> str:
    return value[:limit]


def raw_text(data: bytes) -> str:
    """A printable excerpt of a reply for the evidence trail."""
    return data[:RAW_LIMIT].decode("utf-8", errors="backslashreplace")[:RAW_LIMIT]

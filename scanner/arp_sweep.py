"""The ARP sweep engine: one raw socket, one loop that sends paced and receives meanwhile.

Design (after arp-scan): a single select() loop rather than a sender and a receiver thread, so
Python never fights itself for the GIL at high rates; the kernel's BPF filter and a large receive
buffer keep replies safe while the loop is busy sending. Addresses come lazily from the plan and
only answered ones are remembered, so memory follows live hosts, not the size of the scope.
"""

from __future__ import annotations

import errno
import select
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Event

from scanner import arp_wire, bpf
from scanner.ratelimit import TokenBucket
from scanner.targets import SweepPlan

RCVBUF_BYTES = 32 * 1024 * 1024
SO_RCVBUFFORCE = 33
MAX_BATCH = 256  # sends between two drains of the receive queue
MAX_RATE = 100_000
QUIET_CAP = 5.0  # never wait more than this many timeouts after the last send


@dataclass(frozen=True)
class ArpReply:
    ip: str
    mac: str
    seen_at: datetime
    raw: bytes


@dataclass
class SweepOutcome:
    interface: str
    sent: int = 0
    replies: list[ArpReply] = field(default_factory=list)
    answered_ips: int = 0
    duration: float = 0.0
    send_errors: int = 0
    error: str | None = None
    interrupted: bool = False


def _open_socket(plan: SweepPlan) -> socket.socket:
    assert plan.interface.mac is not None
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(arp_wire.ETH_P_ARP))
    try:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF_BYTES)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF_BYTES)
        bpf.attach(sock, bpf.arp_reply_filter(arp_wire.mac_to_bytes(plan.interface.mac)))
        sock.bind((plan.interface.name, arp_wire.ETH_P_ARP))
        sock.setblocking(False)
        _drain(sock, [])  # frames queued before the filter was attached
    except BaseException:
        sock.close()
        raise
    return sock


def _drain(sock: socket.socket, into: list[tuple[float, bytes]]) -> int:
    got = 0
    while True:
        try:
            data = sock.recv(128)
        except (BlockingIOError, InterruptedError):
            return got
        into.append((time.time(), data))
        got += 1


class _Pass:
    """One pass over a stream of addresses: send paced, receive in between, wait for quiet."""

    def __init__(
        self,
        sock: socket.socket,
        template: bytearray,
        bucket: TokenBucket,
        stop: Event,
        progress: Callable[[int], None] | None,
        wanted: Callable[[int], bool],
    ) -> None:
        self.sock = sock
        self.wanted = wanted
        self.answered: set[int] = set()
        self._counted = 0
        self.template = template
        self.bucket = bucket
        self.stop = stop
        self.progress = progress
        self.raw: list[tuple[float, bytes]] = []
        self.sent = 0
        self.send_errors = 0

    def _send(self, addr: int) -> None:
        self.template[arp_wire.TARGET_IP_OFFSET : arp_wire.TARGET_IP_OFFSET + 4] = addr.to_bytes(
            4, "big"
        )
        while True:
            try:
                self.sock.send(self.template)
                self.sent += 1
                return
            except BlockingIOError:
                select.select([], [self.sock], [], 0.01)
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self.send_errors += 1
                _drain(self.sock, self.raw)
                time.sleep(0.001)  # the NIC queue is full: back off, then send the same frame

    def _count_answers(self) -> None:
        """Track which targets answered, from the sender-address bytes only: cheap enough for
        the hot loop, and it lets a pass end as soon as every target has answered instead of
        always waiting out the quiet period."""
        new, self._counted = self.raw[self._counted :], len(self.raw)
        for _ts, data in new:
            if len(data) >= arp_wire.FRAME_LEN:
                addr = int.from_bytes(data[28:32], "big")
                if self.wanted(addr):
                    self.answered.add(addr)

    def run(self, addrs: Iterator[int], timeout: float) -> None:
        pending = True
        last_activity = time.perf_counter()
        while not self.stop.is_set():
            if pending:
                for _ in range(self.bucket.take(MAX_BATCH)):
                    addr = next(addrs, None)
                    if addr is None:
                        pending = False
                        break
                    self._send(addr)
                if self.progress is not None:
                    self.progress(self.sent)
                last_activity = time.perf_counter()
            if _drain(self.sock, self.raw):
                last_activity = max(last_activity, time.perf_counter())
            self._count_answers()
            now = time.perf_counter()
            if pending:
                wait = self.bucket.delay()
            elif len(self.answered) >= self.sent:
                return  # everyone asked has answered: nothing left to wait for
            else:
                wait = last_activity + timeout - now
                if wait <= 0:
                    return
            select.select([self.sock], [], [], min(wait, 0.05))


def sweep(
    plan: SweepPlan,
    *,
    rate: int,
    retries: int = 1,
    timeout: float = 0.5,
    stop: Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepOutcome:
    """Sweep one plan; errors after the socket opened are reported in the outcome, not raised,
    so the replies already received still count."""
    if not 1 <= rate <= MAX_RATE:
        raise ValueError(f"rate must be between 1 and {MAX_RATE}")
    stop = stop or Event()
    outcome = SweepOutcome(interface=plan.interface.name)
    started = time.perf_counter()
    assert plan.interface.mac is not None
    template = bytearray(
        arp_wire.build_request(
            arp_wire.mac_to_bytes(plan.interface.mac),
            socket.inet_aton(plan.source_ip),
            b"\0\0\0\0",
        )
    )
    sock = _open_socket(plan)
    seen: dict[tuple[bytes, bytes], tuple[float, bytes]] = {}
    answered: set[int] = set()
    bucket = TokenBucket(rate)
    sent_before = 0
    ended = started

    def note(raw: list[tuple[float, bytes]]) -> None:
        for ts, data in raw:
            pkt = arp_wire.parse_frame(data)
            if pkt is None or pkt.op != arp_wire.ARP_REPLY:
                continue
            key = (pkt.sender_ip, pkt.sender_mac)
            if key not in seen:
                seen[key] = (ts, data[: arp_wire.FRAME_LEN])
            answered.add(int.from_bytes(pkt.sender_ip, "big"))

    def wanted(addr: int) -> bool:
        return addr not in answered and plan.contains(addr)

    def report(n: int) -> None:
        if progress is not None:
            progress(sent_before + n)

    try:
        for attempt in range(retries + 1):
            if attempt == 0:
                addrs: Iterator[int] = plan.addresses()
            else:
                addrs = (a for a in plan.addresses() if a not in answered)
            one = _Pass(sock, template, bucket, stop, report, wanted)
            try:
                one.run(addrs, timeout * (1.5**attempt))
            finally:
                ended = time.perf_counter()
                outcome.sent += one.sent
                outcome.send_errors += one.send_errors
                sent_before = outcome.sent
                note(one.raw)
            if stop.is_set():
                outcome.interrupted = True
                break
            if len(answered) >= plan.count:
                break
    except OSError as exc:
        outcome.error = f"{plan.interface.name}: {exc.strerror or exc}"
    finally:
        sock.close()
    outcome.replies = [
        ArpReply(
            ip=socket.inet_ntoa(ip),
            mac=arp_wire.mac_to_str(mac),
            seen_at=datetime.fromtimestamp(ts, UTC),
            raw=raw,
        )
        for (ip, mac), (ts, raw) in sorted(seen.items(), key=lambda kv: kv[1][0])
    ]
    outcome.answered_ips = len(answered)
    outcome.duration = ended - started  # the sweep itself, not the bookkeeping after it
    return outcome

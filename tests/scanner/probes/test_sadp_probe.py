"""The SADP probe's pure parts and its send/listen loop, driven through a fake socket (no packet
leaves this process): observation fields, destinations, window, stop, floods, scope."""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scanner.interfaces import Interface
from scanner.model import ProbeStatus, Scope
from scanner.probes import discovery_udp
from scanner.probes import sadp as sadp_probe
from scanner.probes.base import ProbeContext
from scanner.targets import SweepPlan
from scanner.wire import sadp

DATA = Path(__file__).parents[1] / "wire" / "data"
REAL = (DATA / "sadp_probematch_ds2cd2385g1.xml").read_bytes()
LAB_NET = (int.from_bytes(socket.inet_aton("198.18.0.0"), "big"), 0)


def _plan(excluded: str | None = None) -> SweepPlan:
    first = LAB_NET[0]
    ranges: tuple[tuple[int, int], ...] = ((first + 1, first + 254),)
    if excluded:
        cut = int.from_bytes(socket.inet_aton(excluded), "big")
        ranges = ((first + 1, cut - 1), (cut + 1, first + 254))
    iface = Interface(
        name="lab0",
        index=2,
        mac="02:00:00:00:00:01",
        up=True,
        loopback=False,
        networks=(("198.18.0.1", "198.18.0.0/24"),),
    )
    return SweepPlan(interface=iface, source_ip="198.18.0.1", ranges=ranges)


def _ctx(listen: float = 0.6, plan: SweepPlan | None = None) -> ProbeContext:
    scope = Scope(targets=("198.18.0.0/24",), interfaces=("lab0",), listen=listen)
    return ProbeContext(scope=scope, plans=(plan or _plan(),))


class FakeSocket:
    """A datagram socket whose peers are scripted: `answer(dest)` says what comes back (from
    which address) for each datagram sent; select() works on a real AF_UNIX pair."""

    def __init__(self, answer: Callable[[tuple[str, int], bytes], list[tuple[str, bytes]]]):
        self._ours, self._theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._ours.setblocking(False)
        self._theirs.setblocking(False)
        self._sources: deque[str] = deque()
        self._answer = answer
        self.sent: list[tuple[tuple[str, int], bytes]] = []
        self.lock = threading.Lock()

    def inject(self, ip: str, data: bytes) -> bool:
        with self.lock:
            try:
                self._theirs.send(data)
            except OSError:  # full, or closed when the window ended
                return False
            self._sources.append(ip)
            return True

    def fileno(self) -> int:
        return self._ours.fileno()

    def sendto(self, data: bytes, addr: tuple[str, int]) -> int:
        self.sent.append((addr, data))
        for ip, reply in self._answer(addr, data):
            self.inject(ip, reply)
        return len(data)

    def recvfrom(self, size: int) -> tuple[bytes, tuple[str, int]]:
        with self.lock:
            data = self._ours.recv(size)
            return data, (self._sources.popleft(), 40000)

    def close(self) -> None:
        self._ours.close()
        self._theirs.close()

    def __enter__(self) -> FakeSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _spec() -> discovery_udp.Discovery:
    return discovery_udp.Discovery(
        name="sadp",
        port=sadp.PORT,
        request=lambda: sadp.build_inquiry("11223344-5566-7788-9900-112233445566"),
        parse=sadp_probe.parse_udp,
        max_reply=sadp.MAX_REPLY,
        group=sadp.GROUP,
    )


def _run(monkeypatch: pytest.MonkeyPatch, fake: FakeSocket, ctx: ProbeContext | None = None) -> Any:
    monkeypatch.setattr(discovery_udp, "open_socket", lambda plan: (fake, True))
    ctx = ctx or _ctx()
    return discovery_udp.run_discovery(ctx, ctx.plans[0], _spec())


def test_probe_match_fields_are_verbatim_identity_plus_protocol_fields() -> None:
    parsed = sadp_probe.parse_udp(REAL)
    assert parsed is not None
    mac, fields, raw = parsed
    values = dict(fields)
    assert mac == "58:50:ED:1F:E3:85"
    assert values["reply"] == "sadp-probematch"
    assert values["model"] == "DS-2CD2385G1-I"
    assert values["serial"] == "DS-2CD2385G1-I20190712AAWRD12345678"
    assert values["firmware"] == "V5.6.2build 190701"
    assert values["activated"] == "true" and values["oem_code"] == "1"
    assert values["http_port"] == "80" and values["command_port"] == "8000"
    assert "parse" not in values
    assert raw.startswith("<?xml") and len(raw) <= discovery_udp.MAX_RAW
    assert sadp_probe.parse_udp(b"<Probe><Types>inquiry</Types></Probe>") is None


def test_destinations_are_group_subnet_broadcast_and_limited_broadcast() -> None:
    assert discovery_udp.destinations(_spec(), _plan()) == [
        "239.255.255.250", "198.18.0.255", "255.255.255.255",
    ]  # fmt: skip
    # a socket not bound to the interface never sends the limited broadcast
    unbound = discovery_udp.destinations(_spec(), _plan(), on_device=False)
    assert unbound == ["239.255.255.250", "198.18.0.255"]


def test_sends_two_rounds_and_collects_replies_within_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def answer(dest: tuple[str, int], data: bytes) -> list[tuple[str, bytes]]:
        assert dest[1] == sadp.PORT and b"<Types>inquiry</Types>" in data
        return [("198.18.0.11", REAL)] if dest[0] == sadp.GROUP else []

    fake = FakeSocket(answer)
    started = time.perf_counter()
    result = _run(monkeypatch, fake)
    elapsed = time.perf_counter() - started
    assert 0.55 <= elapsed < 1.0
    assert result.stats.sent == 6 == len(fake.sent)
    assert result.stats.answered == 1 and result.stats.status is ProbeStatus.OK
    (obs,) = result.observations  # the second round's identical reply is not a new one
    assert obs.ip == "198.18.0.11" and obs.mac == "58:50:ED:1F:E3:85"
    assert obs.probe == "sadp" and obs.interface == "lab0"


def test_a_flood_from_one_host_is_capped_and_does_not_stall(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeSocket(lambda dest, data: [])
    done = threading.Event()

    injected = 0

    def flood() -> None:
        nonlocal injected
        n = 0
        while not done.is_set():
            n += 1
            reply = REAL.replace(b"V5.6.2build", f"V{n}build".encode())
            if fake.inject("198.18.0.66", reply):
                injected += 1
            else:
                time.sleep(0.001)

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    started = time.perf_counter()
    try:
        result = _run(monkeypatch, fake)
    finally:
        done.set()
        thread.join()
    assert time.perf_counter() - started < 1.2
    assert injected > discovery_udp.PER_HOST_DATAGRAMS
    assert result.stats.answered == 1
    assert len(result.observations) == discovery_udp.PER_HOST_REPLIES


def test_garbage_oversized_and_out_of_scope_replies_are_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big = REAL.replace(b"</ProbeMatch>", b"<X>" + b"x" * sadp.MAX_REPLY + b"</X></ProbeMatch>")

    def answer(dest: tuple[str, int], data: bytes) -> list[tuple[str, bytes]]:
        return [
            ("198.18.0.20", b"\x00\xff garbage"),
            ("198.18.0.21", big),
            ("198.18.0.30", REAL),  # excluded from the scope
            ("198.18.1.5", REAL),  # not a target
            ("198.18.0.1", REAL),  # ourselves
        ]

    fake = FakeSocket(answer)
    result = _run(monkeypatch, fake, _ctx(plan=_plan(excluded="198.18.0.30")))
    assert result.stats.answered == 0 and result.observations == ()
    assert result.stats.status is ProbeStatus.OK


def test_stop_ends_the_window_early(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeSocket(lambda dest, data: [])
    ctx = _ctx(listen=5.0)
    threading.Timer(0.3, ctx.stop.set).start()
    started = time.perf_counter()
    result = _run(monkeypatch, fake, ctx)
    assert time.perf_counter() - started < 1.0
    assert result.stats.status is ProbeStatus.PARTIAL


def test_send_errors_are_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeSocket(lambda dest, data: [])

    def refuse(data: bytes, addr: tuple[str, int]) -> int:
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(fake, "sendto", refuse)
    result = _run(monkeypatch, fake)
    assert result.stats.status is ProbeStatus.FAILED and result.stats.sent == 0
    assert "unreachable" in (result.stats.error or "")


def test_socket_that_cannot_open_fails_the_interface_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(plan: SweepPlan) -> tuple[socket.socket, bool]:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(discovery_udp, "open_socket", boom)
    ctx = _ctx()
    result = discovery_udp.run_discovery(ctx, ctx.plans[0], _spec())
    assert result.stats.status is ProbeStatus.FAILED and "lab0" in (result.stats.error or "")


def test_layer2_frames_become_observations_once_per_content() -> None:
    plan = _plan()
    seen: dict[str, set[bytes]] = {}
    looked: dict[str, int] = {}
    frames = [
        sadp.build_device_online("a4:14:37:5e:21:0b", "198.18.0.11", "255.255.255.0", n)
        for n in range(1, 20)
    ]
    got = [sadp_probe._take_frame(plan, f, "02:00:00:00:00:01", seen, looked) for f in frames]
    observations = [o for o in got if o is not None]
    assert len(observations) == 1  # only the counter changed
    obs = observations[0]
    assert obs.probe == "sadp-l2" and obs.mac == "A4:14:37:5E:21:0B" and obs.ip == "198.18.0.11"
    assert dict(obs.fields)["reply"] == "sadp-l2"
    assert dict(obs.fields)["query"] == "DeviceOnlineRequest"
    ours = sadp.build_device_online("02:00:00:00:00:01", "198.18.0.1", "255.255.255.0", 1)
    assert sadp_probe._take_frame(plan, ours, "02:00:00:00:00:01", {}, {}) is None
    outside = sadp.build_device_online("a4:14:37:5e:21:0c", "10.0.0.5", "255.0.0.0", 1)
    assert sadp_probe._take_frame(plan, outside, "02:00:00:00:00:01", {}, {}) is None
    assert sadp_probe._take_frame(plan, b"\x00" * 80, "02:00:00:00:00:01", {}, {}) is None

"""ONVIF WS-Discovery probe: typed and untyped Probes to 239.255.255.250:3702 (and FF02::C where
the interface has an IPv6 link-local address) on every chosen interface, each sent twice within
the listen window, and the ProbeMatches, SOAP faults and Hello announcements that come back
turned into observations.

The scopes are what identify a camera: `hardware` is the model, `name` the label (which on OEM
units is not the maker: identification reads the maker from the other tells), and the endpoint's
form (`urn:uuid:` with the MAC as its tail, or a bare `uuid:`) tells Hikvision from Dahua stacks.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from scanner.model import Observation, ProbeResult
from scanner.probes import mcast
from scanner.probes.base import PerInterfaceProbe, ProbeContext, interface_failure
from scanner.targets import SweepPlan
from scanner.wire import wsd

PROBE_TYPES: tuple[tuple[str, ...], ...] = ((wsd.TYPE_NVT,), (wsd.TYPE_DEVICE,), ())
ROUNDS = 2  # every probe is sent this many times, spaced within the window
RETRY_AT = 1.0  # seconds into the window of the second round (earlier in short windows)
_TELLING = re.compile(
    r"^onvif://www\.onvif\.org/(?:name|hardware|location|extension|mac)/", re.IGNORECASE
)


def _style(match: wsd.Match, device_mac: str | None) -> tuple[str, str]:
    """(endpoint style, the MAC when the endpoint's UUID ends with it)."""
    node = wsd.endpoint_node(match.endpoint)
    tail = ""
    if node and device_mac and node == device_mac.replace(":", "").lower():
        tail = device_mac
    return wsd.endpoint_style(match.endpoint), tail


def match_fields(reply: str, match: wsd.Match, device_mac: str | None) -> list[tuple[str, str]]:
    """Observation fields of one ProbeMatch or Hello (pure: the probe's tests call it)."""
    scopes = wsd.read_scopes(match.scopes)
    mac = wsd.normalize_mac(scopes.mac) or (device_mac or "")
    style, tail = _style(match, mac or None)
    fields: list[tuple[str, str]] = [("reply", reply)]
    if scopes.hardware:
        fields.append(("model", scopes.hardware))
    if scopes.name:
        fields.append(("name", scopes.name))
        brand = scopes.name
        if scopes.hardware and brand.endswith(" " + scopes.hardware):
            brand = brand[: -len(scopes.hardware) - 1].strip()  # `HIKVISION DS-2CD...`
        if brand:
            fields.append(("brand", brand))
    if scopes.serial:
        fields.append(("serial", scopes.serial))
    if scopes.mac:
        fields.append(("mac_scope", scopes.mac))
    fields += [
        ("endpoint", match.endpoint),
        ("endpoint_style", style),
    ]
    if tail:
        fields.append(("endpoint_mac_tail", tail))
    fields += [
        ("types", " ".join(match.types)),
        ("scopes", " ".join(match.scopes)),
        ("xaddrs", " ".join(match.xaddrs)),
    ]
    if match.metadata_version:
        fields.append(("metadata_version", match.metadata_version))
    for location in scopes.locations[:4]:
        fields.append(("location", location))
    for extension in scopes.extensions[:4]:
        fields.append(("extension", extension))
    # One line with every tell, so a signature can require several of them together; the
    # telling scope categories first, so the field's length bound never cuts them off.
    telling = [s for s in match.scopes if _TELLING.match(s)]
    rest = [s for s in match.scopes if not _TELLING.match(s)]
    signals = [f"endpoint={style}", f"mac_tail={'yes' if tail else 'no'}", *telling, *rest]
    fields.append(("signals", " ".join(signals)))
    return [(k, mcast.bound(v)) for k, v in fields if v]


def fault_fields(msg: wsd.Message) -> list[tuple[str, str]]:
    fields = [
        ("reply", "soap-fault"),
        ("fault_code", msg.fault_code),
        ("fault_subcode", msg.fault_subcode),
        ("fault_reason", msg.fault_reason),
    ]
    return [(k, mcast.bound(v)) for k, v in fields if v]


class WsdProbe(PerInterfaceProbe):
    name = "wsd"

    def probe_interface(self, ctx: ProbeContext, plan: SweepPlan) -> ProbeResult:
        iface = plan.interface.name
        started = time.perf_counter()
        window = max(0.2, ctx.scope.listen)
        try:
            out = mcast.udp_socket(iface, plan.source_ip)
        except OSError as exc:
            return interface_failure(self.name, iface, exc)
        sockets = [out]
        note = None
        try:
            try:
                sockets.append(
                    mcast.udp_socket(iface, plan.source_ip, port=wsd.PORT, group=wsd.GROUP_V4)
                )
            except OSError as exc:  # port 3702 held exclusively: we still get ProbeMatches
                note = f"not listening for Hello on {iface}: {exc.strerror or exc}"
            targets: list[tuple[socket.socket, mcast.Dest]] = [(out, (wsd.GROUP_V4, wsd.PORT))]
            out6 = self._ipv6_socket(plan)
            if out6 is not None:
                sockets.append(out6)
                targets.append((out6, (wsd.GROUP_V6, wsd.PORT, 0, plan.interface.index)))
            collector = _Collector(self.name, plan, out, out6)
            payloads = [wsd.build_probe(f"urn:uuid:{uuid.uuid4()}", t) for t in PROBE_TYPES]
            retry = min(RETRY_AT, window * 0.4)
            sends: list[mcast.Send] = [
                (round_ * retry, sock, payload, dest)
                for round_ in range(ROUNDS)
                for sock, dest in targets
                for payload in payloads
            ]
            sent, error = mcast.send_and_listen(
                sends, sockets, window, ctx.stop, collector.on_datagram
            )
        finally:
            for sock in sockets:
                sock.close()
        return mcast.window_result(
            self.name,
            iface,
            started,
            sent=sent,
            answered=len(collector.answered),
            observations=tuple(collector.observations),
            error=error,
            stopped=ctx.stop.is_set(),
            note=note,
        )

    @staticmethod
    def _ipv6_socket(plan: SweepPlan) -> socket.socket | None:
        """FF02::C is asked too where the interface has IPv6 (a link-local address)."""
        link_local = mcast.ipv6_link_local(plan.interface.name)
        if link_local is None or plan.interface.index <= 0:
            return None
        try:
            return mcast.udp6_socket(plan.interface.name, plan.interface.index, link_local)
        except OSError:
            return None


def attribute_v6(match: wsd.Match, plan_contains: Callable[[int], bool]) -> str | None:
    """The IPv4 address (inside the targets) of a device that answered over IPv6, from its
    XAddrs: the report's devices are keyed by IPv4 address and MAC."""
    for xaddr in match.xaddrs:
        try:
            host = urlsplit(xaddr).hostname or ""
        except ValueError:
            continue
        if mcast.in_plan(plan_contains, host) and host.count(".") == 3:
            return host
    return None


class _Collector:
    """Turns datagrams into observations: replies to us on the sending socket, announcements
    (Hello, Bye) on the group socket; anything from outside the plan's targets is ignored."""

    def __init__(
        self,
        name: str,
        plan: SweepPlan,
        unicast: socket.socket,
        unicast6: socket.socket | None = None,
    ) -> None:
        self.name = name
        self.plan = plan
        self.unicast = unicast
        self.unicast6 = unicast6
        self.cap = mcast.ReplyCap()
        self.answered: set[str] = set()
        self.observations: list[Observation] = []
        self._seen: set[tuple[str, ...]] = set()  # a device answering each of our probes
        self._per_ip: dict[str, int] = {}

    def on_datagram(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> None:
        if self.unicast6 is not None and sock is self.unicast6:
            self._on_ipv6(data, addr[0])
            return
        ip = addr[0]
        if not mcast.in_plan(self.plan.contains, ip) or not self.cap.admit(ip, data):
            return
        msg = wsd.parse_message(data)
        if msg is None:
            return
        to_us = sock is self.unicast
        if to_us and msg.kind in ("probematches", "fault"):
            self.answered.add(ip)
        elif msg.kind not in ("hello", "bye"):
            return  # someone else's Probe, or a reply we cannot place
        iface = self.plan.interface.name
        device_mac = mcast.neighbour_mac(ip, iface)
        if msg.kind == "fault":
            if (ip, "fault") not in self._seen:
                self._seen.add((ip, "fault"))
                self._add(ip, device_mac, fault_fields(msg), data)
            return
        reply = {"probematches": "wsd-probematches", "hello": "wsd-hello", "bye": "wsd-bye"}
        for match in msg.matches:
            key = (ip, msg.kind, match.endpoint, *match.scopes)
            if key in self._seen:
                continue
            self._seen.add(key)
            fields = match_fields(reply[msg.kind], match, device_mac)
            if msg.malformed:
                fields.append(("malformed", "xml"))
            scope_mac = wsd.normalize_mac(wsd.read_scopes(match.scopes).mac)
            self._add(ip, device_mac or scope_mac or None, fields, data)

    def _on_ipv6(self, data: bytes, source: str) -> None:
        """A ProbeMatch that came back over IPv6, kept under the IPv4 address its XAddrs name
        (inside the targets); one we cannot place that way is dropped."""
        if not self.cap.admit(source, data):
            return
        msg = wsd.parse_message(data)
        if msg is None or msg.kind != "probematches":
            return
        for match in msg.matches:
            ip = attribute_v6(match, self.plan.contains)
            if ip is None:
                continue
            self.answered.add(ip)
            key = (ip, "ipv6", match.endpoint, *match.scopes)
            if key in self._seen:
                continue
            self._seen.add(key)
            device_mac = mcast.neighbour_mac(ip, self.plan.interface.name)
            fields = match_fields("wsd-probematches", match, device_mac)
            fields += [("family", "ipv6"), ("source", mcast.bound(source, 64))]
            scope_mac = wsd.normalize_mac(wsd.read_scopes(match.scopes).mac)
            self._add(ip, device_mac or scope_mac or None, fields, data)

    def _add(self, ip: str, mac: str | None, fields: list[tuple[str, str]], data: bytes) -> None:
        if self._per_ip.get(ip, 0) >= mcast.PER_HOST:
            return  # a host sending many distinct announcements keeps only a few
        self._per_ip[ip] = self._per_ip.get(ip, 0) + 1
        self.observations.append(
            Observation(
                probe=self.name,
                interface=self.plan.interface.name,
                observed_at=mcast.now(),
                ip=ip,
                mac=mac,
                fields=tuple(fields),
                raw=mcast.raw_text(data),
            )
        )

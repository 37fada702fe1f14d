"""mDNS / DNS-SD probe: browses, with zeroconf bound to each chosen interface's address, the
service types cameras, recorders and their look-alikes advertise, and resolves every instance
heard within the listen window.

Hikvision cameras advertise `_CGI._tcp` as `HIKVISION <model> - <serial tail>` on a host named
after the full serial (research §5.1), so a browse alone can give model and serial. zeroconf does
the DNS parsing; the names it hands over are read by scanner.wire.mdns_names.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from concurrent.futures import Future
from typing import Any

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf

from scanner.model import Observation, ProbeResult
from scanner.probes import mcast
from scanner.probes.base import PerInterfaceProbe, ProbeContext, interface_failure
from scanner.targets import SweepPlan
from scanner.wire import mdns_names

SERVICE_TYPES = (
    "_CGI._tcp.local.",  # Hikvision cameras
    "_psia._tcp.local.",  # Hikvision's older API family (listed by camera tools)
    "_onvif._tcp.local.",
    "_rtsp._tcp.local.",
    "_http._tcp.local.",
    "_device-info._tcp.local.",
    "_axis-video._tcp.local.",
    "_ipp._tcp.local.",
    "_printer._tcp.local.",
)
MAX_INSTANCES = 4096  # instance names looked at per interface (cache look-ups are cheap)
MAX_LOOKUPS = 64  # network look-ups per interface, for instances the browse left incomplete
CONCURRENT_LOOKUPS = 16
RESOLVE_TIMEOUT = 1.0  # seconds for one look-up (never past the window)
PER_HOST = 16  # observations kept per address
DRAIN = 512  # names taken from the queue per turn of the loop
# TXT keys that state identity (printers' IPP keys, Axis's MAC).
_TXT_IDENTITY = {"usb_MFG": "manufacturer", "usb_MDL": "model", "ty": "name"}


class _CountingZeroconf(Zeroconf):
    """Zeroconf that counts the packets it sends (the probe's `sent`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sent_packets = 0
        super().__init__(*args, **kwargs)

    def async_send(self, *args: Any, **kwargs: Any) -> None:
        self.sent_packets += 1
        super().async_send(*args, **kwargs)


class _Heard(ServiceListener):
    def __init__(self) -> None:
        self.names: queue.Queue[tuple[str, str]] = queue.Queue()

    def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.put((type_, name))

    def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        self.names.put((type_, name))

    def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
        pass


def instance_fields(
    service: str, name: str, host: str, port: int, txt: tuple[tuple[str, str], ...]
) -> list[tuple[str, str]]:
    """Observation fields of one resolved instance (pure)."""
    instance = name[: -len(service) - 1] if name.endswith("." + service) else name
    fields: list[tuple[str, str]] = [
        ("reply", "mdns-service"),
        ("service", service.removesuffix(".local.")),
        ("instance", instance),
    ]
    hostname = mdns_names.strip_domain(host)
    if hostname:
        fields.append(("hostname", hostname))
    if port:
        fields.append(("port", str(port)))
    label = mdns_names.parse_instance(instance)
    if label is not None:
        fields += [
            ("brand", label.brand),
            ("model", label.model),
            ("serial_tail", label.tail),
        ]
    serial = mdns_names.serial_from_host(host, label) if host else ""
    if serial:
        fields.append(("serial", serial))
    for key, value in txt:
        if key in _TXT_IDENTITY and value:
            fields.append((_TXT_IDENTITY[key], value))
    if txt:
        fields.append(("txt", " ".join(f"{k}={v}" for k, v in txt)))
    return [(k, mcast.bound(v)) for k, v in fields if v]


class MdnsProbe(PerInterfaceProbe):
    name = "mdns"

    def probe_interface(self, ctx: ProbeContext, plan: SweepPlan) -> ProbeResult:
        iface = plan.interface.name
        started = time.perf_counter()
        deadline = time.monotonic() + max(0.2, ctx.scope.listen)
        try:
            zc = _CountingZeroconf(interfaces=[plan.source_ip], ip_version=IPVersion.V4Only)
        except (OSError, RuntimeError, ValueError) as exc:
            return interface_failure(self.name, iface, f"zeroconf: {exc}")
        error = None
        resolver = _Resolver(zc, plan, deadline)
        try:
            heard = _Heard()
            browser = ServiceBrowser(zc, list(SERVICE_TYPES), listener=heard)
            try:
                while not ctx.stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    with contextlib.suppress(queue.Empty):
                        resolver.offer(*heard.names.get(timeout=min(0.05, remaining)))
                        for _ in range(DRAIN):  # a flood of names must not starve the rest
                            resolver.offer(*heard.names.get_nowait())
                    resolver.step()
            finally:
                browser.cancel()
                resolver.finish()
        except Exception as exc:  # zeroconf internals: record, never take the scan down
            error = f"{type(exc).__name__}: {exc}"
        finally:
            sent = zc.sent_packets
            zc.close()
        observations = resolver.observations
        answered = {o.ip for o in observations}
        return mcast.window_result(
            self.name,
            iface,
            started,
            sent=sent,
            answered=len(answered),
            observations=tuple(observations),
            error=error,
            stopped=ctx.stop.is_set(),
        )


class _Resolver:
    """Resolves heard instances without letting a slow or fake one hold up the rest: the cache
    first (browse answers usually carry SRV, TXT and A), then a bounded number of concurrent
    network lookups, each within the window. Names and observations per address are capped, so
    a host flooding the group with instances costs only its own evidence."""

    def __init__(self, zc: Zeroconf, plan: SweepPlan, deadline: float) -> None:
        self.zc = zc
        self.plan = plan
        self.deadline = deadline
        self.pending: dict[tuple[str, str], tuple[ServiceInfo, Future[Any] | None]] = {}
        self.seen: set[tuple[str, str]] = set()
        self.requests = 0
        self.per_ip: dict[str, int] = {}
        self.observations: list[Observation] = []

    def offer(self, type_: str, name: str) -> None:
        key = (type_, name)
        if key in self.seen or len(self.seen) >= MAX_INSTANCES:
            return
        self.seen.add(key)
        info = ServiceInfo(type_, name)
        if info.load_from_cache(self.zc):
            self._emit(info)
        else:
            self.pending[key] = (info, None)

    def step(self) -> None:
        running = sum(1 for _, fut in self.pending.values() if fut is not None)
        for key, (info, fut) in list(self.pending.items()):
            if fut is not None:
                if fut.done():
                    del self.pending[key]
                    info.load_from_cache(self.zc)
                    self._emit(info)
                continue
            remaining = self.deadline - time.monotonic()
            if running >= CONCURRENT_LOOKUPS or self.requests >= MAX_LOOKUPS or remaining < 0.05:
                continue
            assert self.zc.loop is not None
            lookup = info.async_request(self.zc, min(RESOLVE_TIMEOUT, remaining) * 1000)
            self.pending[key] = (info, asyncio.run_coroutine_threadsafe(lookup, self.zc.loop))
            self.requests += 1
            running += 1

    def finish(self) -> None:
        """What the cache holds for lookups still open when the window ends; nothing more is
        asked."""
        for info, fut in self.pending.values():
            if fut is not None:
                fut.cancel()
            info.load_from_cache(self.zc)
            self._emit(info)
        self.pending.clear()

    def _emit(self, info: ServiceInfo) -> None:
        addresses = [
            a
            for a in info.parsed_addresses(IPVersion.V4Only)
            if mcast.in_plan(self.plan.contains, a)
        ]
        if not addresses:
            return  # unresolved, or a host outside the scanned targets
        ip = addresses[0]
        if self.per_ip.get(ip, 0) >= PER_HOST:
            return
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        txt = mdns_names.txt_pairs(dict(info.properties or {}))
        host = info.server or ""
        fields = instance_fields(info.type, info.name, host, info.port or 0, txt)
        raw = f"PTR {info.type} -> {info.name}; SRV {host}:{info.port}; A {' '.join(addresses)}"
        raw += "; TXT " + " ".join(f"{k}={v}" for k, v in txt)
        iface = self.plan.interface.name
        self.observations.append(
            Observation(
                probe=MdnsProbe.name,
                interface=iface,
                observed_at=mcast.now(),
                ip=ip,
                mac=mcast.neighbour_mac(ip, iface),
                fields=tuple(fields),
                raw=raw[: mcast.RAW_LIMIT],
            )
        )

"""mDNS / DNS-SD probe: browses, with zeroconf bound to each chosen interface's address, the
service types cameras, recorders and their look-alikes advertise, and resolves every instance
heard within the listen window.

Hikvision cameras advertise `_CGI._tcp` as `HIKVISION <model> - <serial tail>` on a host named
after the full serial (research §5.1), so a browse alone can give model and serial. zeroconf does
the DNS parsing; the names it hands over are read by scanner.wire.mdns_names.
"""

from __future__ import annotations

import queue
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceListener, Zeroconf

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import mcast
from scanner.probes.base import Probe, ProbeContext
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
MAX_INSTANCES = 256  # per interface
RESOLVE_TIMEOUT = 1.0  # seconds for one instance that the browse answers left incomplete
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


class MdnsProbe(Probe):
    name = "mdns"

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        if not ctx.plans:
            return []
        with ThreadPoolExecutor(max_workers=len(ctx.plans)) as pool:
            return list(pool.map(lambda p: self._one(ctx, p), ctx.plans))

    def _one(self, ctx: ProbeContext, plan: SweepPlan) -> ProbeResult:
        iface = plan.interface.name
        started = time.perf_counter()
        deadline = time.monotonic() + max(0.2, ctx.scope.listen)
        try:
            zc = _CountingZeroconf(interfaces=[plan.source_ip], ip_version=IPVersion.V4Only)
        except (OSError, RuntimeError, ValueError) as exc:
            return ProbeResult(
                ProbeStats(
                    name=self.name,
                    interface=iface,
                    status=ProbeStatus.FAILED,
                    error=f"{iface}: zeroconf: {exc}",
                )
            )
        observations: list[Observation] = []
        answered: set[str] = set()
        error = None
        try:
            heard = _Heard()
            browser = ServiceBrowser(zc, list(SERVICE_TYPES), listener=heard)
            try:
                done: set[tuple[str, str]] = set()
                while not ctx.stop.is_set() and len(done) < MAX_INSTANCES:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        type_, name = heard.names.get(timeout=min(0.1, remaining))
                    except queue.Empty:
                        continue
                    if (type_, name) in done:
                        continue
                    done.add((type_, name))
                    obs = self._resolve(zc, plan, type_, name, deadline)
                    if obs is not None:
                        observations.append(obs)
                        answered.add(obs.ip or "")
            finally:
                browser.cancel()
        except Exception as exc:  # zeroconf internals: record, never take the scan down
            error = f"{type(exc).__name__}: {exc}"
        finally:
            sent = zc.sent_packets
            zc.close()
        status = ProbeStatus.OK
        if error or ctx.stop.is_set():
            status = ProbeStatus.PARTIAL
            error = error or "interrupted before the listen window ended"
        stats = ProbeStats(
            name=self.name,
            interface=iface,
            sent=sent,
            answered=len(answered),
            duration=round(time.perf_counter() - started, 3),
            status=status,
            error=error,
        )
        return ProbeResult(stats, tuple(observations))

    def _resolve(
        self, zc: Zeroconf, plan: SweepPlan, type_: str, name: str, deadline: float
    ) -> Observation | None:
        info = ServiceInfo(type_, name)
        if not info.load_from_cache(zc):
            remaining = deadline - time.monotonic()
            if remaining > 0.05:
                info.request(zc, timeout=min(RESOLVE_TIMEOUT, remaining) * 1000)
        addresses = [
            a for a in info.parsed_addresses(IPVersion.V4Only) if mcast.in_plan(plan.contains, a)
        ]
        if not addresses:
            return None  # unresolved, or a host outside the scanned targets
        ip = addresses[0]
        txt = mdns_names.txt_pairs(dict(info.properties or {}))
        host = info.server or ""
        fields = instance_fields(type_, name, host, info.port or 0, txt)
        raw = f"PTR {type_} -> {name}; SRV {host}:{info.port}; A {' '.join(addresses)}; TXT " + (
            " ".join(f"{k}={v}" for k, v in txt)
        )
        return Observation(
            probe=self.name,
            interface=plan.interface.name,
            observed_at=mcast.now(),
            ip=ip,
            mac=mcast.neighbour_mac(ip, plan.interface.name),
            fields=tuple(fields),
            raw=raw[: mcast.RAW_LIMIT],
        )

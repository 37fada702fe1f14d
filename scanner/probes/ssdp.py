"""SSDP/UPnP probe: M-SEARCH `ssdp:all` to 239.255.255.250:1900 on every chosen interface (twice
within the window), NOTIFY announcements heard meanwhile, and the description XML each LOCATION
points at - where recorders and routers name their manufacturer, model and serial.

Descriptions are fetched only from addresses inside the scanned targets, over plain HTTP with no
proxy and no redirects, capped in size, and only while the window lasts: the probe's cost stays
its listen window.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from threading import Event, Lock
from urllib.parse import urlsplit

import requests

from scanner.model import Observation, ProbeResult
from scanner.probes import mcast
from scanner.probes.base import PerInterfaceProbe, ProbeContext, interface_failure
from scanner.targets import SweepPlan
from scanner.wire import ssdp

ROUNDS = 2
RETRY_AT = 1.0
MX = 1
LOCATIONS_PER_HOST = 2  # descriptions fetched from one host
FETCH_WORKERS = 4
MAX_FETCHES = 64  # per interface
READ_TIMEOUT = 1.0  # seconds per read: a trickling server holds us at most this past the window
ATTEMPTS = 2  # a description that failed to arrive (timeout, refused) is asked once more


@dataclass
class _Host:
    """Everything one address said, merged into one observation at the end of the window."""

    ip: str
    first: ssdp.Message
    raw: bytes
    seen_at: datetime
    replies: set[str] = field(default_factory=set)
    sts: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)
    descriptions: dict[str, tuple[str, ssdp.Description | None, bytes]] = field(
        default_factory=dict
    )


def description_url_allowed(
    url: str, plan_contains: Callable[[int], bool], source_ip: str
) -> str | None:
    """Why a LOCATION may not be fetched, or None when it may: http only, an IPv4 literal inside
    the targets (and the address that answered), no credentials in the URL."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "unparsable URL"
    if parts.scheme != "http":
        return "not http"
    if parts.username or parts.password:
        return "credentials in URL"
    try:
        addr = ipaddress.IPv4Address(host)
    except ValueError:
        return "host is not an IPv4 address"
    if port is not None and not 1 <= port <= 65535:
        return "bad port"
    if not plan_contains(int(addr)):
        return "outside the scanned targets"
    if str(addr) != source_ip:
        return "points at another host"
    return None


def fetch_description(
    session: requests.Session, url: str, deadline: float, stop: Event
) -> tuple[str, ssdp.Description | None, bytes]:
    """(status, parsed description, raw bytes) - never raises; bounded in size and time. A
    transport failure (a busy device, a lost segment) is retried once while the window lasts."""
    result: tuple[str, ssdp.Description | None, bytes] = ("not fetched: window over", None, b"")
    for _ in range(ATTEMPTS):
        result = _fetch_once(session, url, deadline, stop)
        if not result[0].startswith("error:"):
            break
    return result


def _fetch_once(
    session: requests.Session, url: str, deadline: float, stop: Event
) -> tuple[str, ssdp.Description | None, bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0.05 or stop.is_set():
        return "not fetched: window over", None, b""
    timeout = min(READ_TIMEOUT, remaining)
    body = bytearray()
    try:
        with session.get(
            url, timeout=(timeout, timeout), stream=True, allow_redirects=False
        ) as response:
            if response.status_code != 200:
                return f"HTTP {response.status_code}", None, b""
            for chunk in response.iter_content(4096):
                body += chunk
                if len(body) > ssdp.MAX_DESCRIPTION:
                    return "too large", None, bytes(body[:512])
                if time.monotonic() > deadline or stop.is_set():
                    return "window over mid-read", None, bytes(body[:512])
    except (requests.RequestException, OSError, ValueError) as exc:
        return f"error: {type(exc).__name__}", None, b""
    parsed = ssdp.parse_description(bytes(body))
    return ("ok" if parsed else "unparsable"), parsed, bytes(body)


def host_fields(host: _Host) -> list[tuple[str, str]]:
    """Observation fields of one responding address (pure)."""
    msg = host.first
    fields: list[tuple[str, str]] = [
        ("reply", "ssdp-response" if "response" in host.replies else "ssdp-notify"),
        ("server", msg.server),
        ("st", " ".join(host.sts[:16])),
        ("usn", msg.usn),
    ]
    fields += [("location", loc) for loc in host.locations]
    for url in host.locations:
        status, desc, _ = host.descriptions.get(url, ("not fetched", None, b""))
        fields.append(("description", f"{status} {url}"))
        if desc is None:
            continue
        model = desc.model_name or desc.model_number
        fields += [
            ("manufacturer", desc.manufacturer),
            ("model", model),
            ("model_number", desc.model_number),
            ("serial", desc.serial),
            ("firmware", desc.firmware),
            ("name", desc.friendly_name),
            ("model_description", desc.model_description),
            ("upnp_device_type", desc.device_type),
            ("manufacturer_url", desc.manufacturer_url),
            ("udn", desc.udn),
            ("presentation_url", desc.presentation_url),
        ]
        break  # the first description read is the device's; others repeat it
    return [(k, mcast.bound(v)) for k, v in fields if v]


class SsdpProbe(PerInterfaceProbe):
    name = "ssdp"

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
        collector = _Collector(plan, out, time.monotonic() + window, ctx.stop)
        try:
            try:
                sockets.append(
                    mcast.udp_socket(iface, plan.source_ip, port=ssdp.PORT, group=ssdp.GROUP_V4)
                )
            except OSError as exc:
                note = f"not listening for NOTIFY on {iface}: {exc.strerror or exc}"
            payload = ssdp.build_msearch("ssdp:all", MX)
            dest = (ssdp.GROUP_V4, ssdp.PORT)
            retry = min(RETRY_AT, window * 0.4)
            sends: list[mcast.Send] = [(r * retry, out, payload, dest) for r in range(ROUNDS)]
            sent, error = mcast.send_and_listen(
                sends, sockets, window, ctx.stop, collector.on_datagram
            )
        finally:
            for sock in sockets:
                sock.close()
            collector.finish()
        stopped = ctx.stop.is_set()
        observations = tuple(
            Observation(
                probe=self.name,
                interface=iface,
                observed_at=host.seen_at,
                ip=host.ip,
                mac=mcast.neighbour_mac(host.ip, iface),
                fields=tuple(host_fields(host)),
                raw=_raw(host),
            )
            for host in collector.hosts.values()
        )
        return mcast.window_result(
            self.name,
            iface,
            started,
            sent=sent,
            answered=len(collector.answered),
            observations=observations,
            error=error,
            stopped=stopped,
            note=note,
        )


def _raw(host: _Host) -> str:
    text = mcast.raw_text(host.raw)
    for _status, _desc, body in host.descriptions.values():
        if body:
            text += "\n--- description ---\n" + mcast.raw_text(body)
            break
    return text[: mcast.RAW_LIMIT]


class _Collector:
    def __init__(self, plan: SweepPlan, unicast: socket.socket, deadline: float, stop: Event):
        self.plan = plan
        self.unicast = unicast
        self.deadline = deadline
        self.stop = stop
        self.cap = mcast.ReplyCap()
        self.hosts: dict[str, _Host] = {}
        self.answered: set[str] = set()
        self.fetches = 0
        self.lock = Lock()
        self.pool = ThreadPoolExecutor(max_workers=FETCH_WORKERS)
        self.futures: list[Future[None]] = []
        self.session = requests.Session()
        self.session.trust_env = False  # never a proxy from the environment
        self.session.headers["User-Agent"] = "ndaa-scan/0.1 (UPnP description)"

    def on_datagram(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> None:
        ip = addr[0]
        if not mcast.in_plan(self.plan.contains, ip) or not self.cap.admit(ip, data):
            return
        msg = ssdp.parse_message(data)
        if msg is None or msg.kind == "msearch":
            return
        if msg.kind == "response" and sock is self.unicast:
            self.answered.add(ip)
        host = self.hosts.get(ip)
        if host is None:
            host = self.hosts[ip] = _Host(ip, msg, data, mcast.now())
        host.replies.add(msg.kind)
        if msg.st and msg.st not in host.sts and len(host.sts) < 16:
            host.sts.append(msg.st[:256])
        location = msg.location
        if location and location not in host.locations and len(host.locations) < LOCATIONS_PER_HOST:
            host.locations.append(location[:512])
            self._fetch(host, location[:512])

    def _fetch(self, host: _Host, url: str) -> None:
        refused = description_url_allowed(url, self.plan.contains, host.ip)
        if refused is not None:
            host.descriptions[url] = (f"not fetched: {refused}", None, b"")
            return
        if self.fetches >= MAX_FETCHES:
            host.descriptions[url] = ("not fetched: too many", None, b"")
            return
        self.fetches += 1

        def run() -> None:
            result = fetch_description(self.session, url, self.deadline, self.stop)
            with self.lock:
                host.descriptions[url] = result

        self.futures.append(self.pool.submit(run))

    def finish(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.session.close()

"""The ONVIF probe (phase 2): asks a camera's device service who made it.

Where: the device-service URLs WS-Discovery advertised (`xaddrs`), but only those naming the
address that advertised them (an XAddr never sends us to another host), else, on hosts phase 1
gave a reason to (a camera vendor's discovery reply, an ONVIF WS-Discovery reply, a Hikvision or
Dahua OUI, an open web port on a routed host), the usual `http://<ip>/onvif/device_service` and
the lab's `:8999`.

What: `GetSystemDateAndTime` (pre-auth in the ONVIF Core spec; it also gives the device's clock
skew), then `GetDeviceInformation` without credentials, which some firmware answers. Only when
the user supplied a login for that host does the probe authenticate, once: WS-Security
UsernameToken on the device's clock when the device answered 400 NotAuthorized, HTTP Digest when
it answered 401 Digest. Never a second password, never another call.

Politeness: `scanner.probes.limits` (per-host and global connection caps, per-host budget,
connect/read timeouts, a byte cap per response).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scanner.credentials import Credentials, OnvifLogin
from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import limits
from scanner.probes.base import Probe, ProbeContext
from scanner.wire import onvif as wire

DEVICE_PATH = "/onvif/device_service"
FALLBACK_PORTS = (80, 8999)  # 8999: where the lab's emulators serve it (80 is the web UI's)
MAX_ENDPOINTS = 4  # per host
_PATH_RE = re.compile(r"^/[\x21-\x7e]{0,255}$")


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    path: str
    advertised: bool = True  # from the device's own XAddrs, not a guess at the usual URL

    @property
    def url(self) -> str:
        return f"http://{self.ip}{'' if self.port == 80 else f':{self.port}'}{self.path}"


def endpoints_from_xaddrs(xaddrs: str, ip: str) -> list[Endpoint]:
    """The http device-service URLs in `xaddrs` that point at `ip` itself (pure)."""
    found: list[Endpoint] = []
    for url in xaddrs.split()[:16]:
        try:
            parts = urlsplit(url)
            port = parts.port if parts.port is not None else 80
            host = parts.hostname or ""
        except ValueError:
            continue
        if parts.scheme.lower() != "http" or host != ip or not 0 < port < 65536:
            continue
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        if not _PATH_RE.match(path):
            continue
        endpoint = Endpoint(ip, port, path)
        if endpoint not in found:
            found.append(endpoint)
    return found


_VENDOR_DISCOVERY = {"sadp", "sadp-l2", "dhip", "dahua-legacy"}
_ONVIF_TYPE = re.compile(r"\bNetworkVideoTransmitter\b|\btds:Device\b|/onvif/", re.IGNORECASE)
_WEB_PORTS = {"80", "8000", "8080", "8999"}
CAMERA_VENDORS = ("hikvision", "dahua")  # covered vendors whose OUI suggests a camera or NVR


def _onvif_typed(obs: Observation) -> bool:
    """A WS-Discovery reply from an ONVIF device (not, say, a printer's WSD metadata)."""
    return bool(_ONVIF_TYPE.search(f"{obs.field('types') or ''} {obs.field('xaddrs') or ''}"))


def camera_hint(obs: Observation) -> bool:
    """Phase 1 saw something that may speak ONVIF: a camera vendor's discovery reply, an ONVIF
    WS-Discovery reply, or (routed hosts, found by TCP connect) an open web port."""
    if obs.probe in _VENDOR_DISCOVERY:
        return True
    if obs.probe == "wsd":
        return _onvif_typed(obs)
    return obs.mac is None and any(k == "port" and v in _WEB_PORTS for k, v in obs.fields)


def plan_endpoints(
    ctx: ProbeContext, oui_vendor: dict[str, str | None]
) -> dict[str, list[Endpoint]]:
    """ip -> device-service endpoints to try, for the live hosts inside the scope (pure)."""
    hosts = ctx.live_hosts()
    in_scope = {ip for ip in hosts if in_scope_of(ctx, ip)}
    advertised: dict[str, list[Endpoint]] = {}
    hinted: set[str] = set()
    for obs in ctx.prior:
        if obs.ip not in in_scope:
            continue
        if camera_hint(obs):
            hinted.add(obs.ip)
        xaddrs = obs.field("xaddrs")
        if xaddrs and _onvif_typed(obs):
            for endpoint in endpoints_from_xaddrs(xaddrs, obs.ip):
                current = advertised.setdefault(obs.ip, [])
                if endpoint not in current:
                    current.append(endpoint)
    for ip in in_scope:
        mac = hosts[ip][0]
        if mac and oui_vendor.get(mac.upper()) in CAMERA_VENDORS:
            hinted.add(ip)
    plan: dict[str, list[Endpoint]] = {}
    for ip in sorted(in_scope, key=_sort_key):
        usual = [Endpoint(ip, port, DEVICE_PATH, False) for port in FALLBACK_PORTS]
        if ip in advertised:
            # The advertised URLs first; a device that advertised one we cannot use (another
            # port behind NAT, a stale XAddr) still gets the usual ones.
            known = {(e.port, e.path) for e in advertised[ip]}
            extra = [e for e in usual if (e.port, e.path) not in known]
            plan[ip] = (advertised[ip] + extra)[:MAX_ENDPOINTS]
        elif ip in hinted:
            plan[ip] = usual
    return plan


def _sort_key(ip: str) -> tuple[int, int]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0)
    return (address.version, int(address))


def _plan_for(ctx: ProbeContext, ip: str) -> str | None:
    """The source address of the local or routed plan whose targets hold `ip`, else None."""
    try:
        value = int(ipaddress.IPv4Address(ip))
    except ValueError:
        return None
    for plan in ctx.plans:
        if plan.contains(value):
            return plan.source_ip
    for routed in ctx.routed:
        if any(first <= value <= last for first, last in routed.ranges):
            return routed.source_ip
    return None


def in_scope_of(ctx: ProbeContext, ip: str) -> bool:
    """Only the user's targets are ever asked, whatever a device advertised."""
    return _plan_for(ctx, ip) is not None


def source_ip_for(ctx: ProbeContext, ip: str) -> str | None:
    return _plan_for(ctx, ip)


# --- one exchange -----------------------------------------------------------------------------


@dataclass
class _Counters:
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self) -> None:
        with self.lock:
            self.sent += 1


class Exchange:
    """One POST and its bounded reply, under the shared connection limits."""

    def __init__(
        self,
        politeness: limits.Politeness,
        shared: limits.Limits,
        counters: _Counters,
        source_ip: str | None,
    ) -> None:
        self.politeness = politeness
        self.limits = shared
        self.counters = counters
        self.source_ip = source_ip
        self.sent_at = 0.0  # wall clock when the last request left, for the clock skew

    def post(
        self, endpoint: Endpoint, body: bytes, action: str, budget: limits.Budget, auth: str = ""
    ) -> tuple[wire.HttpReply | None, str]:
        """(reply, "") or (None, why): "refused", "timeout", "error", "not-http", "budget"."""
        if budget.expired:
            return None, "budget"
        request = wire.build_post(endpoint.ip, endpoint.port, endpoint.path, body, action, auth)
        p = self.politeness
        queued = time.monotonic()
        with self.limits.connection(endpoint.ip):
            # Waiting for a free slot (other probes share the global cap) is not time spent on
            # this host: the budget starts over from when we may talk to it.
            budget.deadline += time.monotonic() - queued
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                if self.source_ip:
                    sock.bind((self.source_ip, 0))
                sock.settimeout(budget.timeout(p.connect_timeout))
                self.counters.add()
                sock.connect((endpoint.ip, endpoint.port))
                sock.sendall(request)
                self.sent_at = time.time()
                data, closed = _read_bounded(sock, p, budget)
            except ConnectionRefusedError:
                return None, "refused"
            except TimeoutError:
                return None, "timeout"
            except OSError:
                return None, "error"
            finally:
                sock.close()
        reply = wire.parse_http_response(data, closed)
        return (reply, "") if reply is not None else (None, "not-http")


def _read_bounded(
    sock: socket.socket, p: limits.Politeness, budget: limits.Budget
) -> tuple[bytes, bool]:
    """Read until the peer closes, `max_response` bytes, or `response_time` passes."""
    deadline = time.monotonic() + min(p.response_time, budget.remaining())
    chunks: list[bytes] = []
    size = 0
    while size < p.max_response:
        left = deadline - time.monotonic()
        if left <= 0:
            return b"".join(chunks), False
        sock.settimeout(max(0.001, min(left, p.read_timeout)))
        try:
            chunk = sock.recv(min(16384, p.max_response - size))
        except TimeoutError:
            return b"".join(chunks), False
        if not chunk:
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


# --- the probe --------------------------------------------------------------------------------


@dataclass
class HostOutcome:
    observations: list[Observation]
    answered: bool


class OnvifProbe(Probe):
    name = "onvif"
    phase = 2

    def __init__(
        self,
        politeness: limits.Politeness = limits.DEFAULT,
        shared: limits.Limits | None = None,
    ) -> None:
        self.politeness = politeness
        self.shared = shared

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        plan = plan_endpoints(ctx, _oui_vendors(ctx))
        counters = _Counters()
        shared = self.shared or limits.shared()

        progress = ctx.progress_for(self.name)

        hosts = ctx.live_hosts()

        def work(ip: str) -> HostOutcome:
            exchange = Exchange(self.politeness, shared, counters, source_ip_for(ctx, ip))
            return self._host(ctx, ip, hosts.get(ip, (None, "")), plan[ip], exchange)

        outcomes = limits.for_each_host(
            plan, work, workers=shared.total, stop=ctx.stop, progress=progress
        )
        observations = [o for out in outcomes for o in out.observations]
        status = ProbeStatus.PARTIAL if ctx.stop.is_set() else ProbeStatus.OK
        stats = ProbeStats(
            name=self.name,
            sent=counters.sent,
            answered=sum(1 for out in outcomes if out.answered),
            duration=time.perf_counter() - started,
            status=status,
            error="interrupted" if ctx.stop.is_set() else None,
        )
        return [ProbeResult(stats, tuple(observations))]

    def _host(
        self,
        ctx: ProbeContext,
        ip: str,
        where: tuple[str | None, str],
        endpoints: list[Endpoint],
        exchange: Exchange,
    ) -> HostOutcome:
        mac, interface = where
        budget = limits.Budget(self.politeness.host_budget)
        creds: Credentials | None = ctx.credentials

        def observe(fields: list[tuple[str, str]], raw: bytes) -> Observation:
            text = wire.excerpt(raw)
            bounded = [(k, wire.clip(v)) for k, v in fields if v]
            if creds is not None:  # a device that echoes what we sent must not leak a secret
                text = creds.redact(text)
                bounded = [(k, creds.redact(v)) for k, v in bounded]
            return Observation(
                probe=self.name,
                interface=interface,
                observed_at=datetime.now(UTC),
                ip=ip,
                mac=mac,
                fields=tuple(bounded),
                raw=text,
            )

        found: tuple[Endpoint, float | None, wire.HttpReply] | None = None
        for endpoint in endpoints:
            reply, why = exchange.post(
                endpoint, wire.build_get_system_date_and_time(), wire.ACTION_TIME, budget
            )
            if reply is None:
                if why in ("timeout", "budget"):
                    break  # a silent host (or one out of time): do not knock on another port
                continue
            kind = _classify(reply)
            if kind is None or (kind == "http-401" and not endpoint.advertised):
                continue  # a web server that wants a login for every path is not ONVIF
            skew = None
            device_time = wire.parse_system_date_and_time(reply.body)
            if device_time is not None:
                midpoint = (exchange.sent_at + time.time()) / 2
                skew = device_time.utc.timestamp() - midpoint
            found = (endpoint, skew, reply)
            break
        if found is None:
            return HostOutcome([], False)
        endpoint, skew, reply = found
        observations = [observe(_time_fields(endpoint, skew, reply), reply.body)]

        info_reply, _ = exchange.post(
            endpoint, wire.build_get_device_information(), wire.ACTION_INFO, budget
        )
        if info_reply is None:
            return HostOutcome(observations, True)
        info = wire.parse_device_information(info_reply.body)
        if info is not None:
            observations.append(observe(_info_fields(endpoint, info, "none"), info_reply.body))
            return HostOutcome(observations, True)
        observations.append(observe(_refusal_fields(endpoint, info_reply), info_reply.body))
        login = creds.onvif_for(ip) if creds is not None else None
        if login is None:
            return HostOutcome(observations, True)  # no credentials: never authenticate
        auth_reply, method = self._authenticate(endpoint, info_reply, login, skew, exchange, budget)
        if auth_reply is not None:
            info = wire.parse_device_information(auth_reply.body)
            if info is not None:
                fields = _info_fields(endpoint, info, method)
                observations.append(observe(fields, auth_reply.body))
            else:
                fields = [*_refusal_fields(endpoint, auth_reply), ("auth", method)]
                observations.append(observe(fields, auth_reply.body))
        return HostOutcome(observations, True)

    def _authenticate(
        self,
        endpoint: Endpoint,
        refusal: wire.HttpReply,
        login: OnvifLogin,
        skew: float | None,
        exchange: Exchange,
        budget: limits.Budget,
    ) -> tuple[wire.HttpReply | None, str]:
        """One authenticated GetDeviceInformation, in the scheme the device asked for."""
        password = login.password.reveal()
        if refusal.status == 401:
            for value in refusal.header_all("www-authenticate"):
                challenge = wire.parse_digest_challenge(value)
                if challenge is not None:
                    auth = wire.digest_authorization(
                        challenge, login.username, password, "POST", endpoint.path,
                        os.urandom(8).hex(),
                    )  # fmt: skip
                    body = wire.build_get_device_information()
                    reply, _ = exchange.post(endpoint, body, wire.ACTION_INFO, budget, auth)
                    return reply, "digest"
            return None, ""  # 401 without a Digest challenge (Basic): not over plain HTTP
        created = wire.device_clock(datetime.now(UTC), skew or 0.0)
        token = wire.username_token(login.username, password, os.urandom(16), created)
        body = wire.build_get_device_information(token)
        reply, _ = exchange.post(endpoint, body, wire.ACTION_INFO, budget)
        return reply, "usernametoken"


def _classify(reply: wire.HttpReply) -> str | None:
    """Is this an ONVIF device service? A SOAP reply or fault, or a 401 on the ONVIF path."""
    if reply.status == 401:
        return "http-401"
    if wire.parse_system_date_and_time(reply.body) is not None:
        return "onvif-time"
    if wire.parse_fault(reply.body) is not None:
        return "soap-fault"
    return None


def _time_fields(
    endpoint: Endpoint, skew: float | None, reply: wire.HttpReply
) -> list[tuple[str, str]]:
    kind = _classify(reply) or "onvif-time"
    fields = [("reply", kind), ("endpoint", endpoint.url)]
    if skew is not None:
        fields.append(("clock_skew", f"{skew:.0f}"))
    fields += _refusal_fields(endpoint, reply)[2:] if kind != "onvif-time" else []
    return fields


def _info_fields(
    endpoint: Endpoint, info: wire.DeviceInformation, auth: str
) -> list[tuple[str, str]]:
    fields = [("reply", "onvif-device-info"), ("endpoint", endpoint.url), *info.fields()]
    return [*fields, ("auth", auth)]


def _refusal_fields(endpoint: Endpoint, reply: wire.HttpReply) -> list[tuple[str, str]]:
    """What a device that would not answer said: 401 and its realm, or the SOAP fault."""
    fields = [("endpoint", endpoint.url)]
    fault = wire.parse_fault(reply.body)
    if reply.status == 401:
        fields.insert(0, ("reply", "http-401"))
        for value in reply.header_all("www-authenticate")[:2]:
            match = re.search(r'realm="([^"]{0,256})"', value)
            if match:
                fields.append(("realm", match.group(1)))
            fields.append(("auth_scheme", value.split(None, 1)[0] if value else ""))
    elif fault is not None:
        fields.insert(0, ("reply", "soap-fault"))
        fields += [("fault_code", fault.code), ("fault_subcode", " ".join(fault.subcodes))]
        fields.append(("fault_reason", fault.reason))
    else:
        fields.insert(0, ("reply", f"http-{reply.status}"))
    server = reply.header("server")
    if server:
        fields.append(("server", server))
    return fields


def _oui_vendors(ctx: ProbeContext) -> dict[str, str | None]:
    """MAC (upper-case) -> the covered vendor its OUI block belongs to, for the live hosts."""
    from fingerprints.oui import load_oui_database

    macs = {mac.upper() for mac, _ in ctx.live_hosts().values() if mac}
    if not macs:
        return {}
    db = load_oui_database()
    out: dict[str, str | None] = {}
    for mac in macs:
        try:
            match = db.lookup(mac)
        except ValueError:
            continue
        out[mac] = match.vendor if match is not None else None
    return out

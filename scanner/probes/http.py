"""The HTTP/HTTPS probe (phase 2): a handful of unauthenticated GETs per live host, read as
fingerprints (research §2), plus the TLS certificate of each HTTPS port.

Per web port: `/` first (a port that does not answer it is not asked again), then the fixed
paths the research shows answering harmlessly without credentials: `/favicon.ico` (hashed),
Hikvision's login page and its ISAPI device-information URL (401 Digest realm without
credentials), and Dahua's device-type CGI (401 `Login to <serial>`). Redirects are followed for
`/` only, on the same host and port, never to a path `http_fields.safe_path` refuses. No
credentials, no POST, no exploit path, ever.

Observations: probe `http` (one per response: `scheme`, `port`, `path` and the response's fields,
see scanner/wire/http_fields.py), and probe `tls` (one per HTTPS port: `cert_subject`,
`cert_issuer`, ...), so fingerprints/signatures/{http,tls}.toml each read their own family.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import portscan, tcpio
from scanner.probes.base import Probe, ProbeContext
from scanner.probes.limits import DEFAULT, Budget, Politeness, for_each_host
from scanner.wire import http_fields
from scanner.wire.favicon import favicon_fields
from scanner.wire.tls_cert import cert_fields

PORTS: tuple[tuple[int, bool], ...] = ((80, False), (443, True), (8080, False))
PATHS: tuple[str, ...] = (
    "/",
    "/favicon.ico",
    "/doc/page/login.asp",
    "/ISAPI/System/deviceInfo",
    "/cgi-bin/magicBox.cgi?action=getDeviceType",
)
MAX_REDIRECTS = 2


class HttpProbe(Probe):
    name = "http"
    phase = 2

    def __init__(self, politeness: Politeness = DEFAULT) -> None:
        self.politeness = politeness

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        hosts = ctx.live_hosts()
        progress = ctx.progress_for(f"{self.name} hosts")

        states, _ = portscan.port_map(ctx)
        results = for_each_host(
            sorted(hosts),
            lambda ip: self._host(ip, hosts[ip], ctx, states.get(ip, {})),
            workers=self.politeness.total,
            stop=ctx.stop,
            progress=progress,
        )
        observations = tuple(o for obs, _, _ in results for o in obs)
        sent = sum(n for _, n, _ in results)
        spent = [ip for _, _, ip in results if ip]
        status = ProbeStatus.PARTIAL if ctx.stop.is_set() else ProbeStatus.OK
        stats = ProbeStats(
            name=self.name,
            sent=sent,
            answered=len({o.ip for o in observations}),
            duration=round(time.perf_counter() - started, 3),
            status=status,
            error=f"time budget spent on {', '.join(spent[:5])}" if spent else None,
        )
        return [ProbeResult(stats, observations)]

    def _host(
        self, ip: str, where: tuple[str | None, str], ctx: ProbeContext, states: dict[int, str]
    ) -> tuple[list[Observation], int, str]:
        """(observations, requests sent, ip if its budget ran out); only open ports are asked."""
        mac, interface = where
        budget = Budget(self.politeness.host_budget)
        found: list[Observation] = []
        sent = 0
        for port, tls in PORTS:
            if states.get(port) != portscan.OPEN:
                continue
            for path in PATHS:
                if ctx.stop.is_set() or budget.expired:
                    return found, sent, ip if budget.expired else ""
                got, n, reachable = self._get(ip, port, tls, path, budget, mac, interface)
                sent += n
                found += got
                if not reachable:
                    break
        return found, sent, ""

    def _get(
        self,
        ip: str,
        port: int,
        tls: bool,
        path: str,
        budget: Budget,
        mac: str | None,
        interface: str,
    ) -> tuple[list[Observation], int, bool]:
        """GET one path (following same-host redirects for `/`): (observations, requests,
        whether the port answers HTTP at all)."""
        scheme = "https" if tls else "http"
        found: list[Observation] = []
        sent = 0
        for _hop in range(MAX_REDIRECTS + 1):
            request = http_fields.build_get(ip, port, path, tls=tls)
            ex = tcpio.exchange(
                ip,
                port,
                (request,),
                budget=budget,
                tls=tls,
                complete=http_fields.response_complete,
                politeness=self.politeness,
            )
            if ex.state != "open":
                return found, sent, False
            sent += 1
            now = datetime.now(UTC)
            if tls and path == "/" and _hop == 0 and ex.peer_cert:
                fields = [("port", str(port)), *cert_fields(ex.peer_cert)]
                if ex.tls_version:
                    fields.append(("tls_version", ex.tls_version))
                raw_cert = ex.peer_cert[:1024].hex()  # raw excerpts stay within 2 kB
                found.append(Observation("tls", interface, now, ip, mac, tuple(fields), raw_cert))
            base = [("scheme", scheme), ("port", str(port)), ("path", path)]
            resp = http_fields.parse_response(ex.data) if ex.data else None
            if resp is None:
                if path == "/":  # what went wrong is evidence too (a trickle, a non-HTTP port)
                    found.append(_failure(ip, mac, interface, now, base, ex))
                return found, sent, path != "/" or bool(ex.data)
            if resp.status == 404 and path != "/":
                return found, sent, True
            fields = base + http_fields.response_fields(resp)
            if path == "/favicon.ico" and resp.status == 200:
                fields += favicon_fields(resp.body)
            if ex.cut in ("cap", "time"):
                fields += [("cut", ex.cut), ("read_ms", str(round(ex.elapsed * 1000)))]
            found.append(
                Observation(
                    "http", interface, now, ip, mac, tuple(fields), http_fields.excerpt(resp)
                )
            )
            target = _same_host_redirect(resp, ip, port) if path == "/" else None
            if target is None or budget.expired:
                break
            path = target
        return found, sent, True


def _failure(
    ip: str,
    mac: str | None,
    interface: str,
    now: datetime,
    base: list[tuple[str, str]],
    ex: tcpio.Exchange,
) -> Observation:
    fields = [
        *base,
        ("error", ex.error or f"no HTTP reply ({ex.cut or 'nothing read'})"),
        ("cut", ex.cut),
        ("read_bytes", str(len(ex.data))),
        ("read_ms", str(round(ex.elapsed * 1000))),
    ]
    raw = ex.data[:2048].decode("utf-8", errors="backslashreplace")[:2048]
    return Observation("http", interface, now, ip, mac, tuple(fields), raw)


def _same_host_redirect(resp: http_fields.HttpResponse, ip: str, port: int) -> str | None:
    """The path of a 3xx Location on this very host and port, if it is one we may GET."""
    location = resp.header("location")
    if not 300 <= resp.status < 400 or not location:
        return None
    try:
        parts = urlsplit(location.strip())
        target_port = parts.port
    except ValueError:
        return None
    if parts.netloc and (parts.hostname != ip or (target_port or port) != port):
        return None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return path if http_fields.safe_path(path) else None

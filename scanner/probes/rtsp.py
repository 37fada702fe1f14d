"""The RTSP probe (phase 2): OPTIONS then DESCRIBE, without credentials, on TCP 554 of each
live host, over one connection (research §5.2).

An unauthenticated DESCRIBE is answered 401 with the vendor's challenges (Hikvision
`IP Camera(xxxxx)`, Dahua `Login to <serial>`); the probe records them and never answers a
challenge. Observations: probe `rtsp`, one per reply (`method`, `status`, `server`, `public`,
`date_header`, `realm`, ...; see scanner/wire/rtsp.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import portscan, tcpio
from scanner.probes.base import Probe, ProbeContext
from scanner.probes.limits import DEFAULT, Budget, Politeness, for_each_host
from scanner.wire import rtsp

PORT = 554


def _one_reply(data: bytes) -> bool:
    """Whole once the head is in and Content-Length bytes of body follow it."""
    if not rtsp.head_complete(data):
        return False
    resp = rtsp.parse_response(data)
    if resp is None:
        return True  # not RTSP: stop reading
    length = resp.header("content-length")
    return not (length and length.isdigit() and len(resp.body) < int(length))


class RtspProbe(Probe):
    name = "rtsp"
    phase = 2

    def __init__(self, politeness: Politeness = DEFAULT, port: int = PORT) -> None:
        self.politeness = politeness
        self.port = port

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        hosts = ctx.live_hosts()
        progress = ctx.progress_for(f"{self.name} hosts")

        states, _ = portscan.port_map(ctx)
        asked = sorted(ip for ip in hosts if states.get(ip, {}).get(self.port) == portscan.OPEN)
        results = for_each_host(
            asked,
            lambda ip: self._host(ip, hosts[ip]),
            workers=self.politeness.total,
            stop=ctx.stop,
            progress=progress,
        )
        observations = tuple(o for obs, _ in results for o in obs)
        stats = ProbeStats(
            name=self.name,
            sent=sum(n for _, n in results),
            answered=len({o.ip for o in observations}),
            duration=round(time.perf_counter() - started, 3),
            status=ProbeStatus.PARTIAL if ctx.stop.is_set() else ProbeStatus.OK,
        )
        return [ProbeResult(stats, observations)]

    def _host(self, ip: str, where: tuple[str | None, str]) -> tuple[list[Observation], int]:
        mac, interface = where
        url = f"rtsp://{ip}:{self.port}/"
        budget = Budget(self.politeness.host_budget)
        requests = (rtsp.build_options(url, 1), rtsp.build_describe(url, 2))
        found: list[Observation] = []
        sent = 0
        # Two exchanges on one connection: the reply to OPTIONS is read before DESCRIBE goes.
        ex = tcpio.exchange(
            ip,
            self.port,
            requests,
            budget=budget,
            complete=_one_reply,
            politeness=self.politeness,
        )
        if ex.state != "open":
            return found, 0
        data = ex.data
        for method in ("OPTIONS", "DESCRIBE"):
            if not data:
                break
            sent += 1
            resp = rtsp.parse_response(data)
            now = datetime.now(UTC)
            if resp is None:
                fields = [("port", str(self.port)), ("method", method), ("error", "not RTSP")]
                found.append(
                    Observation("rtsp", interface, now, ip, mac, tuple(fields), rtsp.excerpt(data))
                )
                break
            size = _reply_size(data)
            fields = [("port", str(self.port)), *rtsp.response_fields(resp, method)]
            found.append(
                Observation(
                    "rtsp", interface, now, ip, mac, tuple(fields), rtsp.excerpt(data[:size])
                )
            )
            data = data[size:]
        return found, max(sent, 1)


def _reply_size(data: bytes) -> int:
    """Bytes the first reply in `data` takes (head, blank line, Content-Length body)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = data.find(sep)
        if at >= 0:
            resp = rtsp.parse_response(data)
            length = resp.header("content-length") if resp else None
            body = int(length) if length and length.isdigit() else 0
            return min(len(data), at + len(sep) + body)
    return len(data)

"""The SNMP probe (phase 2): v2c GETs of the system group, and the vendor's own objects, only with
the communities the user configured for each host.

No community configured, no packet: the probe does not run at all (a scanner that tries `public`
on its own is guessing credentials). With communities, each live host in scope gets one GET of
sysDescr/sysObjectID/sysName per configured community, in the user's order, until one answers;
then, when the sysObjectID's enterprise arc (or the MAC's OUI) names a vendor whose objects we
know (Hytera 40297), one GET of those. Read-only GETs, never GetNext/walks or Set.

Why pysnmp (7.x, `hlapi.v1arch.asyncio`): it is the maintained SNMP stack for Python, does the
BER for us, and its v1arch API sends plain community GETs without the v3 engine's overhead. Each
host runs on its own event loop in a worker thread of `limits.for_each_host`, so SNMP shares the
process-wide connection limits with the other per-host probes. A reply is matched by request id
(pysnmp's dispatcher); values are clipped to 1 kB.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from scanner.credentials import Secret
from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes import limits
from scanner.probes.base import Probe, ProbeContext
from scanner.probes.onvif import in_scope_of, source_ip_for
from scanner.wire import snmp_oids

PORT = 161
MAX_VALUE = 1024
TIMEOUT = 1.0  # an agent on the LAN answers in milliseconds; silence costs this per community
HYTERA_OUIS = ("64:69:BC", "9C:06:6E")


@dataclass
class _Counters:
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, n: int = 1) -> None:
        with self.lock:
            self.sent += n


def render(value: Any) -> str:
    """A varbind value as text: OCTET STRING decoded (hex when it is not text), OIDs dotted."""
    name = type(value).__name__
    if name in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
        return ""
    if hasattr(value, "asOctets"):
        raw = bytes(value.asOctets())[: MAX_VALUE * 2]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.hex()[:MAX_VALUE]
        text = "".join(c if c >= " " or c in "\r\n\t" else " " for c in text)
        return text.strip()[:MAX_VALUE]
    return str(value.prettyPrint())[:MAX_VALUE]


class SnmpProbe(Probe):
    name = "snmp"
    phase = 2

    def __init__(
        self,
        politeness: limits.Politeness = limits.DEFAULT,
        shared: limits.Limits | None = None,
        port: int = PORT,
    ) -> None:
        self.politeness = politeness
        self.shared = shared
        self.port = port
        self._timeout = min(TIMEOUT, politeness.read_timeout)

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        creds = ctx.credentials
        if creds is None or not creds.has_snmp:
            # Not configured is the normal case, not a failure: skipped, which leaves the
            # scan complete.
            return [
                ProbeResult(
                    ProbeStats(
                        name=self.name,
                        status=ProbeStatus.SKIPPED,
                        error="no SNMP communities configured (--credentials)",
                    )
                )
            ]
        hosts = ctx.live_hosts()
        todo = [ip for ip in hosts if in_scope_of(ctx, ip) and creds.communities_for(ip)]
        counters = _Counters()
        shared = self.shared or limits.shared()

        progress = ctx.progress_for(self.name)

        def work(ip: str) -> Observation | None:
            mac, interface = hosts[ip]
            communities = creds.communities_for(ip)
            with shared.connection(ip):
                found = asyncio.run(
                    self._host(ip, mac, communities, source_ip_for(ctx, ip), counters)
                )
            if found is None:
                return None
            fields, raw = found
            return Observation(
                probe=self.name,
                interface=interface,
                observed_at=datetime.now(UTC),
                ip=ip,
                mac=mac,
                fields=tuple((k, creds.redact(v)) for k, v in fields if v),
                raw=creds.redact(raw)[:2048],
            )

        results = limits.for_each_host(
            todo, work, workers=shared.total, stop=ctx.stop, progress=progress
        )
        observations = tuple(o for o in results if o is not None)
        stats = ProbeStats(
            name=self.name,
            sent=counters.sent,
            answered=len(observations),
            duration=time.perf_counter() - started,
            status=ProbeStatus.PARTIAL if ctx.stop.is_set() else ProbeStatus.OK,
            error="interrupted" if ctx.stop.is_set() else None,
        )
        return [ProbeResult(stats, observations)]

    async def _host(
        self,
        ip: str,
        mac: str | None,
        communities: tuple[Secret, ...],
        source_ip: str | None,
        counters: _Counters,
    ) -> tuple[list[tuple[str, str]], str] | None:
        from pysnmp.hlapi.v1arch.asyncio import (
            CommunityData,
            SnmpDispatcher,
            UdpTransportTarget,
            get_cmd,
        )
        from pysnmp.proto.rfc1902 import Null

        budget = limits.Budget(self.politeness.host_budget)
        # A malformed reply makes pysnmp's receive callback raise inside the event loop; the
        # request then simply times out, and the traceback must not reach the user's terminal.
        asyncio.get_running_loop().set_exception_handler(lambda _loop, _context: None)
        dispatcher = SnmpDispatcher()
        try:
            target = await UdpTransportTarget.create(
                (ip, self.port), timeout=budget.timeout(self._timeout), retries=0
            )
            if source_ip:
                target.set_local_address((source_ip, 0))

            async def get(community: Secret, oids: list[str]) -> dict[str, str] | None:
                if budget.expired:
                    return None
                target.timeout = budget.timeout(self._timeout)
                auth = CommunityData(community.reveal(), mpModel=1)  # v2c
                counters.add()
                error, status, _index, binds = await get_cmd(
                    dispatcher, auth, target, *[(oid, Null()) for oid in oids]
                )
                if error or status:
                    return None
                return {str(name): render(value) for name, value in binds}

            for community in communities:
                system = await get(community, [oid for oid, _ in snmp_oids.SYSTEM])
                if system is None:
                    continue
                fields = [("reply", "snmp-get")]
                fields += [(key, system.get(oid, "")) for oid, key in snmp_oids.SYSTEM]
                object_id = system.get(snmp_oids.SYS_OBJECT_ID, "")
                vendor = snmp_oids.vendor_of(object_id)
                if vendor is None and mac and mac.upper().startswith(HYTERA_OUIS):
                    vendor = "hytera"
                objects = snmp_oids.VENDOR_OBJECTS.get(vendor or "")
                extra = await get(community, [oid for oid, _ in objects]) if objects else None
                if objects and extra and any(extra.values()):
                    fields += [(key, extra.get(oid, "")) for oid, key in objects]
                    arc = snmp_oids.enterprise_number(objects[0][0])
                    fields.append(("enterprise_objects", str(arc)))
                raw = "; ".join(f"{k}={v}" for k, v in fields[1:] if v)
                return fields, raw
            return None
        except Exception:  # pysnmp raises for unreachable or odd targets; the host is silent
            return None
        finally:
            dispatcher.transport_dispatcher.close_dispatcher()

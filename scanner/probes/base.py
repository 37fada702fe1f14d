"""The probe interface (after sslyze's plugins): a probe turns a scan context into observations
and statistics, and a probe that fails says so in its stats instead of raising, so one broken
protocol never costs the user the rest of the scan.

Two phases. Phase 1 (discovery: the ARP sweep, the multicast/broadcast protocols) runs
concurrently; a discovery probe's cost is its listen window, so the windows overlap the sweep.
Phase 2 (per-host probes: HTTP, RTSP, ONVIF, SNMP, ...) runs after it, given everything phase 1
observed in `ctx.prior`, so it asks only hosts that exist.

What a probe puts in `Observation.fields` (identification reads them; see docs/probes.md):
`manufacturer`, `brand`, `model`, `serial`, `firmware`, `device_type`, `hostname`, `name` are
what the device says about itself, verbatim; every other field is protocol-specific and named
for what it holds (`server`, `realm`, `title`, `scopes`, `types`, `xaddrs`, ...). Signatures in
fingerprints/signatures/<probe>.toml match those fields.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from threading import Event
from typing import ClassVar

from scanner.credentials import Credentials
from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus, Scope
from scanner.targets import RoutedPlan, SweepPlan

Progress = Callable[[str, int], None]  # (probe/interface label, units done)


@dataclass(frozen=True)
class ProbeContext:
    scope: Scope
    plans: tuple[SweepPlan, ...]
    stop: Event = field(default_factory=Event)
    progress: Progress | None = None
    prior: tuple[Observation, ...] = ()  # phase 1's observations, for phase-2 probes
    credentials: Credentials | None = None  # the user's ONVIF logins / SNMP communities
    # Targets beyond a router: no ARP there; probes/tcp_ports.py finds their hosts by TCP
    # connect in phase 1, so they reach phase 2 through `prior` (with mac None).
    routed: tuple[RoutedPlan, ...] = ()

    def progress_for(self, label: str) -> Callable[[int], None]:
        """A callback reporting units done under `label` (nothing when no one listens)."""

        def progress(done: int) -> None:
            if self.progress is not None:
                self.progress(label, done)

        return progress

    def live_hosts(self) -> dict[str, tuple[str | None, str]]:
        """ip -> (mac, interface) of every host phase 1 saw, for probes that ask hosts."""
        hosts: dict[str, tuple[str | None, str]] = {}
        for obs in self.prior:
            if obs.ip and (obs.ip not in hosts or hosts[obs.ip][0] is None):
                hosts[obs.ip] = (obs.mac, obs.interface)
        return hosts


class Probe(ABC):
    name: str
    phase: ClassVar[int] = 1  # 1: discovery, alongside the sweep; 2: per host, after phase 1

    @abstractmethod
    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        """One result per interface the probe ran on."""

    def run_safely(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        try:
            return self.run(ctx)
        except Exception as exc:
            return [
                ProbeResult(
                    ProbeStats(
                        name=self.name,
                        duration=time.perf_counter() - started,
                        status=ProbeStatus.FAILED,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                )
            ]


class PerInterfaceProbe(Probe):
    """A probe that runs on every chosen interface at once, one thread each."""

    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        if not ctx.plans:
            return []
        with ThreadPoolExecutor(max_workers=len(ctx.plans)) as pool:
            return list(pool.map(lambda p: self.probe_interface(ctx, p), ctx.plans))

    @abstractmethod
    def probe_interface(self, ctx: ProbeContext, plan: SweepPlan) -> ProbeResult:
        """The result on one interface."""


def interface_failure(name: str, iface: str, error: OSError | str) -> ProbeResult:
    """The FAILED result of probe `name` on `iface`: `<iface>: <error>`, an OSError given by its
    strerror when it has one."""
    if isinstance(error, OSError):
        error = str(error.strerror or error)
    return ProbeResult(
        ProbeStats(name=name, interface=iface, status=ProbeStatus.FAILED, error=f"{iface}: {error}")
    )

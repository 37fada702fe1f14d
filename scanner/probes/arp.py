"""The ARP probe: sweeps each interface's share of the scope concurrently, one thread each."""

from __future__ import annotations

import socket

from scanner.arp_sweep import SweepOutcome, sweep
from scanner.model import Observation, ProbeResult, ProbeStats, ProbeStatus
from scanner.probes.base import PerInterfaceProbe, ProbeContext, interface_failure
from scanner.targets import SweepPlan


class ArpProbe(PerInterfaceProbe):
    name = "arp"

    def probe_interface(self, ctx: ProbeContext, plan: SweepPlan) -> ProbeResult:
        label = plan.interface.name

        progress = ctx.progress_for(label)

        try:
            out = sweep(
                plan,
                rate=ctx.scope.rate,
                retries=ctx.scope.retries,
                timeout=ctx.scope.timeout,
                stop=ctx.stop,
                progress=progress,
            )
        except OSError as exc:
            return interface_failure(self.name, label, exc)
        observations = _observations(plan, out)
        answered = len({o.ip for o in observations})
        return ProbeResult(_stats(out, answered), observations)


def _stats(out: SweepOutcome, answered: int) -> ProbeStats:
    status = ProbeStatus.OK
    error = out.error
    if out.error or out.interrupted:
        status = ProbeStatus.PARTIAL
    if out.interrupted and not error:
        error = "interrupted before the sweep finished"
    return ProbeStats(
        name="arp",
        interface=out.interface,
        sent=out.sent,
        answered=answered,
        duration=round(out.duration, 3),
        status=status,
        error=error,
    )


def _observations(plan: SweepPlan, out: SweepOutcome) -> tuple[Observation, ...]:
    """Replies for addresses we did not ask about (gratuitous, stray) are not observations."""
    result = []
    for reply in out.replies:
        if not plan.contains(int.from_bytes(socket.inet_aton(reply.ip), "big")):
            continue
        result.append(
            Observation(
                probe="arp",
                interface=out.interface,
                observed_at=reply.seen_at,
                ip=reply.ip,
                mac=reply.mac,
                fields=(("op", "is-at"),),
                raw=reply.raw.hex(),
            )
        )
    return tuple(result)

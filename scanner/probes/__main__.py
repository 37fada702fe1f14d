"""Run probes on their own and print what they observed, as JSON lines (a tool for developers
and for the lab tests: `python -m scanner.probes wsd sadp -i lab0 -t 198.18.0.0/24`).

The ARP sweep runs first when any phase-2 probe is named, since those ask the hosts it found.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace

from netaddr import IPSet

from scanner import interfaces, targets
from scanner.model import Scope
from scanner.probes.base import ProbeContext
from scanner.scan import PROBES, default_probes, run_phase


def main(argv: list[str] | None = None) -> int:
    names = sorted({cls for _, cls in PROBES})
    parser = argparse.ArgumentParser(prog="python -m scanner.probes", description=__doc__)
    parser.add_argument("probes", nargs="+", help="probe names (e.g. arp, wsd, sadp, http)")
    parser.add_argument("-i", "--interface", action="append", required=True)
    parser.add_argument("-t", "--target", action="append", dest="targets", default=[])
    parser.add_argument("--listen", type=float, default=3.0)
    parser.add_argument("--rate", type=int, default=2000)
    args = parser.parse_args(argv)
    probes = [p for p in default_probes(tuple(args.probes)) if p.name in args.probes]
    missing = set(args.probes) - {p.name for p in probes}
    if missing:
        parser.error(f"unknown probe(s) {sorted(missing)}; registered classes: {names}")
    ifaces = interfaces.resolve(tuple(args.interface), interfaces.list_interfaces())
    specs = args.targets or targets.local_targets(ifaces)
    planned = targets.plan_scope(targets.parse_specs(specs), IPSet(), ifaces)
    scope = Scope(
        targets=tuple(specs),
        interfaces=tuple(args.interface),
        rate=args.rate,
        listen=args.listen,
        target_count=planned.count,
    )
    ctx = ProbeContext(scope=scope, plans=planned.local, routed=planned.routed)
    phase1 = [p for p in probes if p.phase == 1]
    phase2 = [p for p in probes if p.phase != 1]
    # Phase-2 probes ask the hosts phase 1 found: ARP on the local segments, and the TCP
    # connect sweep (tcp-sweep) beyond routers.
    for finder in ("arp", "tcp-sweep") if planned.routed else ("arp",):
        if phase2 and not any(p.name == finder for p in phase1):
            phase1 += [p for p in default_probes((finder,)) if p.name == finder]
    results = run_phase(ctx, phase1)  # concurrently, as a scan runs them
    if phase2:
        prior = tuple(o for r in results for o in r.observations)
        results += run_phase(replace(ctx, prior=prior), phase2)
    for result in results:
        print(json.dumps({"stats": asdict(result.stats)}, default=str))
        for obs in result.observations:
            print(json.dumps({"observation": asdict(obs)}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One picture across many facilities: the latest run of every site as a single ScanRun, for
`report --all-sites` (each device carries its site; the report renderers show it)."""

from __future__ import annotations

import dataclasses
import hashlib

from scanner.errors import UserError
from scanner.model import ProbeStats, ScanRun, Scope


def combine(runs: list[ScanRun]) -> ScanRun:
    """Devices keep their site; probes name theirs in the interface ("site:eth0"); the combined
    run is complete only if every site's latest run was."""
    if not runs:
        raise UserError("the store holds no runs yet", "run `ndaa-scan scan` with --store first")
    runs = sorted(runs, key=lambda r: r.scope.site)
    newest = max(runs, key=lambda r: r.started)
    devices = tuple(
        dataclasses.replace(d, site=r.scope.site) if d.site != r.scope.site else d
        for r in runs
        for d in r.devices
    )
    probes = tuple(
        ProbeStats(
            name=p.name,
            sent=p.sent,
            answered=p.answered,
            duration=p.duration,
            status=p.status,
            error=p.error,
            interface=f"{r.scope.site}:{p.interface}" if p.interface else r.scope.site,
        )
        for r in runs
        for p in r.probes
    )
    warnings = [f"site {r.scope.site}: {w}" for r in runs for w in r.warnings]
    warnings += [
        f"site {r.scope.site}: latest run {r.id} is incomplete" for r in runs if not r.complete
    ]
    versions = sorted({r.fingerprint_version for r in runs})
    if len(versions) > 1:
        warnings.append(f"sites were scanned with different fingerprint databases: {versions}")
    digest = hashlib.sha256("\n".join(r.id for r in runs).encode()).hexdigest()[:16]

    def union(values: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(values))

    return ScanRun(
        id=f"combined-{digest}",
        scope=Scope(
            targets=union([f"{r.scope.site}:{t}" for r in runs for t in r.scope.targets]),
            interfaces=union([f"{r.scope.site}:{i}" for r in runs for i in r.scope.interfaces]),
            excludes=union([f"{r.scope.site}:{x}" for r in runs for x in r.scope.excludes]),
            rate=newest.scope.rate,
            retries=newest.scope.retries,
            timeout=newest.scope.timeout,
            target_count=sum(r.scope.target_count for r in runs),
            site=", ".join(r.scope.site for r in runs),
        ),
        started=min(r.started for r in runs),
        finished=max(r.finished for r in runs),
        scanner_version=newest.scanner_version,
        fingerprint_version=newest.fingerprint_version,
        oui_source=newest.oui_source,
        probes=probes,
        devices=devices,
        complete=all(r.complete for r in runs),
        warnings=tuple(warnings),
    )


def combined_latest(store_url: str | None) -> ScanRun:
    """The latest run of every site in the store at `store_url` (None: the default store)."""
    from scanner.store.db import Store

    with Store.open(store_url, create=False) as store:
        runs = []
        for site in store.sites():
            run_id = store.latest(site)
            if run_id is not None:
                runs.append(store.load(run_id))
    return combine(runs)

"""After the sweep, before and after the reports: waivers, the comparison with the site's previous
run, and storing the run. Ordered so that the reports are written whatever the store does: a
store that cannot be read or written costs the history, never the report of the scan that ran."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from scanner import logs
from scanner.errors import UserError
from scanner.model import Device, ScanRun, Waiver

if TYPE_CHECKING:
    from scanner.store import Store


@dataclass
class Pending:
    run: ScanRun  # what the reports show: waivers applied, changes filled when the store worked
    store_url: str | None
    store: Store | None = None  # open until save()
    error: UserError | None = None


def prepare(
    run: ScanRun, store_url: str | None, waivers: tuple[Waiver, ...], today: date
) -> Pending:
    log = logs.get()
    if waivers:
        from scanner import waivers as waiver_rules

        devices, unused = waiver_rules.apply(run.devices, waivers, today)
        run = _replace(run, devices)
        for w in unused:
            log.warning("waiver for %s matched no device in this run", w.match)
        for d in devices:
            if d.waiver is not None and d.waiver_expired:
                log.warning(
                    "waiver for %s expired on %s: flagged again", d.waiver.match, d.waiver.expires
                )
    pending = Pending(run, store_url)
    if store_url is None:
        return pending
    from scanner.store import Store
    from scanner.store.changes import annotate

    try:
        store = Store.open(store_url)
        pending.store = store
        pending.run = annotate(run, store.previous_marks(run.scope.site))
    except UserError as exc:
        pending.error = exc
    return pending


def save(pending: Pending) -> UserError | None:
    """Store the run; returns the error to report (after the reports were written), if any."""
    store = pending.store
    if pending.error is not None or store is None:
        return pending.error
    started = time.perf_counter()
    try:
        store.save(pending.run)
    except UserError as exc:
        return exc
    finally:
        store.close()
    logs.get().info(
        "stored run %s of site %s (%d devices, %s) in %.2f s",
        pending.run.id,
        pending.run.scope.site,
        len(pending.run.devices),
        "complete" if pending.run.complete else "incomplete",
        time.perf_counter() - started,
    )
    return None


def _replace(run: ScanRun, devices: tuple[Device, ...]) -> ScanRun:
    import dataclasses

    return dataclasses.replace(run, devices=devices)

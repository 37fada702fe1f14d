"""What the terminal shows: a progress bar on a TTY, and the summary that cron mails home."""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.table import Table

from scanner.model import ScanRun, Status
from scanner.outcome import exit_code
from scanner.probes.base import ProbeContext

TABLE_ROWS = 50  # flagged devices listed in the terminal; the report has them all


def estimate_seconds(count: int, rate: int, retries: int, timeout: float) -> tuple[float, float]:
    """(every host answers, no host answers): one pass plus its quiet period, then retry passes
    over the silent addresses, each waiting 1.5x longer."""
    first = count / rate + timeout
    worst = first + sum(count / rate + timeout * 1.5**k for k in range(1, retries + 1))
    return first, worst


@contextmanager
def progress_display(ctx: ProbeContext) -> Iterator[ProbeContext]:
    """A rich progress bar per interface on a TTY; nothing otherwise (cron wants no noise)."""
    if not sys.stderr.isatty():
        yield ctx
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    tasks = {
        p.interface.name: progress.add_task(f"ARP sweep {p.interface.name}", total=p.count)
        for p in ctx.plans
    }

    def update(label: str, done: int) -> None:
        task = tasks.get(label)
        if task is None:  # a per-host probe reporting hosts done; its total is not known
            task = tasks[label] = progress.add_task(label, total=None)
        progress.update(task, completed=min(done, progress.tasks[task].total or done))

    with progress:
        yield dataclasses.replace(ctx, progress=update)


def print_summary(
    run: ScanRun, outputs: list[str], console: Console | None = None, code: int | None = None
) -> None:
    # Cron mails the summary: without a terminal rich would wrap at 80 columns and cut the
    # manufacturer and model down to "Hikvi…", which helps no one reading it.
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    counts = Counter(d.finding.status for d in run.devices)
    covered, review, clear = (counts[s] for s in (Status.COVERED, Status.REVIEW, Status.CLEAR))
    state = "complete" if run.complete else "INCOMPLETE"
    console.print(
        f"ndaa-scan: {len(run.devices)} devices on {', '.join(run.scope.interfaces)} "
        f"({run.scope.target_count:,} addresses, scan {state}): "
        f"{covered} covered, {review} review, {clear} clear"
    )
    flagged = [d for d in run.devices if d.finding.status is not Status.CLEAR]
    if flagged:
        table = Table(show_edge=False, pad_edge=False)
        table.add_column("status")
        table.add_column("ip", min_width=15, no_wrap=True)
        table.add_column("mac", min_width=17, no_wrap=True)
        table.add_column("manufacturer")
        table.add_column("model")
        table.add_column("vendor")
        table.add_column("confidence", justify="right")
        for d in flagged[:TABLE_ROWS]:
            table.add_row(
                d.finding.status.value,
                d.ip or "",
                d.mac or "",
                d.identity.manufacturer or "",
                d.identity.model or "",
                d.finding.covered_vendor or "",
                f"{d.finding.confidence:.2f}",
            )
        console.print(table)
        if len(flagged) > TABLE_ROWS:
            console.print(
                f"... and {len(flagged) - TABLE_ROWS:,} more flagged devices: see the report"
            )
    waived = [d for d in run.devices if d.waiver is not None]
    for d in waived[:TABLE_ROWS]:
        w = d.waiver
        assert w is not None
        state = "waiver EXPIRED" if d.waiver_expired else "waived"
        console.print(
            f"{state}: {d.ip or ''} {d.mac or ''} ({d.finding.status.value}) until "
            f"{w.expires.isoformat()}, approved by {w.approver}: {w.justification}",
            highlight=False,
            soft_wrap=True,
        )
    for warning in run.warnings:
        console.print(f"warning: {warning}")
    for probe in run.probes:
        console.print(
            f"probe {probe.name} {probe.interface}: sent {probe.sent:,}, answered "
            f"{probe.answered:,} in {probe.duration:.2f} s ({probe.status.value})"
        )
    for path in outputs:
        console.print(f"report: {path}")
    console.print(f"exit code {int(exit_code(run)) if code is None else code}")

"""Exit codes (design.md): what cron alerts on."""

from __future__ import annotations

from enum import IntEnum

from scanner.model import Change, Device, ScanRun, Status


class ExitCode(IntEnum):
    CLEAR = 0
    COVERED = 1
    USAGE = 2
    INCOMPLETE = 3
    REVIEW = 4
    LOCKED = 5  # another run of the same site is in progress; this one did nothing


FAIL_ON = ("any", "new", "never")


def _counts(device: Device, fail_on: str) -> bool:
    """Whether a device may raise the exit code: not under an active waiver, and with
    --fail-on new only if it appeared since the site's previous run."""
    if device.waiver is not None and not device.waiver_expired:
        return False
    return fail_on != "new" or device.change is Change.NEW


def exit_code(run: ScanRun, fail_on: str = "any") -> ExitCode:
    """Covered wins; an incomplete scan outranks review-only, since its silence proves less.

    fail_on "any": every covered (review) device counts; "new": only those new since the site's
    previous run (on a site's first run, every device is new); "never": findings never fail the
    run, only an incomplete scan does. Devices under an active waiver never count.
    """
    statuses = {d.finding.status for d in run.devices if _counts(d, fail_on)}
    if fail_on != "never" and Status.COVERED in statuses:
        return ExitCode.COVERED
    if not run.complete:
        return ExitCode.INCOMPLETE
    if fail_on != "never" and Status.REVIEW in statuses:
        return ExitCode.REVIEW
    return ExitCode.CLEAR

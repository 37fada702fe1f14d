"""Exit codes (design.md): what cron alerts on."""

from __future__ import annotations

from enum import IntEnum

from scanner.model import ScanRun, Status


class ExitCode(IntEnum):
    CLEAR = 0
    COVERED = 1
    USAGE = 2
    INCOMPLETE = 3
    REVIEW = 4


def exit_code(run: ScanRun) -> ExitCode:
    """Covered wins; an incomplete scan outranks review-only, since its silence proves less."""
    if run.count(Status.COVERED):
        return ExitCode.COVERED
    if not run.complete:
        return ExitCode.INCOMPLETE
    if run.count(Status.REVIEW):
        return ExitCode.REVIEW
    return ExitCode.CLEAR

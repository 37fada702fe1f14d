"""One run per site at a time: cron must not stack a second scan (and a second write to the
store) on top of one that is still sweeping.

An advisory `flock` on a file per site: the kernel drops it when the process dies, however it
dies, so a crashed run never leaves a stale lock behind. The second run does not wait: it exits
at once with its own exit code (5), which a cron wrapper can tell apart from a finding.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

from scanner.errors import UserError


class SiteLocked(UserError):
    exit_code = 5


def lock_path(directory: Path, site: str) -> Path:
    """A file name per site that is safe whatever the site is called."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", site)[:60] or "_"
    digest = hashlib.sha256(site.encode()).hexdigest()[:8]
    return directory / f"{safe}-{digest}.lock"


@contextlib.contextmanager
def site_lock(directory: Path, site: str) -> Iterator[Path]:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = lock_path(directory, site)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(
            f"cannot create the lock file in {directory}: {exc.strerror or exc}",
            "set XDG_DATA_HOME to a writable directory (the lock lives in its ndaa-scan/locks)",
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
            raise SiteLocked(
                f"another run of site {site!r} is in progress"
                + (f" (pid {holder})" if holder else "")
                + "; this one did nothing",
                f"wait for it to finish, or scan another --site (lock: {path})",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock

"""One run per site: a second run fails at once with exit code 5; the lock dies with its
holder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scanner.lock import SiteLocked, lock_path, site_lock

HOLD = """
import sys, time
from pathlib import Path
from scanner.lock import site_lock
with site_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    time.sleep(30)
"""


def test_second_run_of_a_site_is_refused(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path), "hq"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        busy = "another run of site 'hq' is in progress"
        with pytest.raises(SiteLocked, match=busy) as info, site_lock(tmp_path, "hq"):
            pass
        assert info.value.exit_code == 5
        assert f"pid {holder.pid}" in info.value.message
        with site_lock(tmp_path, "plant-2"):  # another site is not blocked
            pass
    finally:
        holder.kill()
        holder.wait()
    with site_lock(tmp_path, "hq"):  # released when the holder died
        pass


def test_lock_names_are_safe_and_distinct(tmp_path: Path) -> None:
    a, b = lock_path(tmp_path, "../etc/passwd"), lock_path(tmp_path, "..-etc-passwd")
    assert a.parent == tmp_path and a != b

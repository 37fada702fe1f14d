"""Run history end to end over the lab: the real CLI in the lab's scanner namespace, storing into
SQLite and a real PostgreSQL server. Traffic stays inside 198.18.0.0/15.

Covers the issue's "done when": a covered device added between two scans shows as new in `diff`
and makes `scan --fail-on new` exit 1 only then; two sites in one PostgreSQL give one combined
picture; a scan killed mid-sweep is stored as incomplete in a consistent store; overlapping runs
of a site are serialised (the second exits 5 at once); a waiver hides nothing and expires.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]


def _prefix(letter: str) -> str:
    return f"ndaa-{letter}{uuid.uuid4().hex[:4]}-"  # 11 characters, under the 12 allowed


@pytest.fixture(scope="module")
def standard_lab() -> Iterator[Any]:
    from scanner.lab import netns

    prefix = _prefix("h")
    with netns.lab(prefix=prefix) as handle:
        yield handle
    leftovers = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in leftovers


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Our own data directory (store and locks), no NDAA_SCAN_* from the caller."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NDAA_SCAN_")}
    return dict(base, PYTHONPATH=str(ROOT), XDG_DATA_HOME=str(tmp_path / "data"))


def scanner_argv(handle: Any, *args: str) -> list[str]:
    argv: list[str] = handle.exec_argv([sys.executable, "-m", "scanner", "scan", *args])
    return argv


def scan(handle: Any, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = scanner_argv(handle, *args, "-i", handle.interface)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "scanner", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_a_covered_device_added_between_runs(tmp_path: Path, env: dict[str, str]) -> None:
    from scanner.lab import netns
    from scanner.lab.topology import STANDARD_DEVICES

    added = next(d for d in STANDARD_DEVICES if d.expected_status == "covered")
    without = [d for d in STANDARD_DEVICES if d is not added]
    store = f"sqlite:///{tmp_path}/runs.db"
    prefix = _prefix("g")
    opts = ("--store", store, "--site", "lab", "--fail-on", "new")

    with netns.lab(devices=without, prefix=prefix) as handle:
        first = scan(handle, env, handle.targets, *opts)
        assert first.returncode == 1, first.stdout + first.stderr  # a site's first run: all new
        second = scan(handle, env, handle.targets, *opts)
        assert second.returncode == 0, second.stdout + second.stderr  # nothing new
    with netns.lab(devices=STANDARD_DEVICES, prefix=prefix) as handle:
        out = tmp_path / "r.json"
        third = scan(handle, env, handle.targets, *opts, "-o", str(out))
        assert third.returncode == 1, third.stdout + third.stderr
    report = {d["mac"]: d for d in json.loads(out.read_text())["devices"]}
    assert report[added.mac.upper()]["change"] == "new"
    assert {d["change"] for m, d in report.items() if m != added.mac.upper()} == {"unchanged"}

    proc = cli(env, "diff", "--store", store, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(d["category"], d["mac"]) for d in doc["devices"]] == [("new", added.mac.upper())]
    text = cli(env, "diff", "--store", store)
    assert "NEW" in text.stdout and added.mac.upper() in text.stdout

    history = json.loads(cli(env, "history", "--store", store, "--format", "json").stdout)
    assert [r["new"] for r in history] == [1, 0, len(without)]


def test_two_sites_into_one_postgresql(
    standard_lab: Any, env: dict[str, str], postgres_socket_url: str
) -> None:
    from scanner.store import combined_latest

    covered = [d for d in standard_lab.devices if d.expected_status == "covered"]
    clear = [d for d in standard_lab.devices if d.expected_status == "clear" and not d.proxy_ips]
    hq = scan(standard_lab, env, covered[0].ip, "--store", postgres_socket_url, "--site", "hq")
    assert hq.returncode == 1, hq.stdout + hq.stderr
    plant = scan(standard_lab, env, clear[0].ip, "--store", postgres_socket_url, "--site", "plant")
    assert plant.returncode == 0, plant.stdout + plant.stderr

    combined = combined_latest(postgres_socket_url)
    assert sorted((d.site, d.mac) for d in combined.devices) == sorted(
        [("hq", covered[0].mac.upper()), ("plant", clear[0].mac.upper())]
    )
    from reports import get_format

    doc = json.loads(get_format("json").render(combined))
    assert {d["site"] for d in doc["devices"]} == {"hq", "plant"}


def test_a_scan_killed_mid_sweep_is_stored_incomplete(
    standard_lab: Any, env: dict[str, str], tmp_path: Path
) -> None:
    from scanner.store import Store

    db = tmp_path / "runs.db"
    out = tmp_path / "r.json"
    clear_ip = next(d.ip for d in standard_lab.devices if d.expected_status == "clear")
    argv = scanner_argv(standard_lab, clear_ip, "198.18.0.128/25", "-i", standard_lab.interface)
    argv += ["--rate", "10", "--store", str(db), "-o", str(out)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err.decode()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store.open(str(db)) as store:
        (summary,) = store.runs()
        stored = store.load(summary.id)
    assert summary.complete is False
    report = json.loads(out.read_text())
    assert report["scan"]["id"] == stored.id
    assert len(stored.devices) == len(report["devices"]) == summary.devices
    assert any(d.ip == clear_ip for d in stored.devices)


def test_overlapping_runs_of_a_site_are_serialised(
    standard_lab: Any, env: dict[str, str], tmp_path: Path
) -> None:
    store = str(tmp_path / "runs.db")
    argv = scanner_argv(standard_lab, "198.18.0.128/25", "-i", standard_lab.interface)
    argv += ["--rate", "10", "--store", store, "--site", "hq"]
    slow = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        time.sleep(2.0)
        started = time.monotonic()
        second = scan(standard_lab, env, "198.18.0.128/25", "--store", store, "--site", "hq")
        assert second.returncode == 5, second.stdout + second.stderr
        assert time.monotonic() - started < 15  # at once, not after the first run
        assert "another run of site 'hq' is in progress" in second.stderr
        other = scan(standard_lab, env, "198.18.0.11", "--store", store, "--site", "plant")
        assert other.returncode in (0, 1), other.stderr  # another site is not blocked
    finally:
        slow.send_signal(signal.SIGTERM)
        slow.communicate(timeout=60)
    assert slow.returncode == 3


def test_a_waiver_hides_nothing_and_expires(
    standard_lab: Any, env: dict[str, str], tmp_path: Path
) -> None:
    device = next(d for d in standard_lab.devices if d.expected_status == "covered")
    waivers = tmp_path / "waivers.toml"
    entry = (
        f'[[waiver]]\nmac = "{device.mac}"\njustification = "isolated test bench"\n'
        'approver = "J. Smith, CISO"\nexpires = {date}\nreference = "CR-1042"\n'
    )
    out = tmp_path / "r.json"
    opts = ("--no-store", "--waivers", str(waivers), "-o", str(out))

    waivers.write_text(entry.format(date="2099-12-31"))
    active = scan(standard_lab, env, device.ip, *opts)
    assert active.returncode == 0, active.stdout + active.stderr
    (got,) = json.loads(out.read_text())["devices"]
    assert got["mac"] == device.mac.upper() and got["status"] == "covered"
    assert got["waiver"]["justification"] == "isolated test bench"
    assert got["waiver"]["expired"] is False
    assert "waived:" in active.stdout

    waivers.write_text(entry.format(date="2020-01-01"))
    expired = scan(standard_lab, env, device.ip, *opts)
    assert expired.returncode == 1, expired.stdout + expired.stderr
    (got,) = json.loads(out.read_text())["devices"]
    assert got["waiver"]["expired"] is True and got["status"] == "covered"

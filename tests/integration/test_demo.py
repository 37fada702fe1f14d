"""`ndaa-scan demo` as a newcomer runs it: a lab, a scan with every probe, two reports, no trace
left behind. Traffic stays inside the lab's namespaces (198.18.0.0/15)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from reports.schema import validate

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]


def test_demo_writes_both_reports_and_leaves_nothing(tmp_path: Path) -> None:
    prefix = f"ndaa-q{uuid.uuid4().hex[:4]}-"
    env = dict(os.environ, PYTHONPATH=str(ROOT), NDAA_LAB_PREFIX=prefix)
    proc = subprocess.run(
        [sys.executable, "-m", "scanner", "demo", "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Traceback" not in output, output
    assert "exit code 1" in output and "lab down" in output
    doc = json.loads((tmp_path / "ndaa-report.json").read_text())
    validate(doc)
    assert doc["summary"]["covered"] >= 13 and doc["summary"]["review"] == 1
    by_ip = {d["ip"]: d for d in doc["devices"]}
    # With the lab's credentials the demo reads device information over ONVIF and SNMP.
    assert by_ip["198.18.0.31"]["model"] == "RD985"  # Hytera, over SNMP
    assert by_ip["198.18.0.11"]["serial"] == "DS-2CD2143G2-I20210315AAWRJ12345678"
    # Behind the router: found by TCP connect, identified from what it answers, no MAC.
    routed = by_ip["198.19.1.11"]
    assert routed["mac"] is None and routed["status"] == "covered"
    assert routed["covered_vendor"] == "hikvision"
    names = {p["name"] for p in doc["scan"]["probes"]}
    assert {"arp", "wsd", "sadp", "dhip", "onvif", "snmp", "http", "rtsp"} <= names
    assert (tmp_path / "ndaa-report.html").stat().st_size > 10_000
    leftovers = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in leftovers

"""End to end over the lab: the real CLI, in the lab's scanner namespace, against namespaces
whose kernels answer ARP with the vendors' real MACs. Traffic stays inside 198.18.0.0/15."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.schema import validate

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]


@pytest.fixture(scope="module")
def lab_prefix() -> Iterator[str]:
    prefix = f"ndaa-s{uuid.uuid4().hex[:4]}-"
    old = os.environ.get("NDAA_LAB_PREFIX")
    os.environ["NDAA_LAB_PREFIX"] = prefix
    yield prefix
    if old is None:
        os.environ.pop("NDAA_LAB_PREFIX", None)
    else:
        os.environ["NDAA_LAB_PREFIX"] = old


@pytest.fixture(scope="module")
def standard_lab(lab_prefix: str) -> Iterator[Any]:
    from scanner.lab import netns

    with netns.lab() as handle:
        yield handle
    leftovers = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab_prefix not in leftovers


def scan(handle: Any, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    argv = handle.exec_argv([sys.executable, "-m", "scanner", "scan", *args])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def report(tmp_path: Path, handle: Any, *targets: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / "r.json"
    proc = scan(handle, *targets, "-i", handle.interface, "-o", str(out))
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(out.read_text()) if out.exists() else {}
    return proc.returncode, doc, proc.stdout + proc.stderr


def test_every_lab_device_found_with_vendor_and_status(standard_lab: Any, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    out = tmp_path / "r.json"
    proc = scan(
        standard_lab,
        standard_lab.targets,
        "-i",
        standard_lab.interface,
        "-o",
        str(out),
        "-o",
        str(html),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # covered equipment found
    doc = json.loads(out.read_text())
    validate(doc)
    by_mac = {d["mac"]: d for d in doc["devices"]}
    assert len(doc["devices"]) == len(standard_lab.devices), sorted(by_mac)
    for dev in standard_lab.devices:
        got = by_mac.get(dev.mac.upper())
        assert got is not None, f"{dev.name} ({dev.mac}) not found"
        assert got["ip"] == dev.ip, dev.name
        assert got["status"] == dev.expected_status, (dev.name, got["status"], got["rationale"])
        assert got["covered_vendor"] == dev.expected_vendor, dev.name
        assert got["manufacturer"] == dev.expected_manufacturer, dev.name
        if dev.expected_status != "clear":
            assert got["basis"] is not None and got["basis"]["prong"].startswith("(f)(3)")
            oui = [e for e in got["evidence"] if e["signal"] == "oui"]
            assert oui and doc["scan"]["oui_registry"]["date"] in oui[0]["source"]
        else:
            assert got["basis"] is None
    arp = [p for p in doc["scan"]["probes"] if p["name"] == "arp"]
    assert arp and arp[0]["status"] == "ok" and arp[0]["sent"] >= 254
    page = html.read_text()
    for dev in standard_lab.devices:
        assert dev.mac.upper() in page


def test_proxy_arp_host_is_one_device_not_many(standard_lab: Any, tmp_path: Path) -> None:
    (proxy,) = [d for d in standard_lab.devices if d.proxy_ips]
    _code, doc, _ = report(tmp_path, standard_lab, standard_lab.targets)
    holders = [d for d in doc["devices"] if d["mac"] == proxy.mac.upper()]
    assert len(holders) == 1
    (dev,) = holders
    assert set(proxy.proxy_ips) <= {dev["ip"], *dev["other_ips"]}
    assert any("proxy-ARP" in n for n in dev["notes"])
    assert dev["status"] == "clear"
    phantom = [
        d for d in doc["devices"] if d["mac"] != proxy.mac.upper() and d["ip"] in proxy.proxy_ips
    ]
    assert phantom == []


def _ips(handle: Any, status: str) -> list[str]:
    return [d.ip for d in handle.devices if d.expected_status == status and not d.proxy_ips]


def test_exit_code_0_when_only_clear_devices(standard_lab: Any, tmp_path: Path) -> None:
    code, doc, output = report(tmp_path, standard_lab, *_ips(standard_lab, "clear"))
    assert code == 0, output
    assert doc["summary"]["covered"] == 0


def test_exit_code_4_when_only_review(standard_lab: Any, tmp_path: Path) -> None:
    code, doc, output = report(tmp_path, standard_lab, *_ips(standard_lab, "review"))
    assert code == 4, output
    assert doc["summary"]["review"] >= 1


def test_exit_code_1_for_one_covered(standard_lab: Any, tmp_path: Path) -> None:
    code, _doc, output = report(tmp_path, standard_lab, _ips(standard_lab, "covered")[0])
    assert code == 1, output


def test_exit_code_3_when_interrupted(standard_lab: Any, tmp_path: Path) -> None:
    """SIGTERM mid-sweep: what was seen is reported, the run is marked incomplete."""
    out = tmp_path / "r.json"
    clear_ip = _ips(standard_lab, "clear")[0]
    argv = standard_lab.exec_argv(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            clear_ip,
            "198.18.0.128/25",
            "-i",
            standard_lab.interface,
            "--rate",
            "10",
            "-o",
            str(out),
        ]
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["scan"]["complete"] is False
    assert doc["scan"]["probes"][0]["status"] == "partial"


SNIFF = """
import socket, sys, time
from scanner.arp_wire import parse_frame, ETH_P_ARP
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
s.bind(("eth0", ETH_P_ARP))
s.settimeout(0.1)
print("ready", flush=True)
me = socket.inet_aton(sys.argv[1])
end, asked = time.time() + float(sys.argv[2]), 0
while time.time() < end:
    try:
        pkt = parse_frame(s.recv(128))
    except socket.timeout:
        continue
    if pkt is not None and pkt.op == 1 and pkt.target_ip == me:
        asked += 1
print(asked, flush=True)
"""


def _sniff(handle: Any, name: str, ip: str, seconds: float) -> subprocess.Popen[str]:
    """Count the who-has requests that reach a device's own namespace."""
    argv = ["ip", "netns", "exec", f"{handle.prefix}d-{name}"]
    argv += [sys.executable, "-c", SNIFF, ip, str(seconds)]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_exclusions_are_never_sent_to(standard_lab: Any, tmp_path: Path) -> None:
    """Proved at the excluded device itself: it hears no request, while a device in scope does."""
    covered = [d for d in standard_lab.devices if d.expected_status == "covered"]
    excluded, control = covered[0], covered[1]
    sniffers = [_sniff(standard_lab, d.name, d.ip, 6.0) for d in (excluded, control)]
    _code, doc, _ = report(
        tmp_path, standard_lab, standard_lab.targets, "--exclude", excluded.ip, "--rate", "2000"
    )
    heard = [int(p.communicate(timeout=30)[0].strip()) for p in sniffers]
    assert heard[0] == 0, "an excluded address was sent an ARP request"
    assert heard[1] >= 1, "the sniffer saw nothing, so it proves nothing"
    assert excluded.ip not in {d["ip"] for d in doc["devices"]}
    assert doc["scan"]["excludes"] == [excluded.ip]

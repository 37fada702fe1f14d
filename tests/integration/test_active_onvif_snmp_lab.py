"""ONVIF device information and SNMP over the lab, proved from the devices' side: without
credentials nothing authenticates and no SNMP is sent; with the user's login and communities the
model, serial and firmware come back, and the secrets appear nowhere in the report or output."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CAMERAS = ("hik-cam", "hik-nvr", "dahua-cam", "amcrest-cam")
AGENTS = ("hytera", "huawei")
PROBES = ("wsd", "sadp", "dhip", "onvif", "snmp")

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    from scanner.lab import netns

    prefix = f"ndaa-o{uuid.uuid4().hex[:4]}-"
    with netns.lab(prefix=prefix) as handle:
        yield handle


def _login(handle: Any) -> tuple[str, str]:
    from scanner.lab import netns
    from scanner.lab.emulators.onvif_handler import lab_credentials

    return lab_credentials(netns.LabNames(handle.prefix).state_dir)


def _scan(
    handle: Any, tmp_path: Path, env: dict[str, str], *extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = tmp_path / "report.json"
    argv = [sys.executable, "-m", "scanner", "scan", handle.targets, "-i", handle.interface]
    for probe in PROBES:
        argv += ["--probe", probe]
    argv += ["-o", str(out), *extra]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NDAA_SCAN_")}
    proc = subprocess.run(
        handle.exec_argv(argv),
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc, json.loads(out.read_text())


def _entries(handle: Any, names: tuple[str, ...], service: str) -> dict[str, list[dict[str, Any]]]:
    return {n: [e for e in handle.requests(n) if e["service"] == service] for n in names}


def test_without_credentials_no_auth_and_no_snmp(lab: Any, tmp_path: Path) -> None:
    before = {n: len(handle_log) for n, handle_log in _entries(lab, CAMERAS, "onvif").items()}
    proc, doc = _scan(lab, tmp_path, {})
    onvif = _entries(lab, CAMERAS, "onvif")
    for name in CAMERAS:
        new = onvif[name][before[name] :]
        assert new, f"{name}: the ONVIF probe never asked"
        assert {e["kind"] for e in new} <= {"GetSystemDateAndTime", "GetDeviceInformation"}
        for entry in new:
            assert entry["auth"] == "none", entry
            assert "authorization:" not in entry["request"].lower(), entry
            assert "UsernameToken" not in entry["request"], entry
    assert all(not entries for entries in _entries(lab, AGENTS, "snmp").values())
    stats = {p["name"]: p for p in doc["scan"]["probes"]}
    assert stats["snmp"]["sent"] == 0
    devices = {d["ip"]: d for d in doc["devices"]}
    amcrest = devices["198.18.0.24"]  # Dahua firmware answers anonymously; the label is Amcrest
    assert amcrest["serial"] == "AMC0123456789ABCD" and amcrest["model"] == "IP2M-841B"
    assert devices["198.18.0.21"]["firmware"] == "2.800.0000000.13.R, build: 2021-06-03"
    print(f"no-credential scan: rc={proc.returncode}; onvif stats {stats['onvif']}")


def test_with_credentials_device_information_and_snmp(lab: Any, tmp_path: Path) -> None:
    from scanner.lab.personas import PERSONAS

    user, password = _login(lab)
    creds = tmp_path / "creds.toml"
    creds.write_text(f'[[onvif]]\nusername = "{user}"\npassword = "{password}"\n')
    creds.chmod(0o600)
    before = {n: len(log) for n, log in _entries(lab, CAMERAS + AGENTS, "snmp").items()}
    # The login from the file, the communities from the environment: both ways count.
    communities = {"NDAA_SCAN_SNMP_COMMUNITIES": "ndaa-not-it,hytera,public"}
    proc, doc = _scan(lab, tmp_path, communities, "--credentials", str(creds))
    devices = {d["ip"]: d for d in doc["devices"]}
    for name, ip in (
        ("hik-cam", "198.18.0.11"),
        ("hik-nvr", "198.18.0.12"),
        ("hytera", "198.18.0.31"),
    ):
        persona = PERSONAS[name]
        got = (devices[ip]["model"], devices[ip]["serial"], devices[ip]["firmware"])
        assert got == (persona.model, persona.serial, persona.firmware), (name, devices[ip])
    authed = [e for e in _entries(lab, CAMERAS, "onvif")["hik-cam"] if e["auth"] != "none"]
    assert authed and all(e["authorized"] for e in authed)
    snmp = _entries(lab, CAMERAS + AGENTS, "snmp")
    sent = [e for n in snmp for e in snmp[n][before[n] :]]
    assert sent and {e["community"] for e in sent} <= {"ndaa-not-it", "hytera", "public"}
    assert {e["kind"] for e in sent} == {"get"}
    text = json.dumps(doc) + proc.stdout + proc.stderr
    for secret in (password, "ndaa-not-it"):
        assert secret not in text
    huawei = devices["198.18.0.41"]
    assert huawei["covered_vendor"] == "huawei"
    print(f"credential scan: rc={proc.returncode}; probes {doc['scan']['probes']}")

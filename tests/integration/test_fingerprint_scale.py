"""The scale lab for fingerprinting: 1,000 hosts of which 50 are camera emulators; the whole CLI
at default politeness must find every host and fingerprint every camera over ONVIF. Not a timed
test (the bound is generous); the time is printed, the benchmark records it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]


def test_every_camera_fingerprinted(tmp_path: Path) -> None:
    from scanner.lab import netns, scale_cameras
    from scanner.lab.emulators.onvif_handler import lab_credentials

    prefix = f"ndaa-f{uuid.uuid4().hex[:4]}-"
    out = tmp_path / "report.json"
    with scale_cameras.lab(1000, 50, prefix=prefix) as lab:
        user, password = lab_credentials(netns.LabNames(lab.prefix).state_dir)
        creds = tmp_path / "creds.toml"
        creds.write_text(f'[[onvif]]\nusername = "{user}"\npassword = "{password}"\n')
        creds.chmod(0o600)
        argv = [sys.executable, "-m", "scanner", "scan", lab.targets, "-i", lab.interface]
        argv += ["-o", str(out), "--credentials", str(creds)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NDAA_SCAN_")}
        started = time.perf_counter()
        proc = subprocess.run(
            lab.exec_argv(argv),
            env={**env, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        wall = time.perf_counter() - started
        expected = lab.expected_arp()
        cameras = lab.cameras
        asked = {
            c.name: [e for e in lab.requests(c.name) if e["service"] == "onvif"] for c in cameras
        }
    assert proc.returncode == 1 and out.exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    devices = {d["ip"]: d for d in doc["devices"]}
    assert {ip: devices[ip]["mac"] for ip in expected if ip in devices} == {
        ip: mac.upper() for ip, mac in expected.items()
    }
    missing = []
    for camera in cameras:
        device = devices[camera.ip]
        persona = scale_cameras.camera_persona(camera)
        onvif = [e for e in device["evidence"] if e["signal"] == "onvif"]
        if not (onvif and device["status"] == "covered" and device["serial"] == persona.serial):
            missing.append(camera.name)
        assert all(
            e["kind"] in ("GetSystemDateAndTime", "GetDeviceInformation")
            for e in asked[camera.name]
        )
    assert not missing, f"{len(missing)} cameras not fingerprinted: {missing[:5]}"
    assert password not in out.read_text() + proc.stdout + proc.stderr
    phases = {p["name"]: p["duration"] for p in doc["scan"]["probes"]}
    print(f"\n1,000 hosts / 50 cameras: whole CLI {wall:.1f} s; probe durations {phases}")
    assert wall < 300

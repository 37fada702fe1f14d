"""SADP, SADP layer 2, DHIP and Dahua 5050 end to end over the lab: the probes in the scanner's
namespace against the emulators, then the whole CLI. Devices run only these emulators (ARP is the
kernel's), so what is asserted here is what these protocols alone find. Traffic stays inside the
lab's namespaces, in 198.18.0.0/15."""

from __future__ import annotations

import dataclasses
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

from scanner.lab.personas import persona_for
from scanner.lab.topology import STANDARD_DEVICES, LabDevice

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]
MINE = ("sadp", "sadp-l2", "dhip", "dhip-legacy")
ASKED = {"sadp": "inquiry", "dhip": "dhip-search", "dhip-legacy": "legacy-search"}
LISTEN = 2.0


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scanner.lab import netns

    prefix = f"ndaa-d{uuid.uuid4().hex[:4]}-"
    old = os.environ.get("NDAA_LAB_PREFIX")
    os.environ["NDAA_LAB_PREFIX"] = prefix
    devices = [
        dataclasses.replace(d, services=tuple(s for s in d.services if s in MINE))
        for d in STANDARD_DEVICES
    ]
    try:
        with netns.lab(devices=devices, prefix=prefix) as handle:
            yield handle
    finally:
        if old is None:
            os.environ.pop("NDAA_LAB_PREFIX", None)
        else:
            os.environ["NDAA_LAB_PREFIX"] = old
    leftovers = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in leftovers


def speakers(service: str) -> list[LabDevice]:
    return [d for d in STANDARD_DEVICES if service in d.services]


def run_probes(handle: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    from scanner.lab import netns

    argv = [sys.executable, "-m", "scanner.probes", "sadp", "dhip", "dahua-legacy"]
    argv += ["-i", handle.interface, "-t", handle.targets, "--listen", str(LISTEN)]
    proc = subprocess.run(
        handle.exec_argv(argv),
        capture_output=True,
        text=True,
        timeout=120,
        env=netns.tool_environment(),
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    stats: dict[str, dict[str, Any]] = {}
    observations: list[dict[str, Any]] = []
    for line in proc.stdout.splitlines():
        record = json.loads(line)
        if "stats" in record:
            stats[record["stats"]["name"]] = record["stats"]
        else:
            observations.append(record["observation"])
    return stats, observations


@pytest.fixture(scope="module")
def probed(lab: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    return run_probes(lab)


def _one(observations: list[dict[str, Any]], probe: str, device: LabDevice) -> dict[str, str]:
    mine = [o for o in observations if o["probe"] == probe and o["ip"] == device.ip]
    assert mine, f"{probe} did not find {device.name}"
    assert {o["mac"] for o in mine} == {device.mac.upper()}
    return dict(mine[0]["fields"])


def test_every_sadp_device_found_with_model_serial_firmware(probed: Any) -> None:
    _stats, observations = probed
    for device in speakers("sadp"):
        persona = persona_for(device.name)
        assert persona is not None
        fields = _one(observations, "sadp", device)
        assert fields["reply"] == "sadp-probematch"
        assert (fields["model"], fields["serial"], fields["firmware"]) == (
            persona.model, persona.serial, persona.firmware,
        )  # fmt: skip
        assert fields["activated"] == "true"
        assert (fields["oem_code"] == "1") == ("oem-label" not in persona.quirks)


def test_every_dhip_device_found_with_model_serial_firmware_and_label(probed: Any) -> None:
    _stats, observations = probed
    for device in speakers("dhip"):
        persona = persona_for(device.name)
        assert persona is not None
        fields = _one(observations, "dhip", device)
        assert fields["reply"] == "dhip-devinfo"
        assert (fields["model"], fields["serial"], fields["firmware"]) == (
            persona.model, persona.serial, persona.firmware,
        )  # fmt: skip
        assert fields["brand"] == persona.brand
        if "dhip-trailer" in persona.quirks:
            assert fields["parse"] == "lenient"
        if "oem-label" in persona.quirks:
            assert fields["manufacturer"] == "Private"


def test_legacy_5050_device_found(probed: Any) -> None:
    _stats, observations = probed
    for device in speakers("dhip-legacy"):
        persona = persona_for(device.name)
        assert persona is not None
        fields = _one(observations, "dahua-legacy", device)
        assert fields["reply"] == "dahua-legacy"
        assert (fields["model"], fields["serial"]) == (persona.model, persona.serial)
    assert {o["ip"] for o in observations if o["probe"] == "dahua-legacy"} == {
        d.ip for d in speakers("dhip-legacy")
    }


def test_layer2_listener_heard_the_announcing_camera(probed: Any) -> None:
    _stats, observations = probed
    heard = [o for o in observations if o["probe"] == "sadp-l2"]
    assert {o["mac"] for o in heard} == {d.mac.upper() for d in speakers("sadp-l2")}
    for obs in heard:
        fields = dict(obs["fields"])
        assert fields["reply"] == "sadp-l2" and fields["query"] == "DeviceOnlineRequest"


def test_stats_sent_answered_and_windows(probed: Any) -> None:
    stats, _observations = probed
    expected = {
        "sadp": (6, len(speakers("sadp"))),  # 2 rounds x (group, subnet and limited broadcast)
        "dhip": (6, len(speakers("dhip"))),
        "dahua-legacy": (4, len(speakers("dhip-legacy"))),
        "sadp-l2": (0, len(speakers("sadp-l2"))),  # passive
    }
    for name, (sent, answered) in expected.items():
        got = stats[name]
        assert (got["sent"], got["answered"], got["status"]) == (sent, answered, "ok"), got
        assert got["interface"] == "lab0"
        assert LISTEN - 0.05 <= got["duration"] <= LISTEN + 0.5, got


def test_devices_received_only_inquiries_and_searches(lab: Any, probed: Any) -> None:
    stats, _observations = probed
    sent = {"sadp": stats["sadp"]["sent"], "dhip": stats["dhip"]["sent"]}
    sent["dhip-legacy"] = stats["dahua-legacy"]["sent"]
    for device in STANDARD_DEVICES:
        entries = [e for e in lab.requests(device.name) if e["service"] in MINE]
        for entry in entries:
            assert entry["kind"] == ASKED.get(entry["service"]), (device.name, entry)
            assert entry["peer"].startswith(f"{lab.scanner_ip}:"), entry
            assert entry["answered"] is True
        for service in ASKED:
            if service in device.services:
                # every datagram arrived: group, subnet broadcast and 255.255.255.255 alike
                got = sum(e["service"] == service for e in entries)
                assert got == sent[service], (device.name, service, got)


def test_full_scan_names_the_maker_behind_oem_labels(lab: Any, tmp_path: Path) -> None:
    from scanner.lab import netns

    out = tmp_path / "r.json"
    argv = [sys.executable, "-m", "scanner", "scan", lab.targets, "-i", lab.interface]
    argv += ["-o", str(out), "--listen", str(LISTEN)]
    for probe in ("sadp", "dhip", "dahua-legacy"):
        argv += ["--probe", probe]
    proc = subprocess.run(
        lab.exec_argv(argv),
        capture_output=True,
        text=True,
        timeout=120,
        env=netns.tool_environment(),
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stdout + proc.stderr  # covered equipment found
    doc = json.loads(out.read_text())
    by_mac = {d["mac"]: d for d in doc["devices"]}
    wanted = {
        "lts-nvr": ("hikvision", "Hikvision", ("LTS", "Lt Security Inc")),
        "amcrest-cam": ("dahua", "Dahua", ("Amcrest",)),
        "hik-cam": ("hikvision", "Hikvision", (None, "HIKVISION", "Hikvision")),
        "dahua-cam": ("dahua", "Dahua", ("Dahua",)),
    }
    for name, (vendor, maker, brands) in wanted.items():
        device = next(d for d in STANDARD_DEVICES if d.name == name)
        persona = persona_for(name)
        assert persona is not None
        got = by_mac[device.mac.upper()]
        assert got["status"] == "covered" and got["covered_vendor"] == vendor, (name, got)
        assert got["manufacturer"] == maker and got["brand"] in brands, (name, got["brand"])
        assert (got["model"], got["serial"], got["firmware"]) == (
            persona.model, persona.serial, persona.firmware,
        )  # fmt: skip
        assert any(
            e["signal"] in ("sadp", "dhip") and e["vendor"] == vendor for e in got["evidence"]
        )
    names = {p["name"] for p in doc["scan"]["probes"]}
    assert {"sadp", "sadp-l2", "dhip", "dahua-legacy"} <= names

"""WS-Discovery, SSDP and mDNS end to end over the lab: the probes (alone, then through the full
CLI) against the emulators in the device namespaces. Traffic stays inside 198.18.0.0/15 and the
multicast groups, in namespaces this module makes.

The lab here runs only these three emulators on each device (the other protocols have their own
tests), so every request a device logs can be checked as one of ours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fingerprints.signatures import load_signatures
from scanner.lab.personas import persona_for
from scanner.lab.topology import SCANNER_IP, STANDARD_DEVICES, LabDevice

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]
OURS = ("wsd", "ssdp", "mdns")
LISTEN = 3.0
DEVICES: tuple[LabDevice, ...] = tuple(
    replace(d, services=tuple(s for s in d.services if s in OURS))
    for d in STANDARD_DEVICES
    if set(d.services) & set(OURS)
)
SPEAKS = {proto: [d for d in DEVICES if proto in d.services] for proto in OURS}
# What each emulator may be asked, per service name in the request log.
ALLOWED_KINDS = {"wsd": {"probe"}, "ssdp": {"M-SEARCH"}, "mdns": {"query"}}


@pytest.fixture(scope="module")
def lab() -> Iterator[Any]:
    from scanner.lab import netns

    prefix = f"ndaa-d{uuid.uuid4().hex[:4]}-"
    with netns.lab(devices=DEVICES, prefix=prefix) as handle:
        yield handle
    leftovers = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert prefix not in leftovers


@pytest.fixture(scope="module")
def probe_run(lab: Any) -> dict[str, Any]:
    from scanner.lab import netns

    tool = [sys.executable, "-m", "scanner.probes", *OURS]
    argv = lab.exec_argv([*tool, "-i", lab.interface, "-t", lab.targets, "--listen", str(LISTEN)])
    started, wall = time.monotonic(), time.time()
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=netns.tool_environment()
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    stats: dict[str, dict[str, Any]] = {}
    observations: dict[str, list[dict[str, Any]]] = {p: [] for p in OURS}
    for line in proc.stdout.splitlines():
        record = json.loads(line)
        if "stats" in record:
            stats[record["stats"]["name"]] = record["stats"]
        else:
            obs = record["observation"]
            observations[obs["probe"]].append(obs)
    return {"stats": stats, "obs": observations, "elapsed": elapsed, "span": (wall, time.time())}


def _fields(obs: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in obs["fields"]:
        out.setdefault(key, value)
    return out


def _from(run: dict[str, Any], proto: str, device: LabDevice) -> list[dict[str, str]]:
    return [_fields(o) for o in run["obs"][proto] if o["ip"] == device.ip]


def test_stats_count_datagrams_and_answering_hosts(probe_run: dict[str, Any]) -> None:
    stats = probe_run["stats"]
    assert stats["wsd"]["sent"] == 6  # typed NVT, typed Device, untyped: each twice
    assert stats["wsd"]["answered"] == len(SPEAKS["wsd"])
    assert stats["ssdp"]["sent"] == 2
    assert stats["ssdp"]["answered"] == len(SPEAKS["ssdp"])
    assert stats["mdns"]["sent"] >= 1
    assert stats["mdns"]["answered"] == len(SPEAKS["mdns"])
    for proto in OURS:
        assert stats[proto]["status"] == "ok", stats[proto]
        assert stats[proto]["interface"] == "lab0"
        # The cost is the listen window, not more (the description fetches happen inside it).
        assert LISTEN - 0.05 <= stats[proto]["duration"] <= LISTEN + 0.75, stats[proto]


def test_wsd_finds_every_onvif_device_with_its_model(probe_run: dict[str, Any]) -> None:
    for device in SPEAKS["wsd"]:
        persona = persona_for(device.name)
        assert persona is not None
        seen = _from(probe_run, "wsd", device)
        assert seen, f"{device.name} not found by WS-Discovery"
        if "wsd-soap-fault" in persona.quirks:
            assert seen[0]["reply"] == "soap-fault"
            continue
        match = next(f for f in seen if f["reply"] == "wsd-probematches")
        assert match["model"] == persona.model, device.name
        # The MAC comes from the kernel's neighbour table (or a MAC scope): present when the
        # device had to resolve us to answer, never wrong.
        macs = {o["mac"] for o in probe_run["obs"]["wsd"] if o["ip"] == device.ip}
        assert macs <= {device.mac.upper(), None}, device.name
        if persona.family == "hikvision":
            assert match["endpoint_style"] == "urn:uuid"
            assert match["endpoint_mac_tail"] == device.mac.upper()
            # An OEM unit keeps Hikvision's stack but shows its own label.
            label = persona.brand if "oem-label" in persona.quirks else "HIKVISION"
            assert match["brand"] == label, device.name
        if persona.family == "dahua":
            assert match["endpoint_style"] == "uuid"
            assert match["brand"] == persona.brand  # Amcrest's label, Dahua's stack
            assert "unique_identifier" in match["signals"]
    hellos = [_fields(o) for o in probe_run["obs"]["wsd"] if _fields(o)["reply"] == "wsd-hello"]
    assert any(h["model"] == "IPC-HDW2431T-AS" for h in hellos)  # dahua-cam announces itself


def test_ssdp_reads_model_serial_firmware_from_descriptions(probe_run: dict[str, Any]) -> None:
    for device in SPEAKS["ssdp"]:
        persona = persona_for(device.name)
        assert persona is not None
        (seen,) = _from(probe_run, "ssdp", device)
        assert seen["reply"] == "ssdp-response"
        assert seen["description"].startswith("ok http://" + device.ip)
        assert (seen["model"], seen["serial"], seen["firmware"]) == (
            persona.model,
            persona.serial,
            persona.firmware,
        ), device.name


def test_mdns_reads_hikvision_names_and_decoy_services(probe_run: dict[str, Any]) -> None:
    hik = next(d for d in SPEAKS["mdns"] if d.name == "hik-cam")
    persona = persona_for("hik-cam")
    assert persona is not None
    (cgi,) = [f for f in _from(probe_run, "mdns", hik) if f["service"] == "_CGI._tcp"]
    assert (cgi["model"], cgi["serial"]) == (persona.model, persona.serial)
    assert cgi["serial_tail"] == persona.serial[-9:]
    services = {f["service"] for o in probe_run["obs"]["mdns"] for f in [_fields(o)]}
    assert services == {"_CGI._tcp", "_axis-video._tcp", "_http._tcp", "_ipp._tcp"}


def test_decoys_carry_their_own_makers_and_covered_units_theirs(
    probe_run: dict[str, Any],
) -> None:
    sigs = load_signatures()
    verdict: dict[str, set[str]] = {}
    makers: dict[str, set[str]] = {}
    for proto in OURS:
        for obs in probe_run["obs"][proto]:
            name = next(d.name for d in DEVICES if d.ip == obs["ip"])
            for match in sigs.match(proto, [tuple(f) for f in obs["fields"]]):
                makers.setdefault(name, set()).add(match.signature.maker)
                if match.signature.vendor and match.signature.certainty >= 0.75:
                    verdict.setdefault(name, set()).add(match.signature.vendor)
    assert verdict == {
        "hik-cam": {"hikvision"},
        "hik-nvr": {"hikvision"},
        "lts-nvr": {"hikvision"},  # labelled LTS, the stack gives Hikvision away
        "dahua-cam": {"dahua"},
        "dahua-nvr": {"dahua"},
        "amcrest-cam": {"dahua"},  # labelled Amcrest, the stack gives Dahua away
        "zte": {"zte"},
    }
    assert makers["axis"] == {"Axis Communications AB"}
    assert makers["uniview"] == {"Zhejiang Uniview Technologies Co., Ltd."}
    assert makers["printer"] == {"Hewlett Packard"}


def test_devices_received_only_discovery_requests(lab: Any, probe_run: dict[str, Any]) -> None:
    first, last = probe_run["span"]
    sent_at: dict[str, list[float]] = {}
    for device in DEVICES:
        ours = [
            e
            for e in lab.requests(device.name)
            if e["peer"].split(":")[0] == SCANNER_IP and first <= e["t"] <= last
        ]
        assert ours, device.name
        for entry in ours:
            sent_at.setdefault(entry["service"].removesuffix("-http"), []).append(entry["t"])
        for entry in ours:
            service, kind = entry["service"], entry["kind"]
            if service == "ssdp-http":
                assert kind.startswith("GET /"), entry
            else:
                assert kind in ALLOWED_KINDS[service], entry
        probes = [e for e in ours if e["service"] == "wsd"]
        if "wsd" in device.services:
            # Six were sent (the stats say so); UDP may lose one on a busy two-core machine,
            # which is why each is sent twice.
            untyped = [e for e in probes if "<d:Types>" not in e["request"]]
            assert len(untyped) >= 1 and len(probes) - len(untyped) >= 2, device.name
            assert len(probes) <= 6, device.name
        fetched = [e for e in ours if e["service"] == "ssdp-http"]
        assert len(fetched) == (1 if "ssdp" in device.services else 0), device.name
    # Each probe sends (and fetches) only inside its own listen window.
    for service, times in sent_at.items():
        assert max(times) - min(times) <= LISTEN + 0.1, service


def test_full_scan_reports_model_serial_firmware(lab: Any, tmp_path: Path) -> None:
    from scanner.lab import netns

    out = tmp_path / "r.json"
    only = ["--probe", "wsd", "--probe", "ssdp", "--probe", "mdns"]
    scan = [sys.executable, "-m", "scanner", "scan", lab.targets, "-i", lab.interface]
    argv = lab.exec_argv([*scan, *only, "-o", str(out)])
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=120, env=netns.tool_environment()
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(out.read_text())
    probes = {p["name"]: p for p in doc["scan"]["probes"]}
    assert {"arp", *OURS} <= set(probes)
    by_ip = {d["ip"]: d for d in doc["devices"]}
    for device in SPEAKS["ssdp"]:
        persona = persona_for(device.name)
        assert persona is not None
        got = by_ip[device.ip]
        assert (got["model"], got["serial"], got["firmware"]) == (
            persona.model,
            persona.serial,
            persona.firmware,
        ), device.name
    hik_cam = by_ip["198.18.0.11"]
    assert hik_cam["serial"] == "DS-2CD2143G2-I20210315AAWRJ12345678"
    assert hik_cam["model"] == "DS-2CD2143G2-I"
    amcrest = by_ip["198.18.0.24"]
    assert (amcrest["covered_vendor"], amcrest["brand"]) == ("dahua", "Amcrest")
    assert amcrest["model"] == "IP2M-841B"
    for decoy in ("198.18.0.61", "198.18.0.62", "198.18.0.65"):
        assert by_ip[decoy]["covered_vendor"] is None, by_ip[decoy]


# A device that floods the scanner's discovery ports with garbage and distinct, plausible
# messages for a few seconds (bounded: it stops by itself). Run inside the uniview device's
# namespace; sent to the scanner's address, not the groups, so that the other emulators (which
# share two CPU cores) are not the ones overwhelmed: the scanner is what is under test here.
FLOODER = r"""
import os, socket, struct, sys, time
src, dst = sys.argv[1], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
s.bind((src, 0))
def name(n):
    return b"".join(bytes([len(p)]) + p for p in n.encode().split(b".")) + b"\0"
hello = open(sys.argv[2], "rb").read()
end = time.monotonic() + float(sys.argv[3])
i = 0
while time.monotonic() < end and i < 8000:
    i += 1
    junk = os.urandom(i % 1400)
    wsd, ssdp, mdns = (dst, 3702), (dst, 1900), (dst, 5353)
    s.sendto(hello.replace(b"urn:uuid:9e8d", b"urn:uuid:%04x" % (i % 65536)), wsd)
    s.sendto(junk, wsd)
    notify = b"NOTIFY * HTTP/1.1\r\nNT: x\r\nLOCATION: http://%s:9/d%d.xml\r\n\r\n"
    s.sendto(notify % (src.encode(), i), ssdp)
    s.sendto(junk, ssdp)
    inst = name("x%d._http._tcp.local" % i)
    ptr = name("_http._tcp.local") + struct.pack("!HHIH", 12, 1, 120, len(inst)) + inst
    head = struct.pack("!6H", 0, 0x8400, 0, 1, 0, 0)
    s.sendto(head + ptr, mdns)
    s.sendto(head + b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 1, 2) + b"\xc0\x0c", mdns)  # loop
    s.sendto(junk, mdns)
    time.sleep(0.004)
print(i)
"""


def test_a_flooding_hostile_host_costs_nothing_but_its_own_evidence(lab: Any) -> None:
    from scanner.lab import netns

    hello = Path(__file__).resolve().parents[1] / "scanner/wire/data/wsd_dahua_hello.xml"
    flood_ns = f"{lab.prefix}d-uniview"
    seconds = str(3 * LISTEN + 1.5)  # `python -m scanner.probes` runs the three one by one
    argv = [sys.executable, "-c", FLOODER, "198.18.0.62", str(hello), seconds, SCANNER_IP]
    flooder = subprocess.Popen(
        ["ip", "netns", "exec", flood_ns, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.3)
        tool = [sys.executable, "-m", "scanner.probes", *OURS]
        scan = lab.exec_argv([*tool, "-i", lab.interface, "-t", lab.targets])
        proc = subprocess.run(
            scan, capture_output=True, text=True, timeout=60, env=netns.tool_environment()
        )
    finally:
        out, err = flooder.communicate(timeout=30)
    assert int(out.strip()) > 100, err  # the flood really happened
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    stats = {r["stats"]["name"]: r["stats"] for r in records if "stats" in r}
    for proto in OURS:
        assert stats[proto]["status"] == "ok", stats[proto]
        assert stats[proto]["duration"] <= LISTEN + 0.75, stats[proto]
    observations = [r["observation"] for r in records if "observation" in r]
    from_flooder = [o for o in observations if o["ip"] == "198.18.0.62"]
    wsd_hellos = [o for o in from_flooder if o["probe"] == "wsd"]
    assert 1 <= len(wsd_hellos) <= 8 + 1  # capped per host (plus its real ProbeMatch)
    assert len([o for o in from_flooder if o["probe"] == "ssdp"]) == 1
    # Every real device is still found despite the noise.
    for proto in OURS:
        found = {o["ip"] for o in observations if o["probe"] == proto}
        assert {d.ip for d in SPEAKS[proto]} <= found, proto

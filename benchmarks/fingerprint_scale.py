"""Fingerprinting at scale: the whole CLI (ARP, discovery, per-host probes, identification, report)
over a scale lab of 1,000 hosts of which 50 are camera emulators, at default politeness.

    sudo python -m benchmarks.fingerprint_scale [--hosts 1000] [--cameras 50] [--write]

Three runs, each on a fresh lab (`scanner.lab.scale_cameras`): the 950 other hosts with closed
ports (they answer a TCP SYN with RST, as ordinary hosts do), the same with the lab's ONVIF login
supplied in a credentials file, and with filtered hosts (they drop everything, as behind a host
firewall, so every connect waits out its timeout). Reports wall time, phase times (phase 1 = the
longest discovery probe, phase 2 = the longest per-host probe, the rest = start-up,
identification and the report), hosts found and cameras fingerprinted. `--write` replaces the
"Fingerprinting at scale" section of benchmarks/RESULTS.md (between its markers); not a
pass/fail test.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
BEGIN, END = "<!-- fingerprint_scale:begin -->", "<!-- fingerprint_scale:end -->"
NOTE = """
Reading: phase 1 is the discovery window (3 s, overlapping the ARP sweep); phase 2 is every
per-host probe side by side under the shared limits, so its figure is the slowest of them (the
per-probe table gives ONVIF's own time); "rest" is start-up, identification and the report.
Closed ports: the 950 ARP-only hosts answer a TCP SYN with RST, as ordinary hosts do. Filtered
hosts: they drop every packet (host firewalls), so any connect to them waits out its timeout.
Without credentials the Hikvision personas (half the cameras) disclose model but not serial or
firmware over ONVIF (401 Digest / NotAuthorized), as real Hikvision firmware does; with the
lab's login every camera does.
"""


@dataclass(frozen=True)
class Outcome:
    label: str
    wall: float
    exit_code: int
    phase1: float
    phase2: float
    probes: tuple[tuple[str, float, int, int], ...]  # (name, duration, sent, answered)
    hosts_found: int
    cameras: int
    identified: int  # cameras with ONVIF evidence and a covered verdict
    with_model: int
    with_serial: int
    with_firmware: int


def probe_phases() -> dict[str, int]:
    """Probe name -> phase, from the scanner's registry."""
    from scanner.scan import PROBES

    phases = {}
    for module, cls in PROBES:
        try:
            probe = getattr(importlib.import_module(module), cls)
        except Exception:
            continue
        phases[probe.name] = probe.phase
    return phases


def summarise(
    label: str,
    wall: float,
    exit_code: int,
    doc: dict[str, Any],
    cameras: dict[str, str],
    phases: dict[str, int],
) -> Outcome:
    """`cameras`: ip -> name of every camera emulator (pure: tested without a lab)."""
    stats = doc.get("scan", {}).get("probes", [])
    probes = tuple(
        (p["name"], float(p.get("duration") or 0.0), int(p.get("sent") or 0), int(p["answered"]))
        for p in stats
    )
    phase1 = max((d for n, d, _, _ in probes if phases.get(n, 1) == 1), default=0.0)
    phase2 = max((d for n, d, _, _ in probes if phases.get(n, 1) != 1), default=0.0)
    devices = {d["ip"]: d for d in doc.get("devices", [])}
    cams = [devices.get(ip, {}) for ip in cameras]

    def onvif(device: dict[str, Any]) -> bool:
        return any(e.get("signal") == "onvif" for e in device.get("evidence", []))

    return Outcome(
        label=label,
        wall=wall,
        exit_code=exit_code,
        phase1=phase1,
        phase2=phase2,
        probes=probes,
        hosts_found=len(devices),
        cameras=len(cameras),
        identified=sum(1 for d in cams if onvif(d) and d.get("status") == "covered"),
        with_model=sum(1 for d in cams if d.get("model")),
        with_serial=sum(1 for d in cams if d.get("serial")),
        with_firmware=sum(1 for d in cams if d.get("firmware")),
    )


def run_once(hosts: int, cameras: int, closed_ports: bool, credentials: bool) -> Outcome:
    from scanner.lab import netns, scale_cameras
    from scanner.lab.emulators.onvif_handler import lab_credentials

    prefix = f"ndaa-f{uuid.uuid4().hex[:4]}-"
    label = ("closed ports" if closed_ports else "filtered hosts") + (
        ", ONVIF login supplied" if credentials else ", no credentials"
    )
    with (
        tempfile.TemporaryDirectory() as tmp,
        scale_cameras.lab(hosts, cameras, prefix=prefix, closed_ports=closed_ports) as lab,
    ):
        out = Path(tmp) / "report.json"
        argv = [sys.executable, "-m", "scanner", "scan", lab.targets, "-i", lab.interface]
        argv += ["-o", str(out)]
        if credentials:
            user, password = lab_credentials(netns.LabNames(lab.prefix).state_dir)
            creds = Path(tmp) / "credentials.toml"
            creds.write_text(f'[[onvif]]\nusername = "{user}"\npassword = "{password}"\n')
            creds.chmod(0o600)
            argv += ["--credentials", str(creds)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NDAA_SCAN_")}
        env["PYTHONPATH"] = str(ROOT)
        started = time.perf_counter()
        proc = subprocess.run(
            lab.exec_argv(argv), env=env, capture_output=True, text=True, timeout=900
        )
        wall = time.perf_counter() - started
        doc = json.loads(out.read_text()) if out.exists() else {}
        if not doc:
            print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        names = {c.ip: c.name for c in lab.cameras}
    return summarise(label, wall, proc.returncode, doc, names, probe_phases())


def render(outcomes: list[Outcome], hosts: int, cameras: int, took: float) -> str:
    from scanner import __version__
    from scanner.probes import limits

    p = limits.DEFAULT
    lines = [
        BEGIN,
        "## Fingerprinting at scale (whole pipeline)",
        "",
        "Generated by `benchmarks/fingerprint_scale.py` (`sudo python -m benchmarks."
        "fingerprint_scale --write`); not a pass/fail test.",
        "",
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the whole run took {took:.0f} s; "
        f"ndaa-scan {__version__}; Python {platform.python_version()}; nproc {os.cpu_count()}",
        f"- Lab: `scanner.lab.scale_cameras`, {hosts:,} hosts on 198.18.0.0/22 (scale0 "
        f"198.19.255.254/15): {hosts - cameras:,} answered by the userspace ARP responder and "
        f"{cameras} camera emulators (macvlans with their own MACs; WS-Discovery, HTTP, RTSP and "
        "ONVIF per camera, cycling the hik-cam, hik-nvr, dahua-cam and amcrest-cam personas)",
        "- Command: `python -m scanner scan 198.18.0.0/22 -i scale0 -o report.json` inside the "
        "scanner namespace: every probe, default politeness",
        f"- Limits used (defaults): ARP --rate 500, --retries 1, --timeout 0.5, discovery "
        f"--listen 3 s; per-host probes: {p.total} connections in all, {p.per_host} per host, "
        f"connect {p.connect_timeout} s, read {p.read_timeout} s, response {p.response_time} s, "
        f"{p.host_budget} s per host and probe, {p.max_response:,} bytes per response; SNMP "
        "not run (no community configured)",
        "- identified = cameras whose report entry has ONVIF evidence and status covered; "
        "model/serial/firmware = cameras whose entry shows it",
        "",
        "| run | wall s | phase 1 s | phase 2 s | rest s | hosts found | cameras identified "
        "| with model | with serial | with firmware | exit |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for o in outcomes:
        rest = max(0.0, o.wall - o.phase1 - o.phase2)
        lines.append(
            f"| {o.label} | {o.wall:.1f} | {o.phase1:.1f} | {o.phase2:.1f} | {rest:.1f} | "
            f"{o.hosts_found:,} / {hosts:,} | {o.identified} / {o.cameras} | {o.with_model} | "
            f"{o.with_serial} | {o.with_firmware} | {o.exit_code} |"
        )
    lines += ["", "Per-probe duration s (sent / answered):", ""]
    names = [name for name, *_ in outcomes[0].probes] if outcomes else []
    lines.append("| run | " + " | ".join(names) + " |")
    lines.append("|---|" + "--:|" * len(names))
    for o in outcomes:
        cells = {n: f"{d:.1f} ({s}/{a})" for n, d, s, a in o.probes}
        lines.append(f"| {o.label} | " + " | ".join(cells.get(n, "-") for n in names) + " |")
    lines += ["", *NOTE.strip("\n").splitlines()]
    lines.append(END)
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    """`text` with the section between the markers replaced, or appended (pure)."""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + section + ("\n" + tail if tail else "")
    return text.rstrip("\n") + "\n\n" + section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fingerprint_scale")
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--cameras", type=int, default=50)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("the scale lab needs root (network namespaces)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    outcomes = []
    for closed, creds in ((True, False), (True, True), (False, False)):
        outcome = run_once(args.hosts, args.cameras, closed, creds)
        print(
            f"{outcome.label}: {outcome.wall:.1f} s, {outcome.identified}/{outcome.cameras} "
            f"cameras identified, {outcome.with_serial} with serial",
            flush=True,
        )
        outcomes.append(outcome)
    section = render(outcomes, args.hosts, args.cameras, time.perf_counter() - started)
    print(section)
    if args.write:
        RESULTS.write_text(replace_section(RESULTS.read_text(), section))
    return 0


if __name__ == "__main__":
    sys.exit(main())

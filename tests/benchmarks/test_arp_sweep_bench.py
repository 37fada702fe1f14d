"""Smoke test of the ARP sweep benchmark's parsing and report, without root or a lab."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import arp_sweep as bench

EXPECTED = {"198.18.0.1": "e0:50:8b:00:00:01", "198.18.0.2": "3c:fd:fe:00:00:02"}


def test_parse_arp_scan_plain_output_with_dups() -> None:
    text = "198.18.0.1\te0:50:8b:00:00:01\n198.18.0.2\t3c:fd:fe:00:00:02\t(DUP: 2)\njunk line\n"
    assert bench.parse_arp_scan(text) == set(EXPECTED.items())


def test_parse_nmap_xml_keeps_up_hosts_with_mac() -> None:
    xml = """<?xml version="1.0"?><nmaprun>
    <host><status state="up"/><address addr="198.18.0.1" addrtype="ipv4"/>
      <address addr="E0:50:8B:00:00:01" addrtype="mac"/></host>
    <host><status state="down"/><address addr="198.18.0.3" addrtype="ipv4"/></host>
    </nmaprun>"""
    assert bench.parse_nmap_xml(xml) == {("198.18.0.1", "e0:50:8b:00:00:01")}


def test_parse_ndaa_counts_other_ips_and_scores() -> None:
    doc = {
        "scan": {"probes": [{"name": "arp", "duration": 1.5, "sent": 448, "answered": 2}]},
        "devices": [
            {"ip": "198.18.0.1", "mac": "E0:50:8B:00:00:01", "other_ips": ["198.18.0.9"]},
            {"ip": "198.18.0.7", "mac": None},
        ],
    }
    report = bench.parse_ndaa(doc)
    assert report.probe_duration == 1.5 and report.sent == 448
    result = bench.score(report.pairs, EXPECTED)
    assert (result.found, result.wrong, result.missing) == (1, 1, ("198.18.0.2",))


def _pcap(frames: list[tuple[int, int, int]]) -> bytes:
    """(seconds, nanoseconds, op) -> a nanosecond pcap of minimal ARP frames."""
    out = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 64, 1)
    for sec, nsec, op in frames:
        frame = bytes(12) + b"\x08\x06" + bytes(6) + op.to_bytes(2, "big") + bytes(20)
        out += struct.pack("<IIII", sec, nsec, len(frame), len(frame)) + frame
    return out


def test_read_pcap_and_wire_rate() -> None:
    frames = bench.read_pcap(_pcap([(10, 0, 1), (10, 500_000_000, 2), (11, 0, 1)]))
    assert frames == [(10.0, 1), (10.5, 2), (11.0, 1)]
    requests = [t for t, op in frames if op == bench.ARP_REQUEST]
    assert bench.wire_rate(requests) == 1.0
    assert bench.wire_rate(requests[:1]) is None


def test_models_and_pacing_flags() -> None:
    assert bench.interval_for(10_000) == "--interval=100u"
    assert bench.model_probe_seconds(256, 256, 256, 500) == 256 / 500  # all answered: no wait
    assert bench.model_probe_seconds(448, 256, 64, 10_000) == 448 / 10_000 + 0.5 + 0.75
    assert bench.model_probe_seconds(300, 256, 256, 10_000) == 300 / 10_000 + 0.5


def test_render_from_synthetic_runs(tmp_path: Path) -> None:
    case = bench.Case(prefixlen=24, density=1.0, live=2)
    usage = bench.Usage(1.0, 0.3, 0.1, 20_000, 0, False, "", "")
    counters = bench.LabCounters(2, 2, 0, 0, 1, {})
    jobs = bench.jobs_for(case, "scale0", 10_000, tmp_path, nmap_default=True, rate_check=True)
    runs = [
        bench.Run(
            case,
            job,
            0,
            usage,
            bench.score(set(EXPECTED.items()), EXPECTED),
            counters,
            ndaa=bench.NdaaReport(set(), 0.6, 256, 2, "ok") if job.tool == "ndaa-scan" else None,
            report_bytes=1000,
            wire=bench.WireTiming((0.0, 0.5), (0.1,), 0) if job.instrumented else None,
            phases={"phases": [{"name": "ARP sweep", "wall": 0.6, "cpu": 0.1, "maxrss_kib": 1}]}
            if job.instrumented
            else None,
        )
        for job in jobs
    ]
    b = bench.Bench([24], [1.0], 10_000, 1, 0, "ndaa-t-", True, 10.0, wrapper=None, runs=runs)
    text = bench.render(b, "python -m benchmarks.arp_sweep --sizes 24", datetime.now(UTC), 1)
    assert "| /24 (256) | 100% (2) | matched rate | ndaa-scan |" in text
    assert "## Interpretation" in text and "Recall, nmap: every live host" in text

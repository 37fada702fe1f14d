"""The fingerprinting benchmark's summary and RESULTS.md section handling, without a lab."""

from __future__ import annotations

from benchmarks import fingerprint_scale as bench

DOC = {
    "scan": {
        "probes": [
            {"name": "arp", "duration": 2.5, "sent": 1048, "answered": 1000},
            {"name": "wsd", "duration": 3.0, "sent": 6, "answered": 2},
            {"name": "onvif", "duration": 4.0, "sent": 10, "answered": 2},
        ]
    },
    "devices": [
        {"ip": "198.18.3.182", "status": "covered", "model": "M", "serial": "S", "firmware": "F",
         "evidence": [{"signal": "onvif"}]},
        {"ip": "198.18.3.183", "status": "covered", "model": "M", "serial": None,
         "firmware": None, "evidence": [{"signal": "oui"}]},
        {"ip": "198.18.0.1", "status": "clear", "evidence": []},
    ],
}  # fmt: skip


def test_summarise() -> None:
    cams = {"198.18.3.182": "cam000-hik-cam", "198.18.3.183": "cam001-hik-nvr"}
    out = bench.summarise("x", 10.0, 1, DOC, cams, {"arp": 1, "wsd": 1, "onvif": 2})
    assert (out.phase1, out.phase2, out.hosts_found) == (3.0, 4.0, 3)
    assert (out.identified, out.with_model, out.with_serial) == (1, 2, 1)
    table = bench.render([out], 1000, 50, 12.0)
    assert table.startswith(bench.BEGIN) and "| x | 10.0 | 3.0 | 4.0 | 3.0 |" in table


def test_replace_section() -> None:
    section = f"{bench.BEGIN}\nnew\n{bench.END}\n"
    assert bench.replace_section("# R\n", section) == "# R\n\n" + section
    old = f"# R\n\n{bench.BEGIN}\nold\n{bench.END}\n\ntail\n"
    assert bench.replace_section(old, section) == f"# R\n\n{section}\ntail\n"

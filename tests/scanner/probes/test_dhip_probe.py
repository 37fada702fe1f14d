"""The DHIP and Dahua 5050 probes' pure parts: what a reply becomes as an observation, what is
dropped, and where the requests go."""

from __future__ import annotations

from pathlib import Path

from scanner.interfaces import Interface
from scanner.probes import dhip as dhip_probe
from scanner.probes import discovery_udp
from scanner.targets import SweepPlan
from scanner.wire import dahua_legacy, dhip

DATA = Path(__file__).parents[1] / "wire" / "data"
REPLY = (DATA / "dhip_reply_ipc_hdw1431t1.bin").read_bytes()
MALFORMED = (DATA / "dhip_reply_malformed_version.bin").read_bytes()
LEGACY = (DATA / "dahua_legacy_reply.bin").read_bytes()


def test_dhip_reply_fields_keep_the_label_apart_from_the_maker() -> None:
    parsed = dhip_probe.parse_dhip(REPLY)
    assert parsed is not None
    mac, fields, raw = parsed
    values = dict(fields)
    assert mac == "08:ED:ED:87:42:7A"
    assert values["reply"] == "dhip-devinfo"
    assert values["model"] == "IPC-HDW1431T1-S4"
    assert values["serial"] == "6C01E93PAG69A7D"
    assert values["firmware"] == "2.800.0000000.13.R"
    assert values["manufacturer"] == "Private" and values["brand"] == "Private"
    assert values["vendor_field"] == "Private"
    assert values["device_type"] == "IPC"
    assert values["command_port"] == "37777" and values["http_port"] == "80"
    assert "parse" not in values and "lengths" not in values
    assert raw.startswith("2000000044484950") and len(raw) <= discovery_udp.MAX_RAW


def test_lenient_reply_is_marked() -> None:
    parsed = dhip_probe.parse_dhip(MALFORMED)
    assert parsed is not None
    values = dict(parsed[1])
    assert values["parse"] == "lenient"
    assert values["serial"] == "0123456789ABCDE" and values["brand"] == "General"


def test_requests_and_garbage_are_not_replies() -> None:
    assert dhip_probe.parse_dhip(dhip.build_search()) is None
    assert dhip_probe.parse_dhip(b"\x00" * 40) is None
    assert dhip_probe.parse_dhip(dhip.build_header(2) + b"{}") is None


def test_legacy_reply_fields() -> None:
    parsed = dhip_probe.parse_legacy(LEGACY)
    assert parsed is not None
    mac, fields, raw = parsed
    values = dict(fields)
    assert mac == "00:11:22:33:44:55"
    assert values["reply"] == "dahua-legacy"
    assert values["model"] == "IPC-HFW4300S" and values["serial"] == "1A02B3CPAZ00042"
    assert values["command_port"] == "37777" and values["device_type_field"] == "IPC-HFW43"
    assert bytes.fromhex(raw)[:1] == b"\xb3"
    assert dhip_probe.parse_legacy(dahua_legacy.REQUEST) is None


def test_destinations() -> None:
    iface = Interface(
        "lab0", 2, "02:00:00:00:00:01", True, False, (("198.18.0.1", "198.18.0.0/24"),)
    )
    plan = SweepPlan(interface=iface, source_ip="198.18.0.1", ranges=((0xC6120001, 0xC61200FE),))
    assert discovery_udp.destinations(dhip_probe.DHIP_SPEC, plan) == [
        "239.255.255.251", "198.18.0.255", "255.255.255.255",
    ]  # fmt: skip
    assert discovery_udp.destinations(dhip_probe.LEGACY_SPEC, plan) == [
        "198.18.0.255", "255.255.255.255",
    ]  # fmt: skip
    assert dhip_probe.LEGACY_SPEC.request() == dahua_legacy.REQUEST

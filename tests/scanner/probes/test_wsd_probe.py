"""WS-Discovery probe without the network: fields from golden replies, what the signatures make
of them, and the collector's handling of floods, strangers, garbage, faults and Hellos."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from fingerprints.signatures import parse_file
from scanner.interfaces import Interface
from scanner.probes import mcast
from scanner.probes.wsd import _Collector, attribute_v6, match_fields
from scanner.targets import SweepPlan
from scanner.wire import wsd

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests/scanner/wire/data"
HIK = (DATA / "wsd_hikvision_probematch.xml").read_bytes()
AMCREST = (DATA / "wsd_dahua_amcrest_probematch.xml").read_bytes()
FAULT = (DATA / "wsd_soap_fault.xml").read_bytes()
HELLO = (DATA / "wsd_dahua_hello.xml").read_bytes()
SIGS = parse_file((ROOT / "fingerprints/signatures/wsd.toml").read_text(), "wsd", "wsd.toml")
LAB0 = Interface("lab0", 2, "02:00:00:00:00:01", True, False, (("198.18.0.1", "198.18.0.0/24"),))
PLAN = SweepPlan(LAB0, "198.18.0.1", ((0xC6120001, 0xC61200FE),))


def _vendors(fields: list[tuple[str, str]]) -> dict[str, float]:
    found: dict[str, float] = {}
    for sig in SIGS:
        if any(k == sig.field and sig.matches(v) for k, v in fields):
            key = sig.vendor or sig.maker
            found[key] = max(found.get(key, 0.0), sig.certainty)
    return found


def _first_match(data: bytes) -> wsd.Match:
    msg = wsd.parse_message(data)
    assert msg is not None
    return msg.matches[0]


def test_hikvision_fields_and_tells() -> None:
    fields = match_fields("wsd-probematches", _first_match(HIK), None)
    values = dict(fields)
    assert values["model"] == "DS-2CD2385G1-I"
    assert values["name"] == "HIKVISION DS-2CD2385G1-I"
    assert values["brand"] == "HIKVISION"
    assert values["endpoint_style"] == "urn:uuid"
    assert values["endpoint_mac_tail"] == "B4:A3:82:0F:D9:2D"  # from the MAC scope
    assert values["signals"].startswith("endpoint=urn:uuid mac_tail=yes ")
    assert _vendors(fields)["hikvision"] >= 0.75
    assert all(len(v) <= mcast.FIELD_LIMIT for _, v in fields)


def test_oem_label_is_brand_and_dahua_stack_is_the_tell() -> None:
    fields = match_fields("wsd-probematches", _first_match(AMCREST), "9C:8E:CD:4D:19:A2")
    values = dict(fields)
    assert (values["brand"], values["model"]) == ("Amcrest", "IP2M-841B")
    assert values["endpoint_style"] == "uuid" and "endpoint_mac_tail" not in values
    assert "manufacturer" not in values  # the label is not the maker
    assert _vendors(fields) == {"dahua": 0.85}


def test_decoys_name_their_own_makers() -> None:
    uniview = wsd.Match(
        "urn:uuid:5c3a7d1e-92b4-4f0a-b6c8-7e1d2f3a4b5c",
        ("dn:NetworkVideoTransmitter",),
        (
            "onvif://www.onvif.org/location/country/china",
            "onvif://www.onvif.org/location/city/hangzhou",
            "onvif://www.onvif.org/hardware/IPC322LB-SF28-A",
            "onvif://www.onvif.org/name/Uniview",
        ),
        ("http://198.18.0.62/onvif/device_service",),
    )
    axis = wsd.Match(
        "urn:uuid:c668ed98-6c28-11b2-8de7-accc8ea2310f",
        ("dn:NetworkVideoTransmitter",),
        ("onvif://www.onvif.org/name/AXIS%20P3245-V", "onvif://www.onvif.org/hardware/P3245-V"),
        (),
    )
    assert set(_vendors(match_fields("wsd-probematches", uniview, None))) == {
        "Zhejiang Uniview Technologies Co., Ltd."
    }
    axis_fields = match_fields("wsd-probematches", axis, "AC:CC:8E:A2:31:0F")
    assert dict(axis_fields)["endpoint_mac_tail"] == "AC:CC:8E:A2:31:0F"
    assert set(_vendors(axis_fields)) == {"Axis Communications AB"}


def _collector() -> tuple[_Collector, socket.socket, socket.socket]:
    # Sockets only to tell the collector which one a datagram came on: nothing is sent.
    unicast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    group = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return _Collector("wsd", PLAN, unicast), unicast, group


def test_collector_keeps_one_observation_per_device_and_caps_floods() -> None:
    col, unicast, group = _collector()
    try:
        for _ in range(3):  # the same device answering each of our probes
            col.on_datagram(unicast, HIK, ("198.18.0.11", 3702))
        for i in range(500):  # a flood of distinct replies from one host
            flood = HIK.replace(b'MessageNumber="5"', f'MessageNumber="{i}"'.encode())
            col.on_datagram(unicast, flood, ("198.18.0.11", 3702))
        col.on_datagram(unicast, b"\xff" * 100, ("198.18.0.21", 3702))  # garbage
        col.on_datagram(unicast, AMCREST, ("203.0.113.9", 3702))  # outside the targets
        col.on_datagram(unicast, FAULT, ("198.18.0.65", 3702))
        col.on_datagram(unicast, FAULT.replace(b"en", b"EN"), ("198.18.0.65", 3702))
        col.on_datagram(group, HELLO, ("198.18.0.21", 3702))
        probe = wsd.build_probe("urn:uuid:1", ())
        col.on_datagram(group, probe, ("198.18.0.30", 3702))  # someone else's Probe
    finally:
        unicast.close()
        group.close()
    assert col.answered == {"198.18.0.11", "198.18.0.65"}
    assert len(col.cap.seen["198.18.0.11"]) <= mcast.PARSE_BUDGET
    replies = [(o.ip, o.field("reply")) for o in col.observations]
    assert replies == [
        ("198.18.0.11", "wsd-probematches"),
        ("198.18.0.65", "soap-fault"),
        ("198.18.0.21", "wsd-hello"),
    ]
    assert all(len(o.raw) <= mcast.RAW_LIMIT for o in col.observations)


def test_reply_cap() -> None:
    cap = mcast.ReplyCap(per_host=2, total=3)
    assert cap.admit("a", b"1") and not cap.admit("a", b"1")
    assert cap.admit("a", b"2") and not cap.admit("a", b"3")
    assert cap.admit("b", b"1") and not cap.admit("c", b"1")  # total reached
    assert cap.dropped == 3


def test_neighbour_table(tmp_path: Path) -> None:
    table = tmp_path / "arp"
    table.write_text(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "198.18.0.11      0x1         0x2         a4:14:37:5e:21:0b     *        lab0\n"
        "198.18.0.12      0x1         0x0         00:00:00:00:00:00     *        lab0\n"
    )
    assert mcast.neighbour_mac("198.18.0.11", "lab0", str(table)) == "A4:14:37:5E:21:0B"
    assert mcast.neighbour_mac("198.18.0.11", "eth1", str(table)) is None
    assert mcast.neighbour_mac("198.18.0.12", "lab0", str(table)) is None
    assert mcast.neighbour_mac("198.18.0.11", "lab0", str(tmp_path / "missing")) is None


def test_listen_loop_ends_on_stop_and_sends_nothing_after_window() -> None:
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    started = time.monotonic()
    sent, error = mcast.send_and_listen([], [], 10.0, stop, lambda *_: None)
    assert time.monotonic() - started < 1.0 and (sent, error) == (0, None)
    # A send scheduled after the window never happens.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sends: list[mcast.Send] = [(5.0, sock, b"x", ("127.0.0.1", 9))]
        started = time.monotonic()
        sent, _ = mcast.send_and_listen(sends, [], 0.3, threading.Event(), lambda *_: None)
    finally:
        sock.close()
    assert sent == 0 and 0.25 < time.monotonic() - started < 1.0


def test_ipv6_link_local_from_the_kernel_table(tmp_path: Path) -> None:
    table = tmp_path / "if_inet6"
    table.write_text(
        "00000000000000000000000000000001 01 80 10 80       lo\n"
        "fd000000000000000000000000000002 04 40 00 80     lab0\n"
        "fe80000000000000a61437fffe5e210b 04 40 20 c0     lab0\n"  # tentative (DAD running)
        "fe800000000000000000000000000001 05 40 20 80     lab1\n"
        "fe8000000000000000fc00fffe000001 04 40 20 80     lab0\n"
        "garbage line\n"
    )
    assert mcast.ipv6_link_local("lab0", str(table)) == "fe80::fc:ff:fe00:1"
    assert mcast.ipv6_link_local("lab1", str(table)) == "fe80::1"
    assert mcast.ipv6_link_local("eth9", str(table)) is None
    assert mcast.ipv6_link_local("lab0", str(tmp_path / "missing")) is None


def test_replies_over_ipv6_are_kept_under_their_ipv4_address() -> None:
    match = _first_match(HIK)
    assert attribute_v6(match, PLAN.contains) == "198.18.0.11"
    outside = wsd.Match("urn:uuid:x", (), (), ("http://[fe80::1]/onvif", "http://192.0.2.1/"))
    assert attribute_v6(outside, PLAN.contains) is None
    col, unicast, group = _collector()
    six = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)  # never used to send
    col.unicast6 = six
    try:
        col.on_datagram(six, HIK, ("fe80::b6a3:82ff:fe0f:d92d", 3702))
        col.on_datagram(six, FAULT, ("fe80::1", 3702))  # a fault names no address: dropped
    finally:
        for sock in (unicast, group, six):
            sock.close()
    assert col.answered == {"198.18.0.11"}
    (obs,) = col.observations
    assert obs.ip == "198.18.0.11" and obs.field("family") == "ipv6"
    assert obs.field("source") == "fe80::b6a3:82ff:fe0f:d92d"


def test_many_scopes_never_push_the_tells_out_of_the_signals_field() -> None:
    match = _first_match(HIK)
    padded = wsd.Match(
        match.endpoint,
        match.types,
        tuple(f"onvif://www.onvif.org/type/padding_{i:03d}" for i in range(60)) + match.scopes,
        match.xaddrs,
    )
    fields = match_fields("wsd-probematches", padded, None)
    signals = dict(fields)["signals"]
    assert len(signals) <= mcast.FIELD_LIMIT and "location/city/hangzhou" in signals
    assert _vendors(fields)["hikvision"] >= 0.75

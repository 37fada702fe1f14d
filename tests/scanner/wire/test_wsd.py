"""WS-Discovery wire format: golden ProbeMatches (research §3.2), round trips, hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import wsd

DATA = Path(__file__).parent / "data"
HIK = (DATA / "wsd_hikvision_probematch.xml").read_bytes()
AMCREST = (DATA / "wsd_dahua_amcrest_probematch.xml").read_bytes()
FAULT = (DATA / "wsd_soap_fault.xml").read_bytes()
HELLO = (DATA / "wsd_dahua_hello.xml").read_bytes()
GOLDEN = [HIK, AMCREST, FAULT, HELLO]

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol3;</s:Body></s:Envelope>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&e;</s:Body></s:Envelope>"""


def test_hikvision_probematch_golden() -> None:
    msg = wsd.parse_message(HIK)
    assert msg is not None and msg.kind == "probematches" and not msg.malformed
    assert msg.relates_to == "urn:uuid:0a6dc791-2e2c-4b3a-9f6e-1c1b9c2f7a10"
    assert msg.discovery_ns == wsd.NS_DISCOVERY
    (match,) = msg.matches
    assert match.types == ("dn:NetworkVideoTransmitter", "tds:Device")
    assert match.metadata_version == "10"
    assert match.xaddrs[0] == "http://198.18.0.11/onvif/device_service"
    assert wsd.endpoint_style(match.endpoint) == "urn:uuid"
    assert wsd.endpoint_node(match.endpoint) == "b4a3820fd92d"
    scopes = wsd.read_scopes(match.scopes)
    assert scopes.hardware == "DS-2CD2385G1-I"
    assert scopes.name == "HIKVISION DS-2CD2385G1-I"  # %20 decoded
    assert wsd.normalize_mac(scopes.mac) == "B4:A3:82:0F:D9:2D"
    assert scopes.locations == ("city/hangzhou",)
    assert scopes.profiles == ("Streaming", "G", "T")


def test_dahua_oem_probematch_golden() -> None:
    msg = wsd.parse_message(AMCREST)
    assert msg is not None and msg.kind == "probematches"
    (match,) = msg.matches
    assert wsd.endpoint_style(match.endpoint) == "uuid"
    scopes = wsd.read_scopes(match.scopes)
    assert (scopes.name, scopes.hardware) == ("Amcrest", "IP2M-841B")
    assert scopes.locations == ("country/china",)
    assert scopes.extensions == ("unique_identifier",)
    assert match.metadata_version == "1"


def test_soap_fault_and_hello() -> None:
    fault = wsd.parse_message(FAULT)
    assert fault is not None and fault.kind == "fault" and not fault.matches
    assert fault.fault_code == "SOAP-ENV:Sender"
    assert fault.fault_subcode == "wsd:MatchingRuleNotSupported"
    assert "not supported" in fault.fault_reason
    hello = wsd.parse_message(HELLO)
    assert hello is not None and hello.kind == "hello"
    assert wsd.read_scopes(hello.matches[0].scopes).extensions == ("unique_identifier/1",)


def test_odd_prefixes_and_2009_namespace_read_the_same() -> None:
    renamed = (
        HIK.replace(b"env:", b"SOAP-ENV:")
        .replace(b"xmlns:env=", b"xmlns:SOAP-ENV=")
        .replace(b"wsadis:", b"wsa:")
        .replace(b"xmlns:wsadis=", b"xmlns:wsa=")
        .replace(b"<d:", b"<wsdd:")
        .replace(b"</d:", b"</wsdd:")
        .replace(b"xmlns:d=", b"xmlns:wsdd=")
    )
    a, b = wsd.parse_message(HIK), wsd.parse_message(renamed)
    assert a is not None and b is not None and a.matches == b.matches
    newer = HIK.replace(wsd.NS_DISCOVERY.encode(), wsd.NS_DISCOVERY_2009.encode())
    msg = wsd.parse_message(newer)
    assert msg is not None and msg.discovery_ns == wsd.NS_DISCOVERY_2009 and msg.matches


@pytest.mark.parametrize("types", [(), (wsd.TYPE_NVT,), (wsd.TYPE_DEVICE,)])
def test_probe_round_trip(types: tuple[str, ...]) -> None:
    data = wsd.build_probe("urn:uuid:0a6dc791-2e2c-4b3a-9f6e-1c1b9c2f7a10", types)
    assert b"http://schemas.xmlsoap.org/ws/2005/04/discovery" in data
    assert b"http://schemas.xmlsoap.org/ws/2004/08/addressing" in data
    assert b"urn:schemas-xmlsoap-org:ws:2005:04:discovery" in data
    probe = wsd.parse_probe(data)
    assert probe == wsd.ProbeRequest("urn:uuid:0a6dc791-2e2c-4b3a-9f6e-1c1b9c2f7a10", types)
    msg = wsd.parse_message(data)
    assert msg is not None and msg.kind == "probe" and msg.action == wsd.ACTION_PROBE


def test_build_probe_refuses_what_it_cannot_write() -> None:
    with pytest.raises(ValueError):
        wsd.build_probe("urn:uuid:x", ("foo:Bar",))
    with pytest.raises(ValueError):
        wsd.build_probe("<evil/>")


def test_endpoint_helpers() -> None:
    assert wsd.endpoint_style("uuid:5c3a7d1e-92b4-4f0a-b6c8-7e1d2f3a4b5c") == "uuid"
    assert wsd.endpoint_style("http://198.18.0.5/") == "other"
    assert wsd.endpoint_node("urn:uuid:not-a-uuid-b4a3820fd92d") == ""
    assert wsd.endpoint_node("uuid:5c3a7d1e-92b4-4f0a-b6c8-7E1D2F3A4B5C") == "7e1d2f3a4b5c"
    assert wsd.normalize_mac("b4-a3-82-0f-d9-2d") == "B4:A3:82:0F:D9:2D"
    assert wsd.normalize_mac("b4:a3:82:0f:d9") == ""


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02garbage",
        b"<html><body>not soap</body></html>",
        BOMB,
        XXE,
        HIK + b" " * (wsd.MAX_XML + 1),  # oversized
        b"<a>" * 20000 + b"</a>" * 20000,  # deeply nested (and oversized)
        b'<s:Envelope xmlns:s="x">' + b"<b>" * 200 + b"</b>" * 200 + b"</s:Envelope>",  # deep
    ],
    ids=["empty", "binary", "html", "bomb", "xxe", "oversized", "nested-big", "nested"],
)
def test_hostile_input_is_dropped_quickly(data: bytes) -> None:
    started = time.perf_counter()
    msg = wsd.parse_message(data)
    assert time.perf_counter() - started < 1.0
    assert msg is None or (msg.kind in ("other", "probe") and not msg.matches)


def test_truncated_reply_is_salvaged_not_dropped() -> None:
    cut = HIK[: HIK.index(b"</d:XAddrs>") + len(b"</d:XAddrs>")]
    msg = wsd.parse_message(cut)
    assert msg is not None and msg.malformed and msg.kind == "probematches"
    assert wsd.read_scopes(msg.matches[0].scopes).hardware == "DS-2CD2385G1-I"
    assert wsd.parse_message(HIK[:40]) is None


def test_invalid_utf8_is_read_with_replacement() -> None:
    data = AMCREST.replace(b"name/Amcrest", b"name/Amc\xff\xferest")
    msg = wsd.parse_message(data)
    assert msg is not None and msg.matches
    assert wsd.read_scopes(msg.matches[0].scopes).name.startswith("Amc")


def test_many_matches_and_scopes_are_capped() -> None:
    match = HIK[HIK.index(b"<d:ProbeMatch>") : HIK.index(b"</d:ProbeMatches>")]
    many = HIK.replace(match, match * 40)
    msg = wsd.parse_message(many)
    assert msg is not None and len(msg.matches) == wsd.MAX_MATCHES
    scopes = " ".join(f"onvif://www.onvif.org/type/t{i}" for i in range(500)).encode()
    msg = wsd.parse_message(HELLO.replace(b"onvif://www.onvif.org/location/country/china", scopes))
    assert msg is not None and len(msg.matches[0].scopes) == wsd.MAX_LIST


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_parse_never_raises_on_any_bytes(data: bytes) -> None:
    wsd.parse_message(data)
    wsd.parse_probe(data)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(GOLDEN),
    st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), max_size=12),
    st.integers(0, 6000),
)
def test_parse_never_raises_on_mutated_golden(
    golden: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(golden)
    for pos, value in flips:
        data[pos % len(data)] = value
    msg = wsd.parse_message(bytes(data[: max(1, cut)]))
    if msg is not None:
        for match in msg.matches:
            wsd.read_scopes(match.scopes)
            wsd.endpoint_node(match.endpoint)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=20), st.text(max_size=80))
def test_scope_and_endpoint_helpers_never_raise(scopes: list[str], endpoint: str) -> None:
    wsd.read_scopes(tuple("onvif://www.onvif.org/" + s for s in scopes))
    wsd.read_scopes(tuple(scopes))
    wsd.endpoint_node(endpoint)
    wsd.endpoint_style(endpoint)
    wsd.normalize_mac(endpoint)

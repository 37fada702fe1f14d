"""SADP wire format: golden bytes from the research's captures, hostile input, fuzzing."""

from __future__ import annotations

import inspect
import socket
import struct
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import sadp

DATA = Path(__file__).parent / "data"
US_VECTOR = (DATA / "sadp_probematch_universalscanner.xml").read_bytes()
REAL = (DATA / "sadp_probematch_ds2cd2385g1.xml").read_bytes()
UUID = "11223344-5566-7788-9900-112233445566"

# A DeviceOnlineRequest assembled by hand from research §4.1's layout (not by the builder):
# Ethernet broadcast from a4:14:37:5e:21:0b, EtherType 0x8033, marker 0x21, type 2 (request),
# 0x01, origin 0xF6, counter 7, 0x0604, query 0x02, params 0, checksum, current MAC/IP,
# destination MAC/IP, mask, then a zero payload up to 0xF6 bytes of SADP.
L2_GOLDEN = (
    bytes.fromhex("ffffffffffffa414375e210b8033")
    + bytes.fromhex("210201f60000000706040200")
    + b"\x00\x00"  # checksum slot, patched below
    + bytes.fromhex("a414375e210bc612000bffffffffffffffffffffffffff00")
    + bytes(0xF6 - 38)
)


def _with_checksum(frame: bytes) -> bytes:
    sadp_part = bytearray(frame[14:])
    sadp_part[12:14] = struct.pack("!H", sadp.checksum(bytes(sadp_part), 0xF6))
    return frame[:14] + bytes(sadp_part)


def test_inquiry_is_the_research_request_byte_for_byte() -> None:
    assert sadp.build_inquiry(UUID) == (DATA / "sadp_inquiry.xml").read_bytes().replace(
        UUID.encode(), UUID.upper().encode()
    )
    assert sadp.parse_probe(sadp.build_inquiry(UUID)) == sadp.Probe(UUID.upper(), "inquiry")


def test_only_inquiry_can_be_built() -> None:
    assert list(inspect.signature(sadp.build_inquiry).parameters) == ["uuid"]
    for bad in ["", "x", UUID + "</Uuid><Types>reset</Types>", "<Types>update</Types>"]:
        with pytest.raises(ValueError):
            sadp.build_inquiry(bad)


def test_universalscanner_vector_parses_with_flase() -> None:
    match = sadp.parse_probe_match(US_VECTOR)
    assert match is not None and not match.partial
    assert match.get("DeviceDescription") == "Virtual"
    assert match.get("DeviceSN") == "Virtual-123456789"
    assert match.get("SoftwareVersion") == "V1.0build 200101"
    assert match.get("HCPlatformEnable") == "flase"  # kept verbatim, never an error
    assert match.get("Uuid") == UUID
    assert match.mac == "00:11:22:33:44:55"


def test_real_capture_layout_parses_in_order() -> None:
    match = sadp.parse_probe_match(REAL)
    assert match is not None and not match.partial
    names = [k for k, _ in match.fields]
    assert names[:6] == [
        "Uuid",
        "Types",
        "DeviceType",
        "DeviceDescription",
        "DeviceSN",
        "CommandPort",
    ]
    assert match.get("DeviceDescription") == "DS-2CD2385G1-I"
    assert match.get("SoftwareVersion") == "V5.6.2build 190701"
    assert match.get("DetailOEMCode") == "1"
    assert match.get("DeviceLock") == "flase"
    assert match.mac == "58:50:ED:1F:E3:85"


def test_probe_match_round_trip_escapes_values() -> None:
    fields = [("DeviceDescription", "A<B>&C"), ("DeviceSN", "SN1"), ("MAC", "aa-bb-cc-dd-ee-ff")]
    built = sadp.build_probe_match(fields)
    assert b"\r\n<DeviceSN>SN1</DeviceSN>\r\n" in built
    match = sadp.parse_probe_match(built)
    assert match is not None and match.fields == tuple(fields)
    with pytest.raises(ValueError):
        sadp.build_probe_match([("bad name", "x")])


@pytest.mark.parametrize(
    "text,expected",
    [
        ("58-50-ed-1f-e3-85", "58:50:ED:1F:E3:85"),
        ("58:50:ED:1F:E3:85", "58:50:ED:1F:E3:85"),
        ("5850ed1fe385", "58:50:ED:1F:E3:85"),
        ("58-50-ed-1f-e3", None),
        ("zz-50-ed-1f-e3-85", None),
        ("", None),
        (None, None),
    ],
)
def test_mac_normalisation(text: str | None, expected: str | None) -> None:
    assert sadp.normalize_mac(text) == expected


def test_xml_bomb_is_dropped_fast() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
            for i in range(1, 10)
        )
        + b"]><ProbeMatch><DeviceSN>&lol9;</DeviceSN></ProbeMatch>"
    )
    started = time.perf_counter()
    assert sadp.parse_probe_match(bomb) is None
    assert time.perf_counter() - started < 0.5


def test_external_entity_is_dropped() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<ProbeMatch><DeviceSN>&x;</DeviceSN></ProbeMatch>"
    )
    assert sadp.parse_probe_match(xxe) is None


def test_oversized_reply_is_dropped() -> None:
    padding = b"<Pad>" + b"x" * sadp.MAX_REPLY + b"</Pad>"
    assert (
        sadp.parse_probe_match(REAL.replace(b"</ProbeMatch>", padding + b"</ProbeMatch>")) is None
    )


def test_truncated_reply_yields_what_arrived() -> None:
    cut = REAL[: REAL.index(b"<HttpPort>")]
    match = sadp.parse_probe_match(cut)
    assert match is not None and match.partial
    assert match.get("DeviceSN") == "DS-2CD2385G1-I20190712AAWRD12345678"
    assert match.get("SoftwareVersion") is None
    assert sadp.parse_probe_match(REAL[:30]) is None


def test_invalid_utf8_does_not_lose_the_rest() -> None:
    broken = REAL.replace(b"DS-2CD2385G1-I</DeviceDescription>", b"DS-\xff\xfe</DeviceDescription>")
    match = sadp.parse_probe_match(broken)
    assert match is not None
    assert match.get("DeviceSN") == "DS-2CD2385G1-I20190712AAWRD12345678"
    assert (match.get("DeviceDescription") or "").startswith("DS-")


def test_wrong_root_and_nesting_are_not_probe_matches() -> None:
    assert sadp.parse_probe_match(sadp.build_inquiry(UUID)) is None
    assert sadp.parse_probe_match(b"<Other><DeviceSN>x</DeviceSN></Other>") is None
    deep = b"<ProbeMatch>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</ProbeMatch>"
    assert sadp.parse_probe_match(deep) is None
    assert sadp.parse_probe_match(b"<ProbeMatch><Types>inquiry</Types></ProbeMatch>") is None


def test_probe_request_types_are_reported_for_refusal() -> None:
    reset = b"<Probe><Uuid>x</Uuid><Types>reset</Types></Probe>"
    assert sadp.parse_probe(reset) == sadp.Probe("x", "reset")
    assert sadp.parse_probe(b"garbage") is None
    assert sadp.parse_probe(b"<Probe><Uuid>x</Uuid></Probe>") is None


def test_layer2_golden_frame() -> None:
    frame = _with_checksum(L2_GOLDEN)
    parsed = sadp.parse_l2_frame(frame)
    assert parsed is not None
    assert parsed.src_mac == parsed.sender_mac == "A4:14:37:5E:21:0B"
    assert parsed.sender_ip == socket.inet_ntoa(bytes.fromhex("c612000b")) == "198.18.0.11"
    assert parsed.query_name == "DeviceOnlineRequest"
    assert (parsed.packet_type, parsed.origin, parsed.counter) == (2, 0xF6, 7)
    assert parsed.netmask == "255.255.255.0"
    assert parsed.checksum_ok
    # the emulator's builder produces the same frame
    assert sadp.build_device_online("a4:14:37:5e:21:0b", "198.18.0.11", "255.255.255.0", 7) == frame


def test_layer2_bad_frames() -> None:
    frame = _with_checksum(L2_GOLDEN)
    assert sadp.parse_l2_frame(frame[: sadp.MIN_FRAME - 1]) is None
    assert sadp.parse_l2_frame(frame[:12] + b"\x08\x06" + frame[14:]) is None  # not 0x8033
    assert sadp.parse_l2_frame(frame[:14] + b"\x22" + frame[15:]) is None  # marker
    assert sadp.parse_l2_frame(frame + bytes(sadp.MAX_FRAME)) is None  # oversized
    tampered = sadp.parse_l2_frame(frame[:-1] + b"\x01")
    assert tampered is not None and not tampered.checksum_ok


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=4096))
def test_parsers_never_raise_on_arbitrary_bytes(data: bytes) -> None:
    sadp.parse_probe_match(data)
    sadp.parse_probe(data)
    sadp.parse_l2_frame(data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_parsers_never_raise_on_mutated_golden_bytes(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from([REAL, US_VECTOR, _with_checksum(L2_GOLDEN)]))
    buf = bytearray(source)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(buf)))
    for sample in (bytes(buf), bytes(buf[:cut])):
        match = sadp.parse_probe_match(sample)
        if match is not None:
            assert all(len(v) <= sadp.MAX_VALUE for _, v in match.fields)
        sadp.parse_l2_frame(sample)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=64))
def test_round_trip_of_any_text_value(value: str) -> None:
    cleaned = value.strip()
    built = sadp.build_probe_match([("DeviceSN", "SN"), ("DeviceDescription", value)])
    match = sadp.parse_probe_match(built)
    assert match is not None and match.get("DeviceSN") == "SN"
    if match.get("DeviceDescription") is not None and not match.partial and cleaned.isprintable():
        assert match.get("DeviceDescription") == cleaned

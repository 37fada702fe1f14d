"""Dahua 5050 wire format: the research's request bytes, a reply in the documented layout, every
length check, fuzzing."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import dahua_legacy as legacy

DATA = Path(__file__).parent / "data"
REQUEST = (DATA / "dahua_legacy_request.bin").read_bytes()
REPLY = (DATA / "dahua_legacy_reply.bin").read_bytes()


def test_request_is_the_research_bytes() -> None:
    assert legacy.build_search() == REQUEST
    assert REQUEST[:4] == bytes([0xA3, 0x01, 0x00, 0x01]) and len(REQUEST) == 32
    assert legacy.is_search(REQUEST)
    assert not legacy.is_search(REQUEST + b"\x00")


def test_golden_reply() -> None:
    reply = legacy.parse_reply(REPLY)
    assert reply is not None and reply.lengths_ok
    assert reply.mac == "00:11:22:33:44:55"
    assert reply.model == "IPC-HFW4300S"  # section 2's type wins over section 1's
    assert reply.device_type == "IPC-HFW43"
    assert reply.get("SerialNo") == "1A02B3CPAZ00042"
    assert reply.get("Name") == "IPC-Virtual"
    assert reply.get("IPv6Addr") == "fe80::211:22ff:fe33:4455/64;gateway:::"
    assert (reply.ip, reply.netmask, reply.gateway, reply.dns) == (
        "192.168.1.108", "255.255.255.0", "192.168.1.1", "8.8.8.8",
    )  # fmt: skip
    assert (reply.http_port, reply.https_port, reply.tcp_port) == (80, 443, 37777)
    assert reply.packet_type == legacy.PACKET_TYPE_ANSWER and reply.version == 2


def test_build_reply_round_trip() -> None:
    built = legacy.build_reply(
        device_type="NVR4108HS-4KS2",
        mac="9c:14:63:71:08:c4",
        ip="198.18.0.22",
        netmask="255.255.255.0",
        gateway="198.18.0.1",
        section3=[("SerialNo", "7J0B2C3PAZ54321"), ("Name", "nvr")],
    )
    reply = legacy.parse_reply(built)
    assert reply is not None and reply.lengths_ok
    assert reply.model == reply.device_type == "NVR4108HS-4KS2"
    assert reply.mac == "9C:14:63:71:08:C4" and reply.get("SerialNo") == "7J0B2C3PAZ54321"


def test_wrong_magic_short_and_oversized_are_dropped() -> None:
    assert legacy.parse_reply(b"\xa3" + REPLY[1:]) is None
    assert legacy.parse_reply(REPLY[: legacy.SECTION1_LEN - 1]) is None
    assert legacy.parse_reply(REQUEST) is None
    assert legacy.parse_reply(REPLY + bytes(legacy.MAX_REPLY)) is None


def test_truncated_sections_are_recorded_and_read_as_far_as_they_go() -> None:
    cut = REPLY[: REPLY.index(b"SerialNo")]
    reply = legacy.parse_reply(cut)
    assert reply is not None and not reply.lengths_ok
    assert reply.get("SerialNo") is None and reply.get("Name") == "IPC-Virtual"
    only_section1 = legacy.parse_reply(REPLY[: legacy.SECTION1_LEN])
    assert only_section1 is not None and only_section1.mac is None
    assert only_section1.model == "IPC-HFW43"


def test_lying_lengths_and_trailers() -> None:
    huge = bytearray(REPLY)
    struct.pack_into("<H", huge, 2, 0xFFFF)
    struct.pack_into("<H", huge, 0x14, 0xFFFF)
    reply = legacy.parse_reply(bytes(huge))
    assert reply is not None and not reply.lengths_ok
    trailing = legacy.parse_reply(REPLY + b"junk")
    assert trailing is not None and not trailing.lengths_ok
    assert trailing.get("SerialNo") == "1A02B3CPAZ00042"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_parser_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    legacy.parse_reply(data)
    legacy.parse_reply(b"\xb3" + data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_parser_never_raises_on_mutated_golden_bytes(data: st.DataObject) -> None:
    buf = bytearray(REPLY)
    for _ in range(data.draw(st.integers(1, 12))):
        buf[data.draw(st.integers(1, len(buf) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(buf)))
    for sample in (bytes(buf), bytes(buf[:cut])):
        reply = legacy.parse_reply(sample)
        if reply is not None:
            assert all(len(v) <= legacy.MAX_VALUE for _, v in reply.section3)

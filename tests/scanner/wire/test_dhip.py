"""DHIP wire format: the research's header bytes, the real reply layout with its trailer, the
malformed-JSON vector, hostile input and fuzzing."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import dhip

DATA = Path(__file__).parent / "data"
SEARCH = (DATA / "dhip_search.bin").read_bytes()
REPLY = (DATA / "dhip_reply_ipc_hdw1431t1.bin").read_bytes()
MALFORMED = (DATA / "dhip_reply_malformed_version.bin").read_bytes()


def test_header_matches_the_research_example() -> None:
    assert dhip.build_header(64) == SEARCH[:32]
    assert SEARCH[:8] == bytes.fromhex("2000000044484950")
    header = dhip.parse_header(SEARCH)
    assert header == dhip.Header(32, 0, 0, 64, 64)
    assert dhip.parse_request_method(SEARCH) == "DHDiscover.search"


def test_search_request_body_and_lengths() -> None:
    request = dhip.build_search()
    body = request[32:]
    assert body.endswith(b"\n")
    assert json.loads(body) == {"method": "DHDiscover.search", "params": {"mac": "", "uni": 1}}
    assert struct.unpack_from("<I", request, 16)[0] == len(body)
    assert struct.unpack_from("<I", request, 24)[0] == len(body)


def test_real_reply_layout_with_trailer() -> None:
    reply = dhip.parse_reply(REPLY)
    assert reply is not None
    assert reply.strict and reply.lengths_ok
    assert reply.method == "client.notifyDevInfo"
    assert reply.mac == "08:ED:ED:87:42:7A"
    assert reply.get("DeviceType") == "IPC-HDW1431T1-S4"
    assert reply.get("SerialNo") == "6C01E93PAG69A7D"
    assert reply.get("Version") == "2.800.0000000.13.R"
    assert reply.get("Vendor") == reply.get("Manufacturer") == "Private"
    assert reply.get("Port") == "37777"
    assert reply.get("IPAddress") == "192.168.1.108"
    assert REPLY.endswith(b"\n\x00")


def test_malformed_json_falls_back_to_patterns() -> None:
    reply = dhip.parse_reply(MALFORMED)
    assert reply is not None and not reply.strict
    assert reply.method == "client.notifyDevInfo"
    assert reply.mac == "00:11:22:33:44:55"
    assert reply.get("DeviceType") == "IPC-Virtual"
    assert reply.get("SerialNo") == "0123456789ABCDE"
    assert (reply.get("Version") or "").startswith("2.400.0000000.0.R")
    assert reply.get("Vendor") == "General"


def test_build_reply_round_trip() -> None:
    info = {"DeviceType": "IPC-X", "SerialNo": "S1", "Version": "1.0", "Vendor": "Amcrest"}
    built = dhip.build_reply("9c:8e:cd:4d:19:a2", info)
    reply = dhip.parse_reply(built)
    assert reply is not None and reply.strict and reply.lengths_ok
    assert dict(reply.info) == info and reply.mac == "9C:8E:CD:4D:19:A2"


def test_wrong_magic_truncated_and_oversized_are_dropped() -> None:
    assert dhip.parse_reply(REPLY[:4] + b"DHIQ" + REPLY[8:]) is None
    assert dhip.parse_reply(REPLY[:31]) is None
    assert dhip.parse_reply(REPLY[:32]) is None  # header, no JSON
    big = REPLY[:-2] + b" " * dhip.MAX_REPLY
    assert dhip.parse_reply(big) is None


def test_truncated_json_keeps_what_arrived() -> None:
    cut = REPLY[: REPLY.index(b'"UnLoginFuncMask"')]
    reply = dhip.parse_reply(cut)
    assert reply is not None and not reply.strict and not reply.lengths_ok
    assert reply.get("SerialNo") == "6C01E93PAG69A7D"
    assert reply.get("Version") is None


def test_wrong_length_fields_are_recorded_not_trusted() -> None:
    lying = REPLY[:16] + struct.pack("<I", 5) + REPLY[20:24] + struct.pack("<I", 99999) + REPLY[28:]
    reply = dhip.parse_reply(lying)
    assert reply is not None and reply.strict and not reply.lengths_ok
    assert reply.get("SerialNo") == "6C01E93PAG69A7D"


def test_deeply_nested_json_is_cheap_and_safe() -> None:
    body = b'{"method":"client.notifyDevInfo","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    started = time.perf_counter()
    reply = dhip.parse_reply(dhip.build_header(len(body)) + body)
    assert time.perf_counter() - started < 1.0
    assert reply is None or not reply.strict


def test_invalid_utf8_and_garbage() -> None:
    broken = REPLY.replace(b"IPC-HDW1431T1-S4", b"IPC-\xff\xfe\xfd")
    reply = dhip.parse_reply(broken)
    assert reply is not None and reply.get("SerialNo") == "6C01E93PAG69A7D"
    assert dhip.parse_reply(dhip.build_header(3) + b"abc") is None
    assert dhip.parse_reply(dhip.build_header(2) + b"{}") is None
    assert dhip.parse_reply(dhip.build_header(2) + b"[]") is None


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=4096))
def test_parser_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    dhip.parse_reply(data)
    dhip.parse_reply(dhip.build_header(len(data)) + data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_parser_never_raises_on_mutated_golden_bytes(data: st.DataObject) -> None:
    buf = bytearray(data.draw(st.sampled_from([REPLY, MALFORMED, SEARCH])))
    for _ in range(data.draw(st.integers(1, 8))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(buf)))
    for sample in (bytes(buf), bytes(buf[:cut])):
        reply = dhip.parse_reply(sample)
        if reply is not None:
            assert all(len(v) <= dhip.MAX_VALUE for _, v in reply.info)


@given(
    st.dictionaries(
        st.sampled_from(["DeviceType", "SerialNo", "Version", "Vendor", "Manufacturer"]),
        st.text(max_size=40),
        min_size=1,
    )
)
def test_round_trip_of_any_device_info(info: dict[str, str]) -> None:
    reply = dhip.parse_reply(dhip.build_reply("00:11:22:33:44:55", info))
    assert reply is not None and reply.strict
    assert dict(reply.info) == info

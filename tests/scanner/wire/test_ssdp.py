"""SSDP wire format: M-SEARCH bytes, responses and NOTIFYs, UPnP descriptions, hostile input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import ssdp

DATA = Path(__file__).parent / "data"
RESPONSE = (DATA / "ssdp_response_hikvision_nvr.txt").read_bytes()
NOTIFY = (DATA / "ssdp_notify_zte.txt").read_bytes()
DESCRIPTION = (DATA / "ssdp_description_hikvision_nvr.xml").read_bytes()


def test_msearch_bytes() -> None:
    assert ssdp.build_msearch() == (
        b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
        b"MX: 1\r\nST: ssdp:all\r\nUSER-AGENT: Linux/1 UPnP/1.1 ndaa-scan/0.1\r\n\r\n"
    )
    msg = ssdp.parse_message(ssdp.build_msearch("upnp:rootdevice", 2))
    assert msg is not None and msg.kind == "msearch" and msg.st == "upnp:rootdevice"
    with pytest.raises(ValueError):
        ssdp.build_msearch(mx=0)
    with pytest.raises(ValueError):
        ssdp.build_msearch("ssdp:all\r\nX: y")


def test_response_golden() -> None:
    msg = ssdp.parse_message(RESPONSE)
    assert msg is not None and msg.kind == "response" and msg.status == 200
    assert msg.location == "http://198.18.0.12:49152/upnpdevicedesc.xml"
    assert msg.server.startswith("Linux/3.10.0, UPnP/1.0")
    assert msg.st == "upnp:rootdevice"
    assert msg.usn == "uuid:0c459e2a-22ae-46cf-8f34-6b783eb1e5ab::upnp:rootdevice"
    assert msg.header("ext") == ""


def test_notify_golden() -> None:
    msg = ssdp.parse_message(NOTIFY)
    assert msg is not None and msg.kind == "notify" and msg.status == 0
    assert msg.st == "urn:schemas-upnp-org:device:InternetGatewayDevice:1"  # NT
    assert msg.header("nts") == "ssdp:alive"


def test_description_golden() -> None:
    desc = ssdp.parse_description(DESCRIPTION)
    assert desc == ssdp.Description(
        device_type="urn:schemas-upnp-org:device:Basic:1",
        friendly_name="DS-7608NI-K2",
        manufacturer="Hikvision",
        manufacturer_url="http://www.hikvision.com",
        model_name="DS-7608NI-K2",
        model_number="DS-7608NI-K2",
        model_description="NVR",
        serial="DS-7608NI-K20820211104CCRRJ87654321",
        udn="uuid:0c459e2a-22ae-46cf-8f34-6b783eb1e5ab",
        presentation_url="http://198.18.0.12/",
        firmware="V4.30.085 build 210315",
    )


def test_lenient_where_devices_are_sloppy() -> None:
    # LF-only line ends, a broken header line, lower-case names, odd spacing.
    msg = ssdp.parse_message(
        b"HTTP/1.1 200 OK\nlocation:http://198.18.0.5/d.xml\nthis line is broken\nSt:  x\n\n"
    )
    assert msg is not None and msg.location == "http://198.18.0.5/d.xml" and msg.st == "x"
    msg = ssdp.parse_message(RESPONSE.replace(b"Portable", b"Port\xff\xfeable"))
    assert msg is not None and "Port" in msg.server


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"GET / HTTP/1.1\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"\x00" * 64,
        RESPONSE + b"X" * ssdp.MAX_DATAGRAM,
    ],
    ids=["empty", "http-get", "bad-status", "binary", "oversized"],
)
def test_not_ssdp_is_none(data: bytes) -> None:
    assert ssdp.parse_message(data) is None


def test_headers_are_bounded() -> None:
    many = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 2000) for i in range(3))
    msg = ssdp.parse_message(many)
    assert msg is not None and all(len(v) <= ssdp.MAX_VALUE for _, v in msg.headers)
    flood = b"HTTP/1.1 200 OK\r\n" + b"A: b\r\n" * 1000
    msg = ssdp.parse_message(flood)
    assert msg is not None and len(msg.headers) <= ssdp.MAX_HEADERS


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<notroot/>",
        b'<root xmlns="urn:schemas-upnp-org:device-1-0"></root>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><root><device>&a;</device></root>',
        b"<root>" + b"<device>" * 500 + b"</device>" * 500 + b"</root>",
        DESCRIPTION[:300],
        DESCRIPTION + b" " * ssdp.MAX_DESCRIPTION,
    ],
    ids=["empty", "wrong-root", "no-device", "dtd", "deep", "truncated", "oversized"],
)
def test_hostile_descriptions(data: bytes) -> None:
    started = time.perf_counter()
    desc = ssdp.parse_description(data)
    assert time.perf_counter() - started < 1.0
    assert desc is None or desc.manufacturer == ""


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_parsers_never_raise_on_any_bytes(data: bytes) -> None:
    ssdp.parse_message(data)
    ssdp.parse_description(data)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([RESPONSE, NOTIFY, DESCRIPTION]),
    st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=12),
    st.integers(1, 2500),
)
def test_parsers_never_raise_on_mutated_golden(
    golden: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    data = bytearray(golden)
    for pos, value in flips:
        data[pos % len(data)] = value
    ssdp.parse_message(bytes(data[:cut]))
    ssdp.parse_description(bytes(data[:cut]))

"""RTSP replies from the research's traces (§5.2): the Hikvision double-space Date, two
challenges per 401, Dahua's Server and `Login to <serial>` realm; requests carry no
credentials; the parser never raises."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import rtsp

DATA = Path(__file__).parent / "data"


def fields_of(name: str, method: str = "DESCRIBE") -> list[tuple[str, str]]:
    resp = rtsp.parse_response((DATA / name).read_bytes())
    assert resp is not None
    return rtsp.response_fields(resp, method)


def values(fields: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in fields if k == name]


def test_hikvision_options_keeps_the_double_space_date() -> None:
    fields = fields_of("hikvision_rtsp_options.rtsp", "OPTIONS")
    assert values(fields, "status") == ["200"]
    assert values(fields, "server") == []
    assert values(fields, "date_header") == ["Date:  Tue, Dec 21 2021 12:08:36 GMT"]
    assert values(fields, "public")[0].startswith("OPTIONS, DESCRIBE, PLAY, PAUSE")


def test_hikvision_describe_has_two_challenges() -> None:
    fields = fields_of("hikvision_rtsp_describe_401.rtsp")
    assert values(fields, "auth_scheme") == ["Digest", "Basic"]
    assert values(fields, "realm") == ["IP Camera(C1214)", "IP Camera(C1214)"]


def test_hikvision_dvr_realms() -> None:
    assert values(fields_of("hikvision_dvr_rtsp_401.rtsp"), "realm") == ["Hikvision", "/"]


def test_dahua_server_and_lorex_serial() -> None:
    assert values(fields_of("dahua_rtsp_405.rtsp"), "server") == ["Dahua Rtsp Server"]
    basic = fields_of("dahua_rtsp_401_basic.rtsp")
    assert values(basic, "realm") == ["device"] and values(basic, "server") == ["Dahua Rtsp Server"]
    lorex = fields_of("lorex_rtsp_401.rtsp")
    assert values(lorex, "realm") == ["Login to ND011811000000"]
    assert values(lorex, "serial") == ["ND011811000000"]


def test_sdp_with_imkh_media_header() -> None:
    data = (
        b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\nContent-Length: 44\r\n\r\n"
        b"v=0\r\na=Media_header:MEDIAINFO=494D4B48010200\r\n"
    )
    resp = rtsp.parse_response(data)
    assert resp is not None and len(resp.body) == 44
    assert ("body_marker", "IMKH") in rtsp.response_fields(resp, "DESCRIBE")


def test_requests_carry_no_credentials() -> None:
    options = rtsp.build_options("rtsp://198.18.0.11:554/", 1)
    describe = rtsp.build_describe("rtsp://198.18.0.11:554/", 2)
    assert options.startswith(b"OPTIONS rtsp://198.18.0.11:554/ RTSP/1.0\r\nCSeq: 1\r\n")
    assert describe.startswith(b"DESCRIBE rtsp://198.18.0.11:554/ RTSP/1.0\r\nCSeq: 2\r\n")
    assert b"Accept: application/sdp\r\n" in describe
    for request in (options, describe):
        assert b"authorization" not in request.lower() and request.endswith(b"\r\n\r\n")


@pytest.mark.parametrize("url", ["http://198.18.0.11/", "rtsp://x/\r\nAuthorization: Basic x"])
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        rtsp.build_options(url)


def test_not_rtsp_is_none() -> None:
    assert rtsp.parse_response(b"HTTP/1.1 200 OK\r\n\r\n") is None
    assert rtsp.parse_response(b"") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_parser_never_raises(data: bytes) -> None:
    for prefix in (b"", b"RTSP/1.0 401 Unauthorized\r\n"):
        resp = rtsp.parse_response(prefix + data)
        if resp is not None:
            for _, value in rtsp.response_fields(resp, "DESCRIBE"):
                assert len(value) <= 1024

"""HTTP response fields from golden responses (research §2 traces: nmap templates, Metasploit's
check, recog examples), requests that stay harmless, and parsers that never raise."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import http_fields as hf
from scanner.wire.favicon import favicon_fields, murmur3_32, shodan_hash
from scanner.wire.tls_cert import cert_fields

DATA = Path(__file__).parent / "data"


def fields_of(name: str) -> list[tuple[str, str]]:
    resp = hf.parse_response((DATA / name).read_bytes())
    assert resp is not None
    return hf.response_fields(resp)


def values(fields: list[tuple[str, str]], name: str) -> list[str]:
    return [v for k, v in fields if k == name]


def test_hikvision_webs_redirect() -> None:
    fields = fields_of("hikvision_webs_302.http")
    assert values(fields, "status") == ["302"]
    assert values(fields, "server") == ["Hikvision-Webs"]
    assert values(fields, "location") == ["http://192.0.2.10:80/index.asp"]
    assert values(fields, "header_case") == ["canonical"]


def test_hikvision_dnvrs_and_app_webs_root() -> None:
    assert values(fields_of("hikvision_dnvrs_200.http"), "server") == ["DNVRS-Webs"]
    root = fields_of("hikvision_app_webs_root.http")
    assert values(root, "server") == ["App-webs/"]
    assert values(root, "body_marker") == ["/doc/page/login.asp"]


def test_hikvision_isapi_challenge_new_firmware() -> None:
    fields = fields_of("hikvision_isapi_401.http")
    assert values(fields, "auth_scheme") == ["Digest"]
    assert values(fields, "realm") == ["DS-0CED27ED"]
    assert values(fields, "model") == []  # DS-<8 hex> is not a model number


def test_dahua_root_page() -> None:
    fields = fields_of("dahua_root_200.http")
    assert values(fields, "server") == []
    assert values(fields, "header_case") == ["upper"]
    assert values(fields, "etag") == ['"1481623201:1b9"']
    assert values(fields, "title") == ["WEB SERVICE"]
    assert set(values(fields, "body_marker")) == {
        "<title>WEB SERVICE</title>",
        "ui-dialog-content",
        "utf8-bom",
    }
    assert values(fields, "header_names")[0].startswith("CONNECTION,CONTENT-LENGTH,")


def test_dahua_cgi_challenge_discloses_the_serial() -> None:
    fields = fields_of("dahua_cgi_401.http")
    assert values(fields, "realm") == ["Login to 4H01D66PAJ2FA64"]
    assert values(fields, "serial") == ["4H01D66PAJ2FA64"]


def test_generic_decoy() -> None:
    fields = fields_of("webs_dvr_401.http")
    assert values(fields, "server") == ["Webs"]
    assert values(fields, "realm") == ["DVR"] and values(fields, "auth_scheme") == ["Basic"]


def test_several_challenges_in_one_header() -> None:
    got = hf.parse_challenges('Digest realm="a, b", nonce="x\\"y", Basic realm="c"')
    assert [(c.scheme, c.realm) for c in got] == [("Digest", "a, b"), ("Basic", "c")]
    assert dict(got[0].params)["nonce"] == 'x"y'


def test_realm_identity() -> None:
    assert hf.realm_identity("Login to ND011811000000") == [("serial", "ND011811000000")]
    assert hf.realm_identity("Login to " + "a1" * 16) == []
    assert hf.realm_identity("Login to " + "A1" * 16) == []
    assert hf.realm_identity("DS-2CD2310FD-I") == [("model", "DS-2CD2310FD-I")]
    assert hf.realm_identity("IP Camera(C2183)") == []


def test_cut_and_chunked_bodies() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<titl\r\n9\r\ne>x</titl\r\n"
    )
    resp = hf.parse_response(chunked)
    assert resp is not None and resp.body == b"<title>x</titl"
    assert not hf.response_complete(chunked)
    assert hf.response_complete(chunked + b"2\r\ne>\r\n0\r\n\r\n")
    partial = hf.parse_response(b"HTTP/1.1 200 OK\r\nServer: slo")
    assert partial is not None and partial.header("server") == "slo"
    assert hf.response_complete(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert not hf.response_complete(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")


@pytest.mark.parametrize(
    "path",
    [
        "/SDK/webLanguage",
        "/System/deviceInfo?auth=YWRtaW46MTEK",
        "/onvif-http/snapshot?x=1&auth=YWRt",
        "/RPC2_Login",
        "/cgi-bin/configManager.cgi?action=setConfig",
        "//evil/",
        "index.asp",
        "/a b",
    ],
)
def test_forbidden_paths_are_refused(path: str) -> None:
    assert not hf.safe_path(path)
    with pytest.raises(ValueError):
        hf.build_get("198.18.0.11", 80, path)


def test_get_request_is_plain_and_unauthenticated() -> None:
    request = hf.build_get("198.18.0.11", 8080, "/ISAPI/System/deviceInfo")
    assert request.startswith(
        b"GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: 198.18.0.11:8080\r\n"
    )
    assert b"authorization" not in request.lower() and request.endswith(b"\r\n\r\n")
    assert b"Host: 198.18.0.11\r\n" in hf.build_get("198.18.0.11", 443, "/", tls=True)


def test_murmur3_and_shodan_hash_match_the_reference() -> None:
    # Reference values of mmh3.hash (MurmurHash3_x86_32, seed 0, signed).
    assert murmur3_32(b"foo") == -156908512
    assert murmur3_32(b"hello") == 613153351
    assert murmur3_32(b"The quick brown fox jumps over the lazy dog") == 776992547
    assert shodan_hash(b"") == murmur3_32(b"")
    fields = dict(favicon_fields(b"\x00\x00\x01\x00"))
    assert fields["favicon_md5"] == "2ab4b906fabd1c154d3d8fd77942028e"
    assert fields["favicon_mmh3"] == str(murmur3_32(b"AAABAA==\n"))
    assert favicon_fields(b"") == []


def test_unparseable_certificate_gives_only_its_hash() -> None:
    fields = dict(cert_fields(b"\x30\x03\x02\x01\x00"))
    assert "cert_sha256" in fields and "cert_error" in fields and "cert_subject" not in fields


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_parsers_never_raise_on_any_bytes(data: bytes) -> None:
    resp = hf.parse_response(data)
    if resp is not None:
        for name, value in hf.response_fields(resp):
            assert isinstance(name, str) and len(value) <= hf.MAX_VALUE
        hf.excerpt(resp)
    hf.dechunk(data)
    hf.response_complete(data)
    cert_fields(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512))
def test_status_line_prefix_then_anything_never_raises(tail: bytes) -> None:
    data = b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " + tail
    resp = hf.parse_response(data)
    assert resp is not None
    hf.response_fields(resp)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_challenge_parser_never_raises(text: str) -> None:
    for challenge in hf.parse_challenges(text):
        assert challenge.scheme

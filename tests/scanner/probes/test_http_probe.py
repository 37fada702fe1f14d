"""What the HTTP and port probes decide without the network: which redirects they follow (same
host and port, allowed paths only) and how banners become fields. Nothing is sent here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.probes.http import PATHS, _same_host_redirect
from scanner.probes.tcp_ports import banner_fields
from scanner.wire import http_fields


def redirect(location: str, status: int = 302) -> http_fields.HttpResponse:
    return http_fields.HttpResponse(
        "HTTP/1.0", status, "Redirect", (("Location", location),), b"", b""
    )


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://198.18.0.11:80/index.asp", "/index.asp"),
        ("http://198.18.0.11/index.htm", "/index.htm"),
        ("/doc/page/login.asp?_=1", "/doc/page/login.asp?_=1"),
        ("http://198.18.0.99/index.asp", None),  # another host
        ("http://198.18.0.11:8080/index.asp", None),  # another port
        ("http://example.com/", None),
        ("/SDK/webLanguage", None),  # the exploit surface, even on the same host
        ("/System/deviceInfo?auth=YWRtaW46MTEK", None),
        ("index.asp", None),  # relative: not followed
        ("http://[::1", None),  # malformed
    ],
)
def test_redirects_stay_on_the_host_and_off_exploit_paths(
    location: str, expected: str | None
) -> None:
    assert _same_host_redirect(redirect(location), "198.18.0.11", 80) == expected


def test_only_3xx_redirects() -> None:
    assert _same_host_redirect(redirect("/index.asp", 200), "198.18.0.11", 80) is None


def test_fixed_paths_are_all_safe_gets() -> None:
    assert PATHS[0] == "/"
    assert all(http_fields.safe_path(p) for p in PATHS)


def test_banner_fields_strip_telnet_negotiation() -> None:
    fields = dict(banner_fields(b"\xff\xfd\x01\xff\xfb\x03192.0.0.64 login: "))
    assert fields["banner"] == "192.0.0.64 login:"
    assert fields["banner_hex"].startswith("fffd01")
    assert dict(banner_fields(b"\x00\x00\x00\x10\x00\x00\x00\x1e"))["banner_size"] == "8"
    assert banner_fields(b"") == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=5000))
def test_banner_fields_never_raise_and_stay_bounded(data: bytes) -> None:
    for _, value in banner_fields(data):
        assert len(value) <= 1024

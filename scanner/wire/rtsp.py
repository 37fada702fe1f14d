"""RTSP/1.0 (RFC 2326) as the fingerprint needs it: OPTIONS and DESCRIBE without credentials,
and the reply's status, headers verbatim and challenges (research §5.2).

Header lines are kept exactly as sent, because the spacing is a tell: Hikvision cameras write
`Date:  Tue, Dec 21 2021 12:08:36 GMT` (two spaces, a non-RFC date layout). A DESCRIBE answered
401 carries one WWW-Authenticate header per challenge (Hikvision: Digest and Basic, both with
realm `IP Camera(xxxxx)`; Dahua: `Login to <serial>`). Builders never add Authorization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.wire.http_fields import MAX_HEADERS, USER_AGENT, challenge_fields

MAX_VALUE = 1024
_STATUS = re.compile(rb"^(RTSP/\d\.\d)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?$")
_URL = re.compile(r"^rtsp://[0-9A-Za-z.\-\[\]:]+(?:/[\x21-\x7e]*)?$")


@dataclass(frozen=True)
class RtspResponse:
    version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str, str], ...]  # (name as sent, value stripped, raw line)
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value, _ in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value, _ in self.headers if key.lower() == wanted]


def _request(method: str, url: str, cseq: int, extra: str = "") -> bytes:
    if not _URL.match(url):
        raise ValueError(f"not an rtsp URL: {url!r}")
    return (
        f"{method} {url} RTSP/1.0\r\nCSeq: {cseq}\r\nUser-Agent: {USER_AGENT}\r\n{extra}\r\n"
    ).encode("ascii")


def build_options(url: str, cseq: int = 1) -> bytes:
    return _request("OPTIONS", url, cseq)


def build_describe(url: str, cseq: int = 2) -> bytes:
    return _request("DESCRIBE", url, cseq, "Accept: application/sdp\r\n")


def head_complete(data: bytes) -> bool:
    return b"\r\n\r\n" in data or b"\n\n" in data


def parse_response(data: bytes) -> RtspResponse | None:
    """One reply (the body only as far as Content-Length and the bytes given allow)."""
    try:
        return _parse(data)
    except (ValueError, IndexError):
        return None


def _parse(data: bytes) -> RtspResponse | None:
    at, sep = data.find(b"\r\n\r\n"), 4
    if at < 0:
        at, sep = data.find(b"\n\n"), 2
    head, rest = (data, b"") if at < 0 else (data[:at], data[at + sep :])
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")]
    match = _STATUS.match(lines[0])
    if match is None:
        return None
    headers: list[tuple[str, str, str]] = []
    for line in lines[1 : 1 + MAX_HEADERS]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            continue
        headers.append((_text(name), _text(value.strip()), _text(line)))
    response = RtspResponse(
        match.group(1).decode("ascii"),
        int(match.group(2)),
        _text(match.group(3) or b""),
        tuple(headers),
        b"",
    )
    length = response.header("content-length")
    if length is not None and length.isdigit():
        rest = rest[: int(length)]
    return RtspResponse(response.version, response.status, response.reason, tuple(headers), rest)


def _text(raw: bytes) -> str:
    return raw[:MAX_VALUE].decode("latin-1")


def response_fields(resp: RtspResponse, method: str) -> list[tuple[str, str]]:
    """Observation fields of one reply: `method`, `status`, `server`, `public`, `date_header`
    (the raw line, spacing kept), `header_names`, challenges, and identity from realms."""
    fields: list[tuple[str, str]] = [("method", method), ("status", str(resp.status))]
    for name in ("server", "public"):
        value = resp.header(name)
        if value is not None:
            fields.append((name, value))
    for name, _, raw in resp.headers:
        if name.lower() == "date":
            fields.append(("date_header", raw))
            break
    fields.append(("header_names", ",".join(n for n, _, _ in resp.headers)[:MAX_VALUE]))
    if b"494D4B48" in resp.body.upper() or b"IMKH" in resp.body:
        fields.append(("body_marker", "IMKH"))
    return fields + challenge_fields(resp.header_all("www-authenticate"))


def excerpt(data: bytes, limit: int = 2048) -> str:
    return data[:limit].decode("utf-8", errors="backslashreplace")[:limit]

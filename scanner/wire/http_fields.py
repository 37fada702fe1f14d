"""HTTP/1.x responses as the fingerprint sees them: the status, the headers exactly as sent
(name case and order are tells: Dahua firmware upper-cases its header names), the
authentication challenges, the page title and a fixed set of body markers (research §2).

Pure and bounded: the caller hands in at most a capped number of bytes (possibly cut mid-body),
and every parser returns None or an empty result instead of raising. Requests built here are
plain unauthenticated GETs; `safe_path` refuses the known exploit surfaces (research §2.1), so
not even a redirect can lead the probe there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_VALUE = 1024  # observation values are bounded (docs/probes.md)
MAX_HEADERS = 100
USER_AGENT = "ndaa-scan (NDAA Section 889 inventory; unauthenticated read-only requests)"

# Paths a probe must never request, whatever a device redirects to (research §2.1, design
# safety rules): CVE-2021-36260's target, CVE-2017-7921's `auth=` bypass, Dahua's login RPC.
_FORBIDDEN = re.compile(r"/SDK/webLanguage|[?&]auth=|/RPC2|/cgi-bin/.*(?:set|login)", re.I)


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "Basic", "Digest", ...
    params: tuple[tuple[str, str], ...]  # lower-case names, unquoted values

    @property
    def realm(self) -> str | None:
        for key, value in self.params:
            if key == "realm":
                return value
        return None


@dataclass(frozen=True)
class HttpResponse:
    version: str  # "HTTP/1.1"
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # (name as sent, value), in order
    body: bytes  # de-chunked when chunked; possibly cut at the read cap
    head_raw: bytes  # status line and headers as received

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


def safe_path(path: str) -> bool:
    """True for a path the probe may GET: absolute, no exploit surface, no control bytes."""
    return (
        path.startswith("/")
        and not path.startswith("//")
        and len(path) <= 512
        and not _FORBIDDEN.search(path)
        and all(0x20 < ord(c) < 0x7F for c in path)
    )


def build_get(host: str, port: int, path: str, *, tls: bool = False) -> bytes:
    """An unauthenticated GET that closes the connection after one response."""
    if not safe_path(path):
        raise ValueError(f"refusing to request {path!r}")
    default = 443 if tls else 80
    authority = host if port == default else f"{host}:{port}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {USER_AGENT}\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


_STATUS = re.compile(rb"^(HTTP/\d\.\d)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?$")


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """(head, rest) at the first blank line; None while the head is incomplete."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = data.find(sep)
        if at >= 0:
            return data[:at], data[at + len(sep) :]
    return None


_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*(\d{1,12})[ \t]*$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding[ \t]*:[ \t]*chunked", re.I | re.M)


def response_complete(data: bytes) -> bool:
    """True once `data` holds a whole response (by Content-Length or the last chunk), so the
    reader need not wait for the server to close."""
    parts = split_head(data)
    if parts is None:
        return False
    head, body = parts
    status = _STATUS.match(head.split(b"\n", 1)[0].rstrip(b"\r"))
    if status is not None and status.group(2) in (b"204", b"304"):
        return True
    length = _LENGTH.search(head)
    if length is not None:
        return len(body) >= int(length.group(1))
    if _CHUNKED.search(head):
        return body.endswith(b"0\r\n\r\n") or body.endswith(b"0\n\n")
    return False


def parse_header_lines(lines: list[bytes]) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for line in lines[:MAX_HEADERS]:
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            continue
        headers.append((_text(name), _text(value.strip())))
    return tuple(headers)


def parse_response(data: bytes) -> HttpResponse | None:
    """A response (or the first `cap` bytes of one); None if it is not HTTP."""
    try:
        return _parse_response(data)
    except (ValueError, IndexError):
        return None


def _parse_response(data: bytes) -> HttpResponse | None:
    parts = split_head(data)
    head, body = parts if parts is not None else (data, b"")
    lines = head.split(b"\n")
    lines = [line.rstrip(b"\r") for line in lines]
    match = _STATUS.match(lines[0]) if lines else None
    if match is None:
        return None
    headers = parse_header_lines(lines[1:])
    response = HttpResponse(
        version=match.group(1).decode("ascii"),
        status=int(match.group(2)),
        reason=_text(match.group(3) or b""),
        headers=headers,
        body=body,
        head_raw=head,
    )
    if (response.header("transfer-encoding") or "").lower().startswith("chunked"):
        return HttpResponse(
            response.version, response.status, response.reason, headers, dechunk(body), head
        )
    return response


def dechunk(body: bytes) -> bytes:
    """Chunked transfer coding undone as far as the bytes go (a cut response keeps its prefix)."""
    out = bytearray()
    pos = 0
    while pos < len(body):
        end = body.find(b"\n", pos)
        if end < 0:
            break
        size_text = body[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            break
        if size <= 0:
            break
        start = end + 1
        out += body[start : start + size]
        pos = start + size
        if body[pos : pos + 2] == b"\r\n":
            pos += 2
        elif body[pos : pos + 1] == b"\n":
            pos += 1
    return bytes(out)


def _text(raw: bytes) -> str:
    return raw[:MAX_VALUE].decode("latin-1")


# --- challenges -------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*")
_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^,\s]*)\s*,?')


def parse_challenges(value: str) -> list[Challenge]:
    """Every challenge in one WWW-Authenticate value (RFC 7235 allows several per header)."""
    challenges: list[Challenge] = []
    pos = 0
    text = value[:4096]
    while pos < len(text):
        scheme = _TOKEN.match(text, pos)
        if scheme is None:
            comma = text.find(",", pos)
            if comma < 0:
                break
            pos = comma + 1
            continue
        params: list[tuple[str, str]] = []
        pos = scheme.end()
        while pos < len(text):
            param = _PARAM.match(text, pos)
            if param is None:
                break
            raw = param.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:].removesuffix('"'))
            params.append((param.group(1).lower(), raw))
            pos = param.end()
        challenges.append(Challenge(scheme.group(1), tuple(params)))
        while pos < len(text) and text[pos] in ", ":
            pos += 1
    return challenges


# --- what the fingerprint reads ---------------------------------------------------------------

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.I | re.S)

# Substrings of a body that the research names as vendor tells (§2.1, §2.2); found ones become
# `body_marker` fields, which signatures (fingerprints/signatures/http.toml) weigh.
BODY_MARKERS: tuple[str, ...] = (
    "/doc/page/login.asp",
    "Hikvision Digital Technology",
    "/hikvision://",
    '{case"HIKVISION"',
    "/doc/index.html#/portal/login",
    "<title>WEB SERVICE</title>",
    "ui-dialog-content",
    "@WebVersion@",
    "t_username",
    "slct_userType",
    "ui-video-wrap-icon",
    "/RPC2_Login",
    '"method":"global.login"',
)
_UTF8_BOM = b"\xef\xbb\xbf"


def title(body: bytes) -> str | None:
    match = _TITLE.search(body[:65536])
    if match is None:
        return None
    text = match.group(1).decode("utf-8", errors="replace")
    return " ".join(text.split())[:MAX_VALUE]


def body_markers(body: bytes) -> list[str]:
    found = [m for m in BODY_MARKERS if m.encode() in body]
    if body.startswith(_UTF8_BOM):
        found.append("utf8-bom")
    return found


def header_case(names: list[str]) -> str:
    """`upper` when the header names are upper-case (CONTENT-LENGTH: a Dahua firmware habit),
    else `lower`, `canonical` (Content-Length) or `mixed`. Short names like P3P say nothing."""
    words = [n for n in names if sum(c.isalpha() for c in n) >= 4]
    if not words:
        return "none"
    upper = sum(n == n.upper() for n in words)
    if upper >= 2 and upper * 2 >= len(words):
        return "upper"
    if all(n == n.lower() for n in words):
        return "lower"
    if all(p[:1].isupper() and p[1:] == p[1:].lower() for n in words for p in n.split("-") if p):
        return "canonical"
    return "mixed"


_DAHUA_SERIAL = re.compile(r"^Login to ([0-9A-Z]{8,24})$")
_HIK_MODEL = re.compile(r"^(?:DS|iDS|IDS|HWI|HWN)-(?![0-9A-F]{8}$)[0-9A-Z]+(?:-[0-9A-Z/]+)*$")


def realm_identity(realm: str) -> list[tuple[str, str]]:
    """Identity a realm discloses: Dahua's `Login to <serial>` (not the 32-hex newer form),
    Hikvision's realm that is the model (`DS-2CD2310FD-I`, not `DS-<8 hex>`)."""
    serial = _DAHUA_SERIAL.match(realm)
    if serial and not re.fullmatch(r"[0-9A-F]{32}", serial.group(1)):
        return [("serial", serial.group(1))]
    if _HIK_MODEL.match(realm):
        return [("model", realm)]
    return []


def challenge_fields(values: list[str]) -> list[tuple[str, str]]:
    """`auth_scheme` and `realm` for each challenge, then any identity the realms disclose."""
    fields: list[tuple[str, str]] = []
    identity: list[tuple[str, str]] = []
    for value in values:
        for challenge in parse_challenges(value):
            fields.append(("auth_scheme", challenge.scheme[:64]))
            realm = challenge.realm
            if realm is not None:
                fields.append(("realm", realm[:MAX_VALUE]))
                identity += [f for f in realm_identity(realm) if f not in identity]
    return fields + identity


def response_fields(resp: HttpResponse) -> list[tuple[str, str]]:
    """The observation fields of one response: protocol fields, then identity if disclosed."""
    fields: list[tuple[str, str]] = [("status", str(resp.status))]
    names = [name for name, _ in resp.headers]
    server = resp.header("server")
    if server is not None:
        fields.append(("server", server))
    fields.append(("header_case", header_case(names)))
    fields.append(("header_names", ",".join(names)[:MAX_VALUE]))
    for name in ("etag", "location", "content-type"):
        value = resp.header(name)
        if value is not None:
            fields.append((name.replace("-", "_"), value))
    page_title = title(resp.body)
    if page_title:
        fields.append(("title", page_title))
    fields += [("body_marker", m) for m in body_markers(resp.body)]
    fields += challenge_fields(resp.header_all("www-authenticate"))
    return fields


def excerpt(resp: HttpResponse, limit: int = 2048) -> str:
    """The head and the start of the body as text, for the evidence trail."""
    raw = resp.head_raw + b"\r\n\r\n" + resp.body
    return raw[:limit].decode("utf-8", errors="backslashreplace")[:limit]

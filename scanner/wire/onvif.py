"""ONVIF device service over SOAP 1.2: the two calls the scanner makes, and their replies.

Only `GetSystemDateAndTime` (PRE_AUTH in the ONVIF Core spec) and `GetDeviceInformation`
(READ_SYSTEM: sent with credentials only when the user supplied them) are built here; nothing that
changes a device. Authentication is a WS-Security UsernameToken (PasswordDigest =
Base64(SHA-1(nonce + created + password)), `created` on the device's clock, hence the skew) or
HTTP Digest (RFC 7616) when the device answers 401 with a Digest challenge.

Parsers take hostile bytes: size-capped, parsed with defusedxml (no DTDs, no entities), matched
by local name (vendors vary prefixes), every value clipped, and they return None instead of
raising.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from scanner.wire.safe_xml import child, local

MAX_BODY = 64 * 1024  # an ONVIF reply to these calls is ~1-3 kB; anything longer is not one
MAX_VALUE = 1024  # observation values are bounded to 1 kB (docs/probes.md)

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
ACTION_TIME = f"{TDS}/GetSystemDateAndTime"
ACTION_INFO = f"{TDS}/GetDeviceInformation"


# --- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsernameToken:
    """A WS-Security UsernameToken with a digest: the password itself never goes on the wire."""

    username: str
    digest: str  # Base64(SHA-1(nonce + created + password))
    nonce: str  # Base64 of the raw nonce bytes
    created: str  # xs:dateTime, UTC, on the device's clock

    def __repr__(self) -> str:
        return f"UsernameToken(username={self.username!r}, digest='***')"


def device_clock(now: datetime, skew: float) -> datetime:
    """The device's idea of now: our UTC clock plus the skew measured with GetSystemDateAndTime."""
    return now.astimezone(UTC) + timedelta(seconds=skew)


def format_created(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def username_token(username: str, password: str, nonce: bytes, created: datetime) -> UsernameToken:
    """OASIS UsernameToken Profile 1.0 PasswordDigest; ONVIF makes nonce and created mandatory."""
    stamp = format_created(created)
    digest = hashlib.sha1(nonce + stamp.encode() + password.encode("utf-8")).digest()
    return UsernameToken(
        username=username,
        digest=base64.b64encode(digest).decode("ascii"),
        nonce=base64.b64encode(nonce).decode("ascii"),
        created=stamp,
    )


def _security_header(token: UsernameToken) -> str:
    return (
        f'<s:Header><wsse:Security xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" s:mustUnderstand="1">'
        "<wsse:UsernameToken>"
        f"<wsse:Username>{escape(token.username)}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_DIGEST}">{token.digest}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{BASE64_BINARY}">{token.nonce}</wsse:Nonce>'
        f"<wsu:Created>{token.created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security></s:Header>"
    )


def _envelope(call: str, token: UsernameToken | None) -> bytes:
    header = _security_header(token) if token is not None else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:tds="{TDS}">'
        f"{header}<s:Body><tds:{call}/></s:Body></s:Envelope>"
    ).encode()


def build_get_system_date_and_time() -> bytes:
    """PRE_AUTH: never carries credentials."""
    return _envelope("GetSystemDateAndTime", None)


def build_get_device_information(token: UsernameToken | None = None) -> bytes:
    return _envelope("GetDeviceInformation", token)


# --- HTTP Digest (RFC 7616 / 2617), for devices that answer 401 ---------------------------------


@dataclass(frozen=True)
class DigestChallenge:
    realm: str
    nonce: str
    qop: str  # "auth" when offered, else "" (RFC 2069 style)
    algorithm: str  # "MD5", "MD5-sess", "SHA-256", "SHA-256-sess"
    opaque: str | None


_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def parse_digest_challenge(header: str) -> DigestChallenge | None:
    """The Digest challenge in one WWW-Authenticate value; None if it is not a usable one."""
    if not isinstance(header, str) or len(header) > 4096:
        return None
    match = re.search(r"(?i)\bdigest\s+", header)
    if match is None:
        return None
    params: dict[str, str] = {}
    for m in _PARAM.finditer(header, match.end()):
        key = m.group(1).lower()
        value = m.group(2) if m.group(2) is not None else m.group(3)
        params.setdefault(key, re.sub(r"\\(.)", r"\1", value))
    if "realm" not in params or "nonce" not in params:
        return None
    algorithm = params.get("algorithm", "MD5").upper()
    if algorithm.removesuffix("-SESS") not in _HASHES:
        return None
    qops = [q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()]
    if qops and "auth" not in qops:
        return None  # auth-int only: we would have to hash a body we do not control
    return DigestChallenge(
        realm=params["realm"][:MAX_VALUE],
        nonce=params["nonce"][:MAX_VALUE],
        qop="auth" if qops else "",
        algorithm=algorithm.replace("-SESS", "-sess"),
        opaque=params.get("opaque"),
    )


def digest_authorization(
    challenge: DigestChallenge,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str,
    nc: int = 1,
) -> str:
    """The Authorization header value answering `challenge` (RFC 7616 §3.4)."""
    base = challenge.algorithm.removesuffix("-sess")
    hash_fn = _HASHES[base]

    def h(text: str) -> str:
        return hash_fn(text.encode("utf-8")).hexdigest()

    ha1 = h(f"{username}:{challenge.realm}:{password}")
    if challenge.algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    count = f"{nc:08x}"
    if challenge.qop:
        response = h(f"{ha1}:{challenge.nonce}:{count}:{cnonce}:{challenge.qop}:{ha2}")
    else:
        response = h(f"{ha1}:{challenge.nonce}:{ha2}")

    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    parts = [
        f"username={quote(username)}",
        f"realm={quote(challenge.realm)}",
        f"nonce={quote(challenge.nonce)}",
        f"uri={quote(uri)}",
        f"algorithm={challenge.algorithm}",
        f"response={quote(response)}",
    ]
    if challenge.qop:
        parts += [f"qop={challenge.qop}", f"nc={count}", f"cnonce={quote(cnonce)}"]
    if challenge.opaque is not None:
        parts.append(f"opaque={quote(challenge.opaque)}")
    return "Digest " + ", ".join(parts)


# --- parsing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceTime:
    utc: datetime  # the device's clock, as UTC
    source: str  # "UTCDateTime" or "LocalDateTime" (a device that gives only local time)


@dataclass(frozen=True)
class DeviceInformation:
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""

    def fields(self) -> tuple[tuple[str, str], ...]:
        pairs = (
            ("manufacturer", self.manufacturer),
            ("model", self.model),
            ("firmware", self.firmware),
            ("serial", self.serial),
            ("hardware_id", self.hardware_id),
        )
        return tuple((k, v) for k, v in pairs if v)


@dataclass(frozen=True)
class SoapFault:
    code: str  # e.g. "env:Sender"
    subcodes: tuple[str, ...]  # e.g. ("ter:NotAuthorized",)
    reason: str

    @property
    def not_authorized(self) -> bool:
        return any(s.rsplit(":", 1)[-1] == "NotAuthorized" for s in self.subcodes)


def _parse(body: bytes) -> Element | None:
    if not isinstance(body, bytes | bytearray) or not body or len(body) > MAX_BODY:
        return None
    try:
        from defusedxml.ElementTree import fromstring

        root = fromstring(bytes(body), forbid_dtd=True, forbid_entities=True)
    except Exception:  # ParseError, DefusedXmlException, ValueError, RecursionError...
        return None
    return root if isinstance(root, Element) and local(root.tag) == "Envelope" else None


def clip(text: str | None) -> str:
    """Strip, drop control characters, bound to MAX_VALUE characters."""
    if not text:
        return ""
    text = "".join(c for c in text[: MAX_VALUE * 4] if c >= " " or c == "\t")
    return text.strip()[:MAX_VALUE]


def _text(parent: Element | None, name: str) -> str:
    element = child(parent, name)
    return clip(element.text) if element is not None else ""


def _int(parent: Element | None, name: str) -> int | None:
    value = _text(parent, name)
    if not value or len(value) > 6 or not value.lstrip("-").isdigit():
        return None
    return int(value)


def _date_time(element: Element | None) -> datetime | None:
    date, time_ = child(element, "Date"), child(element, "Time")
    parts = [
        _int(date, "Year"),
        _int(date, "Month"),
        _int(date, "Day"),
        _int(time_, "Hour"),
        _int(time_, "Minute"),
        _int(time_, "Second"),
    ]
    if any(p is None for p in parts):
        return None
    year, month, day, hour, minute, second = (int(p or 0) for p in parts)
    try:
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def parse_system_date_and_time(body: bytes) -> DeviceTime | None:
    root = _parse(body)
    if root is None or (soap_body := child(root, "Body")) is None:
        return None
    response = child(soap_body, "GetSystemDateAndTimeResponse")
    info = child(response, "SystemDateAndTime")
    if info is None:
        return None
    for source in ("UTCDateTime", "LocalDateTime"):
        moment = _date_time(child(info, source))
        if moment is not None:
            return DeviceTime(moment, source)
    return None


def parse_device_information(body: bytes) -> DeviceInformation | None:
    root = _parse(body)
    if root is None or (soap_body := child(root, "Body")) is None:
        return None
    response = child(soap_body, "GetDeviceInformationResponse")
    if response is None:
        return None
    return DeviceInformation(
        manufacturer=_text(response, "Manufacturer"),
        model=_text(response, "Model"),
        firmware=_text(response, "FirmwareVersion"),
        serial=_text(response, "SerialNumber"),
        hardware_id=_text(response, "HardwareId"),
    )


def parse_fault(body: bytes) -> SoapFault | None:
    """A SOAP 1.2 fault (Code/Value, nested Subcode/Value, Reason/Text), or a 1.1 one."""
    root = _parse(body)
    if root is None or (soap_body := child(root, "Body")) is None:
        return None
    fault = child(soap_body, "Fault")
    if fault is None:
        return None
    code_el = child(fault, "Code")
    if code_el is None:  # SOAP 1.1
        return SoapFault(_text(fault, "faultcode"), (), _text(fault, "faultstring"))
    subcodes: list[str] = []
    sub = child(code_el, "Subcode")
    while sub is not None and len(subcodes) < 8:
        value = _text(sub, "Value")
        if value:
            subcodes.append(value)
        sub = child(sub, "Subcode")
    reason_el = child(fault, "Reason")
    reason = _text(reason_el, "Text") if reason_el is not None else ""
    return SoapFault(_text(code_el, "Value"), tuple(subcodes), reason)


def excerpt(body: bytes, limit: int = 2048) -> str:
    """The evidence excerpt of a reply: text, bounded, undecodable bytes escaped."""
    if not isinstance(body, bytes | bytearray):
        return ""
    return bytes(body[:limit]).decode("utf-8", errors="backslashreplace")


# --- HTTP/1.1 framing (the device service is SOAP over HTTP POST) ------------------------------

MAX_HEADERS = 64


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in order
    body: bytes
    complete: bool  # the whole body arrived (Content-Length met, last chunk, or a clean close)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]


def build_post(host: str, port: int, path: str, body: bytes, action: str, auth: str = "") -> bytes:
    """A SOAP 1.2 POST; `Connection: close` so the reply ends where the connection does."""
    authority = host if port == 80 else f"{host}:{port}"
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {authority}",
        f'Content-Type: {CONTENT_TYPE}; action="{action}"',
        f"Content-Length: {len(body)}",
        "User-Agent: ndaa-scan",
        "Accept: application/soap+xml, */*",
        "Connection: close",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body


def _dechunk(data: bytes) -> tuple[bytes, bool]:
    out = bytearray()
    pos = 0
    while pos < len(data):
        end = data.find(b"\r\n", pos, pos + 64)
        if end < 0:
            return bytes(out), False
        size_text = data[pos:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return bytes(out), False
        if size < 0:
            return bytes(out), False
        if size == 0:
            return bytes(out), True
        start = end + 2
        out += data[start : start + size]
        if start + size > len(data):
            return bytes(out), False
        pos = start + size + 2
    return bytes(out), False


def parse_http_response(data: bytes, closed: bool = True) -> HttpReply | None:
    """Status, headers and body of one HTTP/1.x response (bounded by what the caller read);
    None if it is not one. `closed`: the connection ended, so a body without length is whole."""
    if not isinstance(data, bytes | bytearray):
        return None
    head_end = data.find(b"\r\n\r\n", 0, 16384)
    sep = 4
    if head_end < 0:
        head_end, sep = data.find(b"\n\n", 0, 16384), 2
        if head_end < 0:
            return None
    head = bytes(data[:head_end]).decode("latin-1").replace("\r\n", "\n").split("\n")
    status_line = head[0].split(None, 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1."):
        return None
    if not (len(status_line[1]) == 3 and status_line[1].isdigit()):
        return None
    headers: list[tuple[str, str]] = []
    for line in head[1 : MAX_HEADERS + 1]:
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers.append((name.strip().lower()[:64], clip(value)))
    body = bytes(data[head_end + sep :])
    reply = HttpReply(int(status_line[1]), tuple(headers), body, closed)
    encoding = (reply.header("transfer-encoding") or "").lower()
    if "chunked" in encoding:
        body, complete = _dechunk(body)
        return HttpReply(reply.status, reply.headers, body, complete)
    length_text = reply.header("content-length")
    if length_text is not None and length_text.isdigit() and len(length_text) < 12:
        length = int(length_text)
        return HttpReply(reply.status, reply.headers, body[:length], len(body) >= length)
    return reply

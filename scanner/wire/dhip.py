"""Dahua DHIP discovery on the wire (research §4.2): a 32-byte header, then JSON.

Replies are read the way the real clients read them: the JSON is found by searching for its
first `{`, not by trusting the length fields (firmware appends `\\n\\0` and other trailers), and
when it is not valid JSON (some firmware sends an unterminated string) the identity fields are
pulled out by pattern instead. Depth and size are capped before `json` ever sees the text.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scanner.wire.sadp import normalize_mac

PORT = 37810
GROUP = "239.255.255.251"
MAGIC = b"DHIP"
HEADER = struct.Struct("<I4sIIIIII")
HEADER_LEN = HEADER.size  # 32
MAX_REPLY = 32 * 1024  # a real reply is under 1 kB
MAX_DEPTH = 16
MAX_VALUE = 1024
SEARCH_METHOD = "DHDiscover.search"
REPLY_METHOD = "client.notifyDevInfo"
# deviceInfo keys a reply carries (and what the regex fallback looks for)
INFO_KEYS = (
    "DeviceType", "SerialNo", "Version", "Vendor", "Manufacturer", "DeviceClass", "MachineName",
    "DeviceID", "HttpPort", "Port", "Init", "IPAddress", "SubnetMask", "DefaultGateway",
)  # fmt: skip


@dataclass(frozen=True)
class Header:
    header_len: int
    session: int
    request: int
    body_len: int
    body_len2: int


@dataclass(frozen=True)
class DevInfo:
    """A parsed reply: `info` holds deviceInfo's scalar values as text (bounded); `strict` is
    False when the JSON was malformed and the values came from the pattern fallback;
    `lengths_ok` says whether the header's two length fields agree with the JSON found."""

    method: str | None
    mac: str | None
    info: tuple[tuple[str, str], ...]
    strict: bool
    lengths_ok: bool
    header: Header

    def get(self, name: str) -> str | None:
        for key, value in self.info:
            if key == name:
                return value
        return None


def build_header(body_len: int, session: int = 0, request: int = 0) -> bytes:
    return HEADER.pack(HEADER_LEN, MAGIC, session, request, body_len, 0, body_len, 0)


def build_search(uni: int = 1) -> bytes:
    """The discovery request (DahuaConsole's body, newline-terminated)."""
    if uni not in (0, 1):
        raise ValueError("uni is 0 or 1")
    body = json.dumps(
        {"method": SEARCH_METHOD, "params": {"mac": "", "uni": uni}}, separators=(",", ":")
    ).encode()
    body += b"\n"
    return build_header(len(body)) + body


def build_reply(mac: str, device_info: Mapping[str, Any], *, trailer: bytes = b"\n\x00") -> bytes:
    """A `client.notifyDevInfo` reply (for the emulator): the length fields count the JSON, and
    the trailer follows them, as in the real capture."""
    body = json.dumps(
        {"mac": mac, "method": REPLY_METHOD, "params": {"deviceInfo": dict(device_info)}},
        separators=(",", ":"),
    ).encode()
    return build_header(len(body)) + body + trailer


def build_raw_reply(json_text: str, *, trailer: bytes = b"\n\x00") -> bytes:
    """A reply around JSON text given as is (the emulator's malformed-value quirk)."""
    body = json_text.encode()
    return build_header(len(body)) + body + trailer


def parse_header(data: bytes) -> Header | None:
    if len(data) < HEADER_LEN:
        return None
    hlen, magic, session, request, blen, _r1, blen2, _r2 = HEADER.unpack_from(data)
    if magic != MAGIC:
        return None
    return Header(hlen, session, request, blen, blen2)


def _json_span(data: bytes, start: int) -> tuple[int, int, bool]:
    """(first `{`, end of the balanced object or -1, too deep) from `start`; strings and escapes
    are honoured so a brace inside a value does not count."""
    first = data.find(b"{", start)
    if first < 0:
        return -1, -1, False
    depth = 0
    in_string = escaped = False
    for i in range(first, len(data)):
        c = data[i]
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
            continue
        if c == 0x22:
            in_string = True
        elif c in (0x7B, 0x5B):
            depth += 1
            if depth > MAX_DEPTH:
                return first, -1, True
        elif c in (0x7D, 0x5D):
            depth -= 1
            if depth == 0:
                return first, i + 1, False
    return first, -1, False


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)[:MAX_VALUE]
    return None


def _strict_fields(obj: Any) -> tuple[str | None, str | None, list[tuple[str, str]]] | None:
    if not isinstance(obj, dict):
        return None
    method = obj.get("method") if isinstance(obj.get("method"), str) else None
    mac = obj.get("mac") if isinstance(obj.get("mac"), str) else None
    params = obj.get("params")
    info = params.get("deviceInfo") if isinstance(params, dict) else None
    fields: list[tuple[str, str]] = []
    if isinstance(info, dict):
        for key, value in list(info.items())[:128]:
            text = _scalar(value)
            if text is not None and isinstance(key, str):
                fields.append((key[:64], text))
        ipv4 = info.get("IPv4Address")
        if isinstance(ipv4, dict):
            for key in ("IPAddress", "SubnetMask", "DefaultGateway"):
                text = _scalar(ipv4.get(key))
                if text is not None:
                    fields.append((key, text))
    return (method[:MAX_VALUE] if method else None), (mac[:64] if mac else None), fields


def _pattern(key: str) -> re.Pattern[str]:
    return re.compile(
        r'"' + re.escape(key) + r'"\s*:\s*(?:"([^"\r\n]{0,1024})|(-?\d{1,20}|true|false))'
    )


_PATTERNS = {key: _pattern(key) for key in ("method", "mac", *INFO_KEYS)}


def _lenient_fields(text: str) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """What a regex reader gets from malformed JSON (UniversalScanner's way)."""
    found: dict[str, str] = {}
    for key, pattern in _PATTERNS.items():
        match = pattern.search(text)
        if match:
            found[key] = (match.group(1) if match.group(1) is not None else match.group(2)) or ""
    fields = [(k, found[k]) for k in INFO_KEYS if k in found]
    return found.get("method"), found.get("mac"), fields


def parse_reply(data: bytes) -> DevInfo | None:
    """A discovery reply (or any DHIP message with JSON), or None when the magic is wrong, the
    datagram is too big, or nothing in it names a method or a device field."""
    if len(data) > MAX_REPLY:
        return None
    header = parse_header(data)
    if header is None:
        return None
    first, end, _too_deep = _json_span(data, HEADER_LEN)
    if first < 0:
        return None
    parsed = None
    if end > 0:
        try:
            parsed = _strict_fields(json.loads(data[first:end].decode("utf-8")))
        except (ValueError, RecursionError):
            parsed = None
    strict = parsed is not None
    if parsed is None:
        parsed = _lenient_fields(data[first:].decode("utf-8", errors="replace"))
    method, mac, fields = parsed
    if method is None and not fields:
        return None
    body = (end if end > 0 else len(data)) - first
    lengths_ok = header.body_len == header.body_len2 == body and first == HEADER_LEN
    return DevInfo(
        method=method,
        mac=normalize_mac(mac),
        info=tuple(fields),
        strict=strict,
        lengths_ok=lengths_ok,
        header=header,
    )


def parse_request_method(data: bytes) -> str | None:
    """The method a DHIP request asks for (for the emulator), or None."""
    reply = parse_reply(data)
    return reply.method if reply is not None else None

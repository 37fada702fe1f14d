"""Dahua's legacy binary discovery on UDP 5050 (research §4.3; UniversalScanner `Dahua1.cs`,
DahuaConsole): a fixed 32-byte request, and a reply in three sections.

Reply: section 1 is 120 bytes (answer magic 0xB3 at 0, section-2 length u16 LE at 2, packet type
0x58 at 4, protocol version at 0x10, section-3 length u16 LE at 0x14, a 16-byte device type at
0x28, IPv4 address/mask/gateway/DNS at 0x38.., ports after them); section 2 is the MAC as text,
optionally followed by a device type; section 3 is `Key:Value` lines. The packet's length must be
120 + section 2 + section 3: anything else is recorded as a length mismatch and read only as far
as the bytes really go.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.wire.sadp import normalize_mac

PORT = 5050
REQUEST = bytes([0xA3, 0x01, 0x00, 0x01]) + bytes(12) + bytes([0x02, 0, 0, 0]) + bytes(12)
REPLY_MAGIC = 0xB3
SECTION1_LEN = 120
PACKET_TYPE_ANSWER = 0x58
MAX_REPLY = 8 * 1024
MAX_VALUE = 1024
MAC_TEXT_LEN = 17
_OFF_TYPE = 0x28
_OFF_IP = 0x38
_OFF_HTTP = 94  # DahuaConsole: web port at 62 of the 88 bytes after the 32-byte header
_OFF_HTTPS = 96
_OFF_TCP = 98


@dataclass(frozen=True)
class LegacyReply:
    device_type: str  # section 1's 16-byte type
    model: str  # section 2's type when present, else section 1's
    mac: str | None
    ip: str
    netmask: str
    gateway: str
    dns: str
    http_port: int
    https_port: int
    tcp_port: int
    packet_type: int
    version: int
    lengths_ok: bool
    section3: tuple[tuple[str, str], ...]

    def get(self, name: str) -> str | None:
        for key, value in self.section3:
            if key == name:
                return value
        return None


def build_search() -> bytes:
    return REQUEST


def is_search(data: bytes) -> bool:
    return data == REQUEST


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()[:MAX_VALUE]


def parse_reply(data: bytes) -> LegacyReply | None:
    """A 0xB3 answer, or None (wrong magic, shorter than section 1, oversized)."""
    if not SECTION1_LEN <= len(data) <= MAX_REPLY or data[0] != REPLY_MAGIC:
        return None
    s2_len = struct.unpack_from("<H", data, 2)[0]
    packet_type, _r1, _r2, version = struct.unpack_from("<IIII", data, 4)
    s3_len = struct.unpack_from("<H", data, 0x14)[0]
    lengths_ok = len(data) == SECTION1_LEN + s2_len + s3_len
    ip, mask, gateway, dns = (socket.inet_ntoa(data[o : o + 4]) for o in range(_OFF_IP, 72, 4))
    http_port, https_port, tcp_port = (
        struct.unpack_from("<H", data, o)[0] for o in (_OFF_HTTP, _OFF_HTTPS, _OFF_TCP)
    )
    device_type = _text(data[_OFF_TYPE : _OFF_TYPE + 16])
    section2 = data[SECTION1_LEN : SECTION1_LEN + s2_len]
    mac = normalize_mac(section2[:MAC_TEXT_LEN].decode("ascii", errors="replace"))
    model = _text(section2[MAC_TEXT_LEN:]) or device_type
    start3 = SECTION1_LEN + len(section2)
    section3 = data[start3 : start3 + s3_len].decode("utf-8", errors="replace")
    pairs = []
    for line in section3.replace("\r\n", "\n").split("\n")[:64]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            pairs.append((key.strip()[:64], value.strip()[:MAX_VALUE]))
    return LegacyReply(
        device_type=device_type,
        model=model,
        mac=mac,
        ip=ip,
        netmask=mask,
        gateway=gateway,
        dns=dns,
        http_port=http_port,
        https_port=https_port,
        tcp_port=tcp_port,
        packet_type=packet_type,
        version=version,
        lengths_ok=lengths_ok,
        section3=tuple(pairs),
    )


def build_reply(
    *,
    device_type: str,
    mac: str,
    ip: str,
    netmask: str,
    gateway: str,
    section3: Iterable[tuple[str, str]],
    model: str = "",
    dns: str = "0.0.0.0",
    http_port: int = 80,
    https_port: int = 443,
    tcp_port: int = 37777,
) -> bytes:
    """A reply laid out as above (for the emulator)."""
    section2 = mac.lower().encode() + model.encode()
    section3_raw = "".join(f"{k}:{v}\r\n" for k, v in section3).encode()
    head = bytearray(SECTION1_LEN)
    head[0] = REPLY_MAGIC
    struct.pack_into("<H", head, 2, len(section2))
    struct.pack_into("<I", head, 4, PACKET_TYPE_ANSWER)
    struct.pack_into("<I", head, 0x10, 2)
    struct.pack_into("<H", head, 0x14, len(section3_raw))
    kind = device_type.encode()[:16]
    head[_OFF_TYPE : _OFF_TYPE + len(kind)] = kind
    for offset, addr in zip(range(_OFF_IP, 72, 4), (ip, netmask, gateway, dns), strict=True):
        head[offset : offset + 4] = socket.inet_aton(addr)
    for offset, port in ((_OFF_HTTP, http_port), (_OFF_HTTPS, https_port), (_OFF_TCP, tcp_port)):
        struct.pack_into("<H", head, offset, port)
    return bytes(head) + section2 + section3_raw

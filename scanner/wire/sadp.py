"""Hikvision SADP on the wire (research §4.1): the UDP/XML `inquiry` and its `ProbeMatch`, and the
legacy layer-2 frames (EtherType 0x8033) devices broadcast on their own.

Only `inquiry` can be built here: it is the one SADP request that changes nothing on a device
(the others activate, reset or re-address it), so the builder has no way to name another type.
Parsers never raise; replies are size-capped, DTDs and entities are refused (XML bombs), and a
reply that is not well-formed XML still yields what its `<Tag>value</Tag>` pairs say, the way
real clients read these devices.
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from defusedxml.ElementTree import DefusedXMLParser

PORT = 37020
GROUP = "239.255.255.250"
MAX_REPLY = 16 * 1024  # a real ProbeMatch is ~1.5 kB
MAX_VALUE = 1024
MAX_CHILDREN = 128
ETH_P_SADP = 0x8033

_UUID_RE = re.compile(
    r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
)
_PAIR_RE = re.compile(r"<([A-Za-z][A-Za-z0-9_]{0,63})>([^<]{0,1024})</\1>")
_DTD_RE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_MAC_RE = re.compile(
    r"^([0-9A-Fa-f]{2})[-:]?" + r"([0-9A-Fa-f]{2})[-:]?" * 4 + r"([0-9A-Fa-f]{2})$"
)


def normalize_mac(text: str | None) -> str | None:
    """`58-50-ed-1f-e3-85`, `58:50:ED:1F:E3:85` or `5850ed1fe385` -> `58:50:ED:1F:E3:85`."""
    if not text:
        return None
    match = _MAC_RE.match(text.strip())
    return ":".join(match.groups()).upper() if match else None


# --- UDP: inquiry ------------------------------------------------------------------------------


def build_inquiry(uuid: str) -> bytes:
    """The one request the scanner sends; `uuid` must be a UUID (the device echoes it)."""
    if not _UUID_RE.match(uuid):
        raise ValueError(f"not a UUID: {uuid!r}")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Probe><Uuid>{uuid.upper()}</Uuid><Types>inquiry</Types></Probe>"
    ).encode()


@dataclass(frozen=True)
class Probe:
    """A SADP request as a device sees it (for the emulator): who asked and for what."""

    uuid: str
    types: str


@dataclass(frozen=True)
class ProbeMatch:
    """A device's answer: its children in order, verbatim (bounded), `partial` when the XML was
    not well-formed and the pairs were read by pattern instead."""

    fields: tuple[tuple[str, str], ...]
    partial: bool = False

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name:
                return value
        return None

    @property
    def mac(self) -> str | None:
        return normalize_mac(self.get("MAC"))


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _children(data: bytes, root_tag: str) -> tuple[tuple[tuple[str, str], ...], bool] | None:
    """(children, partial) of a flat SADP document whose root is `root_tag`, or None."""
    if len(data) > MAX_REPLY or _DTD_RE.search(data):
        return None
    root = _strict(data)
    if root is not None:
        if _local(root.tag) != root_tag:
            return None
        pairs = []
        for child in list(root)[:MAX_CHILDREN]:
            pairs.append((_local(child.tag)[:64], (child.text or "").strip()[:MAX_VALUE]))
        return tuple(pairs), False
    text = _decode(data)
    if f"<{root_tag}" not in text:
        return None
    found = [(m.group(1), m.group(2).strip()) for m in _PAIR_RE.finditer(text)]
    if not found:
        return None
    return tuple(found[:MAX_CHILDREN]), True


def _strict(data: bytes) -> Any:
    parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except Exception:  # ParseError, DefusedXmlException, invalid UTF-8, ...
        return None
    # defusedxml builds the pure-Python Element class, not the C one `Element` names here.
    if not isinstance(getattr(root, "tag", None), str):
        return None
    if any(len(child) for child in root):  # SADP is flat; nesting means it is something else
        return None
    return root


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_probe(data: bytes) -> Probe | None:
    """A `<Probe>` request (what the emulator receives); None for anything else."""
    found = _children(data, "Probe")
    if found is None:
        return None
    pairs = dict(found[0])
    types = pairs.get("Types")
    if types is None:
        return None
    return Probe(uuid=pairs.get("Uuid", ""), types=types)


def parse_probe_match(data: bytes) -> ProbeMatch | None:
    """A `<ProbeMatch>` reply, or None when it is not one (or too big, or a bomb)."""
    found = _children(data, "ProbeMatch")
    if found is None:
        return None
    fields, partial = found
    if not any(v for k, v in fields if k in ("DeviceSN", "DeviceDescription", "MAC")):
        return None
    return ProbeMatch(fields=fields, partial=partial)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build_probe_match(fields: Iterable[tuple[str, str]]) -> bytes:
    """A reply laid out like the real captures (for the emulator): declaration, then one element
    per line, CRLF-separated."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<ProbeMatch>"]
    for name, value in fields:
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,63}$", name):
            raise ValueError(f"bad element name {name!r}")
        lines.append(f"<{name}>{_escape(value)}</{name}>")
    lines.append("</ProbeMatch>")
    return ("\r\n".join(lines) + "\r\n").encode()


# --- layer 2: EtherType 0x8033 -------------------------------------------------------------------

ETH_HEADER = struct.Struct("!6s6sH")
# marker 0x21, packet type (1 response, 2 request), 0x01, length/origin (0x42 tool, 0xF6 device),
# counter, 0x0604, query type, params, checksum; then current MAC+IP, destination MAC+IP, mask.
SADP_HEADER = struct.Struct("!BBBBIHBBH6s4s6s4s4s")
L2_HEADER_LEN = SADP_HEADER.size  # 38
MIN_FRAME = ETH_HEADER.size + L2_HEADER_LEN
MAX_FRAME = 2048
ORIGIN_TOOL = 0x42
ORIGIN_DEVICE = 0xF6
QUERY_TYPES = {
    0x02: "DeviceOnlineRequest",
    0x03: "Inquiry",
    0x04: "InquiryResponse",
    0x06: "UpdateIP",
    0x07: "UpdateIPResponse",
    0x0A: "ResetPassword",
    0x0B: "ResetPasswordResponse",
    0x0C: "CMSInfo",
    0x0D: "CMSInfoResponse",
    0x10: "ModifyNetParam",
    0x11: "ModifyNetParamResponse",
}
DEVICE_ONLINE = 0x02


@dataclass(frozen=True)
class L2Frame:
    src_mac: str  # Ethernet source, AA:BB:..
    packet_type: int  # 1 response, 2 request
    origin: int
    counter: int
    query: int
    sender_mac: str  # the SADP header's "current MAC"
    sender_ip: str
    dest_mac: str
    dest_ip: str
    netmask: str
    checksum_ok: bool
    payload: bytes

    @property
    def query_name(self) -> str:
        return QUERY_TYPES.get(self.query, f"0x{self.query:02x}")


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02X}" for b in raw)


def checksum(sadp: bytes, length: int) -> int:
    """One's-complement sum of the first `length` bytes as little-endian 16-bit words (the
    checksum field zeroed), as hiktools' C implementation computes it."""
    region = bytearray(sadp[:length])
    if len(region) >= 14:
        region[12:14] = b"\x00\x00"
    if len(region) % 2:
        region.append(0)
    total = 0
    for i in range(0, len(region), 2):
        total += region[i] | (region[i + 1] << 8)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def parse_l2_frame(frame: bytes) -> L2Frame | None:
    """An Ethernet frame carrying SADP, or None (wrong EtherType, marker or size)."""
    if not MIN_FRAME <= len(frame) <= MAX_FRAME:
        return None
    _dst, src, ethertype = ETH_HEADER.unpack_from(frame)
    if ethertype != ETH_P_SADP:
        return None
    values = SADP_HEADER.unpack_from(frame, ETH_HEADER.size)
    marker, ptype, _one, origin, counter, _magic, query, _params, csum = values[:9]
    cur_mac, cur_ip, dst_mac, dst_ip, mask = values[9:]
    if marker != 0x21 or ptype not in (1, 2):
        return None
    sadp = frame[ETH_HEADER.size :]
    return L2Frame(
        src_mac=_mac(src),
        packet_type=ptype,
        origin=origin,
        counter=counter,
        query=query,
        sender_mac=_mac(cur_mac),
        sender_ip=socket.inet_ntoa(cur_ip),
        dest_mac=_mac(dst_mac),
        dest_ip=socket.inet_ntoa(dst_ip),
        netmask=socket.inet_ntoa(mask),
        checksum_ok=checksum(sadp, min(origin, len(sadp))) == csum,
        payload=sadp[L2_HEADER_LEN:],
    )


def build_device_online(mac: str, ip: str, netmask: str, counter: int) -> bytes:
    """A device's DeviceOnlineRequest broadcast (for the emulator); the payload past the header
    is zero-filled to the 0xF6 length real devices announce (its content is not documented)."""
    mac_raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(mac_raw) != 6:
        raise ValueError(f"not a MAC: {mac!r}")
    header = SADP_HEADER.pack(
        0x21, 2, 0x01, ORIGIN_DEVICE, counter & 0xFFFFFFFF, 0x0604, DEVICE_ONLINE, 0, 0,
        mac_raw, socket.inet_aton(ip), b"\xff" * 6, socket.inet_aton("255.255.255.255"),
        socket.inet_aton(netmask),
    )  # fmt: skip
    sadp = bytearray(header + bytes(ORIGIN_DEVICE - len(header)))
    sadp[12:14] = struct.pack("!H", checksum(bytes(sadp), ORIGIN_DEVICE))
    return ETH_HEADER.pack(b"\xff" * 6, mac_raw, ETH_P_SADP) + bytes(sadp)

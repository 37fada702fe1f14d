"""SSDP (UPnP discovery, UDP 1900) and the UPnP device description, as bytes.

`build_msearch` makes the multicast search; `parse_message` reads a search response (or a
NOTIFY heard while listening) into its headers; `parse_description` reads the description XML a
response's LOCATION points at, where recorders name their manufacturer, model and serial.
Everything is bounded: header count and length, document size, depth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from scanner.wire.safe_xml import child, local, parse_xml, text

PORT = 1900
GROUP_V4 = "239.255.255.250"
MAX_DATAGRAM = 8192  # bytes of one SSDP message we read; real ones are a few hundred
MAX_HEADERS = 48
MAX_VALUE = 1024
MAX_DESCRIPTION = 64 * 1024
# Vendor extensions that carry the firmware version (UPnP itself has no such element).
_FIRMWARE_TAGS = ("firmwareVersion", "softwareVersion", "firmwareRevision", "fwVersion")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")


@dataclass(frozen=True)
class Message:
    """`kind`: response (to our M-SEARCH), notify (an announcement), msearch (someone's search)."""

    kind: str
    status: int
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in order, bounded

    def header(self, name: str) -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return ""

    @property
    def location(self) -> str:
        return self.header("location")

    @property
    def server(self) -> str:
        return self.header("server")

    @property
    def usn(self) -> str:
        return self.header("usn")

    @property
    def st(self) -> str:
        return self.header("st") or self.header("nt")


@dataclass(frozen=True)
class Description:
    """The root device of a UPnP description; "" for what the document leaves out."""

    device_type: str = ""
    friendly_name: str = ""
    manufacturer: str = ""
    manufacturer_url: str = ""
    model_name: str = ""
    model_number: str = ""
    model_description: str = ""
    serial: str = ""
    udn: str = ""
    presentation_url: str = ""
    firmware: str = ""


def build_msearch(st: str = "ssdp:all", mx: int = 1, host: str = GROUP_V4) -> bytes:
    if not 1 <= mx <= 5:
        raise ValueError("MX must be 1..5 seconds")
    if not re.fullmatch(r"[\w:.\-/]{1,200}", st):
        raise ValueError(f"bad search target {st!r}")
    lines = [
        "M-SEARCH * HTTP/1.1",
        f"HOST: {host}:{PORT}",
        'MAN: "ssdp:discover"',
        f"MX: {mx}",
        f"ST: {st}",
        "USER-AGENT: Linux/1 UPnP/1.1 ndaa-scan/0.1",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def parse_message(data: bytes) -> Message | None:
    """An SSDP message's kind and headers, or None for anything that is not SSDP. Never raises."""
    if not data or len(data) > MAX_DATAGRAM:
        return None
    try:
        return _parse(data)
    except Exception:
        return None


def _parse(data: bytes) -> Message | None:
    head = data.split(b"\r\n\r\n", 1)[0]
    lines = head.decode("utf-8", errors="replace").replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    status = 0
    if start.upper().startswith("HTTP/1."):
        parts = start.split(None, 2)
        if len(parts) < 2 or not parts[1].isdigit() or len(parts[1]) != 3:
            return None
        kind, status = "response", int(parts[1])
    elif start.upper() in ("NOTIFY * HTTP/1.1", "NOTIFY * HTTP/1.0"):
        kind = "notify"
    elif start.upper() in ("M-SEARCH * HTTP/1.1", "M-SEARCH * HTTP/1.0"):
        kind = "msearch"
    else:
        return None
    headers: list[tuple[str, str]] = []
    for line in lines[1 : MAX_HEADERS + 1]:
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _TOKEN.match(name):
            continue  # a broken line is skipped, the rest of the message still counts
        headers.append((name.lower(), value.strip()[:MAX_VALUE]))
    return Message(kind, status, tuple(headers))


def _first(device: Element, name: str) -> str:
    return text(child(device, name), MAX_VALUE)


def _firmware(device: Element) -> str:
    for elem in device:
        if local(elem.tag) in _FIRMWARE_TAGS and text(elem):
            return text(elem, MAX_VALUE)
    return ""


def parse_description(data: bytes) -> Description | None:
    """The root device of a UPnP description document, or None. Never raises."""
    if not data or len(data) > MAX_DESCRIPTION:
        return None
    try:
        root = parse_xml(data, max_bytes=MAX_DESCRIPTION)
        if root is None or local(root.tag) != "root":
            return None
        device = child(root, "device")
        if device is None:
            return None
        return Description(
            device_type=_first(device, "deviceType"),
            friendly_name=_first(device, "friendlyName"),
            manufacturer=_first(device, "manufacturer"),
            manufacturer_url=_first(device, "manufacturerURL"),
            model_name=_first(device, "modelName"),
            model_number=_first(device, "modelNumber"),
            model_description=_first(device, "modelDescription"),
            serial=_first(device, "serialNumber"),
            udn=_first(device, "UDN"),
            presentation_url=_first(device, "presentationURL"),
            firmware=_firmware(device),
        )
    except Exception:
        return None

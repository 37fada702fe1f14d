"""Dahua discovery emulators: `dhip` answers `DHDiscover.search` on UDP 37810 (group
239.255.255.251 joined on eth0) with `client.notifyDevInfo`; `dhip-legacy` answers the 5050
binary search with a 0xB3 reply in three sections.

Quirks: `dhip-trailer` sends JSON with an unterminated string value (UniversalScanner's test
vector has one) followed by trailing bytes, so only a lenient reader gets the fields; OEM units
(`oem-label`) say `Manufacturer: Private` and their own label in `Vendor`.
"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

from scanner.lab.emulators.base import UdpService
from scanner.lab.personas import Persona
from scanner.wire import dahua_legacy, dhip

TRAILER = b"\n\x00"
QUIRK_TRAILER = b"\n\x00\x00\xde\xad\xbe\xef"


def device_class(persona: Persona) -> str:
    return {"camera": "IPC", "nvr": "NVR"}.get(persona.device_type, "DVR")


def device_info(persona: Persona, ip: str) -> dict[str, Any]:
    """deviceInfo with the keys (and order) of the IPC-HDW1431T1-S4 capture."""
    oem = "oem-label" in persona.quirks
    gateway = ip.rsplit(".", 1)[0] + ".1"
    return {
        "AlarmInputChannels": 1 if persona.device_type == "camera" else 4,
        "AlarmOutputChannels": 1,
        "DeviceClass": device_class(persona),
        "DeviceID": "",
        "DeviceType": persona.model,
        "Find": "BC",
        "FindVersion": 1,
        "HttpPort": 80,
        "IPv4Address": {
            "DefaultGateway": gateway,
            "DhcpEnable": False,
            "IPAddress": ip,
            "SubnetMask": "255.255.255.0",
        },
        "IPv6Address": {
            "DefaultGateway": "",
            "DhcpEnable": False,
            "IPAddress": "/64",
            "LinkLocalAddress": "fe80::1/64",
        },
        "Init": 12345,
        "MachineName": persona.serial,
        "Manufacturer": "Private" if oem else persona.brand,
        "Port": 37777,
        "RemoteVideoInputChannels": 0 if persona.device_type == "camera" else 8,
        "SerialNo": persona.serial,
        "UnLoginFuncMask": 15,
        "Vendor": persona.brand,
        "Version": persona.firmware,
        "VideoInputChannels": 1,
        "VideoOutputChannels": 0 if persona.device_type == "camera" else 1,
    }


def reply_bytes(persona: Persona, mac: str, ip: str) -> bytes:
    info = device_info(persona, ip)
    if "dhip-trailer" not in persona.quirks:
        return dhip.build_reply(mac, info, trailer=TRAILER)
    # Compact JSON with `"Find":"BC` left unterminated, as firmware that forgets a quote sends.
    body = json.dumps(
        {"mac": mac, "method": dhip.REPLY_METHOD, "params": {"deviceInfo": info}},
        separators=(",", ":"),
    )
    body = body.replace('"Find":"BC"', '"Find":"BC', 1)
    return dhip.build_raw_reply(body, trailer=QUIRK_TRAILER)


class DhipService(UdpService):
    name = "dhip"
    port = dhip.PORT
    group = dhip.GROUP

    def answer(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> None:
        peer = f"{addr[0]}:{addr[1]}"
        method = dhip.parse_request_method(data)
        persona = self.ctx.persona
        if method != dhip.SEARCH_METHOD or persona is None:
            kind = "unknown" if method is None else f"refused:{method[:40]}"
            self.ctx.log.record(self.name, peer, data, kind=kind, answered=False)
            return
        with contextlib.suppress(OSError):
            sock.sendto(reply_bytes(persona, self.ctx.device.mac, self.ctx.device.ip), addr)
        self.ctx.log.record(self.name, peer, data, kind="dhip-search")


def legacy_reply(persona: Persona, mac: str, ip: str) -> bytes:
    return dahua_legacy.build_reply(
        device_type=persona.model[:16],
        model=persona.model,
        mac=mac,
        ip=ip,
        netmask="255.255.255.0",
        gateway=ip.rsplit(".", 1)[0] + ".1",
        section3=(
            ("Name", persona.serial),
            ("Device", persona.model),
            ("IPv6Addr", "fe80::1/64;gateway:::"),
            ("SerialNo", persona.serial),
        ),
    )


class DhipLegacyService(UdpService):
    name = "dhip-legacy"
    port = dahua_legacy.PORT

    def answer(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> None:
        peer = f"{addr[0]}:{addr[1]}"
        persona = self.ctx.persona
        if not dahua_legacy.is_search(data) or persona is None:
            self.ctx.log.record(self.name, peer, data, kind="unknown", answered=False)
            return
        with contextlib.suppress(OSError):
            sock.sendto(legacy_reply(persona, self.ctx.device.mac, self.ctx.device.ip), addr)
        self.ctx.log.record(self.name, peer, data, kind="legacy-search")

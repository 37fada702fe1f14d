"""Hikvision SADP emulators: `sadp` answers `inquiry` on UDP 37020 (group 239.255.255.250 joined
on eth0) with a ProbeMatch laid out like the real captures; `sadp-l2` broadcasts a layer-2
DeviceOnlineRequest (EtherType 0x8033) from eth0 every 0.75 s, as devices do on their own.

Only `inquiry` is answered; any other Types (the state-changing ones) is logged as refused, so a
test can prove from the device's side that the scanner never asked for one.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

from scanner.lab.emulators.base import Service, UdpService
from scanner.lab.personas import Persona
from scanner.wire import sadp

ANNOUNCE_EVERY = 0.75
SALT = "f1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff00"


def probe_match_fields(persona: Persona, mac: str, ip: str, uuid: str) -> list[tuple[str, str]]:
    """The reply's elements in the real capture's order; `flase` where the firmware says so."""
    no = "flase" if "sadp-flase" in persona.quirks else "false"
    oem = "3" if "oem-label" in persona.quirks else "1"
    product = "141945" if persona.device_type == "camera" else "139265"
    digital = "1" if persona.device_type == "camera" else "8"
    gateway = ip.rsplit(".", 1)[0] + ".1"
    return [
        ("Uuid", uuid),
        ("Types", "inquiry"),
        ("DeviceType", product),
        ("DeviceDescription", persona.model),
        ("DeviceSN", persona.serial),
        ("CommandPort", "8000"),
        ("HttpPort", "80"),
        ("MAC", mac.lower().replace(":", "-")),
        ("IPv4Address", ip),
        ("IPv4SubnetMask", "255.255.255.0"),
        ("IPv4Gateway", gateway),
        ("IPv6Address", "::"),
        ("IPv6Gateway", "::"),
        ("IPv6MaskLen", "64"),
        ("DHCP", "false"),
        ("AnalogChannelNum", "0"),
        ("DigitalChannelNum", digital),
        ("SoftwareVersion", persona.firmware),
        ("DSPVersion", "V7.3 build 210818"),
        ("BootTime", "2026-11-20 08:14:55"),
        ("Encrypt", "true"),
        ("ResetAbility", "false"),
        ("DiskNumber", "0" if persona.device_type == "camera" else "1"),
        ("Activated", "true"),
        ("PasswordResetAbility", "true"),
        ("PasswordResetModeSecond", "true"),
        ("DetailOEMCode", oem),
        ("SupportSecurityQuestion", "true"),
        ("SupportHCPlatform", "true"),
        ("HCPlatformEnable", no),
        ("IsModifyVerificationCode", "true"),
        ("Salt", SALT),
        ("DeviceLock", no),
        ("SDKOverTLSPort", "8443"),
        ("SDKServerStatus", "true"),
        ("SDKOverTLSServerStatus", "true"),
        ("SupportMailBox", "true"),
    ]


class SadpService(UdpService):
    name = "sadp"
    port = sadp.PORT
    group = sadp.GROUP

    def answer(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> None:
        peer = f"{addr[0]}:{addr[1]}"
        probe = sadp.parse_probe(data)
        if probe is None:
            self.ctx.log.record(self.name, peer, data, kind="unknown", answered=False)
            return
        if probe.types != "inquiry":
            kind = f"refused:{probe.types[:40]}"
            self.ctx.log.record(self.name, peer, data, kind=kind, answered=False)
            return
        persona = self.ctx.persona
        if persona is None:
            self.ctx.log.record(self.name, peer, data, kind="inquiry", answered=False)
            return
        fields = probe_match_fields(persona, self.ctx.device.mac, self.ctx.device.ip, probe.uuid)
        with contextlib.suppress(OSError):
            sock.sendto(sadp.build_probe_match(fields), addr)
        self.ctx.log.record(self.name, peer, data, kind="inquiry")


class SadpL2Service(Service):
    name = "sadp-l2"

    def serve(self, stop: threading.Event) -> None:
        device = self.ctx.device
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(sadp.ETH_P_SADP))
        sock.bind((self.ctx.interface, sadp.ETH_P_SADP))
        sock.setblocking(False)
        self.ctx.ready()
        own = device.mac.upper()
        counter = 0
        with sock:
            while not stop.is_set():
                counter += 1
                frame = sadp.build_device_online(device.mac, device.ip, "255.255.255.0", counter)
                with contextlib.suppress(OSError):
                    sock.send(frame)
                self._listen(sock, stop, own)

    def _listen(self, sock: socket.socket, stop: threading.Event, own: str) -> None:
        """Until the next announcement: log any SADP frame someone else sent (never answered)."""
        until = time.monotonic() + ANNOUNCE_EVERY
        while not stop.is_set():
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            if select.select([sock], [], [], min(remaining, 0.2))[0]:
                self._drain(sock, own)

    def _drain(self, sock: socket.socket, own: str) -> None:
        for _ in range(64):
            try:
                frame, addr = sock.recvfrom(4096)
            except OSError:
                return
            if len(addr) > 2 and addr[2] == 4:  # PACKET_OUTGOING: our own announcement
                continue
            parsed = sadp.parse_l2_frame(frame)
            if parsed is not None and parsed.src_mac == own:
                continue
            kind = f"l2:{parsed.query_name}" if parsed else "unknown"
            peer = parsed.src_mac if parsed else frame[6:12].hex(":").upper()
            self.ctx.log.record(self.name, peer, frame.hex(), kind=kind, answered=False)

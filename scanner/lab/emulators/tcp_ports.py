"""Vendor TCP ports (service `tcp-ports`): listeners on the ports a device's firmware opens,
per research §0/§2: Hikvision 8000 (SDK port; silent until the client speaks), Hikvision
recorders' telnet (`192.0.0.64 login:`, recog), Dahua 37777 (DVRIP; silent), and the
`huge-banner` quirk's telnet port, which floods 10 MB at whoever connects.

Every connection is logged (`connect`), and so is anything a client sends (`data`): the scanner
must never send a byte to these ports.
"""

from __future__ import annotations

import socket
import threading

from scanner.lab.emulators.base import Service
from scanner.lab.emulators.tcpserver import Handler, listen, serve
from scanner.lab.personas import Persona

HUGE = 10 * 1024 * 1024
HIK_TELNET = b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03192.0.0.64 login: "


def port_banners(persona: Persona | None) -> dict[int, bytes | None]:
    """port -> unprompted banner (None: silent; b"huge": the 10 MB flood)."""
    if persona is None:
        return {}
    if "huge-banner" in persona.quirks:
        return {23: b"huge"}
    if persona.family == "hikvision":
        ports: dict[int, bytes | None] = {8000: None}
        if persona.device_type == "nvr":
            ports[23] = HIK_TELNET
        return ports
    if persona.family == "dahua":
        return {37777: None}
    return {}


class TcpPortsService(Service):
    name = "tcp-ports"

    def serve(self, stop: threading.Event) -> None:
        banners = port_banners(self.ctx.persona)
        listeners = []
        for port, banner in banners.items():
            listeners.append((listen(self.ctx.device.ip, port), self._handler(port, banner)))
        self.ctx.ready()
        serve(listeners, stop)

    def _handler(self, port: int, banner: bytes | None) -> Handler:
        def handle(conn: socket.socket, peer: str) -> None:
            self.ctx.log.record(self.name, peer, b"", kind="connect", port=port)
            if banner == b"huge":
                chunk = b"#" * 65536
                for _ in range(HUGE // len(chunk)):
                    conn.sendall(chunk)
            elif banner:
                conn.sendall(banner)
            conn.settimeout(5.0)
            while True:
                try:
                    data = conn.recv(4096)
                except (TimeoutError, OSError):
                    return
                if not data:
                    return
                self.ctx.log.record(self.name, peer, data, kind="data", port=port)

        return handle

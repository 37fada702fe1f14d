"""SSDP/UPnP emulator: answers M-SEARCH on UDP 1900 (one response per search target, as UPnP
stacks do for `ssdp:all`) and serves the device description XML over HTTP, where recorders,
routers and printers state manufacturer, model and serial. Every datagram and every HTTP request
is logged; garbage gets no answer and never stops the service. The firmware goes in a vendor
extension element, as some stacks add one (UPnP's own schema has no firmware element).
"""

from __future__ import annotations

import contextlib
import hashlib
import select
import socket
import threading
import uuid
from xml.sax.saxutils import escape

from scanner.lab.emulators.base import Service, bind_multicast
from scanner.lab.personas import Persona

GROUP = "239.255.255.250"
PORT = 1900
MAX_HTTP_REQUEST = 8192
# (description port, path, SERVER header, manufacturer, manufacturer URL, UPnP device type)
_FAMILY = {
    "hikvision": (
        49152, "/upnpdevicedesc.xml", "Linux/3.10.0, UPnP/1.0, Portable SDK for UPnP devices/1.6.6",
        "Hikvision", "http://www.hikvision.com", "urn:schemas-upnp-org:device:Basic:1",
    ),
    "dahua": (
        49153, "/dh/upnp/desc.xml", "Linux/2.6.35, UPnP/1.0, Dahua UPnP/1.0",
        "Dahua", "http://www.dahuasecurity.com", "urn:schemas-upnp-org:device:Basic:1",
    ),
    "zte": (
        52869, "/gatedesc.xml", "Linux/2.6.36, UPnP/1.0, Portable SDK for UPnP devices/1.6.13",
        "ZTE", "http://www.zte.com.cn", "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
    ),
    "hp": (
        49152, "/DevMgmt/upnp.xml", "HP HTTP Server; HP LaserJet Pro M404dn; UPnP/1.0",
        "HP", "http://www.hp.com", "urn:schemas-upnp-org:device:Printer:1",
    ),
}  # fmt: skip
_DEFAULT = (
    49152,
    "/description.xml",
    "Linux UPnP/1.0",
    "",
    "",
    "urn:schemas-upnp-org:device:Basic:1",
)


def _udn(persona: Persona) -> str:
    digest = hashlib.sha256(("upnp" + persona.serial).encode()).digest()[:16]
    return f"uuid:{uuid.UUID(bytes=digest, version=4)}"


def description(persona: Persona, ip: str) -> bytes:
    _port, _path, _server, maker, url, device_type = _FAMILY.get(persona.family, _DEFAULT)
    model = persona.model
    friendly = f"{persona.brand} {model}".strip() if persona.family != "hikvision" else model
    elements = [
        ("deviceType", device_type),
        ("friendlyName", friendly),
        # OEM firmware (`oem-label`) names its label as the manufacturer.
        (
            "manufacturer",
            persona.brand if "oem-label" in persona.quirks else maker or persona.brand,
        ),
        ("manufacturerURL", url),
        ("modelDescription", persona.device_type.upper()),
        ("modelName", model),
        ("modelNumber", model.split()[-1] if model else ""),
        ("serialNumber", persona.serial),
        ("UDN", _udn(persona)),
        ("presentationURL", f"http://{ip}/"),
    ]
    body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in elements if v)
    if persona.firmware:
        body += f"<v:firmwareVersion>{escape(persona.firmware)}</v:firmwareVersion>"
    xml = (
        '<?xml version="1.0"?>\n'
        '<root xmlns="urn:schemas-upnp-org:device-1-0" xmlns:v="urn:schemas-vendor-com:ext-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion>"
        f"<device>{body}</device></root>"
    )
    return xml.encode("utf-8")


def search_targets(persona: Persona) -> list[tuple[str, str]]:
    """(ST, USN) of every response to `ssdp:all`: the root device, its UUID, its type."""
    udn = _udn(persona)
    device_type = _FAMILY.get(persona.family, _DEFAULT)[5]
    return [
        ("upnp:rootdevice", f"{udn}::upnp:rootdevice"),
        (udn, udn),
        (device_type, f"{udn}::{device_type}"),
    ]


def responses(persona: Persona, ip: str, data: bytes) -> tuple[str, list[bytes]]:
    """(request kind, responses) for one datagram - the whole decision, pure."""
    try:
        text = data[:MAX_HTTP_REQUEST].decode("ascii")
    except UnicodeDecodeError:
        return "garbage", []
    lines = text.split("\r\n")
    if not lines or lines[0].strip().upper() != "M-SEARCH * HTTP/1.1":
        return ("notify" if lines and lines[0].upper().startswith("NOTIFY") else "garbage"), []
    headers = {}
    for line in lines[1:48]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if headers.get("man", "").strip('"') != "ssdp:discover":
        return "M-SEARCH", []
    wanted = headers.get("st", "")
    port, path, server, *_ = _FAMILY.get(persona.family, _DEFAULT)
    location = f"http://{ip}:{port}{path}"
    out = []
    for st, usn in search_targets(persona):
        if wanted not in ("ssdp:all", st):
            continue
        out.append(
            (
                "HTTP/1.1 200 OK\r\n"
                "CACHE-CONTROL: max-age=1800\r\n"
                "EXT:\r\n"
                f"LOCATION: {location}\r\n"
                f"SERVER: {server}\r\n"
                f"ST: {st}\r\n"
                f"USN: {usn}\r\n"
                "\r\n"
            ).encode("ascii")
        )
    return "M-SEARCH", out


def http_reply(persona: Persona, ip: str, request: bytes) -> tuple[str, bytes]:
    """(request kind, full HTTP response) for one request to the description server."""
    line = request.split(b"\r\n", 1)[0][:512].decode("latin-1")
    parts = line.split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return (
            "garbage",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
    method, path = parts[0], parts[1]
    kind = f"{method[:16]} {path[:128]}"
    expected = _FAMILY.get(persona.family, _DEFAULT)[1]
    if method != "GET" or path != expected:
        return kind, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    body = description(persona, ip)
    head = (
        'HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset="utf-8"\r\n'
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return kind, head.encode() + body


class SsdpService(Service):
    name = "ssdp"

    def serve(self, stop: threading.Event) -> None:
        device = self.ctx.device
        persona = self.ctx.persona or Persona("generic", "", "", "", "", "unknown")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            bind_multicast(udp, self.ctx.interface, PORT, GROUP, device.ip)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            tcp.bind((device.ip, _FAMILY.get(persona.family, _DEFAULT)[0]))
            tcp.listen(16)
            self.ctx.ready()
            while not stop.is_set():
                readable, _, _ = select.select([udp, tcp], [], [], 0.2)
                if udp in readable:
                    self._datagram(udp, persona)
                if tcp in readable:
                    with contextlib.suppress(OSError):
                        conn, peer = tcp.accept()
                        threading.Thread(
                            target=self._http, args=(conn, peer, persona), daemon=True
                        ).start()
        finally:
            udp.close()
            tcp.close()

    def _datagram(self, udp: socket.socket, persona: Persona) -> None:
        try:
            data, peer = udp.recvfrom(65535)
        except OSError:
            return
        if peer[0] == self.ctx.device.ip:
            return
        try:
            kind, replies = responses(persona, self.ctx.device.ip, data)
        except Exception:
            kind, replies = "garbage", []
        self.ctx.log.record(
            self.name, f"{peer[0]}:{peer[1]}", data, kind=kind, answered=bool(replies)
        )
        for reply in replies:
            with contextlib.suppress(OSError):
                udp.sendto(reply, peer)

    def _http(self, conn: socket.socket, peer: tuple[str, int], persona: Persona) -> None:
        with conn:
            conn.settimeout(2.0)
            request = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in request and len(request) < MAX_HTTP_REQUEST:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    request += chunk
            try:
                kind, reply = http_reply(persona, self.ctx.device.ip, request)
            except Exception:
                kind, reply = "garbage", b""
            self.ctx.log.record(
                "ssdp-http", f"{peer[0]}:{peer[1]}", request, kind=kind, answered=bool(reply)
            )
            with contextlib.suppress(OSError):
                conn.sendall(reply)

"""mDNS / DNS-SD responder (UDP 5353, 224.0.0.251), hand-built so every query can be logged and
so the scanner's zeroconf-based probe is checked against an independent implementation.

Hikvision cameras advertise `_CGI._tcp` as `HIKVISION <model> - <last 9 of serial>` with the SRV
target `<serial>.local` and TXT `path=/` (research §5.1); Axis cameras `_axis-video._tcp` and
`_http._tcp` as `AXIS <model> - <serial>`; HP printers `_ipp._tcp` and `_http._tcp` with the IPP
TXT keys. Answers PTR, SRV, TXT, A and ANY questions (with the SRV/TXT/A additionals a browser
needs), multicast or unicast as the question asks; anything unparsable is logged and ignored.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from dataclasses import dataclass

from scanner.lab.emulators.base import Service, bind_multicast, send_multicast_from
from scanner.lab.personas import Persona

GROUP = "224.0.0.251"
PORT = 5353
T_A, T_PTR, T_TXT, T_SRV, T_ANY = 1, 12, 16, 33, 255
TTL_HOST, TTL_OTHER = 120, 4500
ENUM = "_services._dns-sd._udp.local"


@dataclass(frozen=True)
class Advert:
    service: str  # "_CGI._tcp.local"
    instance: str  # "HIKVISION DS-... - 123456789"
    port: int
    txt: tuple[str, ...]

    @property
    def full(self) -> str:
        return f"{self.instance}.{self.service}"


def adverts(persona: Persona, mac: str) -> tuple[str, list[Advert]]:
    """(host name, advertised services) of a device, from its persona."""
    mac12 = mac.replace(":", "").upper()
    if persona.family == "hikvision":
        instance = f"HIKVISION {persona.model} - {persona.serial[-9:]}"
        return f"{persona.serial}.local", [Advert("_CGI._tcp.local", instance, 80, ("path=/",))]
    if persona.family == "axis":
        instance = f"AXIS {persona.model} - {persona.serial}"
        txt: tuple[str, ...] = (f"macaddress={mac12}",)
        return f"axis-{mac12.lower()}.local", [
            Advert("_axis-video._tcp.local", instance, 80, txt),
            Advert("_http._tcp.local", instance, 80, ("path=/",)),
        ]
    if persona.family == "hp":
        instance = f"HP {persona.model} [{mac12[-6:]}]"
        txt = (
            "txtvers=1",
            f"ty=HP {persona.model}",
            f"product=(HP {persona.model})",
            "usb_MFG=HP",
            f"usb_MDL={persona.model}",
            "pdl=application/pdf,image/urf",
            "adminurl=http://HP" + mac12 + ".local./",
        )
        return f"HP{mac12}.local", [
            Advert("_ipp._tcp.local", instance, 631, txt),
            Advert("_http._tcp.local", instance, 80, ("path=/",)),
        ]
    instance = f"{persona.brand or 'device'} {persona.model}".strip()
    return f"device-{mac12.lower()}.local", [Advert("_http._tcp.local", instance, 80, ())]


# --- DNS bytes --------------------------------------------------------------------------------


def _name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("utf-8")[:63]
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """A (possibly compressed) name and the offset after it; ValueError on anything odd."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if offset >= len(data):
            raise ValueError("name runs past the packet")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data) or jumps > 16:
                raise ValueError("bad pointer")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            jumps += 1
            continue
        if length & 0xC0:
            raise ValueError("bad label type")
        offset += 1
        if length == 0:
            break
        labels.append(data[offset : offset + length].decode("utf-8", errors="replace"))
        offset += length
        if len(labels) > 64:
            raise ValueError("too many labels")
    return ".".join(labels), (end if end >= 0 else offset)


def parse_query(data: bytes) -> list[tuple[str, int, bool]] | None:
    """(name, type, unicast-response wanted) of each question of a query; None when the packet
    is not a query (a response, garbage)."""
    if len(data) < 12:
        return None
    _id, flags, qd, _an, _ns, _ar = struct.unpack("!6H", data[:12])
    if flags & 0x8000 or qd == 0 or qd > 64:
        return None
    offset = 12
    questions = []
    for _ in range(qd):
        name, offset = _read_name(data, offset)
        if offset + 4 > len(data):
            raise ValueError("question runs past the packet")
        qtype, qclass = struct.unpack("!HH", data[offset : offset + 4])
        offset += 4
        questions.append((name, qtype, bool(qclass & 0x8000)))
    return questions


def _rr(name: str, rtype: int, ttl: int, rdata: bytes, flush: bool = False) -> bytes:
    rclass = 0x8001 if flush else 0x0001
    return _name(name) + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def _txt(entries: tuple[str, ...]) -> bytes:
    if not entries:
        return b"\x00"
    return b"".join(bytes([len(e.encode()[:255])]) + e.encode()[:255] for e in entries)


def answer(persona: Persona, ip: str, mac: str, questions: list[tuple[str, int, bool]]) -> bytes:
    """The response to a query's questions, or b"" when none concerns this device."""
    host, ads = adverts(persona, mac)
    answers: list[bytes] = []
    extra: list[bytes] = []

    def a_record() -> bytes:
        return _rr(host, T_A, TTL_HOST, socket.inet_aton(ip), flush=True)

    def srv_txt(ad: Advert) -> list[bytes]:
        srv = struct.pack("!HHH", 0, 0, ad.port) + _name(host)
        return [
            _rr(ad.full, T_SRV, TTL_HOST, srv, flush=True),
            _rr(ad.full, T_TXT, TTL_OTHER, _txt(ad.txt), flush=True),
        ]

    for qname, qtype, _unicast in questions:
        name = qname.lower().rstrip(".")
        if name == ENUM and qtype in (T_PTR, T_ANY):
            for service in sorted({ad.service for ad in ads}):
                answers.append(_rr(ENUM, T_PTR, TTL_OTHER, _name(service)))
        for ad in ads:
            if name == ad.service.lower() and qtype in (T_PTR, T_ANY):
                answers.append(_rr(ad.service, T_PTR, TTL_OTHER, _name(ad.full)))
                extra += srv_txt(ad)
                extra.append(a_record())
            elif name == ad.full.lower():
                records = srv_txt(ad)
                if qtype in (T_SRV, T_ANY):
                    answers.append(records[0])
                if qtype in (T_TXT, T_ANY):
                    answers.append(records[1])
                extra.append(a_record())
        if name == host.lower() and qtype in (T_A, T_ANY):
            answers.append(a_record())
    if not answers:
        return b""
    answers = list(dict.fromkeys(answers))
    extra = [r for r in dict.fromkeys(extra) if r not in answers]
    header = struct.pack("!6H", 0, 0x8400, 0, len(answers), 0, len(extra))
    return header + b"".join(answers) + b"".join(extra)


class MdnsService(Service):
    name = "mdns"

    def serve(self, stop: threading.Event) -> None:
        device = self.ctx.device
        persona = self.ctx.persona or Persona("generic", "", "", "", "", "unknown")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            bind_multicast(sock, self.ctx.interface, PORT, GROUP, device.ip)
            send_multicast_from(sock, device.ip, 255)
            self.ctx.ready()
            while not stop.is_set():
                readable, _, _ = select.select([sock], [], [], 0.2)
                if readable:
                    self._one(sock, persona)
        finally:
            sock.close()

    def _one(self, sock: socket.socket, persona: Persona) -> None:
        device = self.ctx.device
        try:
            data, peer = sock.recvfrom(9000)
        except OSError:
            return
        if peer[0] == device.ip:
            return
        if len(data) >= 12 and data[2] & 0x80:
            # Another host's answer (or garbage that looks like one): logged, never answered.
            self.ctx.log.record(
                self.name, f"{peer[0]}:{peer[1]}", data, kind="response", answered=False
            )
            return
        try:
            questions = parse_query(data)
        except Exception:
            questions = None
        if questions is None:
            self.ctx.log.record(
                self.name, f"{peer[0]}:{peer[1]}", data, kind="garbage", answered=False
            )
            return
        try:
            reply = answer(persona, device.ip, device.mac, questions)
        except Exception:
            reply = b""
        asked = " ".join(f"{n}/{t}" for n, t, _ in questions[:8])
        self.ctx.log.record(
            self.name,
            f"{peer[0]}:{peer[1]}",
            data,
            kind="query",
            answered=bool(reply),
            questions=asked,
        )
        if not reply:
            return
        unicast = peer[1] != PORT or any(u for _, _, u in questions)
        with contextlib.suppress(OSError):
            sock.sendto(reply, peer if unicast else (GROUP, PORT))

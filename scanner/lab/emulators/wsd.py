"""ONVIF WS-Discovery emulator (UDP 3702): answers Probes the way each family's firmware does.

Hikvision: `urn:uuid:` endpoint whose tail is the MAC, scopes in the firmware's order ending in
`name/HIKVISION%20<model>` and `location/city/hangzhou`. Dahua and its OEMs: a bare `uuid:`
endpoint, `location/country/china`, `name/<label>` and `extension/unique_identifier`. Axis and
Uniview answer plausibly; quirks: `wsd-typed-only` ignores untyped Probes, `wsd-soap-fault`
answers with a SOAP 1.2 Fault. Every device sends a Hello when it starts; Dahua's camera repeats
it every second so a scan can hear one. Written without the scanner's wire code on purpose.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import select
import socket
import struct
import threading
import time
import uuid
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring

from scanner.lab.emulators.base import (
    SO_BINDTODEVICE,
    Service,
    bind_multicast,
    send_multicast_from,
)
from scanner.lab.personas import Persona

GROUP = "239.255.255.250"
GROUP_V6 = "ff02::c"
PORT = 3702
HELLO_EVERY = 1.0  # seconds, on the device that repeats its Hello
HELLO_REPEATERS = ("dahua-cam",)
ONVIF = "onvif://www.onvif.org/"
NVT_TYPES = ("NetworkVideoTransmitter", "Device")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _find(elem: Element | None, *path: str) -> Element | None:
    for name in path:
        if elem is None:
            return None
        elem = next((c for c in elem if _local(c.tag) == name), None)
    return elem


def read_probe(data: bytes) -> tuple[str, tuple[str, ...]] | None:
    """(MessageID, requested type local names) of a Probe, or None for anything else."""
    if len(data) > 65536:
        return None
    try:
        root = fromstring(data, forbid_dtd=True)
    except Exception:
        return None
    if _local(root.tag) != "Envelope":
        return None
    probe = _find(root, "Body", "Probe")
    if probe is None:
        return None
    msg_id = _find(root, "Header", "MessageID")
    types = _find(probe, "Types")
    names = tuple(
        t.rsplit(":", 1)[-1] for t in ((types.text or "") if types is not None else "").split()
    )
    return ((msg_id.text or "").strip() if msg_id is not None else "", names)


def _uuid_from(seed: str) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4)


def endpoint(persona: Persona, mac: str) -> str:
    """The device's endpoint address, stable across restarts as on real units."""
    base = _uuid_from(persona.serial or persona.model)
    mac12 = mac.replace(":", "").lower()
    if persona.family == "dahua":
        return f"uuid:{base}"
    if persona.family not in ("hikvision", "axis"):
        return f"urn:uuid:{base}"  # a random (version-4) UUID, as the spec recommends
    # Hikvision and Axis: version-1 style UUID whose node is the MAC.
    parts = str(base).split("-")
    return f"urn:uuid:{parts[0]}-{parts[1]}-11b2-8{parts[3][1:]}-{mac12}"


def scopes(persona: Persona, mac: str) -> list[str]:
    enc = persona.model.replace(" ", "%20")
    if persona.family == "hikvision":
        names = ["type/video_encoder", "Profile/Streaming"]
        if persona.device_type == "camera":
            names += ["Profile/G", "Profile/T", "type/audio_encoder"]
        # OEM firmware (`oem-label`) puts its own label in the name scope; the rest stays.
        label = persona.brand if "oem-label" in persona.quirks else "HIKVISION"
        names += [
            f"MAC/{mac.lower()}",
            f"hardware/{enc}",
            f"name/{label.replace(' ', '%20')}%20{enc}",
            "location/city/hangzhou",
        ]
    elif persona.family == "dahua":
        names = [
            "location/country/china",
            f"name/{persona.brand.replace(' ', '%20')}",
            f"hardware/{enc}",
            "Profile/Streaming",
            "type/Network_Video_Transmitter",
            "extension/unique_identifier",
        ]
    elif persona.family == "axis":
        names = [
            "type/video_encoder",
            "Profile/Streaming",
            "Profile/G",
            "Profile/T",
            f"hardware/{enc}",
            f"name/AXIS%20{enc}",
            "location/country/sweden",
        ]
    else:  # Uniview (a Hangzhou maker, not Dahua) and other makers' ONVIF stacks
        names = [
            "type/video_encoder",
            "Profile/Streaming",
            "location/country/china",
            "location/city/hangzhou",
            f"hardware/{enc}",
            f"name/{persona.brand.replace(' ', '%20')}",
        ]
    return [ONVIF + n for n in names]


def _match_body(persona: Persona, ip: str, mac: str, tag: str, d: str, a: str) -> str:
    version = "1" if persona.family == "dahua" else "10"
    return (
        f"<{d}:{tag}>"
        f"<{a}:EndpointReference><{a}:Address>{endpoint(persona, mac)}</{a}:Address>"
        f"</{a}:EndpointReference>"
        f"<{d}:Types>dn:NetworkVideoTransmitter tds:Device</{d}:Types>"
        f"<{d}:Scopes>{' '.join(scopes(persona, mac))}</{d}:Scopes>"
        f"<{d}:XAddrs>http://{ip}/onvif/device_service</{d}:XAddrs>"
        f"<{d}:MetadataVersion>{version}</{d}:MetadataVersion>"
        f"</{d}:{tag}>"
    )


_NS = (
    'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
)
_D = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
_A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
_S = "http://www.w3.org/2003/05/soap-envelope"


def probe_matches(persona: Persona, ip: str, mac: str, relates_to: str, seq: int) -> bytes:
    msg_id = f"urn:uuid:{uuid.uuid4()}"
    action = _D + "/ProbeMatches"
    if persona.family == "dahua":
        head = '<?xml version="1.0" encoding="utf-8" standalone="yes" ?>'
        env = f'<s:Envelope xmlns:s="{_S}" {_NS} xmlns:d="{_D}" xmlns:a="{_A}">'
        header = (
            f"<s:Header><a:MessageID>{msg_id}</a:MessageID>"
            "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
            f"<a:Action>{action}</a:Action><a:RelatesTo>{relates_to}</a:RelatesTo></s:Header>"
        )
        body = _match_body(persona, ip, mac, "ProbeMatch", "d", "a")
        xml = f"{head}{env}{header}<s:Body><d:ProbeMatches>{body}</d:ProbeMatches></s:Body>"
        return (xml + "</s:Envelope>").encode()
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    env = f'<env:Envelope xmlns:env="{_S}" {_NS} xmlns:wsadis="{_A}" xmlns:d="{_D}">'
    header = (
        f"<env:Header><wsadis:MessageID>{msg_id}</wsadis:MessageID>"
        f"<wsadis:RelatesTo>{relates_to}</wsadis:RelatesTo>"
        f"<wsadis:To>{_A}/role/anonymous</wsadis:To>"
        f"<wsadis:Action>{action}</wsadis:Action>"
        f'<d:AppSequence InstanceId="{int(time.time()) & 0x7FFFFFFF}" MessageNumber="{seq}"/>'
        "</env:Header>"
    )
    body = _match_body(persona, ip, mac, "ProbeMatch", "d", "wsadis")
    xml = f"{head}{env}{header}<env:Body><d:ProbeMatches>{body}</d:ProbeMatches></env:Body>"
    return (xml + "</env:Envelope>").encode()


def hello(persona: Persona, ip: str, mac: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<s:Envelope xmlns:s="{_S}" {_NS} xmlns:d="{_D}" xmlns:a="{_A}">'
        f"<s:Header><a:MessageID>urn:uuid:{uuid.uuid4()}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
        f"<a:Action>{_D}/Hello</a:Action></s:Header>"
        f"<s:Body>{_match_body(persona, ip, mac, 'Hello', 'd', 'a')}</s:Body></s:Envelope>"
    ).encode()


def soap_fault(relates_to: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{_S}" xmlns:wsa="{_A}" xmlns:wsd="{_D}">'
        f"<SOAP-ENV:Header><wsa:Action>{_A}/fault</wsa:Action>"
        f"<wsa:RelatesTo>{relates_to}</wsa:RelatesTo></SOAP-ENV:Header>"
        "<SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender"
        "</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>wsd:MatchingRuleNotSupported"
        "</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason>"
        '<SOAP-ENV:Text xml:lang="en">the matching rule specified is not supported'
        "</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode()


def answer(
    persona: Persona, ip: str, mac: str, data: bytes, seq: int = 1
) -> tuple[str, bytes | None]:
    """(request kind, reply or None) for one datagram: the device's whole decision, pure."""
    probe = read_probe(data)
    if probe is None:
        return ("hello" if b"Hello" in data[:65536] else "garbage"), None
    msg_id, types = probe
    relates = msg_id if re.fullmatch(r"[\w:.\-]{1,100}", msg_id) else ""
    if "wsd-soap-fault" in persona.quirks:
        return "probe", soap_fault(relates)
    if not types and "wsd-typed-only" in persona.quirks:
        return "probe", None
    if types and not any(t in NVT_TYPES for t in types):
        return "probe", None
    return "probe", probe_matches(persona, ip, mac, relates, seq)


def _ipv6_socket(interface: str) -> socket.socket | None:
    """A socket in FF02::C on the device's interface, or None where IPv6 is off. It answers
    only once the interface has a link-local address (the lab's have none by default)."""
    try:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    except OSError:
        return None
    try:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
        sock.bind(("::", PORT))
        index = socket.if_nametoindex(interface)
        mreq = socket.inet_pton(socket.AF_INET6, GROUP_V6) + struct.pack("@I", index)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    except OSError:
        sock.close()
        return None
    return sock


class WsdService(Service):
    name = "wsd"

    def serve(self, stop: threading.Event) -> None:
        device = self.ctx.device
        persona = self.ctx.persona or Persona("generic", "", "IPC", "", "", "camera")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            bind_multicast(sock, self.ctx.interface, PORT, GROUP, device.ip)
            send_multicast_from(sock, device.ip, 1)
            sock6 = _ipv6_socket(self.ctx.interface)
            self.ctx.ready()
            try:
                self._loop(sock, sock6, persona, stop)
            finally:
                if sock6 is not None:
                    sock6.close()
        finally:
            sock.close()

    def _loop(
        self,
        sock: socket.socket,
        sock6: socket.socket | None,
        persona: Persona,
        stop: threading.Event,
    ) -> None:
        device = self.ctx.device
        repeat = device.name in HELLO_REPEATERS and "wsd-soap-fault" not in persona.quirks
        # A fault-answering stack is not an ONVIF device: it never announces itself.
        next_hello = float("inf") if "wsd-soap-fault" in persona.quirks else time.monotonic()
        seq = 0
        while not stop.is_set():
            if time.monotonic() >= next_hello:
                with contextlib.suppress(OSError):
                    sock.sendto(hello(persona, device.ip, device.mac), (GROUP, PORT))
                next_hello = time.monotonic() + HELLO_EVERY if repeat else float("inf")
            readable, _, _ = select.select([sock] if sock6 is None else [sock, sock6], [], [], 0.2)
            if not readable:
                continue
            sock_in = readable[0]
            try:
                data, peer = sock_in.recvfrom(65535)
            except OSError:
                continue
            if peer[0] == device.ip:
                continue  # our own Hello looped back
            seq += 1
            try:
                kind, reply = answer(persona, device.ip, device.mac, data, seq)
            except Exception:  # never die on input
                kind, reply = "garbage", None
            self.ctx.log.record(
                self.name, f"{peer[0]}:{peer[1]}", data, kind=kind, answered=reply is not None
            )
            if reply is not None:
                with contextlib.suppress(OSError):
                    sock_in.sendto(reply, peer)

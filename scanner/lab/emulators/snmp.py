"""The `snmp` service: a minimal SNMP v2c agent on UDP 161 that answers GET only.

Hand-written BER (a few dozen lines, independent of pysnmp and of the scanner): it answers a
v2c GetRequest carrying the device's community with the persona's system group and, on Hytera
repeaters, the enterprise 40297 OIDs the Hytera_Homebrew_Bridge reads (research §6.2); unknown
OIDs get noSuchObject. A wrong community, another SNMP version or another PDU type (GetNext,
Set, ...) is logged and not answered, like a real agent. Every datagram is logged with the
community it carried, so a test can prove the scanner used only the communities it was given.

Assumed values (research §9.6: Hytera's sysDescr is undocumented): the Hytera agent identifies
itself only by its sysObjectID arc and the 40297 OIDs; Huawei's strings follow VRP's format.
"""

from __future__ import annotations

import socket
import threading

from scanner.lab.emulators.base import Service
from scanner.lab.personas import Persona

PORT = 161
SYS_DESCR, SYS_OBJECT_ID, SYS_NAME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0"
HYTERA = "1.3.6.1.4.1.40297.1.2.4"
COMMUNITY = {"hytera": "hytera", "huawei": "public"}


def mib_for(device: str, persona: Persona) -> dict[str, str | tuple[str]]:
    """OID -> value; a 1-tuple marks an OBJECT IDENTIFIER value, a str an OCTET STRING."""
    if persona.family == "hytera":
        return {
            SYS_DESCR: "Linux 2.6.35 armv5tejl",
            SYS_OBJECT_ID: ("1.3.6.1.4.1.40297.1.2",),
            SYS_NAME: f"{persona.model}-{device}",
            f"{HYTERA}.1.0": persona.model,
            f"{HYTERA}.2.0": f"{persona.model}-U1",
            f"{HYTERA}.3.0": persona.firmware,
            f"{HYTERA}.5.0": persona.serial,
            f"{HYTERA}.6.0": "LAB-RPT",
        }
    if persona.family == "huawei":
        return {
            SYS_DESCR: (
                "Huawei Versatile Routing Platform Software\r\nVRP (R) software, Version 5.170 "
                f"(S5720 {persona.firmware})\r\nCopyright (C) 2000-2018 HUAWEI TECH CO., LTD"
                f"\r\nHUAWEI {persona.model}"
            ),
            SYS_OBJECT_ID: ("1.3.6.1.4.1.2011.2.23.355",),
            SYS_NAME: "HUAWEI-S5720",
        }
    return {SYS_DESCR: persona.model, SYS_OBJECT_ID: ("1.3.6.1.4.1.8072.3.2.10",)}


# --- BER --------------------------------------------------------------------------------------


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, value, next position); IndexError/ValueError on anything malformed."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 3:
            raise ValueError("length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    value = data[pos : pos + length]
    if len(value) != length:
        raise ValueError("truncated")
    return tag, value, pos + length


def _items(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data) and len(out) < 64:
        tag, value, pos = _tlv(data, pos)
        out.append((tag, value))
    return out


def _enc(tag: int, value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


def _oid_decode(raw: bytes) -> str:
    if not raw:
        raise ValueError("empty oid")
    parts = [raw[0] // 40, raw[0] % 40]
    value = 0
    for byte in raw[1:]:
        value = value << 7 | byte & 0x7F
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


def _oid_encode(oid: str) -> bytes:
    nums = [int(x) for x in oid.split(".")]
    out = bytearray([nums[0] * 40 + nums[1]])
    for num in nums[2:]:
        chunk = [num & 0x7F]
        num >>= 7
        while num:
            chunk.append(0x80 | num & 0x7F)
            num >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def parse_request(data: bytes) -> tuple[int, str, int, int, list[str]] | None:
    """(version, community, pdu tag, request id, OIDs), or None if it is not SNMP."""
    try:
        tag, message, _ = _tlv(data, 0)
        if tag != 0x30:
            return None
        (t1, version), (t2, community), (pdu_tag, pdu) = _items(message)[:3]
        if t1 != 0x02 or t2 != 0x04:
            return None
        fields = _items(pdu)
        request_id = int.from_bytes(fields[0][1], "big", signed=True)
        oids = [_oid_decode(_items(vb)[0][1]) for _, vb in _items(fields[3][1])]
        return (
            int.from_bytes(version, "big"),
            community.decode("latin-1"),
            pdu_tag,
            request_id,
            oids,
        )
    except (IndexError, ValueError):
        return None


def build_response(
    community: str, request_id: int, oids: list[str], mib: dict[str, str | tuple[str]]
) -> bytes:
    varbinds = b""
    for oid in oids:
        value = mib.get(oid)
        if isinstance(value, tuple):
            encoded = _enc(0x06, _oid_encode(value[0]))
        elif isinstance(value, str):
            encoded = _enc(0x04, value.encode("utf-8"))
        else:
            encoded = b"\x80\x00"  # noSuchObject
        varbinds += _enc(0x30, _enc(0x06, _oid_encode(oid)) + encoded)
    rid = request_id.to_bytes(4, "big", signed=True)
    pdu = _enc(0x02, rid) + b"\x02\x01\x00\x02\x01\x00" + _enc(0x30, varbinds)
    message = b"\x02\x01\x01" + _enc(0x04, community.encode("latin-1")) + _enc(0xA2, pdu)
    return _enc(0x30, message)


_PDU_NAMES = {0xA0: "get", 0xA1: "getnext", 0xA3: "set", 0xA5: "getbulk"}


class SnmpService(Service):
    name = "snmp"

    def serve(self, stop: threading.Event) -> None:
        device, persona = self.ctx.device, self.ctx.persona
        if persona is None:
            raise RuntimeError(f"{device.name} has no persona to answer SNMP with")
        community = COMMUNITY.get(persona.family, "public")
        mib = mib_for(device.name, persona)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((device.ip, PORT))
        sock.settimeout(0.25)
        self.ctx.ready()
        try:
            while not stop.is_set():
                try:
                    data, peer = sock.recvfrom(4096)
                except TimeoutError:
                    continue
                self._one(sock, data, peer, community, mib)
        finally:
            sock.close()

    def _one(
        self,
        sock: socket.socket,
        data: bytes,
        peer: tuple[str, int],
        community: str,
        mib: dict[str, str | tuple[str]],
    ) -> None:
        where = f"{peer[0]}:{peer[1]}"
        request = parse_request(data)
        if request is None:
            self.ctx.log.record("snmp", where, data.hex(), kind="malformed", answered=False)
            return
        version, given, pdu_tag, request_id, oids = request
        kind = _PDU_NAMES.get(pdu_tag, f"pdu-{pdu_tag:#x}")
        ok = version == 1 and pdu_tag == 0xA0 and given == community
        self.ctx.log.record(
            "snmp", where, " ".join(oids), kind=kind, answered=ok, community=given,
            version={0: "v1", 1: "v2c", 3: "v3"}.get(version, str(version)), oids=oids,
        )  # fmt: skip
        if ok:
            sock.sendto(build_response(given, request_id, oids, mib), peer)

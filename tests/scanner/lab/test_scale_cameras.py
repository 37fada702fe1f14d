"""The scale lab's cameras and closed-port hosts as pure data and frames (no root needed)."""

from __future__ import annotations

import ipaddress
import struct

from hypothesis import given
from hypothesis import strategies as st

from scanner.lab.arpwire import mac_bytes
from scanner.lab.closed_hosts import mac_table, rst_for
from scanner.lab.scale_cameras import TEMPLATES, camera_devices, camera_persona
from scanner.lab.topology import in_lab_range, scale_ip, scale_mac

MACS = mac_table(950)


def test_cameras_follow_the_arp_only_hosts() -> None:
    cams = camera_devices(1000, 50)
    assert len(cams) == 50 and cams[0].ip == scale_ip(950) and cams[-1].ip == scale_ip(999)
    assert len({c.mac for c in cams}) == 50 and all(in_lab_range(c.ip) for c in cams)
    assert [c.name.split("-", 1)[1] for c in cams[:4]] == list(TEMPLATES)
    assert all("onvif" in c.services and "sadp" not in c.services for c in cams)
    serials = {camera_persona(c).serial for c in cams}
    assert len(serials) == 50
    responder_macs = {scale_mac(i) for i in range(950)}
    assert not responder_macs & {c.mac for c in cams}


def _syn(dst_index: int, flags: int = 0x02, dst_mac: str | None = None) -> bytes:
    src_ip = ipaddress.IPv4Address("198.19.255.254").packed
    dst_ip = ipaddress.IPv4Address(scale_ip(dst_index)).packed
    ip = struct.pack("!BBHHHBBH", 0x45, 0, 40, 1, 0x4000, 64, 6, 0) + src_ip + dst_ip
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1000, 0, 5 << 4, flags, 64240, 0, 0)
    dst = mac_bytes(dst_mac or scale_mac(dst_index))
    return dst + bytes.fromhex("02aabbccddee") + b"\x08\x00" + ip + tcp


def _checksum_ok(data: bytes) -> bool:
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def test_syn_to_an_arp_only_host_gets_rst() -> None:
    reply = rst_for(_syn(7), MACS)
    assert reply is not None
    assert reply[:6] == bytes.fromhex("02aabbccddee") and reply[6:12] == mac_bytes(scale_mac(7))
    ip, tcp = reply[14:34], reply[34:54]
    assert _checksum_ok(ip) and ip[12:16] == ipaddress.IPv4Address(scale_ip(7)).packed
    sport, dport, seq, ack = struct.unpack("!HHII", tcp[:12])
    assert (sport, dport, seq, ack, tcp[13]) == (80, 40000, 0, 1001, 0x14)
    pseudo = ip[12:16] + ip[16:20] + struct.pack("!BBH", 0, 6, 20)
    assert _checksum_ok(pseudo + tcp)


def test_everything_else_is_ignored() -> None:
    assert rst_for(_syn(960), MACS) is None  # a camera's address: it answers for itself
    assert rst_for(_syn(7, dst_mac="a4:14:37:fe:00:00"), MACS) is None  # not the host's MAC
    assert rst_for(_syn(7, flags=0x12), MACS) is None  # SYN|ACK
    assert rst_for(_syn(7, flags=0x04), MACS) is None  # RST: never answer one
    assert rst_for(_syn(7)[:50], MACS) is None


@given(st.binary(max_size=200))
def test_rst_for_never_raises(frame: bytes) -> None:
    rst_for(frame, MACS)

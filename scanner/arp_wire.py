"""ARP over Ethernet on the wire: pure builders and a bounds-checked parser.

The sweep builds one request template and patches only the target address per send, so the hot
path is a slice assignment, not a packet object per target.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
ARP_REQUEST = 1
ARP_REPLY = 2
BROADCAST = b"\xff" * 6
ZERO_MAC = b"\x00" * 6

ETH_HEADER_LEN = 14
ARP_LEN = 28
FRAME_LEN = ETH_HEADER_LEN + ARP_LEN  # 42; the NIC pads to 60 on the wire
TARGET_IP_OFFSET = 38  # where the target protocol address sits in the frame

_ETH = struct.Struct("!6s6sH")
_ARP = struct.Struct("!HHBBH6s4s6s4s")


@dataclass(frozen=True)
class ArpPacket:
    eth_dst: bytes
    eth_src: bytes
    op: int
    sender_mac: bytes
    sender_ip: bytes
    target_mac: bytes
    target_ip: bytes


def mac_to_bytes(mac: str) -> bytes:
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6 or any(len(p) != 2 for p in parts):
        raise ValueError(f"not a MAC address: {mac!r}")
    return bytes(int(p, 16) for p in parts)


def mac_to_str(raw: bytes) -> str:
    return ":".join(f"{b:02X}" for b in raw)


def build_request(src_mac: bytes, src_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast who-has frame, 42 bytes; the kernel/NIC adds the padding."""
    if len(src_mac) != 6 or len(src_ip) != 4 or len(target_ip) != 4:
        raise ValueError("MAC must be 6 bytes and IPv4 addresses 4 bytes")
    eth = _ETH.pack(BROADCAST, src_mac, ETH_P_ARP)
    arp = _ARP.pack(1, ETH_P_IP, 6, 4, ARP_REQUEST, src_mac, src_ip, ZERO_MAC, target_ip)
    return eth + arp


def build_reply(src_mac: bytes, src_ip: bytes, dst_mac: bytes, dst_ip: bytes) -> bytes:
    """An is-at frame: used by the lab responder and by tests."""
    eth = _ETH.pack(dst_mac, src_mac, ETH_P_ARP)
    arp = _ARP.pack(1, ETH_P_IP, 6, 4, ARP_REPLY, src_mac, src_ip, dst_mac, dst_ip)
    return eth + arp


def parse_frame(frame: bytes) -> ArpPacket | None:
    """Parse an Ethernet/ARP frame; anything that is not well-formed IPv4-over-Ethernet ARP is
    None. Trailing bytes (padding, trailers) are ignored; short frames never raise."""
    if len(frame) < FRAME_LEN:
        return None
    dst, src, ethertype = _ETH.unpack_from(frame, 0)
    if ethertype != ETH_P_ARP:
        return None
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = _ARP.unpack_from(frame, ETH_HEADER_LEN)
    if htype != 1 or ptype != ETH_P_IP or hlen != 6 or plen != 4 or op not in (1, 2):
        return None
    return ArpPacket(dst, src, op, sha, spa, tha, tpa)

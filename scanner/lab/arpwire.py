"""ARP over Ethernet as bytes: what the lab's responder and probe send and read.

Pure functions with bounds checks and no I/O. This is the lab's own small copy, used to build
and verify the lab; the scanner has its own ARP sweep and must not depend on this module.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

ETH_P_ARP = 0x0806
BROADCAST = b"\xff" * 6
ARP_LEN = 42  # 14 Ethernet + 28 ARP; shorter frames are never ARP
# htype Ethernet, ptype IPv4, hlen 6, plen 4; then the 2-byte opcode
ARP_HEADER = b"\x00\x01\x08\x00\x06\x04"
REQUEST_HEADER = ARP_HEADER + b"\x00\x01"
REPLY_HEADER = ARP_HEADER + b"\x00\x02"
_ETHERTYPE = ETH_P_ARP.to_bytes(2, "big")


@dataclass(frozen=True)
class ArpFrame:
    op: int  # 1 request, 2 reply
    eth_src: bytes
    eth_dst: bytes
    sender_mac: bytes
    sender_ip: bytes
    target_mac: bytes
    target_ip: bytes


def mac_bytes(mac: str) -> bytes:
    """Colon- or dash-separated MAC -> 6 bytes; ValueError otherwise."""
    raw = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"not a MAC address: {mac!r}")
    return raw


def mac_str(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def ip_bytes(ip: str) -> bytes:
    """Dotted quad -> 4 bytes; ValueError otherwise (inet_aton would accept "1")."""
    return ipaddress.IPv4Address(ip).packed


def ip_str(raw: bytes) -> str:
    return socket.inet_ntoa(raw)


def build_request(src_mac: bytes, src_ip: bytes, target_ip: bytes) -> bytes:
    """A broadcast who-has `target_ip` from (src_mac, src_ip)."""
    return (
        BROADCAST + src_mac + _ETHERTYPE + REQUEST_HEADER + src_mac + src_ip + b"\0" * 6 + target_ip
    )


def build_reply(host_mac: bytes, host_ip: bytes, to_mac: bytes, to_ip: bytes) -> bytes:
    """`host_ip` is-at `host_mac`, unicast to the asker (to_mac, to_ip)."""
    return to_mac + host_mac + _ETHERTYPE + REPLY_HEADER + host_mac + host_ip + to_mac + to_ip


def parse_arp(frame: bytes) -> ArpFrame | None:
    """An Ethernet/IPv4 ARP request or reply, or None for anything else (short, odd, hostile)."""
    if len(frame) < ARP_LEN or frame[12:14] != _ETHERTYPE or frame[14:20] != ARP_HEADER:
        return None
    op = int.from_bytes(frame[20:22], "big")
    if op not in (1, 2):
        return None
    return ArpFrame(
        op=op,
        eth_dst=bytes(frame[0:6]),
        eth_src=bytes(frame[6:12]),
        sender_mac=bytes(frame[22:28]),
        sender_ip=bytes(frame[28:32]),
        target_mac=bytes(frame[32:38]),
        target_ip=bytes(frame[38:42]),
    )

"""Closed ports for the scale lab's ARP-only hosts: answer a TCP SYN with RST, as a host whose port
is closed does, so a scan of a scale lab meets ordinary hosts rather than a firewall that drops
everything (every connect would otherwise wait out its timeout).

The scale responder answers ARP for host i (198.18.0.0 + i) with `scale_mac(i)`; this process
watches the same interface for IPv4 TCP SYNs addressed to one of those hosts (destination MAC and
address both that host's) and sends back RST|ACK from it. Everything else is ignored: the lab's
cameras (their own MACs) answer for themselves. `rst_for` is pure and bounds checked; the loop
runs only inside a lab namespace (`rawsock.require_lab_netns`).

    ip netns exec <prefix>scale-resp python -m scanner.lab.closed_hosts --iface <prefix>sr \\
        --hosts 950 --ready-file /run/ndaa-lab/<prefix>/closed.ready
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from types import FrameType

from scanner.lab.arpwire import mac_bytes
from scanner.lab.rawsock import PACKET_OUTGOING, OutsideLab, require_lab_netns
from scanner.lab.topology import SCALE_MAX_HOSTS, scale_mac

ETH_P_IP = 0x0800
_TCP, _SYN, _RST, _ACK = 6, 0x02, 0x04, 0x10


def mac_table(hosts: int) -> list[bytes | None]:
    """For each host index below `hosts`, the MAC that owns it (None above)."""
    return [mac_bytes(scale_mac(i)) if i < hosts else None for i in range(SCALE_MAX_HOSTS)]


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def rst_for(frame: bytes | memoryview, macs: list[bytes | None]) -> bytes | None:
    """The RST|ACK answering a SYN to one of our hosts, else None (pure, never raises)."""
    frame = bytes(frame[:128])
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
        return None
    ihl = (frame[14] & 0x0F) * 4
    if ihl < 20 or len(frame) < 14 + ihl + 20 or frame[23] != _TCP:
        return None
    if frame[20] & 0x3F or frame[21]:  # fragments never carry a SYN we would answer
        return None
    dst_ip, src_ip = frame[30:34], frame[26:30]
    if dst_ip[:2] != bytes([198, 18]):
        return None
    owner = macs[dst_ip[2] << 8 | dst_ip[3]]
    if owner is None or frame[0:6] != owner:
        return None
    tcp = frame[14 + ihl :]
    flags = tcp[13]
    if not flags & _SYN or flags & (_RST | _ACK):
        return None
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    header = struct.pack(
        "!HHIIBBHHH", dport, sport, 0, (seq + 1) & 0xFFFFFFFF, 5 << 4, _RST | _ACK, 0, 0, 0
    )
    pseudo = dst_ip + src_ip + struct.pack("!BBH", 0, _TCP, len(header))
    header = header[:16] + struct.pack("!H", _checksum(pseudo + header)) + header[18:]
    ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(header), 0, 0x4000, 64, _TCP, 0)
    ip += dst_ip + src_ip
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return frame[6:12] + owner + b"\x08\x00" + ip + header


def serve(iface: str, hosts: int, ready_file: Path | None) -> None:
    require_lab_netns()
    macs = mac_table(hosts)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((iface, ETH_P_IP))
    if ready_file is not None:
        ready_file.write_text(f"{os.getpid()}\n")
    buf = bytearray(2048)
    view = memoryview(buf)
    while True:
        try:
            n, address = sock.recvfrom_into(buf)
        except OSError:
            continue
        if address[2] == PACKET_OUTGOING:
            continue
        reply = rst_for(view[:n], macs)
        if reply is not None:
            with contextlib.suppress(OSError):  # ENOBUFS under a flood: the SYN is retried
                sock.send(reply)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner.lab.closed_hosts")
    parser.add_argument("--iface", required=True)
    parser.add_argument("--hosts", type=int, required=True)
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args(argv)

    def stop(sig: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        serve(args.iface, args.hosts, args.ready_file)
        return 0
    except (OutsideLab, OSError) as exc:
        print(f"closed_hosts: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())

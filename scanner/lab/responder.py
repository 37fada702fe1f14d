"""Scale-mode ARP responder: answers for up to 65,536 hosts in 198.18.0.0/16 from one process.

Run inside the responder namespace (the lab does this):

    ip netns exec <prefix>scale-resp python -m scanner.lab.responder --iface <prefix>sr \\
        --hosts 65536 --live-fraction 0.25 --seed 0 --ready-file /run/ndaa-lab/<prefix>/ready

Why userspace and not 65k macvlan interfaces: every broadcast ARP request is delivered to every
macvlan (O(hosts) per frame, O(hosts^2) per sweep), and creating 65k interfaces takes minutes.
One raw socket and a table of precomputed replies answers each request in O(1).

Host i (198.18.0.0 + i) answers only when it is live, always with `scale_mac(i)`; every other
frame (replies, other addresses, gratuitous ARP, short or malformed frames) is ignored.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from scanner.lab.arpwire import ARP_LEN, REPLY_HEADER, REQUEST_HEADER, mac_bytes
from scanner.lab.rawsock import PACKET_OUTGOING, OutsideLab, open_arp_socket
from scanner.lab.topology import SCALE_MAX_HOSTS, live_hosts, scale_mac

_NET_PREFIX = bytes([198, 18])  # the first two bytes of every scale host's address


def reply_table(hosts: int, live_fraction: float, seed: int) -> list[bytes | None]:
    """For each host index, the 14+8+6 bytes that start its reply (None when it is not live).

    The reply is then `asker_mac + table[i][6:] + ...`; precomputing keeps the hot loop to slicing
    and one send, which is what lets Python keep up with 10k+ requests per second.
    """
    table: list[bytes | None] = [None] * SCALE_MAX_HOSTS
    for index in live_hosts(hosts, live_fraction, seed):
        mac = mac_bytes(scale_mac(index))
        table[index] = mac + b"\x08\x06" + REPLY_HEADER + mac
    return table


class Stats:
    """Counters written to the log on exit and on SIGUSR1 (the emulator's request log)."""

    def __init__(self) -> None:
        self.frames = 0
        self.answered = 0
        self.ignored = 0
        self.send_errors = 0
        self.recv_errors = 0
        self.started = time.time()

    def as_dict(self) -> dict[str, float]:
        return {
            "frames": self.frames,
            "answered": self.answered,
            "ignored": self.ignored,
            "send_errors": self.send_errors,
            "recv_errors": self.recv_errors,
            "uptime": round(time.time() - self.started, 3),
        }


_REQUEST = b"\x08\x06" + REQUEST_HEADER  # ethertype ARP, Ethernet/IPv4, op 1 (request)


def answer(frame: bytes | memoryview, table: Sequence[bytes | None]) -> bytes | None:
    """The reply to one received frame, or None when it must be ignored.

    Pure and bounds checked: only an Ethernet/IPv4 ARP request (op 1) for a live 198.18.x.y that
    is not a gratuitous announcement gets an answer; short, odd or hostile frames get None.
    """
    if (
        len(frame) < ARP_LEN
        or frame[12:22] != _REQUEST
        or frame[38:40] != _NET_PREFIX
        or frame[28:32] == frame[38:42]
    ):
        return None
    head = table[frame[40] << 8 | frame[41]]
    if head is None:
        return None
    asker = bytes(frame[22:32])  # sender MAC + sender IP
    return asker[:6] + head + bytes(frame[38:42]) + asker


def serve(iface: str, table: list[bytes | None], stats: Stats, ready_file: Path | None) -> None:
    """Answer ARP requests on `iface` until a signal ends the process."""
    sock = open_arp_socket(iface)
    if ready_file is not None:
        ready_file.write_text(f"{os.getpid()}\n")
    buf = bytearray(2048)
    view = memoryview(buf)
    recvfrom_into = sock.recvfrom_into
    send = sock.send
    while True:
        try:
            n, address = recvfrom_into(buf)
        except OSError:  # e.g. ENETDOWN while the lab is being torn down: not ours to die of
            stats.recv_errors += 1
            time.sleep(0.01)
            continue
        stats.frames += 1
        reply = None if address[2] == PACKET_OUTGOING else answer(view[:n], table)
        if reply is None:
            stats.ignored += 1
            continue
        try:
            send(reply)
        except OSError:
            stats.send_errors += 1  # e.g. ENOBUFS under a flood: that asker retries
            continue
        stats.answered += 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner.lab.responder", description=__doc__)
    parser.add_argument("--iface", required=True, help="interface to answer on")
    parser.add_argument("--hosts", type=int, required=True, help="hosts 198.18.0.0 + 0..N-1")
    parser.add_argument("--live-fraction", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, help="written with our pid once listening")
    args = parser.parse_args(argv)

    stats = Stats()

    def report(_sig: int = 0, _frame: FrameType | None = None) -> None:
        print(json.dumps({"responder": stats.as_dict()}), file=sys.stderr, flush=True)

    def stop(sig: int, _frame: FrameType | None) -> None:
        raise SystemExit(0 if sig == signal.SIGTERM else 128 + sig)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGUSR1, report)
    try:
        table = reply_table(args.hosts, args.live_fraction, args.seed)
        live = sum(1 for entry in table if entry is not None)
        print(
            f"responder pid {os.getpid()} on {args.iface}: {args.hosts} hosts, {live} live "
            f"(fraction {args.live_fraction}, seed {args.seed})",
            file=sys.stderr,
            flush=True,
        )
        serve(args.iface, table, stats, args.ready_file)
    except (OutsideLab, ValueError, OSError) as exc:
        print(f"responder: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        report()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

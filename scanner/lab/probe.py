"""A small ARP sweeper that checks the lab from inside it (tests, `lab up` self-check, benchmarks).

    ip netns exec <prefix>scanner python -m scanner.lab.probe --iface lab0 198.18.0.0/24

prints one JSON object: how many requests went out, how fast, and which MACs answered for each
address. It refuses to run in the host's namespace and refuses targets outside 198.18.0.0/15.
It is not the product's scanner - it exists so the lab can be verified without it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import select
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scanner.lab.arpwire import build_request, ip_bytes, ip_str, mac_str, parse_arp
from scanner.lab.rawsock import interface_mac, open_arp_socket
from scanner.lab.topology import SCALE_SCANNER_IFACE, SCALE_SCANNER_IP, SCANNER_IP, in_lab_range


@dataclass
class SweepResult:
    sent: int = 0
    send_seconds: float = 0.0
    seconds: float = 0.0
    reply_frames: int = 0
    send_errors: int = 0
    last_reply_seconds: float = 0.0  # when the last reply arrived, from the first send
    answers: dict[str, set[str]] = field(default_factory=dict)  # ip -> MACs that answered

    def as_json(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "send_seconds": round(self.send_seconds, 4),
            "send_rate": round(self.sent / self.send_seconds) if self.send_seconds else None,
            "seconds": round(self.seconds, 4),
            "reply_frames": self.reply_frames,
            "send_errors": self.send_errors,
            "last_reply_seconds": round(self.last_reply_seconds, 4),
            "answered": len(self.answers),
            "answers": {ip: sorted(self.answers[ip]) for ip in sorted(self.answers, key=ip_bytes)},
        }


def expand_targets(specs: Iterable[str]) -> list[str]:
    """Addresses and CIDRs -> addresses (every address of a CIDR), all inside 198.18.0.0/15."""
    out: list[str] = []
    for spec in specs:
        net = ipaddress.ip_network(spec, strict=False)
        if not (in_lab_range(str(net[0])) and in_lab_range(str(net[-1]))):
            raise ValueError(f"{spec} is outside the lab range 198.18.0.0/15")
        out.extend(str(a) for a in net)
    return out


def sweep(
    iface: str, src_ip: str, targets: Sequence[str], rate: float = 0.0, quiet: float = 0.3
) -> SweepResult:
    """Send one who-has per target (paced at `rate`/s, 0 = as fast as possible), collect replies
    until nothing has arrived for `quiet` seconds after the last send."""
    for ip in (src_ip, *targets):
        if not in_lab_range(ip):
            raise ValueError(f"{ip} is outside the lab range 198.18.0.0/15")
    sock = open_arp_socket(iface)
    sock.setblocking(False)
    result = SweepResult()
    src_mac = interface_mac(sock)
    frames = [build_request(src_mac, ip_bytes(src_ip), ip_bytes(t)) for t in targets]

    def drain() -> bool:
        got = False
        while True:
            try:
                frame = sock.recv(2048)
            except BlockingIOError:
                return got
            arp = parse_arp(frame)
            if arp is None or arp.op != 2 or arp.eth_dst != src_mac:
                continue
            got = True
            result.reply_frames += 1
            result.last_reply_seconds = time.perf_counter() - start
            result.answers.setdefault(ip_str(arp.sender_ip), set()).add(mac_str(arp.sender_mac))

    start = time.perf_counter()
    try:
        i = 0
        while i < len(frames):
            now = time.perf_counter()
            due = len(frames) if rate <= 0 else min(len(frames), int((now - start) * rate) + 1)
            while i < due:
                try:
                    sock.send(frames[i])
                except BlockingIOError:
                    break  # the send buffer is full: read replies, then carry on
                except OSError:
                    result.send_errors += 1
                i += 1
            drain()
            if rate > 0 and i < len(frames):
                wait = start + i / rate - time.perf_counter()
                if wait > 0:
                    select.select([sock], [], [], wait)
        result.sent = len(frames)
        result.send_seconds = time.perf_counter() - start
        last = time.perf_counter()
        while time.perf_counter() - last < quiet:
            select.select([sock], [], [], quiet / 4)
            if drain():
                last = time.perf_counter()
        result.seconds = time.perf_counter() - start
    finally:
        sock.close()
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scanner.lab.probe", description=__doc__)
    parser.add_argument("--iface", required=True)
    parser.add_argument("--src", help="source address (default: the lab's scanner address)")
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s; 0 = unthrottled")
    parser.add_argument("--quiet", type=float, default=0.3, help="stop after this long silent")
    parser.add_argument("--summary", action="store_true", help="omit the per-address answers")
    parser.add_argument("targets", nargs="+", help="addresses or CIDRs in 198.18.0.0/15")
    args = parser.parse_args(argv)
    src = args.src or (SCALE_SCANNER_IP if args.iface == SCALE_SCANNER_IFACE else SCANNER_IP)
    try:
        result = sweep(args.iface, src, expand_targets(args.targets), args.rate, args.quiet)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    out = result.as_json()
    if args.summary:
        del out["answers"]
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

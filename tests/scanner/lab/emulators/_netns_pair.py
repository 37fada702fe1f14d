"""Two network namespaces joined by a veth pair, made by the test itself: `dev` (the emulated
device's eth0) and `cli` (the test's client on cli0, 198.18.0.1). Emulators and client sockets
run in threads that entered a namespace (setns is per thread), so nothing touches the root
namespace's network and every packet stays on the veth, in 198.18.0.0/15. `run_in` is
tests/_netns.py's (imported from here too).
"""

from __future__ import annotations

import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.lab.emulators.base import RequestLog, Service, ServiceContext, read_log
from scanner.lab.personas import persona_for
from scanner.lab.topology import STANDARD_DEVICES, LabDevice
from tests._netns import run_in

CLIENT_IP = "198.18.0.1"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@dataclass
class Pair:
    dev: str
    cli: str
    tmp: Path

    def device(self, name: str) -> LabDevice:
        return next(d for d in STANDARD_DEVICES if d.name == name)

    @contextmanager
    def serving(self, service: type[Service], device_name: str) -> Iterator[Path]:
        """Run `service` as `device_name` (its MAC and address put on eth0) until the block
        ends; yields the request log's path."""
        device = self.device(device_name)
        _ip("-n", self.dev, "link", "set", "eth0", "down")
        _ip("-n", self.dev, "link", "set", "eth0", "address", device.mac)
        _ip("-n", self.dev, "addr", "flush", "dev", "eth0")
        _ip("-n", self.dev, "addr", "add", f"{device.ip}/24", "dev", "eth0")
        _ip("-n", self.dev, "link", "set", "eth0", "up")
        log_path = self.tmp / f"{device_name}-{service.name}-{uuid.uuid4().hex[:6]}.jsonl"
        ready = threading.Event()
        stop = threading.Event()
        ctx = ServiceContext(
            device=device,
            persona=persona_for(device.name),
            log=RequestLog(log_path),
            interface="eth0",
            ready=ready.set,
        )
        errors: list[BaseException] = []

        def serve() -> None:
            try:
                run_in(self.dev, lambda: service(ctx).serve(stop))
            except BaseException as exc:
                errors.append(exc)
                ready.set()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        assert ready.wait(5), "emulator did not become ready"
        assert not errors, errors
        try:
            yield log_path
        finally:
            stop.set()
            thread.join(5)
        assert not errors, errors

    def udp_client(self, *, bind_port: int = 0) -> socket.socket:
        """A UDP socket in `cli`, on cli0's address, multicast out of cli0."""

        def make() -> socket.socket:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(CLIENT_IP))
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
            sock.bind((CLIENT_IP, bind_port))
            sock.settimeout(2.0)
            return sock

        return run_in(self.cli, make)

    def packet_socket(self, ethertype: int) -> socket.socket:
        def make() -> socket.socket:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
            sock.bind(("cli0", ethertype))
            sock.settimeout(2.0)
            return sock

        return run_in(self.cli, make)


def log_entries(path: Path) -> list[dict[str, Any]]:
    return read_log(path)


@contextmanager
def netns_pair(tmp: Path, prefix: str) -> Iterator[Pair]:
    """`prefix` is unique per test module (<= 12 characters), like the lab's."""
    dev, cli = f"{prefix}dev", f"{prefix}cli"
    _ip("netns", "add", dev)
    try:
        _ip("netns", "add", cli)
        for ns in (dev, cli):
            _ip("-n", ns, "link", "set", "lo", "up")
        _ip("-n", cli, "link", "add", "cli0", "type", "veth", "peer", "name", "eth0", "netns", dev)
        _ip("-n", cli, "addr", "add", f"{CLIENT_IP}/24", "dev", "cli0")
        _ip("-n", cli, "link", "set", "cli0", "up")
        _ip("-n", dev, "link", "set", "eth0", "up")
        yield Pair(dev, cli, tmp)
    finally:
        for ns in (cli, dev):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

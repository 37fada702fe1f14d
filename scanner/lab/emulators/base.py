"""The emulator interface, the request log, and service discovery by module.

A service is a class with a `name` (the word used in `LabDevice.services`) and a blocking
`serve(stop)` that binds its sockets inside the device's namespace, calls `ready()` once they are
bound, answers until `stop` is set, and survives any input. Every request it receives goes to the
`RequestLog`, so the tests can prove from the device side what the scanner sent.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import select
import socket
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from scanner.lab.personas import Persona
from scanner.lab.topology import LabDevice

MAX_LOGGED = 4096  # bytes of each request kept in the log

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


class RequestLog:
    """Thread-safe JSON-lines log of every request a device's emulators received."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(
        self,
        service: str,
        peer: str,
        request: bytes | str,
        *,
        kind: str = "",
        answered: bool = True,
        **extra: Any,
    ) -> None:
        """`kind` names what was asked (e.g. "GET /", "inquiry", "OPTIONS"); `peer` is
        "ip:port" or a MAC for layer-2 frames."""
        if isinstance(request, bytes):
            text = request[:MAX_LOGGED].decode("utf-8", errors="backslashreplace")
        else:
            text = request[:MAX_LOGGED]
        entry = {
            "t": time.time(),
            "service": service,
            "peer": peer,
            "kind": kind,
            "answered": answered,
            "size": len(request),
            "request": text,
            **extra,
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write(line)


def read_log(path: Path) -> list[dict[str, Any]]:
    """Entries of a request log; a missing file is an empty log."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class ServiceContext:
    device: LabDevice
    persona: Persona | None
    log: RequestLog
    interface: str  # the device's interface in its namespace ("eth0")
    ready: Callable[[], None]  # call once every socket is bound


class Service(ABC):
    name: ClassVar[str]

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def serve(self, stop: threading.Event) -> None:
        """Bind, call `self.ctx.ready()`, answer until `stop` is set. Never raise on bad input."""


def join_group(sock: socket.socket, group: str, local_ip: str) -> None:
    mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(local_ip))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)


def bind_multicast(sock: socket.socket, interface: str, port: int, group: str, ip: str) -> None:
    """Bind `sock` to `port` on `interface` only, `group` joined on the interface holding `ip`."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
    sock.bind(("0.0.0.0", port))
    join_group(sock, group, ip)


def send_multicast_from(sock: socket.socket, ip: str, ttl: int) -> None:
    """Multicast replies leave from `ip`'s interface with `ttl`, and are not looped back."""
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ip))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)


def udp_listener(port: int, group: str | None, device_ip: str) -> socket.socket:
    """Bound to every address of the namespace on `port`, the group joined on the interface
    that holds `device_ip`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    sock.bind(("0.0.0.0", port))
    if group:
        join_group(sock, group, device_ip)
    sock.setblocking(False)
    return sock


def receive(sock: socket.socket, stop: threading.Event) -> tuple[bytes, tuple[str, int]] | None:
    """One datagram, or None when nothing came in 0.2 s (so `stop` is checked)."""
    if stop.is_set():
        return None
    ready, _, _ = select.select([sock], [], [], 0.2)
    if not ready:
        return None
    try:
        data, addr = sock.recvfrom(65535)
    except OSError:
        return None
    return data, (addr[0], addr[1])


class UdpService(Service):
    """A service answering the datagrams that reach `port` (`group` joined, when it has one)."""

    port: ClassVar[int]
    group: ClassVar[str | None] = None

    def serve(self, stop: threading.Event) -> None:
        sock = udp_listener(self.port, self.group, self.ctx.device.ip)
        self.ctx.ready()
        with sock:
            while not stop.is_set():
                got = receive(sock, stop)
                if got is not None:
                    self.answer(sock, *got)

    @abstractmethod
    def answer(self, sock: socket.socket, data: bytes, addr: tuple[str, int]) -> None:
        """Log the datagram `data` from `addr` and reply on `sock` if it deserves one."""


def registry(errors: dict[str, str] | None = None) -> dict[str, type[Service]]:
    """Every service defined in this package, by name. A module that fails to import is left
    out (and named in `errors`), so one broken emulator never takes the others down."""
    import scanner.lab.emulators as package

    found: dict[str, type[Service]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in ("base", "host", "__main__") or info.name.startswith("_"):
            continue
        try:
            module = importlib.import_module(f"{package.__name__}.{info.name}")
        except Exception as exc:
            if errors is not None:
                errors[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Service)
                and value is not Service
                and getattr(value, "name", None)
                and value.__module__ == module.__name__
            ):
                if value.name in found:
                    raise RuntimeError(f"two emulators are named {value.name!r}")
                found[value.name] = value
    return found

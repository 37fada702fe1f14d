"""Raw ARP sockets for the lab's own tools, with the guard that keeps them inside the lab.

The responder and the probe send frames; the lab's rule is that nothing is ever sent from the
host's own network namespace, so both refuse to open a socket outside a named namespace.
"""

from __future__ import annotations

import os
import socket

from scanner.lab.arpwire import ETH_P_ARP

SO_RCVBUFFORCE = 33  # <asm-generic/socket.h>; lets root exceed net.core.rmem_max
SO_SNDBUFFORCE = 32
PACKET_OUTGOING = 4


class OutsideLab(RuntimeError):
    """Raised when a lab tool is started in the host's own network namespace."""


def current_netns_name(netns_dir: str = "/run/netns") -> str | None:
    """The `ip netns` name of this process's network namespace, or None if it has none.

    The host's own namespace has no name there, so "named" is the positive test that we are in
    a lab (comparing with PID 1's namespace is not possible in every container).
    """
    try:
        mine = os.stat("/proc/self/ns/net")
        entries = list(os.scandir(netns_dir))
    except OSError:
        return None
    for entry in entries:
        try:
            st = os.stat(entry.path)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino):
            return entry.name
    return None


def require_lab_netns() -> str:
    """The name of the lab namespace we run in; OutsideLab if we are not in a named one."""
    name = current_netns_name()
    if name is None:
        raise OutsideLab(
            "refusing to run outside a lab network namespace: lab tools send frames only "
            "inside the lab (run them with `ip netns exec <lab namespace> ...`)"
        )
    return name


def open_arp_socket(iface: str, buffer_bytes: int = 32 << 20) -> socket.socket:
    """An AF_PACKET socket bound to `iface` that sees only ARP, with big kernel buffers.

    Big buffers because a sweep at 100k frames/s would otherwise overflow the default ~200 KiB
    and drop replies, which would look like hosts that do not answer.
    """
    require_lab_netns()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    try:
        for force, plain in (
            (SO_RCVBUFFORCE, socket.SO_RCVBUF),
            (SO_SNDBUFFORCE, socket.SO_SNDBUF),
        ):
            try:
                sock.setsockopt(socket.SOL_SOCKET, force, buffer_bytes)
            except OSError:
                sock.setsockopt(socket.SOL_SOCKET, plain, buffer_bytes)
        sock.bind((iface, ETH_P_ARP))
    except BaseException:
        sock.close()
        raise
    return sock


def interface_mac(sock: socket.socket) -> bytes:
    """The MAC of the interface a bound AF_PACKET socket sends from."""
    address = sock.getsockname()
    mac = address[4]
    assert isinstance(mac, bytes)
    return mac[:6]

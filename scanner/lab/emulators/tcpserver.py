"""A small threaded TCP listener for the lab's byte-exact emulators (HTTP, RTSP, raw ports):
the standard library's HTTP server normalises header names, and the fingerprints depend on
exactly the bytes a device writes, so these emulators write raw bytes themselves.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import ssl
import threading
from collections.abc import Callable

Handler = Callable[[socket.socket, str], None]  # (connection, "ip:port" of the peer)


def listen(ip: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((ip, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def serve(
    listeners: list[tuple[socket.socket, Handler]],
    stop: threading.Event,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Accept on every listener until `stop`; each connection gets its own daemon thread, and a
    handler's exception only ends its connection."""
    selector = selectors.DefaultSelector()
    for sock, handler in listeners:
        selector.register(sock, selectors.EVENT_READ, handler)
    try:
        while not stop.is_set():
            for key, _ in selector.select(0.2):
                server: socket.socket = key.fileobj  # type: ignore[assignment]
                try:
                    conn, peer = server.accept()
                except OSError:
                    continue
                conn.setblocking(True)
                threading.Thread(
                    target=_run,
                    args=(key.data, conn, f"{peer[0]}:{peer[1]}", tls),
                    daemon=True,
                ).start()
    finally:
        selector.close()
        for sock, _ in listeners:
            sock.close()


def _run(handler: Handler, conn: socket.socket, peer: str, tls: ssl.SSLContext | None) -> None:
    try:
        conn.settimeout(5.0)
        if tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
        handler(conn, peer)
    except (OSError, ValueError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def read_head(conn: socket.socket, limit: int = 8192) -> bytes:
    """Bytes up to and including the first blank line (or what came before EOF/limit)."""
    data = b""
    while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < limit:
        try:
            chunk = conn.recv(1024)
        except (TimeoutError, OSError):
            break
        if not chunk:
            break
        data += chunk
    return data

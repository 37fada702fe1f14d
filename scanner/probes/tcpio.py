"""One bounded TCP exchange (connect, optional TLS, send, read) for the per-host probes.

Every read is capped in bytes (`Politeness.max_response`) and in time (the response's own limit
and the host's `Budget`, whichever ends first), so a device that trickles one byte at a time or
floods 10 MB costs a few seconds and 64 kB at most. Network problems come back as data in
`Exchange.state`/`error`, never as exceptions.
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from scanner.probes.limits import DEFAULT, Budget, Limits, Politeness, shared

Complete = Callable[[bytes], bool]  # True once the bytes read so far are a whole reply


@dataclass(frozen=True)
class Exchange:
    state: str  # "open", "closed" (refused), "timeout", "unreachable", "error"
    data: bytes = b""
    cut: str = ""  # why reading stopped: "complete", "eof", "cap", "time", "idle", "reset"
    elapsed: float = 0.0
    error: str = ""
    peer_cert: bytes | None = None  # DER of the server's certificate (TLS only)
    tls_version: str = ""

    @property
    def answered(self) -> bool:
        return self.state in ("open", "closed")


@cache
def _tls_context() -> ssl.SSLContext:
    """No verification on purpose: the point is to read the device's self-signed certificate,
    not to trust it, and nothing secret is ever sent."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:  # old camera firmware speaks TLS 1.0 with weak ciphers; we only read its certificate
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    return ctx


def _connect_state(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "closed"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN):
        return "unreachable"
    return "error"


def exchange(
    ip: str,
    port: int,
    payloads: tuple[bytes, ...] = (),
    *,
    budget: Budget,
    tls: bool = False,
    complete: Complete | None = None,
    idle: float | None = None,
    politeness: Politeness = DEFAULT,
    limits: Limits | None = None,
) -> Exchange:
    """Connect to ip:port, send `payloads` (each followed by a read, for RTSP's two requests on
    one connection; none: just read what the device says unprompted), and return the bytes.

    `idle`: stop after that long without a byte (for unprompted banners: most ports say
    nothing). `complete`: stop as soon as the bytes so far are a whole reply."""
    started = time.monotonic()
    with (limits or shared()).connection(ip):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.settimeout(budget.timeout(politeness.connect_timeout))
            try:
                sock.connect((ip, port))
            except OSError as exc:
                state = _connect_state(exc)
                return Exchange(state, elapsed=time.monotonic() - started, error=_why(exc))
            cert, version = None, ""
            if tls:
                try:
                    sock.settimeout(budget.timeout(politeness.read_timeout))
                    sock = _tls_context().wrap_socket(sock)
                    cert = sock.getpeercert(binary_form=True)
                    version = sock.version() or ""
                except (OSError, ssl.SSLError) as exc:
                    return Exchange(
                        "open", cut="tls", elapsed=time.monotonic() - started, error=_why(exc)
                    )
            data, cut, error = b"", "", ""
            for payload in payloads or (b"",):
                if payload:
                    try:
                        sock.sendall(payload)
                    except OSError as exc:
                        error = _why(exc)
                        break
                more, cut = _read(sock, budget, politeness, complete, idle, data)
                data += more
                if cut not in ("complete",):
                    break
            return Exchange("open", data, cut, time.monotonic() - started, error, cert, version)
        finally:
            sock.close()


def _read(
    sock: socket.socket,
    budget: Budget,
    politeness: Politeness,
    complete: Complete | None,
    idle: float | None,
    before: bytes,
) -> tuple[bytes, str]:
    """Read one reply: until complete, EOF, the byte cap, the response's time or the budget."""
    deadline = min(time.monotonic() + politeness.response_time, budget.deadline)
    data = bytearray()
    while True:
        room = politeness.max_response - len(before) - len(data)
        if room <= 0:
            return bytes(data), "cap"
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "time"
        sock.settimeout(max(0.001, min(left, idle or politeness.read_timeout)))
        try:
            chunk = sock.recv(min(room, 16384))
        except TimeoutError:
            return bytes(data), "idle" if idle and time.monotonic() < deadline else "time"
        except OSError:
            return bytes(data), "reset"
        if not chunk:
            return bytes(data), "eof"
        data += chunk
        if complete is not None and complete(bytes(data)):
            return bytes(data), "complete"


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]

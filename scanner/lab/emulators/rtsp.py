"""RTSP emulator (TCP 554), replies as in research §5.2.

- Hikvision cameras: OPTIONS 200 with the Public list and no Server header, `Date:` with two
  spaces and the "Tue, Dec 21 2021 12:08:36 GMT" layout; DESCRIBE without credentials 401 with
  two challenges, Digest and Basic, realm `IP Camera(xxxxx)`. Older recorders (`oem-label`
  here): Digest realm `Hikvision` plus `Basic realm="/"`.
- Dahua: `Server: Dahua Rtsp Server` (OEM builds: `Rtsp Server/2.0`), DESCRIBE 401 Digest realm
  `Login to <serial>`.
- Decoys: Axis (realm `AXIS_<serial>`), a generic DVR, others with a plain Digest realm.

Any request carrying Authorization is still answered 401 (the lab has no stream to give). Every
request is logged with its method and whether it carried Authorization.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time

from scanner.lab.emulators.base import Service
from scanner.lab.emulators.tcpserver import listen, serve
from scanner.lab.personas import Persona

PORT = 554
HIK_PUBLIC = "OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER"
DAHUA_PUBLIC = "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"
GENERIC_PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN"


def _hik_date() -> str:
    return time.strftime("%a, %b %d %Y %H:%M:%S GMT", time.gmtime())


def _nonce(seed: str) -> str:
    return hashlib.md5(f"{seed}{time.time()}".encode()).hexdigest()


def reply(persona: Persona | None, method: str, cseq: str) -> bytes:
    """The whole reply to one request, as bytes."""
    family = persona.family if persona else "generic"
    serial = persona.serial if persona else ""
    lines: list[str]
    if family == "hikvision" and persona is not None:
        date = f"Date:  {_hik_date()}"  # two spaces: the firmware's habit
        if method == "OPTIONS":
            lines = ["RTSP/1.0 200 OK", f"CSeq: {cseq}", f"Public: {HIK_PUBLIC}", date]
        elif "oem-label" in persona.quirks:
            lines = [
                "RTSP/1.0 401 Unauthorized",
                f"CSeq: {cseq}",
                f'WWW-Authenticate: Digest realm="Hikvision", nonce="{_nonce(serial)}", '
                'stale="FALSE"',
                'WWW-Authenticate: Basic realm="/"',
                date,
            ]
        else:
            realm = f"IP Camera({serial[-5:]})"
            lines = [
                "RTSP/1.0 401 Unauthorized",
                f"CSeq: {cseq}",
                f'WWW-Authenticate: Digest realm="{realm}", nonce="{_nonce(serial)}", '
                'stale="FALSE"',
                f'WWW-Authenticate: Basic realm="{realm}"',
                date,
            ]
    elif family == "dahua" and persona is not None:
        server = "Rtsp Server/2.0" if "oem-label" in persona.quirks else "Dahua Rtsp Server"
        if method == "OPTIONS":
            lines = ["RTSP/1.0 200 OK", f"CSeq: {cseq}", f"Server: {server}",
                     f"Public: {DAHUA_PUBLIC}"]  # fmt: skip
        else:
            lines = [
                "RTSP/1.0 401 Unauthorized",
                f"CSeq: {cseq}",
                f'WWW-Authenticate: Digest realm="Login to {serial}", nonce="{_nonce(serial)}"',
                f"Server: {server}",
            ]
    else:
        if family == "axis":
            server, realm = "GStreamer RTSP server", f"AXIS_{serial}"
        elif persona is not None and persona.model == "DVR":
            server, realm = "RTSP Server", "DVR"
        else:
            server, realm = "RTSP Server", "RTSP SERVER"
        if method == "OPTIONS":
            lines = ["RTSP/1.0 200 OK", f"CSeq: {cseq}", f"Server: {server}",
                     f"Public: {GENERIC_PUBLIC}"]  # fmt: skip
        else:
            lines = [
                "RTSP/1.0 401 Unauthorized",
                f"CSeq: {cseq}",
                f"Server: {server}",
                f'WWW-Authenticate: Digest realm="{realm}", nonce="{_nonce(serial)}"',
            ]
    if method not in ("OPTIONS", "DESCRIBE"):
        lines = ["RTSP/1.0 455 Method Not Valid in This State", f"CSeq: {cseq}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RtspService(Service):
    name = "rtsp"

    def serve(self, stop: threading.Event) -> None:
        listener = listen(self.ctx.device.ip, PORT)
        self.ctx.ready()
        serve([(listener, self._handle)], stop)

    def _handle(self, conn: socket.socket, peer: str) -> None:
        buffer = b""
        requests = 0
        while requests < 16:
            while b"\r\n\r\n" not in buffer and len(buffer) < 8192:
                try:
                    chunk = conn.recv(2048)
                except (TimeoutError, OSError):
                    chunk = b""
                if not chunk:
                    if requests == 0:
                        self.ctx.log.record(self.name, peer, buffer, kind="connect", port=PORT)
                    return
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            requests += 1
            text = head.decode("latin-1")
            lines = text.split("\r\n")
            method = lines[0].split(" ", 1)[0]
            fields = {
                line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip()
                for line in lines[1:]
                if ":" in line
            }
            self.ctx.log.record(
                self.name,
                peer,
                head,
                kind=method,
                port=PORT,
                authorization="authorization" in fields,
            )
            conn.sendall(reply(self.ctx.persona, method, fields.get("cseq", "0")))

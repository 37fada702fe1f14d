"""The `onvif` service: the ONVIF device service at http://<ip>:8999/onvif/device_service.

A real camera serves the device service from its web server on port 80, and so does the lab:
the `http` emulator hands `/onvif/...` to the same handler, and WS-Discovery XAddrs advertise
port 80. This service answers on 8999 as well, for devices without the `http` emulator (the
scale lab's cameras) and for firmware that puts ONVIF on a port of its own. Answers come from
`onvif_handler.handle_onvif`; every request is logged whole (headers and body), so a test can
prove no Authorization header or UsernameToken was sent without credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scanner.lab.emulators.base import RequestLog, Service
from scanner.lab.emulators.onvif_handler import PORT, handle_onvif, lab_credentials
from scanner.lab.personas import Persona

MAX_REQUEST_BODY = 64 * 1024
Lookup = Callable[[str], tuple[str, Persona] | None]  # local address -> (device, persona)


def make_server(
    bind_ip: str, port: int, lookup: Lookup, log: RequestLog, login: tuple[str, str]
) -> ThreadingHTTPServer:
    """An HTTP server answering ONVIF for whichever device owns the address it was reached on."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "gSOAP/2.8"
        sys_version = ""
        timeout = 5.0

        def log_message(self, format: str, *args: object) -> None:
            pass  # the request log is the record

        def _answer(self) -> None:
            local_ip = self.connection.getsockname()[0]
            found = lookup(local_ip)
            try:
                length = min(int(self.headers.get("Content-Length") or 0), MAX_REQUEST_BODY)
            except ValueError:
                length = 0
            body = self.rfile.read(max(0, length)) if length else b""
            head = f"{self.requestline}\r\n{self.headers}".encode("latin-1", "replace")
            peer = f"{self.client_address[0]}:{self.client_address[1]}"
            if found is None:
                log.record("onvif", peer, head + body, kind="unknown address", answered=False)
                self.send_error(404)
                return
            device, persona = found
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = handle_onvif(persona, device, self.command, self.path, headers, body, login)
            log.record(
                "onvif",
                peer,
                head + body,
                kind=answer.kind,
                device=device,
                status=answer.status,
                auth=answer.auth,
                authorized=answer.authorized,
            )
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(answer.body)
            self.close_connection = True

        do_POST = _answer
        do_GET = _answer

    server = ThreadingHTTPServer((bind_ip, port), Handler)
    server.daemon_threads = True
    return server


def serve_until(server: ThreadingHTTPServer, stop: threading.Event) -> None:
    thread = threading.Thread(target=server.serve_forever, args=(0.2,), daemon=True)
    thread.start()
    try:
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        server.shutdown()
        server.server_close()


class OnvifService(Service):
    name = "onvif"

    def serve(self, stop: threading.Event) -> None:
        device, persona = self.ctx.device, self.ctx.persona
        if persona is None:
            raise RuntimeError(f"{device.name} has no persona to answer ONVIF with")
        # The log lives in <state dir>/requests/, and the lab's login in the state dir.
        log_path: Path = getattr(self.ctx.log, "_path", Path("/nonexistent/requests/x"))
        login = lab_credentials(log_path.parent.parent)

        def lookup(local_ip: str) -> tuple[str, Persona] | None:
            return (device.name, persona) if local_ip == device.ip else None

        server = make_server(device.ip, PORT, lookup, self.ctx.log, login)
        self.ctx.ready()
        serve_until(server, stop)

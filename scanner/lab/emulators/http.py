"""HTTP and HTTPS emulators: the web servers of the lab's cameras, recorders and decoys,
byte-exact where the fingerprints look (research §2, §8.2).

- Hikvision firmware: `Server: App-webs/` (cameras) or `DNVRS-Webs` (recorders); `/` is a tiny
  page whose script jumps to `/doc/page/login.asp?_<ms>`; the login page names "Hikvision
  Digital Technology"; `/ISAPI/System/deviceInfo` is 401 Digest, realm `IP Camera(xxxxx)`, the
  model, or `DS-<8 hex>` depending on the firmware generation.
- Dahua firmware: upper-case header names (`CONNECTION`, `CONTENT-LENGTH`, ...), `Etag
  "n:hex"`, a UTF-8 BOM and `<title>WEB SERVICE</title>`; CGI paths answer 401 Digest realm
  `Login to <serial>`; `POST /RPC2_Login` answers the login challenge (the scanner never sends it).
- Decoys: `Server: Webs` + `Basic realm="DVR"` (generic tells), Axis, Uniview, HP, ZTE pages.
- Quirks: `trickle` writes one byte every 50 ms; `huge-banner` answers `/` with a 10 MB body.

HTTPS uses a self-signed certificate made when the service starts, with the subject the
vendor's firmware uses (recog `x509_subjects.xml` for Hikvision). Every request is logged with
its method, path and headers; a connection that sends nothing is logged as `connect`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass

from scanner.lab.emulators.base import Service
from scanner.lab.emulators.tcpserver import listen, read_head, serve
from scanner.lab.personas import Persona

HUGE = 10 * 1024 * 1024
TRICKLE_DELAY = 0.05


@dataclass(frozen=True)
class Reply:
    status: str  # "200 OK"
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    version: str = "HTTP/1.1"

    def encode(self) -> bytes:
        lines = [f"{self.version} {self.status}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


def _http_date() -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())


def _favicon(family: str) -> bytes:
    """A stand-in icon per firmware family (16x16 ICO header + deterministic pixels)."""
    header = bytes.fromhex("0000010001001010000001002000") + (1128).to_bytes(4, "little")
    header += (22).to_bytes(4, "little")
    return header + hashlib.sha256(family.encode()).digest() * 35


def _nonce(persona: Persona, path: str) -> str:
    return hashlib.md5(f"{persona.serial}{path}{time.time()}".encode()).hexdigest()


def _kind(persona: Persona | None) -> str:
    if persona is None:
        return "generic"
    if "trickle" in persona.quirks:
        return "trickle"
    if "huge-banner" in persona.quirks:
        return "huge"
    if persona.family == "generic" and persona.model == "DVR":
        return "webs"
    return persona.family


# --- Hikvision --------------------------------------------------------------------------------


def _hik_realm(persona: Persona) -> str:
    """Three firmware generations: camera `IP Camera(xxxxx)`, recorder = model, OEM `DS-<hex>`."""
    if persona.device_type == "camera":
        return f"IP Camera({persona.serial[-5:]})"
    if "oem-label" in persona.quirks:
        return "DS-" + hashlib.sha256(persona.serial.encode()).hexdigest()[:8].upper()
    return persona.model


def hikvision(persona: Persona, method: str, path: str) -> Reply:
    server = "App-webs/" if persona.device_type == "camera" else "DNVRS-Webs"
    base = (("Date", _http_date()), ("Server", server))
    route = path.split("?", 1)[0]
    if route == "/":
        body = (
            b'<!DOCTYPE html>\n<html><head><meta http-equiv="Content-Type" content="text/html; '
            b'charset=utf-8"><title></title><script>window.location.href = '
            b'"/doc/page/login.asp?_" + (new Date()).getTime();</script></head><body></body></html>'
        )
        return _ok(base, "text/html", body)
    if route == "/doc/page/login.asp":
        title = persona.brand or "HIKVISION"
        body = (
            f'<!DOCTYPE html><html><head><title>{title}</title><script src="../script/inc.js">'
            '</script></head><body><div id="login"><input id="username" type="text"/>'
            '<input id="password" type="password"/></div><div class="footer">&copy;'
            " Hikvision Digital Technology Co., Ltd. All Rights Reserved.</div></body></html>"
        ).encode()
        if "oem-label" in persona.quirks:
            body = body.replace(b" Hikvision Digital Technology Co., Ltd.", b" " + title.encode())
        return _ok(base, "text/html", body)
    if route.startswith("/ISAPI/"):
        realm = _hik_realm(persona)
        nonce = _nonce(persona, path)
        challenge = f'Digest qop="auth", realm="{realm}", nonce="{nonce}", stale="FALSE"'
        body = (
            b'<?xml version="1.0" encoding="UTF-8" ?>\n<userCheck>\n<statusValue>401'
            b"</statusValue>\n<statusString>Unauthorized</statusString>\n</userCheck>"
        )
        headers = (
            *base,
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("WWW-Authenticate", challenge),
            ("WWW-Authenticate", f'Basic realm="{realm}"'),
        )
        return Reply("401 Unauthorized", headers, body)
    if route == "/favicon.ico":
        return _ok(base, "image/x-icon", _favicon("hikvision"))
    return _not_found(base)


# --- Dahua ------------------------------------------------------------------------------------

_DAHUA_PAGE = (
    b'\xef\xbb\xbf<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/'
    b'xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
    b'<title>WEB SERVICE</title></head><body><div class="ui-dialog-content"></div>'
    b'<input id="login_user" class="t_username" type="text" /></body></html>'
)


def _dahua_headers(length: int, content_type: str) -> tuple[tuple[str, str], ...]:
    return (
        ("CONNECTION", "close"),
        ("CONTENT-LENGTH", str(length)),
        ("CACHE-CONTROL", "max-age=0"),
        ("CONTENT-TYPE", content_type),
        ("Etag", '"1623628800:5f3a"'),
        ("P3P", "CP=CAO PSA OUR"),
    )


def dahua(persona: Persona, method: str, path: str) -> Reply:
    route = path.split("?", 1)[0]
    if method == "POST" and route == "/RPC2_Login":
        reply = {
            "error": {"code": 268632079, "message": "Component error: login challenge!"},
            "id": 1,
            "params": {
                "authorization": hashlib.sha1(persona.serial.encode()).hexdigest(),
                "encryption": "Default",
                "mac": "3CEF8C14B25A",
                "random": "1234567890",
                "realm": f"Login to {persona.serial}",
            },
            "result": False,
            "session": hashlib.md5(persona.serial.encode()).hexdigest(),
        }
        body = json.dumps(reply).encode()
        return Reply("200 OK", _dahua_headers(len(body), "application/json"), body)
    if route == "/":
        return Reply("200 OK", _dahua_headers(len(_DAHUA_PAGE), "text/html"), _DAHUA_PAGE)
    if route.startswith("/cgi-bin/"):
        body = b"Error\r\nInvalid Authority!\r\n"
        challenge = (
            f'Digest realm="Login to {persona.serial}", qop="auth", '
            f'nonce="{_nonce(persona, path)[:10]}", opaque="{_nonce(persona, "o")[:40]}"'
        )
        headers = (*_dahua_headers(len(body), "text/plain"), ("WWW-Authenticate", challenge))
        return Reply("401 Unauthorized", headers, body)
    if route == "/favicon.ico":
        icon = _favicon("dahua")
        return Reply("200 OK", _dahua_headers(len(icon), "image/x-icon"), icon)
    body = b"<html><body>404 File Not Found</body></html>"
    return Reply("404 Not Found", _dahua_headers(len(body), "text/html"), body)


# --- decoys and others ------------------------------------------------------------------------


def webs_decoy(persona: Persona, method: str, path: str) -> Reply:
    """Generic tells only: GoAhead's `Webs` server name and a `DVR` Basic realm."""
    base = (("Server", "Webs"), ("Date", _http_date()))
    if path.split("?", 1)[0] == "/":
        body = b"<html><head><title>Document Error: Unauthorized</title></head></html>"
        headers = (
            *base,
            ("WWW-Authenticate", 'Basic realm="DVR"'),
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        )
        return Reply("401 Unauthorized", headers, body, "HTTP/1.0")
    return _not_found(base)


_PAGES = {
    # family: (Server header or "", title)
    "axis": ("", "AXIS"),
    "uniview": ("", "Web Client"),
    "zte": ("ZTE web server 1.0 ZTE corp 2015.", "F660"),
    "generic": ("lighttpd/1.4.59", "Welcome"),
}


def plain(persona: Persona | None, method: str, path: str) -> Reply:
    family = persona.family if persona else "generic"
    if family == "hp" and persona is not None:
        server = f"HP HTTP Server; HP {persona.model} - W1A53A; Serial Number: {persona.serial}"
        title = f"HP {persona.model}"
    else:
        server, title = _PAGES.get(family, _PAGES["generic"])
    base: tuple[tuple[str, str], ...] = (("Date", _http_date()),)
    if server:
        base += (("Server", server),)
    if path.split("?", 1)[0] != "/":
        return _not_found(base)
    body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body></body></html>"
    return _ok(base, "text/html; charset=utf-8", body.encode())


def _ok(base: tuple[tuple[str, str], ...], content_type: str, body: bytes) -> Reply:
    headers = (
        *base,
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    )
    return Reply("200 OK", headers, body)


def _not_found(base: tuple[tuple[str, str], ...]) -> Reply:
    body = b"<html><head><title>Document Error: Page not found</title></head></html>"
    return Reply(
        "404 Not Found",
        (*base, ("Content-Length", str(len(body))), ("Connection", "close")),
        body,
    )


def respond(persona: Persona | None, method: str, path: str) -> Reply:
    kind = _kind(persona)
    if persona is not None and kind == "hikvision":
        return hikvision(persona, method, path)
    if persona is not None and kind == "dahua":
        return dahua(persona, method, path)
    if persona is not None and kind == "webs":
        return webs_decoy(persona, method, path)
    return plain(persona, method, path)


# --- certificates -----------------------------------------------------------------------------


def cert_subject(persona: Persona | None, ip: str) -> list[tuple[str, str]]:
    """(attribute, value) pairs, most significant first, as the vendor's firmware writes them."""
    family = persona.family if persona else "generic"
    if family == "hikvision":
        return [
            ("C", "CN"),
            ("ST", "ZheJiang"),
            ("L", "HangZhou"),
            ("O", "HIKVISION"),
            ("OU", "DVRNVR"),
            ("CN", "www.hikvision.com"),
        ]
    return [("CN", ip)]  # other makers' factory certificates are not in the research


def make_tls_context(persona: Persona | None, ip: str) -> ssl.SSLContext:
    """A fresh self-signed certificate (EC P-256: fast to make) loaded into a server context."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    oids = {
        "C": NameOID.COUNTRY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "L": NameOID.LOCALITY_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "CN": NameOID.COMMON_NAME,
    }
    name = x509.Name([x509.NameAttribute(oids[k], v) for k, v in cert_subject(persona, ip)])
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    folder = tempfile.mkdtemp(prefix="ndaa-lab-cert-")
    cert_path, key_path = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    try:
        with open(cert_path, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        ctx.load_cert_chain(cert_path, key_path)
    finally:
        for path in (cert_path, key_path):
            with contextlib.suppress(OSError):
                os.unlink(path)
        os.rmdir(folder)
    return ctx


# --- the services -----------------------------------------------------------------------------


class HttpService(Service):
    name = "http"
    port = 80
    tls = False

    def serve(self, stop: threading.Event) -> None:
        tls = make_tls_context(self.ctx.persona, self.ctx.device.ip) if self.tls else None
        listener = listen(self.ctx.device.ip, self.port)
        self.ctx.ready()
        serve([(listener, self._handle)], stop, tls)

    def _handle(self, conn: socket.socket, peer: str) -> None:
        head = read_head(conn)
        if not head:
            self.ctx.log.record(self.name, peer, b"", kind="connect", answered=False)
            return
        request_line = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        method, path = (parts[0], parts[1]) if len(parts) >= 2 else ("?", "?")
        headers = [
            line.split(":", 1)[0].strip().lower()
            for line in head.decode("latin-1").splitlines()[1:]
            if ":" in line
        ]
        self.ctx.log.record(
            self.name,
            peer,
            head,
            kind=f"{method} {path}",
            port=self.port,
            authorization="authorization" in headers,
        )
        persona = self.ctx.persona
        if path.startswith("/onvif/") and "onvif" in self.ctx.device.services and persona:
            self._onvif(conn, peer, head, method, path, persona)
            return
        if persona is not None and "trickle" in persona.quirks:
            self._trickle(conn, respond(None, method, path).encode() + b" " * 4096)
            return
        reply = respond(persona, method, path)
        if persona is not None and "huge-banner" in persona.quirks and path == "/":
            self._huge(conn)
            return
        conn.sendall(reply.encode())

    def _onvif(
        self, conn: socket.socket, peer: str, head: bytes, method: str, path: str, persona: Persona
    ) -> None:
        """The device service on the web server's own port, as real cameras serve it (the
        `onvif` service answers the same on its port for the scale lab)."""
        from scanner.lab.emulators.onvif_handler import handle_onvif, lab_credentials

        text = head.decode("latin-1")
        header_part, _, body = text.partition("\r\n\r\n")
        headers = {
            line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip()
            for line in header_part.splitlines()[1:]
            if ":" in line
        }
        try:
            length = max(0, min(int(headers.get("content-length", "0")), 65536))
        except ValueError:
            length = 0
        data = body.encode("latin-1")
        conn.settimeout(2.0)
        while len(data) < length:
            try:
                chunk = conn.recv(length - len(data))
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        log_path = getattr(self.ctx.log, "_path", None)
        state_dir = log_path.parent.parent if log_path is not None else None
        login = lab_credentials(state_dir) if state_dir is not None else ("", "")
        answer = handle_onvif(persona, self.ctx.device.name, method, path, headers, data, login)
        self.ctx.log.record(
            "onvif",
            peer,
            head[: len(header_part) + 4] + data,
            kind=answer.kind,
            device=self.ctx.device.name,
            status=answer.status,
            auth=answer.auth,
            authorized=answer.authorized,
            port=self.port,
        )
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized"}.get(answer.status, "Error")
        lines = [f"HTTP/1.1 {answer.status} {reason}", "Server: gSOAP/2.8"]
        lines += [f"{name}: {value}" for name, value in answer.headers]
        lines += [f"Content-Length: {len(answer.body)}", "Connection: close", "", ""]
        conn.sendall("\r\n".join(lines).encode("latin-1") + answer.body)

    @staticmethod
    def _trickle(conn: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            time.sleep(TRICKLE_DELAY)

    @staticmethod
    def _huge(conn: socket.socket) -> None:
        head = (
            f"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
            f"Content-Length: {HUGE}\r\nConnection: close\r\n\r\n<html><head><title>NAS"
            "</title></head><body>"
        ).encode()
        conn.sendall(head)
        chunk = b"A" * 65536
        for _ in range(HUGE // len(chunk)):
            conn.sendall(chunk)


class HttpsService(HttpService):
    name = "https"
    port = 443
    tls = True

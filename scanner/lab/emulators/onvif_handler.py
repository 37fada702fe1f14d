"""How the lab's cameras answer ONVIF device-service calls: a plain function over one request, so
the per-device service (`onvif.py`) and the scale lab's many-camera process share it.

Behaviour per firmware family (research §3.3, §8.2):
- `GetSystemDateAndTime` answers without authentication (PRE_AUTH), on the device's own clock,
  which is off by a per-device skew so a client that ignores the skew fails UsernameToken.
- `GetDeviceInformation`: Hikvision cameras challenge with HTTP 401 Digest; Hikvision recorders
  (UsernameToken only) answer 400 with a `ter:NotAuthorized` fault; Dahua firmware and its OEMs
  answer anonymously (an older-firmware quirk), Manufacturer = the label (`Amcrest`).
- With the lab's login (Digest or a UsernameToken whose Created is within 2 minutes of the
  device's clock) the DeviceInformation from the persona.
- Anything else: a SOAP fault `ter:ActionNotSupported`; not POST or not the device-service path:
  404. Every request is logged with what auth it carried.

Written independently of scanner/wire/onvif.py on purpose (regular expressions, not XML).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from scanner.lab.personas import Persona

LAB_USER = "ndaa-lab"
DEVICE_PATH = "/onvif/device_service"
PORT = 8999  # the device service's own port; the web UI emulator serves it on 80 too
CREATED_TOLERANCE = 120.0  # seconds between a UsernameToken's Created and the device's clock
ALLOWED_ACTIONS = ("GetSystemDateAndTime", "GetDeviceInformation")
# Per-device clock skew in seconds (what GetSystemDateAndTime reports minus real UTC).
SKEW = {"hik-cam": 1800.0, "hik-nvr": -900.0, "dahua-cam": 0.0, "amcrest-cam": 40.0}
_NONCE = secrets.token_hex(16)  # this process's Digest nonce


def lab_credentials(state_dir: Path) -> tuple[str, str]:
    """The lab's ONVIF login: created once per lab (random password, mode 600) in its state
    directory and read back by the emulators and by the tests that scan with credentials."""
    path = state_dir / "onvif-login.json"
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
        data = json.loads(path.read_text())
        return str(data["username"]), str(data["password"])
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".onvif-login.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"username": LAB_USER, "password": secrets.token_urlsafe(12)}))
    os.chmod(tmp, 0o600)
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # atomic: the first writer wins, the others read its file
    tmp.unlink(missing_ok=True)
    data = json.loads(path.read_text())
    return str(data["username"]), str(data["password"])


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    kind: str  # the action asked for, or "http <method> <path>"
    auth: str  # what the request carried: "none", "digest", "usernametoken", "basic", "other"
    authorized: bool  # whether it was accepted as the lab's login


def _soap(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" '
        'xmlns:ter="http://www.onvif.org/ver10/error">'
        f"<env:Body>{inner}</env:Body></env:Envelope>"
    ).encode()


def _fault(subcode: str, reason: str) -> bytes:
    return _soap(
        "<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode>"
        f"<env:Value>{subcode}</env:Value></env:Subcode></env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{reason}</env:Text></env:Reason></env:Fault>'
    )


def _time_body(moment: datetime) -> bytes:
    def block(tag: str, t: datetime) -> str:
        return (
            f"<tt:{tag}><tt:Time><tt:Hour>{t.hour}</tt:Hour><tt:Minute>{t.minute}</tt:Minute>"
            f"<tt:Second>{t.second}</tt:Second></tt:Time><tt:Date><tt:Year>{t.year}</tt:Year>"
            f"<tt:Month>{t.month}</tt:Month><tt:Day>{t.day}</tt:Day></tt:Date></tt:{tag}>"
        )

    local = moment + timedelta(hours=8)
    return _soap(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>CST-8:00:00</tt:TZ></tt:TimeZone>"
        f"{block('UTCDateTime', moment)}{block('LocalDateTime', local)}"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


def _info_body(persona: Persona) -> bytes:
    maker = persona.brand if persona.family != "hikvision" else "HIKVISION"
    hardware = "88" if persona.family == "hikvision" else "1.00"
    return _soap(
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{escape(maker)}</tds:Manufacturer>"
        f"<tds:Model>{escape(persona.model)}</tds:Model>"
        f"<tds:FirmwareVersion>{escape(persona.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{escape(persona.serial)}</tds:SerialNumber>"
        f"<tds:HardwareId>{hardware}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def _action(body: bytes) -> str:
    match = re.search(
        rb"<(?:[\w.-]{1,32}:)?Body\b[^>]{0,512}>\s*<(?:[\w.-]{1,32}:)?(\w{1,64})", body
    )
    return match.group(1).decode("ascii", "replace") if match else ""


def _tag(body: bytes, name: str) -> str | None:
    match = re.search(
        rb"<(?:[\w.-]{1,32}:)?" + name.encode() + rb"\b[^>]{0,512}>([^<]{0,512})<", body
    )
    return match.group(1).decode("utf-8", "replace").strip() if match else None


def _check_token(body: bytes, user: str, password: str, device_now: datetime) -> tuple[bool, bool]:
    """(carried a UsernameToken, it is the lab's login with a fresh Created)."""
    if b"UsernameToken" not in body:
        return False, False
    name, digest = _tag(body, "Username"), _tag(body, "Password")
    nonce, created = _tag(body, "Nonce"), _tag(body, "Created")
    if None in (name, digest, nonce, created):
        return True, False
    try:
        raw_nonce = base64.b64decode(nonce or "", validate=True)
        stamp = datetime.strptime(created or "", "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return True, False
    expected = base64.b64encode(
        hashlib.sha1(raw_nonce + (created or "").encode() + password.encode()).digest()
    ).decode()
    fresh = abs((stamp - device_now).total_seconds()) <= CREATED_TOLERANCE
    return True, name == user and secrets.compare_digest(expected, digest or "") and fresh


def _check_digest(header: str, method: str, user: str, password: str) -> bool:
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', header))
    if params.get("username") != user or params.get("nonce") != _NONCE:
        return False

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{user}:{params.get('realm', '')}:{password}")
    ha2 = md5(f"{method}:{params.get('uri', '')}")
    expected = md5(
        f"{ha1}:{_NONCE}:{params.get('nc', '')}:{params.get('cnonce', '')}:"
        f"{params.get('qop', '')}:{ha2}"
    )
    return secrets.compare_digest(expected, params.get("response", ""))


def handle_onvif(
    persona: Persona,
    device: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    login: tuple[str, str],
    now: float | None = None,
) -> Answer:
    """One request to the device service; `headers` has lower-case names."""
    device_now = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    device_now += timedelta(seconds=SKEW.get(device, 0.0))
    authorization = headers.get("authorization", "")
    words = authorization.split(None, 1)
    scheme = words[0].lower() if words else ""
    has_token, token_ok = _check_token(body, login[0], login[1], device_now)
    auth = "digest" if scheme == "digest" else "usernametoken" if has_token else "none"
    if scheme and scheme != "digest":
        auth = scheme if scheme == "basic" else "other"
    xml = (("Content-Type", "application/soap+xml; charset=utf-8"),)
    if method != "POST" or path.split("?", 1)[0] != DEVICE_PATH:
        return Answer(404, (), b"Not Found", f"http {method} {path[:64]}", auth, False)
    action = _action(body)
    if action == "GetSystemDateAndTime":
        return Answer(200, xml, _time_body(device_now), action, auth, False)
    if action != "GetDeviceInformation":
        fault = _fault("ter:ActionNotSupported", "Action not supported by the lab")
        return Answer(400, xml, fault, action or "unknown", auth, False)
    authorized = token_ok or (
        scheme == "digest" and _check_digest(authorization, method, login[0], login[1])
    )
    if authorized or persona.family == "dahua":
        return Answer(200, xml, _info_body(persona), action, auth, authorized)
    if device.endswith("nvr"):  # UsernameToken-only firmware: 400 and a NotAuthorized fault
        fault = _fault("ter:NotAuthorized", "Sender not Authorized")
        return Answer(400, xml, fault, action, auth, False)
    challenge = f'Digest realm="IP Camera({persona.serial[-5:]})", qop="auth", nonce="{_NONCE}"'
    return Answer(401, (("WWW-Authenticate", challenge),), b"", action, auth, False)

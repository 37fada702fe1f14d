"""The ONVIF emulator's answers, per firmware family, as a plain function (no sockets)."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.lab.emulators.onvif_handler import (
    DEVICE_PATH,
    SKEW,
    handle_onvif,
    lab_credentials,
)
from scanner.lab.personas import PERSONAS

LOGIN = ("ndaa-lab", "pw-123")
NOW = 1_800_000_000.0


def _call(action: str, header: str = "") -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"{header}<s:Body><tds:{action}/></s:Body></s:Envelope>"
    ).encode()


def _token(user: str, password: str, created: datetime) -> str:
    nonce = b"0123456789abcdef"
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + stamp.encode() + password.encode()).digest())
    return (
        "<s:Header><wsse:Security><wsse:UsernameToken>"
        f"<wsse:Username>{user}</wsse:Username><wsse:Password>{digest.decode()}</wsse:Password>"
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{stamp}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>"
    )


def _ask(device: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST"):  # type: ignore[no-untyped-def]
    return handle_onvif(
        PERSONAS[device], device, method, DEVICE_PATH, headers or {}, body, LOGIN, now=NOW
    )


def test_time_is_pre_auth_and_skewed() -> None:
    answer = _ask("hik-cam", _call("GetSystemDateAndTime"))
    assert answer.status == 200 and answer.auth == "none"
    moment = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=SKEW["hik-cam"])
    assert f"<tt:Hour>{moment.hour}</tt:Hour>".encode() in answer.body


def test_device_information_per_family() -> None:
    hik = _ask("hik-cam", _call("GetDeviceInformation"))
    assert hik.status == 401 and "Digest" in dict(hik.headers)["WWW-Authenticate"]
    nvr = _ask("hik-nvr", _call("GetDeviceInformation"))
    assert nvr.status == 400 and b"ter:NotAuthorized" in nvr.body
    amcrest = _ask("amcrest-cam", _call("GetDeviceInformation"))
    assert amcrest.status == 200 and b"<tds:Manufacturer>Amcrest<" in amcrest.body
    assert PERSONAS["amcrest-cam"].serial.encode() in amcrest.body


def test_usernametoken_must_be_on_the_device_clock() -> None:
    device_now = datetime.fromtimestamp(NOW, UTC) + timedelta(seconds=SKEW["hik-nvr"])
    good = _ask("hik-nvr", _call("GetDeviceInformation", _token(*LOGIN, device_now)))
    assert good.status == 200 and good.authorized and good.auth == "usernametoken"
    ours = datetime.fromtimestamp(NOW, UTC)  # ignoring the skew: 15 minutes off
    late = _ask("hik-nvr", _call("GetDeviceInformation", _token(*LOGIN, ours)))
    assert late.status == 400 and not late.authorized
    wrong = _ask("hik-nvr", _call("GetDeviceInformation", _token("ndaa-lab", "x", device_now)))
    assert wrong.status == 400


def test_digest_login() -> None:
    challenge = dict(_ask("hik-cam", _call("GetDeviceInformation")).headers)["WWW-Authenticate"]
    realm = re.search(r'realm="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5(f"ndaa-lab:{realm}:pw-123"), md5(f"POST:{DEVICE_PATH}")
    response = md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
    header = (
        f'Digest username="ndaa-lab", realm="{realm}", nonce="{nonce}", uri="{DEVICE_PATH}", '
        f'response="{response}", qop=auth, nc=00000001, cnonce="abc"'
    )
    answer = _ask("hik-cam", _call("GetDeviceInformation"), {"authorization": header})
    assert answer.status == 200 and answer.auth == "digest" and b"HIKVISION" in answer.body


def test_other_calls_and_paths_are_refused_and_named() -> None:
    answer = _ask("hik-cam", _call("SetSystemDateAndTime"))
    assert answer.status == 400 and answer.kind == "SetSystemDateAndTime"
    assert b"ActionNotSupported" in answer.body
    assert _ask("hik-cam", b"", method="GET").status == 404


def test_lab_credentials_are_created_once(tmp_path: Path) -> None:
    first = lab_credentials(tmp_path)
    assert first == lab_credentials(tmp_path) and first[0] == "ndaa-lab" and len(first[1]) >= 12
    assert (tmp_path / "onvif-login.json").stat().st_mode & 0o077 == 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.text(max_size=200))
def test_never_raises(body: bytes, auth: str) -> None:
    for device in ("hik-cam", "hik-nvr", "dahua-cam"):
        _ask(device, body, {"authorization": auth})
        _ask(device, _call("GetDeviceInformation", body.decode("latin-1")), {"authorization": auth})

"""ONVIF device-service wire format: envelopes, UsernameToken, HTTP Digest, parsers."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import onvif

# The ONVIF Application Programmer's Guide's worked UsernameToken example.
GUIDE_NONCE = base64.b64decode("LKqI6G/AikKCQrN0zqZFlg==")
GUIDE_CREATED = datetime(2010, 9, 16, 7, 50, 45, tzinfo=UTC)

TIME_REPLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
 xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema">
<env:Body><tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>
<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>
<tt:TimeZone><tt:TZ>CST-8:00:00</tt:TZ></tt:TimeZone>
<tt:UTCDateTime><tt:Time><tt:Hour>3</tt:Hour><tt:Minute>4</tt:Minute><tt:Second>5</tt:Second>
</tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month><tt:Day>23</tt:Day></tt:Date>
</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse></env:Body>
</env:Envelope>"""

# Values from research §3.3 (the Dahua sample seen in a C client's comment).
INFO_REPLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>
<tds:GetDeviceInformationResponse><tds:Manufacturer>Dahua</tds:Manufacturer>
<tds:Model>IPC-HDW4431C-A</tds:Model>
<tds:FirmwareVersion>2.420.Dahua 00.14.R, build: 2016-06-18</tds:FirmwareVersion>
<tds:SerialNumber>2J01018PAA00813</tds:SerialNumber><tds:HardwareId>1.00</tds:HardwareId>
</tds:GetDeviceInformationResponse></s:Body></s:Envelope>"""

FAULT_REPLY = b"""<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
 xmlns:ter="http://www.onvif.org/ver10/error"><env:Body><env:Fault>
<env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>ter:NotAuthorized</env:Value>
</env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">Sender not Authorized</env:Text>
</env:Reason></env:Fault></env:Body></env:Envelope>"""


def test_username_token_matches_the_programmers_guide() -> None:
    token = onvif.username_token("admin", "userpassword", GUIDE_NONCE, GUIDE_CREATED)
    assert token.digest == "tuOSpGlFlIXsozq4HFNeeGeFLEI="
    assert token.nonce == "LKqI6G/AikKCQrN0zqZFlg=="
    assert token.created == "2010-09-16T07:50:45Z"
    assert "userpassword" not in repr(token) and token.digest not in repr(token)


def test_device_clock_applies_skew() -> None:
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert onvif.format_created(onvif.device_clock(now, -90.0)) == "2025-12-31T23:58:30Z"


def test_envelopes() -> None:
    pre = onvif.build_get_system_date_and_time()
    assert b"<tds:GetSystemDateAndTime/>" in pre and b"Security" not in pre
    anon = onvif.build_get_device_information()
    assert b"<tds:GetDeviceInformation/>" in anon and b"Security" not in anon
    token = onvif.username_token("a<b", "pw", b"n" * 16, GUIDE_CREATED)
    signed = onvif.build_get_device_information(token)
    assert b"<wsse:Username>a&lt;b</wsse:Username>" in signed
    assert b"pw<" not in signed and token.digest.encode() in signed
    assert b"#PasswordDigest" in signed and b"<wsu:Created>2010-09-16T07:50:45Z" in signed
    for body in (pre, anon, signed):
        assert onvif.parse_fault(body) is None  # well-formed, and not a fault


def test_parse_time() -> None:
    reply = onvif.parse_system_date_and_time(TIME_REPLY)
    assert reply == onvif.DeviceTime(datetime(2026, 11, 23, 3, 4, 5, tzinfo=UTC), "UTCDateTime")
    local_only = TIME_REPLY.replace(b"UTCDateTime", b"LocalDateTime")
    parsed = onvif.parse_system_date_and_time(local_only)
    assert parsed is not None and parsed.source == "LocalDateTime"
    assert onvif.parse_system_date_and_time(TIME_REPLY.replace(b">11<", b">13<")) is None


def test_parse_device_information() -> None:
    info = onvif.parse_device_information(INFO_REPLY)
    assert info == onvif.DeviceInformation(
        "Dahua", "IPC-HDW4431C-A", "2.420.Dahua 00.14.R, build: 2016-06-18", "2J01018PAA00813",
        "1.00",
    )  # fmt: skip
    assert dict(info.fields())["serial"] == "2J01018PAA00813"
    assert onvif.parse_device_information(TIME_REPLY) is None
    assert onvif.parse_fault(INFO_REPLY) is None


def test_parse_fault() -> None:
    fault = onvif.parse_fault(FAULT_REPLY)
    assert fault is not None and fault.not_authorized
    assert fault.code == "env:Sender" and fault.reason == "Sender not Authorized"
    assert onvif.parse_device_information(FAULT_REPLY) is None


def test_hostile_xml_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert onvif.parse_fault(bomb) is None
    assert onvif.parse_device_information(b"<" * (onvif.MAX_BODY + 1)) is None
    long_value = INFO_REPLY.replace(b"Dahua</tds:M", b"D" * 5000 + b"</tds:M")
    info = onvif.parse_device_information(long_value)
    assert info is not None and len(info.manufacturer) == onvif.MAX_VALUE
    assert onvif.parse_device_information(INFO_REPLY.replace(b">Dahua<", b">Da\x1bhua<")) is None
    assert onvif.clip("  Da\x1b[31mhua\n ") == "Da[31mhua"


def test_digest_rfc2617_vector() -> None:
    header = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    challenge = onvif.parse_digest_challenge(header)
    assert challenge is not None and challenge.qop == "auth" and challenge.algorithm == "MD5"
    value = onvif.digest_authorization(
        challenge, "Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b"
    )
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "nc=00000001" in value and 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value
    assert "Circle" not in value


def test_digest_challenge_edge_cases() -> None:
    assert onvif.parse_digest_challenge('Basic realm="x"') is None
    assert onvif.parse_digest_challenge('Digest realm="x"') is None  # no nonce
    assert onvif.parse_digest_challenge('Digest realm="x", nonce="n", algorithm=SHA-1') is None
    assert onvif.parse_digest_challenge('Digest realm="x", nonce="n", qop="auth-int"') is None
    sha = onvif.parse_digest_challenge('Digest realm="a\\"b", nonce="n", algorithm=SHA-256-sess')
    assert sha is not None and sha.realm == 'a"b' and sha.algorithm == "SHA-256-sess"
    assert "algorithm=SHA-256-sess" in onvif.digest_authorization(sha, "u", "p", "POST", "/", "c")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_parsers_never_raise_on_bytes(data: bytes) -> None:
    onvif.parse_system_date_and_time(data)
    onvif.parse_device_information(data)
    onvif.parse_fault(data)
    onvif.excerpt(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_parsers_never_raise_on_mutated_replies(noise: str) -> None:
    for reply in (TIME_REPLY, INFO_REPLY, FAULT_REPLY):
        cut = len(noise) % len(reply)
        mutated = reply[:cut] + noise.encode("utf-8", "replace") + reply[cut:]
        onvif.parse_system_date_and_time(mutated)
        onvif.parse_device_information(mutated)
        onvif.parse_fault(mutated)
    onvif.parse_digest_challenge(noise)
    onvif.parse_digest_challenge("Digest " + noise)

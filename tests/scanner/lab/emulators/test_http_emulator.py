"""The HTTP/HTTPS, RTSP and vendor-port emulators: byte-exact replies per firmware family (read
back with the scanner's own parsers), and, in namespaces the test makes, the probes against them:
fields, the TLS certificate, the trickle and 10 MB cut-offs, and a log with nothing but harmless
requests."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from _netns_pair import Pair, log_entries, netns_pair, run_in

from scanner.lab.emulators.http import HttpService, HttpsService, cert_subject, respond
from scanner.lab.emulators.rtsp import RtspService, reply
from scanner.lab.emulators.tcp_ports import TcpPortsService, port_banners
from scanner.lab.personas import Persona, persona_for
from scanner.model import Observation, Scope
from scanner.probes.base import ProbeContext
from scanner.probes.http import PATHS, HttpProbe
from scanner.probes.rtsp import RtspProbe
from scanner.probes.tcp_ports import TcpPortsProbe
from scanner.wire import http_fields, rtsp

needs_lab = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 (network namespaces)",
)


def persona(name: str) -> Persona:
    found = persona_for(name)
    assert found is not None
    return found


def fields(raw: bytes) -> dict[str, list[str]]:
    resp = http_fields.parse_response(raw)
    assert resp is not None
    out: dict[str, list[str]] = {}
    for key, value in http_fields.response_fields(resp):
        out.setdefault(key, []).append(value)
    return out


def test_hikvision_pages() -> None:
    cam = persona("hik-cam")
    root = fields(respond(cam, "GET", "/").encode())
    assert root["server"] == ["App-webs/"] and "/doc/page/login.asp" in root["body_marker"]
    isapi = fields(respond(cam, "GET", "/ISAPI/System/deviceInfo").encode())
    assert isapi["status"] == ["401"] and isapi["auth_scheme"] == ["Digest", "Basic"]
    assert isapi["realm"][0].startswith("IP Camera(")
    nvr = fields(respond(persona("hik-nvr"), "GET", "/ISAPI/System/deviceInfo").encode())
    assert nvr["server"] == ["DNVRS-Webs"] and nvr["model"] == ["DS-7608NI-K2"]
    oem = fields(respond(persona("lts-nvr"), "GET", "/ISAPI/System/deviceInfo").encode())
    assert oem["realm"][0].startswith("DS-") and "model" not in oem
    login = fields(respond(cam, "GET", "/doc/page/login.asp").encode())
    assert "Hikvision Digital Technology" in login["body_marker"]


def test_dahua_pages() -> None:
    cam = persona("dahua-cam")
    root = fields(respond(cam, "GET", "/").encode())
    assert root["header_case"] == ["upper"] and root["title"] == ["WEB SERVICE"]
    assert "utf8-bom" in root["body_marker"] and "server" not in root
    cgi = fields(respond(cam, "GET", "/cgi-bin/magicBox.cgi?action=getDeviceType").encode())
    assert cgi["serial"] == [cam.serial]
    challenge = respond(cam, "POST", "/RPC2_Login").encode()
    assert b"268632079" in challenge and f"Login to {cam.serial}".encode() in challenge


def test_decoys_only_show_generic_tells() -> None:
    webs = fields(respond(persona("webs-decoy"), "GET", "/").encode())
    assert webs["server"] == ["Webs"] and webs["realm"] == ["DVR"]
    printer = fields(respond(persona("printer"), "GET", "/").encode())
    assert printer["server"][0].startswith("HP HTTP Server")
    assert cert_subject(persona("axis"), "198.18.0.61") == [("CN", "198.18.0.61")]
    assert ("O", "HIKVISION") in cert_subject(persona("hik-cam"), "198.18.0.11")


def test_rtsp_replies() -> None:
    hik = rtsp.parse_response(reply(persona("hik-cam"), "OPTIONS", "1"))
    assert hik is not None and hik.header("server") is None
    assert next(raw for name, _, raw in hik.headers if name == "Date").startswith("Date:  ")
    hik401 = rtsp.parse_response(reply(persona("hik-cam"), "DESCRIBE", "2"))
    assert hik401 is not None and len(hik401.header_all("www-authenticate")) == 2
    dahua = rtsp.parse_response(reply(persona("dahua-cam"), "DESCRIBE", "2"))
    assert dahua is not None and dahua.header("server") == "Dahua Rtsp Server"
    assert ("serial", "6G0A1B2PAZ12345") in rtsp.response_fields(dahua, "DESCRIBE")


def test_vendor_ports() -> None:
    assert port_banners(persona("hik-cam")) == {8000: None}
    assert 23 in port_banners(persona("hik-nvr"))
    assert port_banners(persona("dahua-cam")) == {37777: None}
    assert port_banners(persona("big-banner")) == {23: b"huge"}
    assert port_banners(persona("axis")) == {}


# --- over a veth, in namespaces the test makes -------------------------------------------------


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    prefix = f"ndaa-h{uuid.uuid4().hex[:4]}-"
    with netns_pair(tmp_path_factory.mktemp("http-emu"), prefix) as made:
        yield made


def context(ip: str, mac: str) -> ProbeContext:
    seen = Observation("arp", "cli0", datetime.now(UTC), ip, mac, (("op", "is-at"),))
    return ProbeContext(scope=Scope(targets=(ip,), interfaces=("cli0",)), plans=(), prior=(seen,))


def by_path(observations: tuple[Observation, ...]) -> dict[str, Observation]:
    return {o.field("path") or "": o for o in observations if o.probe == "http"}


@pytest.mark.lab
@needs_lab
def test_probes_read_a_hikvision_camera(pair: Pair) -> None:
    device = pair.device("hik-cam")
    with (
        pair.serving(HttpService, "hik-cam") as log80,
        pair.serving(HttpsService, "hik-cam") as log443,
        pair.serving(RtspService, "hik-cam") as log554,
        pair.serving(TcpPortsService, "hik-cam") as logtcp,
    ):
        ctx = context(device.ip, device.mac.upper())
        (http,) = run_in(pair.cli, lambda: HttpProbe().run(ctx))
        (rtsp_result,) = run_in(pair.cli, lambda: RtspProbe().run(ctx))
        (tcp,) = run_in(pair.cli, lambda: TcpPortsProbe().run(ctx))
    pages = by_path(http.observations)
    assert pages["/"].field("server") == "App-webs/"
    assert pages["/ISAPI/System/deviceInfo"].field("realm") == "IP Camera(45678)"
    assert pages["/favicon.ico"].field("favicon_md5")
    (tls,) = [o for o in http.observations if o.probe == "tls"]
    assert tls.field("cert_subject") == (
        "CN=www.hikvision.com,OU=DVRNVR,O=HIKVISION,L=HangZhou,ST=ZheJiang,C=CN"
    )
    assert http.stats.answered == 1 and http.stats.sent >= 8
    describe = [o for o in rtsp_result.observations if o.field("method") == "DESCRIBE"]
    assert [v for k, v in describe[0].fields if k == "auth_scheme"] == ["Digest", "Basic"]
    assert sorted(o.field("port") or "" for o in tcp.observations) == ["443", "554", "80", "8000"]
    entries = [e for path in (log80, log443, log554, logtcp) for e in log_entries(path)]
    assert not any(e.get("authorization") for e in entries)
    allowed = {f"GET {p}" for p in PATHS} | {"OPTIONS", "DESCRIBE", "connect"}
    assert {e["kind"] for e in entries} <= allowed


@pytest.mark.lab
@needs_lab
def test_trickle_is_cut_by_the_host_budget(pair: Pair) -> None:
    device = pair.device("slow-box")
    with pair.serving(HttpService, "slow-box"):
        started = time.monotonic()
        (result,) = run_in(pair.cli, lambda: HttpProbe().run(context(device.ip, device.mac)))
        took = time.monotonic() - started
    assert took < 6.5, took  # the per-host budget is 5 s
    root = by_path(result.observations)["/"]
    assert root.field("cut") == "time" and int(root.field("read_ms") or 0) < 3500
    assert result.stats.error and device.ip in result.stats.error


@pytest.mark.lab
@needs_lab
def test_ten_megabytes_are_cut_at_the_byte_cap(pair: Pair) -> None:
    device = pair.device("big-banner")
    with pair.serving(HttpService, "big-banner"), pair.serving(TcpPortsService, "big-banner"):
        started = time.monotonic()
        (http,) = run_in(pair.cli, lambda: HttpProbe().run(context(device.ip, device.mac)))
        (tcp,) = run_in(pair.cli, lambda: TcpPortsProbe().run(context(device.ip, device.mac)))
        took = time.monotonic() - started
    assert took < 5.0, took
    root = by_path(http.observations)["/"]
    assert root.field("cut") == "cap" and root.field("title") == "NAS"
    (telnet,) = [o for o in tcp.observations if o.field("port") == "23"]
    assert telnet.field("cut") == "cap" and telnet.field("banner_size") == "65536"

"""The SSDP emulator: one response per search target, the description XML with the persona's
maker, model, serial and firmware (read back with the scanner's parser), and survival of garbage
over UDP and HTTP in namespaces the test makes."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator

import pytest
from _netns_pair import Pair, log_entries, netns_pair, run_in

from scanner.lab.emulators.ssdp import SsdpService, description, http_reply, responses
from scanner.lab.personas import persona_for
from scanner.wire import ssdp

needs_lab = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 (network namespaces)",
)
NVR = persona_for("hik-nvr")
assert NVR is not None


def test_ssdp_all_gets_one_response_per_target() -> None:
    kind, out = responses(NVR, "198.18.0.12", ssdp.build_msearch())
    assert kind == "M-SEARCH" and len(out) == 3
    msgs = [ssdp.parse_message(o) for o in out]
    assert all(m is not None and m.kind == "response" for m in msgs)
    assert {m.st for m in msgs if m} >= {"upnp:rootdevice", "urn:schemas-upnp-org:device:Basic:1"}
    assert {m.location for m in msgs if m} == {"http://198.18.0.12:49152/upnpdevicedesc.xml"}
    _, one = responses(NVR, "198.18.0.12", ssdp.build_msearch("upnp:rootdevice"))
    assert len(one) == 1
    no_man = ssdp.build_msearch().replace(b'MAN: "ssdp:discover"\r\n', b"")
    assert responses(NVR, "198.18.0.12", no_man) == ("M-SEARCH", [])
    assert responses(NVR, "198.18.0.12", b"\xff\xfe junk")[0] == "garbage"


@pytest.mark.parametrize("name", ["hik-nvr", "dahua-nvr", "zte", "printer"])
def test_description_carries_the_persona(name: str) -> None:
    persona = persona_for(name)
    assert persona is not None
    desc = ssdp.parse_description(description(persona, "198.18.0.9"))
    assert desc is not None
    assert (desc.model_name, desc.serial, desc.firmware) == (
        persona.model,
        persona.serial,
        persona.firmware,
    )
    assert desc.manufacturer in ("Hikvision", "Dahua", "ZTE", "HP")


def test_http_answers() -> None:
    kind, reply = http_reply(NVR, "198.18.0.12", b"GET /upnpdevicedesc.xml HTTP/1.1\r\n\r\n")
    assert kind == "GET /upnpdevicedesc.xml" and reply.startswith(b"HTTP/1.1 200 OK\r\n")
    assert ssdp.parse_description(reply.split(b"\r\n\r\n", 1)[1]) is not None
    assert http_reply(NVR, "198.18.0.12", b"GET /other HTTP/1.1\r\n\r\n")[1].startswith(
        b"HTTP/1.1 404"
    )
    assert http_reply(NVR, "198.18.0.12", b"\x16\x03\x01garbage")[0] == "garbage"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    prefix = f"ndaa-u{uuid.uuid4().hex[:4]}-"
    with netns_pair(tmp_path_factory.mktemp("ssdp-emu"), prefix) as made:
        yield made


def _http(pair: Pair, request: bytes) -> bytes:
    def exchange() -> bytes:
        with socket.create_connection(("198.18.0.12", 49152), timeout=3) as conn:
            conn.sendall(request)
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
            return data

    return run_in(pair.cli, exchange)


@pytest.mark.lab
@needs_lab
def test_survives_garbage_then_answers(pair: Pair) -> None:
    with pair.serving(SsdpService, "hik-nvr") as log, pair.udp_client() as client:
        client.settimeout(0.4)
        for junk in (b"", b"\x00\xff" * 700, b"M-SEARCH * HTTP/1.1\r\n", b"NOTIFY *\r\n" * 900):
            client.sendto(junk, (ssdp.GROUP_V4, ssdp.PORT))
            with pytest.raises(TimeoutError):
                client.recvfrom(65535)
        client.settimeout(2.0)
        client.sendto(ssdp.build_msearch(), (ssdp.GROUP_V4, ssdp.PORT))
        reply, _ = client.recvfrom(65535)
        assert _http(pair, b"\x16\x03\x01\x00garbage\r\n\r\n").startswith(b"HTTP/1.1 400")
        assert _http(pair, b"GET /upnpdevicedesc.xml HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
            b"HTTP/1.1 200 OK"
        )
    msg = ssdp.parse_message(reply)
    assert msg is not None and msg.location.endswith("/upnpdevicedesc.xml")
    kinds = [e["kind"] for e in log_entries(log)]
    assert kinds[:5] == ["garbage", "garbage", "M-SEARCH", "notify", "M-SEARCH"]
    assert kinds[5:] == ["garbage", "GET /upnpdevicedesc.xml"]

"""The SADP emulators in namespaces the test makes: they answer `inquiry` (unicast and to the
group) like the real captures, refuse every other Types, survive garbage, log every request; the
layer-2 one broadcasts DeviceOnlineRequest frames from the device's MAC."""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from _netns_pair import Pair, log_entries, netns_pair

from scanner.lab.emulators.sadp import SadpL2Service, SadpService
from scanner.wire import sadp

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]
UUID = "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    prefix = f"ndaa-e{uuid.uuid4().hex[:4]}-"
    with netns_pair(tmp_path_factory.mktemp("sadp-emu"), prefix) as made:
        yield made


def _ask(client: socket.socket, dest: str, data: bytes) -> bytes | None:
    client.sendto(data, (dest, sadp.PORT))
    try:
        reply, _ = client.recvfrom(65535)
    except TimeoutError:
        return None
    return reply


def test_garbage_then_inquiry_gets_a_real_layout_reply(pair: Pair) -> None:
    with pair.serving(SadpService, "hik-cam") as log, pair.udp_client() as client:
        client.settimeout(0.5)
        for junk in (b"", b"\x00\xff" * 700, b"<Probe><Types>", b"<?xml version='1.0'?><x/>"):
            assert _ask(client, "198.18.0.11", junk) is None
        client.settimeout(2.0)
        reply = _ask(client, "198.18.0.11", sadp.build_inquiry(UUID))
    assert reply is not None
    assert reply.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\r\n<ProbeMatch>\r\n<Uuid>')
    match = sadp.parse_probe_match(reply)
    assert match is not None and not match.partial
    names = [k for k, _ in match.fields]
    assert names[:5] == ["Uuid", "Types", "DeviceType", "DeviceDescription", "DeviceSN"]
    assert match.get("Uuid") == UUID and match.get("Types") == "inquiry"
    assert match.get("DeviceDescription") == "DS-2CD2143G2-I"
    assert match.get("DeviceSN") == "DS-2CD2143G2-I20210315AAWRJ12345678"
    assert match.get("SoftwareVersion") == "V5.7.3 build 220112"
    assert match.get("MAC") == "a4-14-37-5e-21-0b"
    assert match.get("HCPlatformEnable") == match.get("DeviceLock") == "flase"  # sadp-flase
    assert match.get("DetailOEMCode") == "1"
    kinds = [e["kind"] for e in log_entries(log)]
    assert kinds == ["unknown"] * 4 + ["inquiry"]
    assert [e["answered"] for e in log_entries(log)] == [False] * 4 + [True]


def test_other_types_are_refused_and_logged(pair: Pair) -> None:
    with pair.serving(SadpService, "hik-nvr") as log, pair.udp_client() as client:
        client.settimeout(0.5)
        for kind in ("reset", "activate", "update", "getencryptstring"):
            probe = f"<Probe><Uuid>{UUID}</Uuid><Types>{kind}</Types></Probe>".encode()
            assert _ask(client, "198.18.0.12", probe) is None
    entries = log_entries(log)
    assert [e["kind"] for e in entries] == [
        "refused:reset", "refused:activate", "refused:update", "refused:getencryptstring",
    ]  # fmt: skip
    assert not any(e["answered"] for e in entries)


def test_group_inquiry_and_oem_unit(pair: Pair) -> None:
    with pair.serving(SadpService, "lts-nvr") as log, pair.udp_client() as client:
        reply = _ask(client, sadp.GROUP, sadp.build_inquiry(UUID))
    assert reply is not None
    match = sadp.parse_probe_match(reply)
    assert match is not None
    assert match.get("DeviceDescription") == "LTN8708K-P8"
    assert match.get("DetailOEMCode") not in (None, "1")
    assert match.get("HCPlatformEnable") == "false"  # no flase quirk on this one
    assert match.mac == "14:2F:FD:3A:77:01"
    assert [e["kind"] for e in log_entries(log)] == ["inquiry"]


def test_layer2_announcements_from_the_device_mac(pair: Pair) -> None:
    listener = pair.packet_socket(sadp.ETH_P_SADP)
    with listener, pair.serving(SadpL2Service, "hik-cam") as log:
        heard: list[sadp.L2Frame] = []
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline and len(heard) < 3:
            try:
                frame = listener.recv(4096)
            except TimeoutError:
                break
            parsed = sadp.parse_l2_frame(frame)
            if parsed is not None:
                heard.append(parsed)
        # a stranger's frame, and garbage of the right EtherType: logged, never answered
        inquiry = bytearray(
            sadp.build_device_online("02:00:00:00:00:09", "198.18.0.1", "255.255.255.0", 1)
        )
        inquiry[14 + 10] = 0x03  # query type Inquiry
        garbage = b"\xff" * 6 + bytes.fromhex("020000000009") + b"\x80\x33" + b"junk" * 10
        listener.send(bytes(inquiry))
        listener.send(garbage)
        time.sleep(1.0)
    assert len(heard) >= 2
    assert {f.src_mac for f in heard} == {"A4:14:37:5E:21:0B"}
    assert all(
        f.query_name == "DeviceOnlineRequest" and f.sender_ip == "198.18.0.11" for f in heard
    )
    assert all(f.checksum_ok for f in heard)
    assert len({f.counter for f in heard}) == len(heard)
    kinds = sorted(e["kind"] for e in log_entries(log))
    assert kinds == ["l2:Inquiry", "unknown"]
    assert not any(e["answered"] for e in log_entries(log))

"""The Dahua emulators in namespaces the test makes: DHIP answers `DHDiscover.search` (unicast
and to the group) with the capture's layout, its quirks (trailer, malformed value) and OEM labels;
the 5050 one answers the binary search; both survive garbage and log every request."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator

import pytest
from _netns_pair import Pair, log_entries, netns_pair

from scanner.lab.emulators.dhip import DhipLegacyService, DhipService
from scanner.wire import dahua_legacy, dhip

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2 is not installed"),
]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    prefix = f"ndaa-e{uuid.uuid4().hex[:4]}-"
    with netns_pair(tmp_path_factory.mktemp("dhip-emu"), prefix) as made:
        yield made


def _ask(client: socket.socket, dest: tuple[str, int], data: bytes) -> bytes | None:
    client.sendto(data, dest)
    try:
        reply, _ = client.recvfrom(65535)
    except TimeoutError:
        return None
    return reply


GARBAGE = (
    b"",
    b"\x00" * 32,
    dhip.build_header(10) + b"not json!!",
    b"DHIP" * 100,
    dhip.build_header(40) + b'{"method":"DHDiscover.setConfig","params":{}}',
)


def test_garbage_then_search_gets_the_quirky_reply(pair: Pair) -> None:
    with pair.serving(DhipService, "dahua-cam") as log, pair.udp_client() as client:
        client.settimeout(0.4)
        for junk in GARBAGE:
            assert _ask(client, ("198.18.0.21", dhip.PORT), junk) is None
        client.settimeout(2.0)
        raw = _ask(client, ("198.18.0.21", dhip.PORT), dhip.build_search())
    assert raw is not None and raw[:8] == bytes.fromhex("2000000044484950")
    assert not raw.endswith(b"}\n\x00")  # trailing bytes after the newline and NUL
    reply = dhip.parse_reply(raw)
    assert reply is not None
    assert not reply.strict  # the malformed value: only a lenient reader gets through
    assert reply.method == "client.notifyDevInfo" and reply.mac == "3C:EF:8C:14:B2:5A"
    assert reply.get("DeviceType") == "IPC-HDW2431T-AS"
    assert reply.get("SerialNo") == "6G0A1B2PAZ12345"
    assert reply.get("Version") == "2.800.0000000.13.R, build: 2021-06-03"
    assert reply.get("Port") == "37777"
    entries = log_entries(log)
    assert [e["kind"] for e in entries] == [
        "unknown", "unknown", "unknown", "unknown", "refused:DHDiscover.setConfig", "dhip-search",
    ]  # fmt: skip
    assert [e["answered"] for e in entries] == [False] * 5 + [True]


def test_group_search_and_plain_reply(pair: Pair) -> None:
    with pair.serving(DhipService, "dahua-nvr") as log, pair.udp_client() as client:
        raw = _ask(client, (dhip.GROUP, dhip.PORT), dhip.build_search())
    assert raw is not None and raw.endswith(b"}\n\x00")
    reply = dhip.parse_reply(raw)
    assert reply is not None and reply.strict and reply.lengths_ok
    assert reply.get("DeviceClass") == "NVR" and reply.get("DeviceType") == "NVR4108HS-4KS2"
    assert [e["kind"] for e in log_entries(log)] == ["dhip-search"]


def test_oem_unit_says_its_label_not_its_maker(pair: Pair) -> None:
    with pair.serving(DhipService, "amcrest-cam"), pair.udp_client() as client:
        raw = _ask(client, ("198.18.0.255", dhip.PORT), dhip.build_search())
    assert raw is not None
    reply = dhip.parse_reply(raw)
    assert reply is not None
    assert reply.get("Vendor") == "Amcrest" and reply.get("Manufacturer") == "Private"
    assert reply.get("DeviceType") == "IP2M-841B" and reply.mac == "9C:8E:CD:4D:19:A2"


def test_legacy_search_survives_garbage(pair: Pair) -> None:
    with pair.serving(DhipLegacyService, "dahua-cam") as log, pair.udp_client() as client:
        client.settimeout(0.4)
        for junk in (b"", b"\xa3" * 31, dahua_legacy.REQUEST + b"\x00", b"\xff" * 1500):
            assert _ask(client, ("198.18.0.21", dahua_legacy.PORT), junk) is None
        client.settimeout(2.0)
        raw = _ask(client, ("198.18.0.255", dahua_legacy.PORT), dahua_legacy.build_search())
    assert raw is not None and raw[0] == 0xB3
    reply = dahua_legacy.parse_reply(raw)
    assert reply is not None and reply.lengths_ok
    assert reply.mac == "3C:EF:8C:14:B2:5A" and reply.ip == "198.18.0.21"
    assert reply.model == "IPC-HDW2431T-AS" and reply.get("SerialNo") == "6G0A1B2PAZ12345"
    assert [e["kind"] for e in log_entries(log)] == ["unknown"] * 4 + ["legacy-search"]

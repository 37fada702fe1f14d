"""The WS-Discovery emulator: each family's ProbeMatch as research §3.2 describes it (read back
with the scanner's parser), the quirks, and survival of garbage in namespaces the test makes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator

import pytest
from _netns_pair import Pair, log_entries, netns_pair, run_in

from scanner.interfaces import Interface
from scanner.lab.emulators.wsd import WsdService, answer
from scanner.lab.personas import persona_for
from scanner.lab.topology import device_by_name
from scanner.model import ProbeResult, Scope
from scanner.probes.base import ProbeContext
from scanner.probes.wsd import WsdProbe
from scanner.targets import SweepPlan
from scanner.wire import wsd

needs_lab = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 (network namespaces)",
)
MSG_ID = "urn:uuid:0a6dc791-2e2c-4b3a-9f6e-1c1b9c2f7a10"
UNTYPED = wsd.build_probe(MSG_ID)
TYPED = wsd.build_probe(MSG_ID, (wsd.TYPE_NVT,))


def _reply(name: str, probe: bytes = UNTYPED) -> wsd.Message | None:
    device = device_by_name(name)
    persona = persona_for(name)
    assert persona is not None
    kind, data = answer(persona, device.ip, device.mac, probe)
    assert kind == "probe"
    return None if data is None else wsd.parse_message(data)


def test_hikvision_probematch_like_the_captures() -> None:
    msg = _reply("hik-cam")
    assert msg is not None and msg.kind == "probematches" and msg.relates_to == MSG_ID
    (match,) = msg.matches
    assert match.endpoint.startswith("urn:uuid:") and match.endpoint.endswith("a414375e210b")
    assert match.types == ("dn:NetworkVideoTransmitter", "tds:Device")
    names = [s.removeprefix("onvif://www.onvif.org/") for s in match.scopes]
    assert names[:2] == ["type/video_encoder", "Profile/Streaming"]
    assert names[-4:] == [
        "MAC/a4:14:37:5e:21:0b",
        "hardware/DS-2CD2143G2-I",
        "name/HIKVISION%20DS-2CD2143G2-I",
        "location/city/hangzhou",
    ]
    assert match.xaddrs == ("http://198.18.0.11/onvif/device_service",)
    assert match.metadata_version == "10"


@pytest.mark.parametrize(("name", "label"), [("dahua-cam", "Dahua"), ("amcrest-cam", "Amcrest")])
def test_dahua_and_oem_probematch(name: str, label: str) -> None:
    msg = _reply(name)
    assert msg is not None
    (match,) = msg.matches
    assert match.endpoint.startswith("uuid:")
    scopes = wsd.read_scopes(match.scopes)
    assert match.scopes[0] == "onvif://www.onvif.org/location/country/china"
    assert scopes.name == label
    assert scopes.extensions == ("unique_identifier",)
    assert match.metadata_version == "1"


def test_hikvision_oem_unit_keeps_the_stack_but_shows_its_label() -> None:
    msg = _reply("lts-nvr")  # not a WS-Discovery speaker in the standard lab; its persona is
    assert msg is not None
    (match,) = msg.matches
    scopes = wsd.read_scopes(match.scopes)
    assert scopes.name == "LTS LTN8708K-P8"
    assert scopes.locations == ("city/hangzhou",)
    assert match.endpoint.endswith("142ffd3a7701")


def test_quirks() -> None:
    assert _reply("uniview") is None  # wsd-typed-only: untyped probes are ignored
    typed = _reply("uniview", TYPED)
    assert typed is not None and wsd.read_scopes(typed.matches[0].scopes).name == "Uniview"
    assert wsd.endpoint_node(typed.matches[0].endpoint) != "48ea635d17c9"
    other_type = wsd.build_probe(MSG_ID, ("tds:Printer",))
    assert _reply("hik-cam", other_type) is None
    fault = _reply("printer", TYPED)
    assert fault is not None and fault.kind == "fault" and fault.fault_code.endswith("Sender")


def test_garbage_is_classified_not_answered() -> None:
    persona = persona_for("hik-cam")
    assert persona is not None
    for junk in (b"", b"\xff" * 3000, b"<s:Envelope>", b"<?xml version='1.0'?><!DOCTYPE x []><x/>"):
        assert answer(persona, "198.18.0.11", "a4:14:37:5e:21:0b", junk) == ("garbage", None)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    prefix = f"ndaa-w{uuid.uuid4().hex[:4]}-"
    with netns_pair(tmp_path_factory.mktemp("wsd-emu"), prefix) as made:
        yield made


def _ask(client: socket.socket, dest: tuple[str, int], data: bytes) -> bytes | None:
    client.sendto(data, dest)
    try:
        while True:
            reply, _peer = client.recvfrom(65535)
            if b"Hello" not in reply:
                return reply
    except TimeoutError:
        return None


@pytest.mark.lab
@needs_lab
@pytest.mark.parametrize("dest", ["198.18.0.11", wsd.GROUP_V4])
def test_survives_garbage_then_answers_a_probe(pair: Pair, dest: str) -> None:
    with pair.serving(WsdService, "hik-cam") as log, pair.udp_client() as client:
        client.settimeout(0.4)
        bomb = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><s:Envelope>&a;</s:Envelope>'
        for junk in (b"", b"\x00\xff" * 700, b"<s:Envelope><s:Body><d:Probe>", bomb, b"x" * 60000):
            assert _ask(client, (dest, wsd.PORT), junk) is None
        client.settimeout(2.0)
        reply = _ask(client, (dest, wsd.PORT), UNTYPED)
    assert reply is not None
    msg = wsd.parse_message(reply)
    assert msg is not None and msg.kind == "probematches" and msg.relates_to == MSG_ID
    entries = [e for e in log_entries(log) if e["peer"].startswith("198.18.0.1:")]
    assert [e["kind"] for e in entries] == ["garbage"] * 5 + ["probe"]
    assert [e["answered"] for e in entries] == [False] * 5 + [True]


def _link_locals(pair: Pair) -> None:
    """IPv6 link-local addresses on both ends (the lab's interfaces have IPv6 off)."""
    ends = ((pair.dev, "eth0", "fe80::a614:37ff:fe5e:210b"), (pair.cli, "cli0", "fe80::1"))
    for ns, dev, addr in ends:
        subprocess.run(
            ["ip", "-n", ns, "addr", "replace", f"{addr}/64", "dev", dev, "nodad"],
            check=True,
            capture_output=True,
        )


@pytest.mark.lab
@needs_lab
def test_answers_over_ipv6_and_the_probe_asks_ff02_c(pair: Pair) -> None:
    with pair.serving(WsdService, "hik-cam") as log:
        _link_locals(pair)

        def ask_v6() -> bytes | None:
            """Asked a few times: a fresh veth's IPv6 (its own link-local going through
            duplicate address detection) takes a moment before it answers."""
            index = socket.if_nametoindex("cli0")
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as client:
                client.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, index)
                client.bind(("fe80::1", 0, 0, index))
                client.settimeout(0.5)
                for _ in range(12):
                    client.sendto(TYPED, (wsd.GROUP_V6, wsd.PORT, 0, index))
                    try:
                        return client.recvfrom(65535)[0]
                    except TimeoutError:
                        continue
            return None

        reply = run_in(pair.cli, ask_v6)
        assert reply is not None
        msg = wsd.parse_message(reply)
        assert msg is not None and msg.kind == "probematches"

        def probe() -> list[ProbeResult]:
            iface = Interface(
                "cli0", socket.if_nametoindex("cli0"), None, True, False,
                (("198.18.0.1", "198.18.0.0/24"),),
            )  # fmt: skip
            plan = SweepPlan(iface, "198.18.0.1", ((0xC6120001, 0xC61200FE),))
            scope = Scope(targets=("198.18.0.0/24",), interfaces=("cli0",), listen=1.5)
            return WsdProbe().run(ProbeContext(scope=scope, plans=(plan,)))

        (result,) = run_in(pair.cli, probe)
    assert result.stats.sent == 12  # three probes, twice, to 239.255.255.250 and FF02::C
    assert result.stats.answered == 1
    families = {o.field("family") for o in result.observations if o.ip == "198.18.0.11"}
    assert families == {None, "ipv6"}  # the same camera, over each family
    peers = {e["peer"].rsplit(":", 1)[0] for e in log_entries(log) if e["kind"] == "probe"}
    assert {"fe80::1", "198.18.0.1"} <= peers

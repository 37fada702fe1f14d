"""The mDNS responder: answers built by hand, read back with zeroconf's own parser (an
independent implementation); Hikvision's `_CGI._tcp` names per research §5.1; survival of
garbage in namespaces the test makes."""

from __future__ import annotations

import os
import shutil
import struct
import uuid
from collections.abc import Iterator

import pytest
from _netns_pair import Pair, log_entries, netns_pair
from zeroconf import DNSIncoming, DNSOutgoing, DNSQuestion
from zeroconf.const import _CLASS_IN, _FLAGS_QR_QUERY, _TYPE_A, _TYPE_PTR, _TYPE_SRV

from scanner.lab.emulators.mdns import PORT, MdnsService, answer, parse_query
from scanner.lab.personas import persona_for
from scanner.lab.topology import device_by_name

needs_lab = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="needs root and iproute2 (network namespaces)",
)


def _query(*questions: tuple[str, int]) -> bytes:
    out = DNSOutgoing(_FLAGS_QR_QUERY)
    for name, qtype in questions:
        out.add_question(DNSQuestion(name, qtype, _CLASS_IN))
    packet: bytes = out.packets()[0]
    return packet


def _answer(device: str, query: bytes) -> DNSIncoming | None:
    dev = device_by_name(device)
    persona = persona_for(device)
    assert persona is not None
    questions = parse_query(query)
    assert questions is not None
    reply = answer(persona, dev.ip, dev.mac, questions)
    return DNSIncoming(reply) if reply else None


def test_hikvision_cgi_browse_gets_ptr_srv_txt_a() -> None:
    incoming = _answer("hik-cam", _query(("_CGI._tcp.local.", _TYPE_PTR)))
    assert incoming is not None and incoming.valid and incoming.is_response()
    records = {(r.type, r.name): r for r in incoming.answers()}
    instance = "HIKVISION DS-2CD2143G2-I - J12345678._CGI._tcp.local."
    assert records[(_TYPE_PTR, "_CGI._tcp.local.")].alias == instance  # type: ignore[attr-defined]
    srv = records[(_TYPE_SRV, instance)]
    assert srv.server == "DS-2CD2143G2-I20210315AAWRJ12345678.local."  # type: ignore[attr-defined]
    assert srv.port == 80  # type: ignore[attr-defined]
    a = records[(_TYPE_A, "DS-2CD2143G2-I20210315AAWRJ12345678.local.")]
    assert a.address == bytes([198, 18, 0, 11])  # type: ignore[attr-defined]


def test_only_own_names_are_answered() -> None:
    assert _answer("hik-cam", _query(("_axis-video._tcp.local.", _TYPE_PTR))) is None
    axis = _answer("axis", _query(("_axis-video._tcp.local.", _TYPE_PTR)))
    assert axis is not None
    names = {r.name for r in axis.answers()}
    assert "AXIS P3245-V - ACCC8EA2310F._axis-video._tcp.local." in names
    printer = _answer("printer", _query(("_ipp._tcp.local.", _TYPE_PTR), ("_http._tcp.local.", 12)))
    assert printer is not None
    texts = [r.text for r in printer.answers() if r.type == 16]  # type: ignore[attr-defined]
    assert any(b"\x0ausb_MFG=HP" in t for t in texts)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 11,
        b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x0c\x00\x01",  # loop
        b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x3f_CGI",  # runs past the end
        b"\x00\x00\x00\x00\xff\xff\x00\x00\x00\x00\x00\x00",  # 65535 questions claimed
    ],
)
def test_malformed_queries_are_refused(data: bytes) -> None:
    try:
        questions = parse_query(data)
    except ValueError:
        return
    assert questions is None


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    prefix = f"ndaa-m{uuid.uuid4().hex[:4]}-"
    with netns_pair(tmp_path_factory.mktemp("mdns-emu"), prefix) as made:
        yield made


@pytest.mark.lab
@needs_lab
def test_survives_garbage_then_answers(pair: Pair) -> None:
    loop = struct.pack("!6H", 0, 0, 1, 0, 0, 0) + b"\xc0\x0c\x00\x0c\x00\x01"
    with pair.serving(MdnsService, "hik-cam") as log, pair.udp_client() as client:
        client.settimeout(0.4)
        for junk in (b"", b"\xff" * 900, loop, b"\x00" * 12):
            client.sendto(junk, ("224.0.0.251", PORT))
            with pytest.raises(TimeoutError):
                client.recvfrom(9000)
        client.settimeout(2.0)
        client.sendto(_query(("_CGI._tcp.local.", _TYPE_PTR)), ("224.0.0.251", PORT))
        reply, peer = client.recvfrom(9000)  # unicast: we asked from a port other than 5353
    assert peer[0] == "198.18.0.11"
    incoming = DNSIncoming(reply)
    assert any(r.name.startswith("HIKVISION DS-2CD2143G2-I") for r in incoming.answers())
    entries = log_entries(log)
    # Each datagram is logged once, as what it looked like (the 0xff one has the response bit
    # set); their order in the log may differ from the order they were sent under load.
    kinds = [e["kind"] for e in entries]
    assert kinds[-1] == "query"
    assert sorted(kinds[:-1]) == ["garbage", "garbage", "garbage", "response"]
    assert entries[-1]["answered"] is True

"""The lab's ARP bytes and the responder's decision, without sockets; plus lab preflight."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.errors import UserError
from scanner.lab import netns
from scanner.lab.arpwire import (
    ARP_LEN,
    build_reply,
    build_request,
    ip_bytes,
    ip_str,
    mac_bytes,
    mac_str,
    parse_arp,
)
from scanner.lab.responder import answer, reply_table
from scanner.lab.topology import live_hosts, scale_ip, scale_mac

ASKER_MAC = mac_bytes("02:00:00:00:00:01")
ASKER_IP = ip_bytes("198.19.255.254")
TABLE = reply_table(4096, 0.25, 5)
LIVE = live_hosts(4096, 0.25, 5)
DEAD = next(i for i in range(4096) if i not in set(LIVE))


def _request(index: int) -> bytes:
    return build_request(ASKER_MAC, ASKER_IP, ip_bytes(scale_ip(index)))


def test_request_and_reply_round_trip() -> None:
    req = parse_arp(_request(7))
    assert req is not None and req.op == 1
    assert req.eth_dst == b"\xff" * 6 and req.sender_mac == ASKER_MAC
    assert ip_str(req.target_ip) == "198.18.0.7"
    rep = parse_arp(build_reply(mac_bytes("aa:bb:cc:dd:ee:ff"), req.target_ip, ASKER_MAC, ASKER_IP))
    assert rep is not None and rep.op == 2 and rep.eth_dst == ASKER_MAC
    assert mac_str(rep.sender_mac) == "aa:bb:cc:dd:ee:ff" and rep.target_ip == ASKER_IP
    assert len(_request(0)) == ARP_LEN


def test_live_host_answers_with_its_scale_mac() -> None:
    for index in LIVE[:50]:
        reply = answer(_request(index), TABLE)
        assert reply is not None
        parsed = parse_arp(reply)
        assert parsed is not None and parsed.op == 2
        assert mac_str(parsed.sender_mac) == scale_mac(index)
        assert mac_str(parsed.eth_src) == scale_mac(index)
        assert ip_str(parsed.sender_ip) == scale_ip(index)
        assert parsed.eth_dst == ASKER_MAC and parsed.target_mac == ASKER_MAC
        assert parsed.target_ip == ASKER_IP
        # byte for byte what a well-formed reply builder makes
        assert reply == build_reply(
            mac_bytes(scale_mac(index)), ip_bytes(scale_ip(index)), ASKER_MAC, ASKER_IP
        )


def test_everything_else_is_ignored() -> None:
    req = _request(LIVE[0])
    assert answer(_request(DEAD), TABLE) is None
    assert answer(_request(5000), TABLE) is None  # beyond the population
    outside = build_request(ASKER_MAC, ASKER_IP, ip_bytes("198.19.0.7"))
    assert answer(outside, TABLE) is None
    gratuitous = build_request(ASKER_MAC, ip_bytes(scale_ip(LIVE[0])), ip_bytes(scale_ip(LIVE[0])))
    assert answer(gratuitous, TABLE) is None
    reply_op = req[:21] + b"\x02" + req[22:]
    assert answer(reply_op, TABLE) is None
    assert answer(req[:41], TABLE) is None
    assert answer(b"", TABLE) is None
    assert answer(req[:14] + b"\x00\x06" + req[16:], TABLE) is None  # htype 6
    assert answer(req[:18] + b"\x08\x04" + req[20:], TABLE) is None  # hlen 8
    assert answer(req[:12] + b"\x86\xdd" + req[14:], TABLE) is None  # not ARP
    assert answer(req + b"\x00" * 18, TABLE) is not None  # Ethernet padding is fine
    assert answer(memoryview(bytearray(req)), TABLE) == answer(req, TABLE)


@given(st.binary(max_size=200))
def test_answer_never_raises_on_garbage(frame: bytes) -> None:
    reply = answer(frame, TABLE)
    if reply is not None:
        parsed = parse_arp(reply)
        assert parsed is not None and parsed.op == 2


@given(st.binary(max_size=100))
def test_parse_never_raises(frame: bytes) -> None:
    parse_arp(frame)


def test_reply_table_covers_live_hosts_only() -> None:
    assert sum(1 for entry in TABLE if entry is not None) == len(LIVE) == 1024
    assert TABLE[DEAD] is None


def test_preflight_explains_missing_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "has_privilege", lambda: False)
    with pytest.raises(UserError) as err:
        netns.preflight()
    assert "root" in err.value.message and "CAP_NET_ADMIN" in err.value.message
    assert err.value.hint is not None and "sudo" in err.value.hint


def test_preflight_names_the_package_for_ip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns, "has_privilege", lambda: True)
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(UserError) as err:
        netns.preflight()
    assert err.value.hint is not None and "iproute2" in err.value.hint


def test_up_and_down_refuse_a_bad_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NDAA_LAB_PREFIX", "Bad Prefix")
    for call in (netns.up, netns.down, netns.status):
        with pytest.raises(UserError):
            call()


def test_names_fit_interface_limits() -> None:
    names = netns.LabNames("a" * 12)
    for iface in (
        names.bridge,
        names.hub_port(netns.MAX_DEVICES - 1),
        names.scanner_port,
        names.scale_resp_iface,
        names.proxy_inner,
        names.proxy_inner_peer,
    ):
        assert len(iface) <= 15 and iface.startswith(names.prefix)

import socket

from hypothesis import given
from hypothesis import strategies as st

from scanner import arp_wire

OUR_MAC = bytes.fromhex("02aabbccddee")
OUR_IP = socket.inet_aton("198.18.0.1")

# Written out by hand from RFC 826: broadcast dst, our src, 0x0806, htype 1, ptype 0x0800,
# hlen 6, plen 4, op 1, sha, spa, tha zero, tpa.
GOLDEN_REQUEST = bytes.fromhex(
    "ffffffffffff02aabbccddee0806000108000604000102aabbccddeec6120001000000000000c612000a"
)
GOLDEN_REPLY = bytes.fromhex(
    "02aabbccddeea4143700000108060001080006040002a41437000001c612000a02aabbccddeec6120001"
)


def test_build_request_golden() -> None:
    frame = arp_wire.build_request(OUR_MAC, OUR_IP, socket.inet_aton("198.18.0.10"))
    assert frame == GOLDEN_REQUEST
    assert len(frame) == arp_wire.FRAME_LEN


def test_target_ip_offset_patches_only_the_target() -> None:
    template = bytearray(arp_wire.build_request(OUR_MAC, OUR_IP, b"\0\0\0\0"))
    o = arp_wire.TARGET_IP_OFFSET
    template[o : o + 4] = socket.inet_aton("198.18.0.10")
    assert bytes(template) == GOLDEN_REQUEST


def test_matches_scapy() -> None:
    from scapy.layers.l2 import ARP, Ether

    ours = arp_wire.build_request(OUR_MAC, OUR_IP, socket.inet_aton("198.18.0.10"))
    theirs = bytes(
        Ether(dst="ff:ff:ff:ff:ff:ff", src="02:aa:bb:cc:dd:ee")
        / ARP(op=1, hwsrc="02:aa:bb:cc:dd:ee", psrc="198.18.0.1", pdst="198.18.0.10")
    )
    assert ours == theirs


def test_parse_reply_golden_with_padding() -> None:
    pkt = arp_wire.parse_frame(GOLDEN_REPLY + b"\0" * 18)
    assert pkt is not None
    assert pkt.op == arp_wire.ARP_REPLY
    assert arp_wire.mac_to_str(pkt.sender_mac) == "A4:14:37:00:00:01"
    assert socket.inet_ntoa(pkt.sender_ip) == "198.18.0.10"
    assert pkt.target_mac == OUR_MAC


def test_build_reply_round_trips() -> None:
    frame = arp_wire.build_reply(
        bytes.fromhex("a41437000001"), socket.inet_aton("198.18.0.10"), OUR_MAC, OUR_IP
    )
    assert frame == GOLDEN_REPLY


def test_parse_rejects_truncated_and_foreign() -> None:
    assert arp_wire.parse_frame(GOLDEN_REPLY[:41]) is None
    assert arp_wire.parse_frame(b"") is None
    ipv4 = GOLDEN_REPLY[:12] + b"\x08\x00" + GOLDEN_REPLY[14:]
    assert arp_wire.parse_frame(ipv4) is None
    bad_hlen = bytearray(GOLDEN_REPLY)
    bad_hlen[18] = 8
    assert arp_wire.parse_frame(bytes(bad_hlen)) is None
    bad_op = bytearray(GOLDEN_REPLY)
    bad_op[21] = 9
    assert arp_wire.parse_frame(bytes(bad_op)) is None


@given(st.binary(max_size=200))
def test_parse_never_raises(data: bytes) -> None:
    arp_wire.parse_frame(data)


@given(st.binary(min_size=42, max_size=42))
def test_parse_accepts_only_well_formed(data: bytes) -> None:
    pkt = arp_wire.parse_frame(data)
    if pkt is not None:
        assert data[12:14] == b"\x08\x06"
        assert data[14:20] == bytes.fromhex("000108000604")


@given(st.binary(min_size=6, max_size=6), st.binary(min_size=4, max_size=4))
def test_request_round_trip(mac: bytes, ip: bytes) -> None:
    pkt = arp_wire.parse_frame(arp_wire.build_request(mac, OUR_IP, ip))
    assert pkt is not None
    assert (pkt.sender_mac, pkt.target_ip, pkt.op) == (mac, ip, arp_wire.ARP_REQUEST)


def test_mac_conversions() -> None:
    assert arp_wire.mac_to_bytes("a4-14-37-00-00-01") == bytes.fromhex("a41437000001")
    assert arp_wire.mac_to_str(bytes.fromhex("a41437000001")) == "A4:14:37:00:00:01"

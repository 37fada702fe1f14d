import socket

from hypothesis import given
from hypothesis import strategies as st

from scanner import arp_wire, bpf

OUR_MAC = bytes.fromhex("02aabbccddee")
OTHER_MAC = bytes.fromhex("02aabbccddef")
PROGRAM = bpf.arp_reply_filter(OUR_MAC)


def reply_to(mac: bytes) -> bytes:
    return arp_wire.build_reply(
        bytes.fromhex("a41437000001"), socket.inet_aton("198.18.0.10"), mac, b"\xc6\x12\0\1"
    )


def test_accepts_reply_to_us() -> None:
    assert bpf.run_filter(PROGRAM, reply_to(OUR_MAC))


def test_drops_reply_to_someone_else() -> None:
    assert not bpf.run_filter(PROGRAM, reply_to(OTHER_MAC))


def test_drops_requests_even_our_own() -> None:
    req = arp_wire.build_request(OUR_MAC, b"\xc6\x12\0\1", b"\xc6\x12\0\x0a")
    assert not bpf.run_filter(PROGRAM, req)


def test_drops_non_arp_and_short() -> None:
    frame = bytearray(reply_to(OUR_MAC))
    frame[12:14] = b"\x08\x00"
    assert not bpf.run_filter(PROGRAM, bytes(frame))
    assert not bpf.run_filter(PROGRAM, reply_to(OUR_MAC)[:30])


def test_program_attaches_to_a_real_socket() -> None:
    # An invalid program (bad jump offsets) is refused by the kernel's verifier with EINVAL.
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    try:
        bpf.attach(sock, PROGRAM)
    finally:
        sock.close()


@given(st.binary(max_size=80))
def test_filter_agrees_with_parser(data: bytes) -> None:
    accepted = bpf.run_filter(PROGRAM, data)
    pkt = arp_wire.parse_frame(data)
    if pkt is not None and pkt.op == arp_wire.ARP_REPLY and pkt.target_mac == OUR_MAC:
        assert accepted
    if accepted:
        assert data[12:14] == b"\x08\x06" and data[32:38] == OUR_MAC

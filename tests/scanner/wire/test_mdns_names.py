"""DNS-SD names: Hikvision `_CGI._tcp` instances and serial host names (research §5.1)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.wire import mdns_names


def test_hikvision_instance_golden() -> None:
    label = mdns_names.parse_instance("HIKVISION DS-2CD2722FWD-IZS - 733050075._CGI._tcp.local.")
    assert label == mdns_names.InstanceLabel("HIKVISION", "DS-2CD2722FWD-IZS", "733050075")
    host = "DS-2CD2722FWD-IZS20170321BBWR733050075.local."
    assert mdns_names.serial_from_host(host, label) == "DS-2CD2722FWD-IZS20170321BBWR733050075"
    assert mdns_names.serial_from_host(host) == "DS-2CD2722FWD-IZS20170321BBWR733050075"


def test_serial_needs_the_instance_to_agree() -> None:
    label = mdns_names.parse_instance("HIKVISION DS-2CD2143G2-I - J12345678")
    assert label is not None
    assert mdns_names.serial_from_host("printer.local.", label) == ""
    assert mdns_names.serial_from_host("DS-2CD2143G2-I20210315AAWRJ99999999.local", label) == ""
    assert mdns_names.serial_from_host("office-pc.local.") == ""
    assert mdns_names.serial_from_host("DS918.local") == ""


def test_other_labels_and_non_labels() -> None:
    axis = mdns_names.parse_instance("AXIS P3245-V - ACCC8EA2310F")
    assert axis == mdns_names.InstanceLabel("AXIS", "P3245-V", "ACCC8EA2310F")
    assert mdns_names.parse_instance("HP LaserJet Pro M404dn [6A0E93]") is None
    assert mdns_names.parse_instance("HIKVISION") is None
    assert mdns_names.strip_domain("x._http._tcp.local.") == "x"
    assert mdns_names.strip_domain("host.local") == "host"


def test_txt_pairs_bounded_and_decoded() -> None:
    props: dict[bytes, bytes | None] = {b"path": b"/", b"bad": b"\xff\xfe", b"flag": None}
    props.update({f"k{i}".encode(): b"v" * 1000 for i in range(100)})
    pairs = mdns_names.txt_pairs(props)
    assert pairs[:3] == (("path", "/"), ("bad", "\ufffd\ufffd"), ("flag", ""))
    assert len(pairs) == 32 and all(len(v) <= 256 for _, v in pairs)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300))
def test_never_raises(name: str, host: str) -> None:
    label = mdns_names.parse_instance(name)
    mdns_names.serial_from_host(host, label)
    mdns_names.serial_from_host(host)
    mdns_names.strip_domain(name)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.binary(max_size=80), st.one_of(st.none(), st.binary(max_size=400))))
def test_txt_never_raises(props: dict[bytes, bytes | None]) -> None:
    mdns_names.txt_pairs(props)

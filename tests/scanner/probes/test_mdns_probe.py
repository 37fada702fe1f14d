"""mDNS probe without the network: the fields a resolved instance gives and what the signatures
make of them (Hikvision's `_CGI._tcp` names; Axis and HP as makers that are not covered)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from fingerprints.signatures import parse_file
from scanner.model import Scope
from scanner.probes.base import ProbeContext
from scanner.probes.mdns import MdnsProbe, instance_fields

ROOT = Path(__file__).resolve().parents[3]
SIGS = parse_file((ROOT / "fingerprints/signatures/mdns.toml").read_text(), "mdns", "mdns.toml")


def _makers(fields: list[tuple[str, str]]) -> set[str]:
    return {
        sig.vendor or sig.maker
        for sig in SIGS
        if any(k == sig.field and sig.matches(v) for k, v in fields)
    }


def test_hikvision_cgi_instance() -> None:
    fields = instance_fields(
        "_CGI._tcp.local.",
        "HIKVISION DS-2CD2722FWD-IZS - 733050075._CGI._tcp.local.",
        "DS-2CD2722FWD-IZS20170321BBWR733050075.local.",
        80,
        (("path", "/"),),
    )
    values = dict(fields)
    assert values["service"] == "_CGI._tcp"
    assert values["instance"] == "HIKVISION DS-2CD2722FWD-IZS - 733050075"
    assert values["hostname"] == "DS-2CD2722FWD-IZS20170321BBWR733050075"
    assert (values["brand"], values["model"]) == ("HIKVISION", "DS-2CD2722FWD-IZS")
    assert values["serial_tail"] == "733050075"
    assert values["serial"] == "DS-2CD2722FWD-IZS20170321BBWR733050075"
    assert _makers(fields) == {"hikvision"}


def test_axis_and_printer_name_their_makers() -> None:
    axis = instance_fields(
        "_axis-video._tcp.local.",
        "AXIS P3245-V - ACCC8EA2310F._axis-video._tcp.local.",
        "axis-accc8ea2310f.local.",
        80,
        (("macaddress", "ACCC8EA2310F"),),
    )
    assert "serial" not in dict(axis)  # an Axis host name is not a Hikvision serial
    assert _makers(axis) == {"Axis Communications AB"}
    printer = instance_fields(
        "_ipp._tcp.local.",
        "HP LaserJet Pro M404dn [6A0E93]._ipp._tcp.local.",
        "HP3CD92B6A0E93.local.",
        631,
        (("ty", "HP LaserJet Pro M404dn"), ("usb_MFG", "HP"), ("usb_MDL", "LaserJet Pro M404dn")),
    )
    values = dict(printer)
    assert (values["manufacturer"], values["model"]) == ("HP", "LaserJet Pro M404dn")
    assert _makers(printer) == {"Hewlett Packard"}


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.integers(0, 70000))
def test_hostile_names_never_raise_and_stay_bounded(name: str, host: str, port: int) -> None:
    fields = instance_fields("_http._tcp.local.", name, host, port, (("k", name),))
    assert all(len(v) <= 1024 for _, v in fields)


def test_no_interfaces_no_results() -> None:
    ctx = ProbeContext(scope=Scope(targets=(), interfaces=()), plans=())
    assert MdnsProbe().run(ctx) == []

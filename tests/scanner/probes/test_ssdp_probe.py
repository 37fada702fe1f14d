"""SSDP probe without the network: which LOCATIONs may be fetched, bounded description fetches
(through a fake HTTP adapter), merged per-host fields, floods and strangers."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter

from fingerprints.signatures import parse_file
from scanner.interfaces import Interface
from scanner.probes.ssdp import (
    _Collector,
    description_url_allowed,
    fetch_description,
    host_fields,
)
from scanner.targets import SweepPlan
from scanner.wire import ssdp

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests/scanner/wire/data"
RESPONSE = (DATA / "ssdp_response_hikvision_nvr.txt").read_bytes()
NOTIFY = (DATA / "ssdp_notify_zte.txt").read_bytes()
DESCRIPTION = (DATA / "ssdp_description_hikvision_nvr.xml").read_bytes()
SIGS = parse_file((ROOT / "fingerprints/signatures/ssdp.toml").read_text(), "ssdp", "ssdp.toml")
LAB0 = Interface("lab0", 2, "02:00:00:00:00:01", True, False, (("198.18.0.1", "198.18.0.0/24"),))
PLAN = SweepPlan(LAB0, "198.18.0.1", ((0xC6120001, 0xC61200FE),))


class FakeAdapter(BaseAdapter):
    """Answers every request from a table (no sockets): url -> (status, body) or an exception."""

    def __init__(self, table: dict[str, Any]) -> None:
        super().__init__()
        self.table = table
        self.asked: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = str(request.url)
        self.asked.append(url)
        entry = self.table.get(url, (404, b""))
        if isinstance(entry, Exception):
            raise entry
        response = requests.Response()
        response.status_code, body = entry
        response.raw = io.BytesIO(body)
        response.url = url
        response.request = request
        return response

    def close(self) -> None:
        pass


def _session(table: dict[str, Any]) -> tuple[requests.Session, FakeAdapter]:
    session = requests.Session()
    adapter = FakeAdapter(table)
    session.mount("http://", adapter)
    return session, adapter


def test_only_in_scope_http_locations_are_fetched() -> None:
    ok = "http://198.18.0.12:49152/upnpdevicedesc.xml"
    assert description_url_allowed(ok, PLAN.contains, "198.18.0.12") is None
    refused = {
        "https://198.18.0.12/d.xml": "not http",
        "http://user:pw@198.18.0.12/d.xml": "credentials in URL",
        "http://printer.local/d.xml": "host is not an IPv4 address",
        "http://10.0.0.1/d.xml": "outside the scanned targets",
        "http://198.18.0.13/d.xml": "points at another host",
        "http://198.18.0.12:99999/d.xml": "unparsable URL",
    }
    for url, why in refused.items():
        assert description_url_allowed(url, PLAN.contains, "198.18.0.12") == why, url


def test_fetch_description_outcomes() -> None:
    url = "http://198.18.0.12:49152/d.xml"
    far = time.monotonic() + 5
    session, _ = _session({url: (200, DESCRIPTION)})
    status, desc, body = fetch_description(session, url, far, threading.Event())
    assert status == "ok" and desc is not None and desc.serial.startswith("DS-7608NI-K2")
    assert body == DESCRIPTION
    cases: dict[str, Any] = {
        "HTTP 404": (404, b"nope"),
        "too large": (200, b"<root>" + b"x" * (ssdp.MAX_DESCRIPTION + 10)),
        "unparsable": (200, b"\x00\x01garbage"),
        "error: ConnectionError": requests.ConnectionError("refused"),
    }
    for expected, entry in cases.items():
        session, _ = _session({url: entry})
        assert fetch_description(session, url, far, threading.Event())[0] == expected
    session, adapter = _session({url: (200, DESCRIPTION)})
    past = time.monotonic() - 1
    assert fetch_description(session, url, past, threading.Event())[0].startswith("not fetched")
    assert adapter.asked == []  # nothing is sent once the window is over


def test_collector_merges_a_host_and_reads_its_description() -> None:
    unicast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # never used to send
    group = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    col = _Collector(PLAN, unicast, time.monotonic() + 5, threading.Event())
    col.session, adapter = _session(
        {"http://198.18.0.12:49152/upnpdevicedesc.xml": (200, DESCRIPTION)}
    )
    try:
        for st in (b"upnp:rootdevice", b"urn:schemas-upnp-org:device:Basic:1"):
            col.on_datagram(
                unicast, RESPONSE.replace(b"upnp:rootdevice", st), ("198.18.0.12", 1900)
            )
        for i in range(300):  # a flood of distinct responses from one host
            col.on_datagram(unicast, RESPONSE + b"X-N: %d\r\n" % i, ("198.18.0.12", 1900))
        col.on_datagram(unicast, RESPONSE, ("192.0.2.7", 1900))  # outside the targets
        col.on_datagram(unicast, b"\x00garbage", ("198.18.0.30", 1900))
        col.on_datagram(group, ssdp.build_msearch(), ("198.18.0.31", 1900))  # someone's search
        col.on_datagram(group, NOTIFY, ("198.18.0.42", 1900))
        for future in col.futures:  # the window would still be open: let them finish
            future.result(timeout=5)
    finally:
        col.finish()
        unicast.close()
        group.close()
    assert sorted(adapter.asked) == [
        "http://198.18.0.12:49152/upnpdevicedesc.xml",
        "http://198.18.0.42:52869/gatedesc.xml",  # heard in a NOTIFY, fetched all the same
    ]
    assert col.answered == {"198.18.0.12"}
    assert set(col.hosts) == {"198.18.0.12", "198.18.0.42"}
    nvr = dict(host_fields(col.hosts["198.18.0.12"]))
    assert nvr["reply"] == "ssdp-response"
    assert nvr["manufacturer"] == "Hikvision"
    assert (nvr["model"], nvr["firmware"]) == ("DS-7608NI-K2", "V4.30.085 build 210315")
    assert nvr["serial"] == "DS-7608NI-K20820211104CCRRJ87654321"
    assert nvr["st"] == "upnp:rootdevice urn:schemas-upnp-org:device:Basic:1"
    zte = dict(host_fields(col.hosts["198.18.0.42"]))
    assert zte["reply"] == "ssdp-notify"
    assert zte["description"] == "HTTP 404 http://198.18.0.42:52869/gatedesc.xml"
    matched = {
        s.vendor for s in SIGS if s.field == "manufacturer" and s.matches(nvr["manufacturer"])
    }
    assert matched == {"hikvision"}

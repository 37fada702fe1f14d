"""The SNMP probe: nothing without configured communities, only those communities, the vendor's
objects only where the arc says so; against the lab's SNMP agent code, in a namespace the test
makes."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scanner.credentials import Credentials, Secret, SnmpEntry
from scanner.interfaces import Interface
from scanner.lab.emulators import snmp as agent
from scanner.lab.personas import PERSONAS
from scanner.model import Observation, ProbeStatus, Scope
from scanner.probes import limits
from scanner.probes.base import ProbeContext
from scanner.probes.snmp import SnmpProbe, render
from scanner.targets import SweepPlan
from scanner.wire import snmp_oids
from tests._netns import namespace, needs_root, run_in

AGENTS = {"198.18.0.31": "hytera", "198.18.0.41": "huawei"}
ADDRESSES = ("198.18.0.1", *AGENTS)
FAST = limits.Politeness(read_timeout=0.5, host_budget=3.0)


@pytest.fixture
def agents() -> Iterator[tuple[str, int, list[dict[str, Any]]]]:
    """The emulator's BER agent on one free port per address; the list collects what it got."""
    got: list[dict[str, Any]] = []
    stop = threading.Event()

    def serve(ip: str, sock: socket.socket) -> None:
        name = AGENTS[ip]
        mib = agent.mib_for(name, PERSONAS[name])
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            request = agent.parse_request(data)
            assert request is not None
            _version, community, pdu, rid, oids = request
            got.append({"ip": ip, "community": community, "pdu": pdu, "oids": oids})
            if community == agent.COMMUNITY[name]:
                sock.sendto(agent.build_response(community, rid, oids, mib), peer)

    def start() -> tuple[int, list[tuple[threading.Thread, socket.socket]]]:
        port = 0
        running = []
        for ip in AGENTS:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((ip, port))
            port = sock.getsockname()[1]
            sock.settimeout(0.1)
            thread = threading.Thread(target=serve, args=(ip, sock), daemon=True)
            thread.start()
            running.append((thread, sock))
        return port, running

    with namespace(ADDRESSES) as ns:
        port, running = run_in(ns, start)
        try:
            yield ns, port, got
        finally:
            stop.set()
            for thread, sock in running:
                thread.join()
                sock.close()


def _ctx(credentials: Credentials | None) -> ProbeContext:
    lo = Interface("lo", 1, None, True, True, (("198.18.0.1", "198.18.0.0/24"),))
    first = int(ipaddress.IPv4Address("198.18.0.1"))
    plan = SweepPlan(lo, "198.18.0.1", ((first, first + 254),))
    prior = tuple(
        Observation("arp", "lo", datetime.now(UTC), ip, None) for ip in (*AGENTS, "198.18.0.99")
    )
    scope = Scope(targets=("198.18.0.0/24",), interfaces=("lo",))
    return ProbeContext(scope=scope, plans=(plan,), prior=prior, credentials=credentials)


def _creds(*communities: str) -> Credentials:
    return Credentials(snmp=(SnmpEntry(tuple(Secret(c) for c in communities)),))


Agents = tuple[str, int, list[dict[str, Any]]]


@needs_root
def test_without_communities_nothing_is_sent(agents: Agents) -> None:
    ns, port, got = agents
    for credentials in (None, Credentials()):
        (result,) = run_in(ns, lambda c=credentials: SnmpProbe(FAST, port=port).run(_ctx(c)))
        assert result.stats.status is ProbeStatus.SKIPPED and result.stats.sent == 0
        assert not result.observations
    assert got == []


@needs_root
def test_configured_communities_in_order(agents: Agents) -> None:
    ns, port, got = agents
    probe = SnmpProbe(FAST, limits.Limits(total=4), port=port)
    (result,) = run_in(ns, lambda: probe.run(_ctx(_creds("nope-1", "hytera", "public"))))
    by_ip = {o.ip: o for o in result.observations}
    hytera = by_ip["198.18.0.31"]
    persona = PERSONAS["hytera"]
    assert hytera.field("sys_object_id") == "1.3.6.1.4.1.40297.1.2"
    assert (hytera.field("model"), hytera.field("firmware"), hytera.field("serial")) == (
        persona.model,
        persona.firmware,
        persona.serial,
    )
    assert hytera.field("enterprise_objects") == "40297"
    huawei = by_ip["198.18.0.41"]
    assert (huawei.field("sys_descr") or "").startswith("Huawei Versatile Routing Platform")
    assert huawei.field("model") is None  # no vendor objects known for arc 2011
    assert {e["community"] for e in got} <= {"nope-1", "hytera", "public"}
    assert all(e["pdu"] == 0xA0 for e in got)  # GET only
    hytera_asks = [e["community"] for e in got if e["ip"] == "198.18.0.31"]
    assert hytera_asks == ["nope-1", "hytera", "hytera"]  # system group, then 40297 objects
    assert "hytera" not in repr(result) and "nope-1" not in repr(result)
    assert result.stats.answered == 2


@needs_root
def test_per_host_entry_wins(agents: Agents) -> None:
    ns, port, got = agents
    net = ipaddress.ip_network("198.18.0.41/32")
    creds = Credentials(snmp=(SnmpEntry((Secret("public"),), (net,)),))
    (result,) = run_in(ns, lambda: SnmpProbe(FAST, port=port).run(_ctx(creds)))
    assert {o.ip for o in result.observations} == {"198.18.0.41"}
    assert {e["ip"] for e in got} == {"198.18.0.41"}


def test_enterprise_arcs() -> None:
    assert snmp_oids.vendor_of("1.3.6.1.4.1.2011.2.23.355") == "huawei"
    assert snmp_oids.vendor_of("1.3.6.1.4.1.39165.1.1") == "hikvision"
    assert snmp_oids.vendor_of("1.3.6.1.4.1.1004849") == "dahua"
    assert snmp_oids.vendor_of("1.3.6.1.4.1.3902.1") == "zte"
    assert snmp_oids.vendor_of("1.3.6.1.4.1.20112") is None  # not a prefix match on digits
    assert snmp_oids.vendor_of("1.3.6.1.4.1.8072.3.2.10") is None
    assert snmp_oids.vendor_of("not an oid") is None


@given(st.text(max_size=200))
def test_oid_helpers_never_raise(text: str) -> None:
    snmp_oids.vendor_of(text)
    snmp_oids.enterprise_number(text)


def test_render_values() -> None:
    from pysnmp.proto.rfc1902 import ObjectIdentifier, OctetString
    from pysnmp.proto.rfc1905 import NoSuchObject

    assert render(OctetString(b"RD985\x00")) == "RD985"
    assert render(OctetString(b"\xff\xfe\x01")) == "fffe01"
    assert render(ObjectIdentifier("1.3.6.1.4.1.40297")) == "1.3.6.1.4.1.40297"
    assert render(NoSuchObject()) == ""
    assert len(render(OctetString(b"a" * 5000))) == 1024


@needs_root
def test_hostile_replies_are_silent(caplog: pytest.LogCaptureFixture) -> None:
    """An agent answering a reply pysnmp cannot decode costs only its own time, no traceback."""
    stop = threading.Event()

    def serve(sock: socket.socket) -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            request = agent.parse_request(data)
            assert request is not None
            good = agent.build_response(request[1], request[3], request[4], {})
            sock.sendto(good.replace(b"\x80\x00", b"\x1f\x00", 1), peer)  # a tag no SNMP has

    def scenario() -> Any:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("198.18.0.31", 0))
        sock.settimeout(0.1)
        thread = threading.Thread(target=serve, args=(sock,), daemon=True)
        thread.start()
        try:
            return SnmpProbe(FAST, port=sock.getsockname()[1]).run(_ctx(_creds("public")))
        finally:
            stop.set()
            thread.join()
            sock.close()

    with namespace(ADDRESSES) as ns:
        (result,) = run_in(ns, scenario)
    assert not result.observations
    assert not [r for r in caplog.records if r.name == "asyncio"]  # what would reach stderr

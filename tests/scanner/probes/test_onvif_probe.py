"""The ONVIF probe against the lab's ONVIF emulator, both inside a namespace the test makes:
where it asks, what it asks, and that it authenticates only with a login the user supplied."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from scanner.credentials import Credentials, OnvifLogin, Secret
from scanner.interfaces import Interface
from scanner.lab.emulators.base import RequestLog, read_log
from scanner.lab.emulators.onvif import make_server
from scanner.lab.personas import PERSONAS, Persona
from scanner.model import Observation, Scope
from scanner.probes import limits
from scanner.probes.base import ProbeContext
from scanner.probes.onvif import Endpoint, OnvifProbe, endpoints_from_xaddrs, plan_endpoints
from scanner.targets import SweepPlan
from tests._netns import namespace, needs_root, run_in

LOGIN = ("ndaa-lab", "lab-pw-7f3a")
DEVICES = {"198.18.0.11": "hik-cam", "198.18.0.12": "hik-nvr", "198.18.0.24": "amcrest-cam"}
FAST = limits.Politeness(connect_timeout=0.5, read_timeout=1.0, host_budget=4.0)


def _ctx(prior: list[Observation], credentials: Credentials | None = None) -> ProbeContext:
    lo = Interface("lo", 1, None, True, True, (("198.18.0.1", "198.18.0.0/24"),))
    first = int(ipaddress.IPv4Address("198.18.0.1"))
    plan = SweepPlan(lo, "198.18.0.1", ((first, first + 254),))
    scope = Scope(targets=("198.18.0.0/24",), interfaces=("lo",))
    return ProbeContext(scope=scope, plans=(plan,), prior=tuple(prior), credentials=credentials)


def _obs(ip: str, probe: str = "arp", **fields: str) -> Observation:
    return Observation(probe, "lo", datetime.now(UTC), ip, None, tuple(fields.items()))


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    """One server per device address, all on one free port, logging to one file."""
    log = RequestLog(tmp_path / "requests.jsonl")

    def lookup(ip: str) -> tuple[str, Persona] | None:
        name = DEVICES.get(ip)
        return (name, PERSONAS[name]) if name else None

    def start() -> list[ThreadingHTTPServer]:
        servers: list[ThreadingHTTPServer] = []
        port = 0
        for ip in DEVICES:
            server = make_server(ip, port, lookup, log, LOGIN)
            port = server.server_address[1]
            servers.append(server)
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return servers

    with namespace(("198.18.0.1", *DEVICES)) as ns:
        servers = run_in(ns, start)
        try:
            yield ns, servers[0].server_address[1], tmp_path / "requests.jsonl"
        finally:
            for server in servers:
                server.shutdown()
                server.server_close()


def _run(emulator: tuple[str, int, Path], credentials: Credentials | None) -> list[Observation]:
    ns, port, _ = emulator
    prior = [_obs(ip) for ip in DEVICES] + [
        _obs(ip, "wsd", xaddrs=f"http://{ip}:{port}/onvif/device_service") for ip in DEVICES
    ]
    probe = OnvifProbe(FAST, limits.Limits(total=8, per_host=2))
    (result,) = run_in(ns, lambda: probe.run(_ctx(prior, credentials)))
    assert result.stats.answered == len(DEVICES)
    return list(result.observations)


def _by(observations: list[Observation], ip: str, reply: str) -> Observation | None:
    return next(
        (o for o in observations if o.ip == ip and o.field("reply") == reply and o.field("model")),
        None,
    )


@needs_root
def test_without_credentials_nothing_authenticates(emulator: tuple[str, int, Path]) -> None:
    log_path = emulator[2]
    observations = _run(emulator, None)
    amcrest = _by(observations, "198.18.0.24", "onvif-device-info")
    assert amcrest is not None and amcrest.field("manufacturer") == "Amcrest"
    assert amcrest.field("serial") == PERSONAS["amcrest-cam"].serial
    assert amcrest.field("auth") == "none"
    assert _by(observations, "198.18.0.11", "onvif-device-info") is None
    kinds = {(o.ip, o.field("reply")) for o in observations}
    assert ("198.18.0.11", "http-401") in kinds and ("198.18.0.12", "soap-fault") in kinds
    skews = {o.ip: o.field("clock_skew") for o in observations if o.field("reply") == "onvif-time"}
    assert abs(int(skews["198.18.0.11"] or 0) - 1800) <= 2
    log = read_log(log_path)
    assert {e["kind"] for e in log} == {"GetSystemDateAndTime", "GetDeviceInformation"}
    assert all(e["auth"] == "none" for e in log)
    assert not any("Authorization" in e["request"] or "UsernameToken" in e["request"] for e in log)


@needs_root
def test_with_a_login_digest_and_usernametoken_with_skew(emulator: tuple[str, int, Path]) -> None:
    log_path = emulator[2]
    creds = Credentials(onvif=(OnvifLogin(LOGIN[0], Secret(LOGIN[1])),))
    observations = _run(emulator, creds)
    hik = _by(observations, "198.18.0.11", "onvif-device-info")
    assert hik is not None and hik.field("auth") == "digest"
    assert hik.field("manufacturer") == "HIKVISION"
    assert hik.field("firmware") == PERSONAS["hik-cam"].firmware
    nvr = _by(observations, "198.18.0.12", "onvif-device-info")
    assert nvr is not None and nvr.field("auth") == "usernametoken"  # device clock is -900 s
    assert nvr.field("serial") == PERSONAS["hik-nvr"].serial
    log = read_log(log_path)
    assert LOGIN[1] not in "".join(e["request"] for e in log)  # digests only, never the password
    authenticated = [e for e in log if e["auth"] != "none"]
    assert len(authenticated) == 2 and all(e["authorized"] for e in authenticated)
    assert all(LOGIN[1] not in repr(o) for o in observations)


@needs_root
def test_wrong_login_is_tried_once_per_host(emulator: tuple[str, int, Path]) -> None:
    log_path = emulator[2]
    creds = Credentials(onvif=(OnvifLogin("admin", Secret("wrong")),))
    observations = _run(emulator, creds)
    assert _by(observations, "198.18.0.11", "onvif-device-info") is None
    tried = [e for e in read_log(log_path) if e["auth"] != "none"]
    assert sorted(e["device"] for e in tried) == ["hik-cam", "hik-nvr"]


@needs_root
def test_login_for_other_hosts_is_not_used(emulator: tuple[str, int, Path]) -> None:
    log_path = emulator[2]
    net = ipaddress.ip_network("10.0.0.0/8")
    creds = Credentials(onvif=(OnvifLogin(LOGIN[0], Secret(LOGIN[1]), (net,)),))
    _run(emulator, creds)
    assert all(e["auth"] == "none" for e in read_log(log_path))


def test_xaddrs_never_lead_to_another_address() -> None:
    xaddrs = (
        "http://198.18.0.11/onvif/device_service http://[fe80::1]/onvif/device_service "
        "http://198.18.0.99:8080/onvif/device_service https://198.18.0.11/onvif/device_service "
        "http://198.18.0.11:8999/onvif/device_service http://198.18.0.11:8999/a%0d%0aX: y"
    )
    assert endpoints_from_xaddrs(xaddrs, "198.18.0.11") == [
        Endpoint("198.18.0.11", 80, "/onvif/device_service"),
        Endpoint("198.18.0.11", 8999, "/onvif/device_service"),
        Endpoint("198.18.0.11", 8999, "/a%0d%0aX:"),
    ]
    assert endpoints_from_xaddrs("http://x:99999/ http://198.18.0.11:0/", "198.18.0.11") == []


def test_plan_asks_advertised_or_hinted_hosts_in_scope_only() -> None:
    prior = [
        _obs("198.18.0.5"),  # ARP only, no hint: not asked
        _obs("198.18.0.6"),
        _obs("198.18.0.6", "mdns", model="LaserJet"),  # mDNS alone: not a camera hint
        _obs("198.18.0.6", "sadp", model="DS-2CD"),  # hinted: the usual URLs
        _obs("198.18.0.7"),
        _obs("198.18.0.7", "wsd", xaddrs="http://198.18.0.7:8999/onvif/device_service"),
        _obs("198.18.0.9"),  # a WSD printer: its metadata endpoint is not a device service
        _obs("198.18.0.9", "wsd", types="wprt:PrintDeviceType", xaddrs="http://198.18.0.9:5357/x"),
        _obs("198.18.0.10"),  # a DHIP reply: Dahua firmware, the usual URLs
        _obs("198.18.0.10", "dhip", model="IPC-HDW"),
        _obs("198.18.0.13", "tcp", port="8999"),  # a routed host (no MAC) with a web port
        _obs("10.1.1.1", "wsd", xaddrs="http://10.1.1.1/onvif/device_service"),  # out of scope
        _obs("198.18.0.8"),
    ]
    plan = plan_endpoints(_ctx(prior), {})
    assert set(plan) == {"198.18.0.6", "198.18.0.7", "198.18.0.10", "198.18.0.13"}
    assert [e.port for e in plan["198.18.0.6"]] == [80, 8999]
    assert not plan["198.18.0.6"][0].advertised and plan["198.18.0.7"][0].advertised
    assert [(e.port, e.advertised) for e in plan["198.18.0.7"]] == [(8999, True), (80, False)]
    with_oui = _ctx(
        [Observation("arp", "lo", datetime.now(UTC), "198.18.0.8", "A4:14:37:00:00:01")]
    )
    assert set(plan_endpoints(with_oui, {"A4:14:37:00:00:01": "hikvision"})) == {"198.18.0.8"}
    assert not plan_endpoints(with_oui, {"A4:14:37:00:00:01": "zte"})  # a router's OUI: no

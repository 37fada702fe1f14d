"""The connect sweep's stop rules, and the phase-2 port map computed once and shared by the
probes that ask for it at the same time. Nothing is sent: the sweep is replaced."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any

import pytest

from scanner.model import Observation, Scope
from scanner.probes import portscan
from scanner.probes.base import ProbeContext
from scanner.probes.limits import for_each_host


def host(states: dict[int, str], in_flight: int = 0) -> portscan.HostPorts:
    return portscan.HostPorts("198.18.0.9", deque([8000]), dict(states), in_flight)


def test_stop_rules() -> None:
    s, o, c = portscan.SILENT, portscan.OPEN, portscan.CLOSED
    assert portscan.until_answer(host({80: c}))
    assert not portscan.until_answer(host({80: s}))
    assert portscan.until_silent(host({80: s, 443: s}))
    assert portscan.until_silent(host({80: s}, in_flight=1))  # wait for the other one first
    assert not portscan.until_silent(host({80: s}))
    assert not portscan.until_silent(host({80: s, 443: s, 554: o}))
    assert portscan.until_silent(host({80: portscan.UNREACHABLE, 443: s}))


def test_port_map_is_made_once_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[tuple[str, tuple[int, ...]]]] = []

    def fake_sweep(targets: Any, **_: Any) -> portscan.SweepResult:
        todo = list(targets)
        calls.append(todo)
        time.sleep(0.05)
        hosts = [portscan.HostPorts(ip, deque(), {80: portscan.OPEN}) for ip, _ in todo]
        return portscan.SweepResult(hosts, sent=len(todo) * 8)

    monkeypatch.setattr(portscan, "sweep", fake_sweep)
    seen = Observation("arp", "lab0", datetime.now(UTC), "198.18.0.9", "A4:14:37:00:00:01")
    ctx = ProbeContext(Scope(targets=(), interfaces=()), plans=(), prior=(seen,))
    maps = for_each_host(["a", "b", "c"], lambda _: portscan.port_map(ctx), workers=3)
    assert len(calls) == 1 and calls[0][0] == ("198.18.0.9", portscan.PROBE_PORTS)
    assert all(m == ({"198.18.0.9": {80: "open"}}, 8) for m in maps)
    again = ProbeContext(Scope(targets=(), interfaces=()), plans=(), prior=(seen, seen))
    portscan.port_map(again)
    assert len(calls) == 2


def test_a_stopped_scan_sweeps_nothing() -> None:
    stop = threading.Event()
    stop.set()
    result = portscan.sweep([("198.18.0.9", (80,))], stop_rule=portscan.until_answer, stop=stop)
    assert result.sent == 0 and not result.hosts[0].states

"""The politeness limits hold under contention: never more than per_host connections to one
host, never more than total overall, and a budget bounds every timeout."""

from __future__ import annotations

import threading
import time

import pytest

from scanner.probes.limits import Budget, Limits, for_each_host


def test_per_host_and_total_caps_hold_under_contention() -> None:
    limits = Limits(total=5, per_host=2)
    open_now: dict[str, int] = {}
    lock = threading.Lock()
    worst = {"host": 0, "total": 0}

    def work(host: str) -> str:
        for _ in range(3):
            with limits.connection(host):
                with lock:
                    open_now[host] = open_now.get(host, 0) + 1
                    worst["host"] = max(worst["host"], open_now[host])
                    worst["total"] = max(worst["total"], sum(open_now.values()))
                time.sleep(0.002)
                with lock:
                    open_now[host] -= 1
        return host

    hosts = [f"h{i % 4}" for i in range(40)]  # ten workers per host compete
    done = for_each_host(hosts, work, workers=32)
    assert sorted(done) == sorted(hosts)
    assert worst["host"] <= 2 and worst["total"] <= 5
    assert limits.peak_per_host == 2 and limits.peak_total <= 5


def test_budget_bounds_timeouts() -> None:
    budget = Budget(0.05)
    assert 0.0 < budget.timeout(10.0) <= 0.05
    assert budget.timeout(0.01) == pytest.approx(0.01)
    time.sleep(0.06)
    assert budget.expired and budget.timeout(10.0) == 0.001


def test_stop_skips_hosts_not_started() -> None:
    stop = threading.Event()
    stop.set()
    assert for_each_host(["a", "b"], lambda h: h, stop=stop) == []


def test_progress_counts_every_host() -> None:
    seen: list[int] = []
    for_each_host(["a", "b", "c"], lambda h: h, workers=1, progress=seen.append)
    assert seen == [1, 2, 3]


def test_invalid_limits_refused() -> None:
    with pytest.raises(ValueError):
        Limits(total=0)

"""Politeness for the per-host probes (HTTP, RTSP, TCP ports, ONVIF, SNMP): one place that caps
how hard the scanner leans on a network and on any single device.

Three limits, shared by every probe in the process (`shared()`), so probes running side by side
in phase 2 add up to the same ceiling instead of one each:

- `Limits.connection(host)`: at most `per_host` (2) connections to one host and `total` (64)
  overall at any moment. Hold it around each connect-send-read; blocking until a slot frees is
  the back-pressure.
- `Budget`: a per-host time budget (5 s by default). A device that answers one byte at a time
  must not hold a worker longer than that, so every timeout is `budget.timeout(cap)`.
- `Politeness` carries the numbers (timeouts, byte cap per response) so tests and callers can
  tighten them in one value.

`for_each_host` runs a function over hosts on a thread pool, stops early on `stop`, and reports
progress; a worker's exception is the caller's bug and propagates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Politeness:
    total: int = 64  # concurrent connections, all probes and hosts together
    per_host: int = 2  # concurrent connections to one host
    connect_timeout: float = 1.0
    read_timeout: float = 2.0  # longest wait for any one chunk
    response_time: float = 3.0  # longest a single response may take in all
    host_budget: float = 5.0  # seconds one probe may spend on one host
    max_response: int = 65_536  # bytes read from one response; the rest is never read


DEFAULT = Politeness()


class Limits:
    """Counts open connections per host and in total; `connection()` waits for a free slot."""

    def __init__(self, total: int = DEFAULT.total, per_host: int = DEFAULT.per_host) -> None:
        if total < 1 or per_host < 1:
            raise ValueError("limits must be at least 1")
        self.total = total
        self.per_host = per_host
        self._cond = threading.Condition()
        self._active: dict[str, int] = {}
        self._open = 0
        self.peak_total = 0  # for tests and benchmarks: the most connections ever open at once
        self.peak_per_host = 0

    def _free(self, host: str) -> bool:
        return self._open < self.total and self._active.get(host, 0) < self.per_host

    @contextmanager
    def connection(self, host: str) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: self._free(host))
            self._open += 1
            count = self._active[host] = self._active.get(host, 0) + 1
            self.peak_total = max(self.peak_total, self._open)
            self.peak_per_host = max(self.peak_per_host, count)
        try:
            yield
        finally:
            with self._cond:
                self._open -= 1
                left = self._active[host] - 1
                if left:
                    self._active[host] = left
                else:
                    del self._active[host]
                self._cond.notify_all()


_SHARED = Limits()


def shared() -> Limits:
    """The process-wide limits every per-host probe uses."""
    return _SHARED


class Budget:
    """A deadline for one host: `timeout(cap)` is the time a blocking call may still take."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def timeout(self, cap: float) -> float:
        """min(cap, time left), never below a millisecond (0 would make a socket non-blocking)."""
        return max(0.001, min(cap, self.remaining()))


def for_each_host(
    hosts: Iterable[str],
    work: Callable[[str], T],
    *,
    workers: int = DEFAULT.total,
    stop: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[T]:
    """`work(host)` for every host on a pool of `workers` threads; results in completion order.
    Hosts not yet started when `stop` is set are skipped."""
    todo = list(hosts)
    if not todo:
        return []

    def guarded(host: str) -> list[T]:
        if stop is not None and stop.is_set():
            return []
        return [work(host)]

    results: list[T] = []
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as pool:
        for future in as_completed([pool.submit(guarded, h) for h in todo]):
            results += future.result()
            done += 1
            if progress is not None:
                progress(done)
    return results

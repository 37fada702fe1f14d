"""The probe interface (after sslyze's plugins): a probe turns a scan context into observations
and statistics, and a probe that fails says so in its stats instead of raising, so one broken
protocol never costs the user the rest of the scan."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Event

from scanner.model import ProbeResult, ProbeStats, ProbeStatus, Scope
from scanner.targets import SweepPlan

Progress = Callable[[str, int], None]  # (probe/interface label, units done)


@dataclass(frozen=True)
class ProbeContext:
    scope: Scope
    plans: tuple[SweepPlan, ...]
    stop: Event = field(default_factory=Event)
    progress: Progress | None = None


class Probe(ABC):
    name: str

    @abstractmethod
    def run(self, ctx: ProbeContext) -> list[ProbeResult]:
        """One result per interface the probe ran on."""

    def run_safely(self, ctx: ProbeContext) -> list[ProbeResult]:
        started = time.perf_counter()
        try:
            return self.run(ctx)
        except Exception as exc:
            return [
                ProbeResult(
                    ProbeStats(
                        name=self.name,
                        duration=time.perf_counter() - started,
                        status=ProbeStatus.FAILED,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                )
            ]

"""Token-bucket pacing for senders that must stay polite on a shared LAN.

The bucket holds a few milliseconds' worth of tokens: enough to absorb scheduler jitter without
ever letting a stalled sender catch up in one burst.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate: float,
        *,
        burst: int | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.burst = burst if burst is not None else max(1, int(rate * 0.005))
        self._clock = clock
        self._tokens = float(self.burst)
        self._last = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now

    def take(self, most: int) -> int:
        """Take up to `most` whole tokens now; returns how many were granted (maybe 0)."""
        self._refill()
        granted = min(most, int(self._tokens))
        self._tokens -= granted
        return granted

    def delay(self) -> float:
        """Seconds until the next whole token is available."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

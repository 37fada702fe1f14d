import pytest

from scanner.ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_is_respected_over_time() -> None:
    clock = Clock()
    bucket = TokenBucket(1000, clock=clock)
    granted = 0
    for _ in range(1000):
        clock.now += 0.001
        granted += bucket.take(100)
    assert 995 <= granted <= 1000 + bucket.burst


def test_a_stalled_sender_cannot_burst_past_the_bucket() -> None:
    clock = Clock()
    bucket = TokenBucket(10_000, clock=clock)
    clock.now += 10.0
    assert bucket.take(1_000_000) == bucket.burst == 50


def test_delay_says_when_the_next_token_comes() -> None:
    clock = Clock()
    bucket = TokenBucket(100, burst=1, clock=clock)
    assert bucket.take(1) == 1
    assert bucket.delay() == pytest.approx(0.01)
    clock.now += 0.01
    assert bucket.delay() == 0.0


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)

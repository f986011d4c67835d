"""The token bucket: refill from the last write, burst, wait or fail, and concurrent takers
never over the rate."""

from __future__ import annotations

import threading

import pytest

from functions.errors import RateLimited
from functions.services.rate_limits import RateLimiter, RatePolicy, limited_session
from tests.functions.services.guard_fakes import Clock, MemoryGuardStore

KEY = "rate#wf#Call"


def limiter(clock: Clock) -> tuple[RateLimiter, list[float]]:
    slept: list[float] = []
    return RateLimiter(MemoryGuardStore(), now=clock, sleep=slept.append), slept


def test_a_full_bucket_lets_a_burst_through_then_paces_at_the_rate() -> None:
    clock = Clock()
    rates, slept = limiter(clock)
    policy = RatePolicy(per_second=4, burst=3, on_limit="wait", max_wait_seconds=10)
    waits = [rates.take(KEY, policy) for _ in range(5)]
    assert waits == pytest.approx([0, 0, 0, 0.25, 0.5])
    assert slept == pytest.approx([0.25, 0.5])
    clock.advance(10)  # refills to the burst, no further
    assert [rates.take(KEY, policy) for _ in range(4)] == pytest.approx([0, 0, 0, 0.25])


def test_over_the_rate_it_fails_with_a_retryable_error() -> None:
    clock = Clock()
    rates, _ = limiter(clock)
    fail = RatePolicy(per_second=2, burst=1, on_limit="fail", max_wait_seconds=10)
    rates.take(KEY, fail)
    with pytest.raises(RateLimited) as raised:
        rates.take(KEY, fail)
    assert raised.value.error_type == "Sfnflow.RateLimited" and raised.value.retryable
    clock.advance(0.5)
    assert rates.take(KEY, fail) == 0


def test_a_wait_is_bounded_by_max_wait_and_the_time_left() -> None:
    clock = Clock()
    rates, _ = limiter(clock)
    policy = RatePolicy(per_second=1, burst=1, on_limit="wait", max_wait_seconds=1.5)
    rates.take(KEY, policy)
    rates.take(KEY, policy)  # waits 1 s
    with pytest.raises(RateLimited, match="past the 1.500 s"):
        rates.take(KEY, policy)  # would wait 2 s
    with pytest.raises(RateLimited, match="past the 0.500 s"):
        rates.take(KEY, RatePolicy(1, 1, "wait", 60), time_left=lambda: 0.5)


def test_concurrent_takers_never_exceed_the_rate() -> None:
    clock = Clock()
    rates, _ = limiter(clock)
    policy = RatePolicy(per_second=10, burst=2, on_limit="wait", max_wait_seconds=100)
    waits: list[float] = []
    start = threading.Barrier(12)

    def take() -> None:
        start.wait()
        for _ in range(5):
            waits.append(rates.take(KEY, policy))

    threads = [threading.Thread(target=take) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every taker went at (now + its wait): 60 slots, the first 2 free, then 1 per 0.1 s.
    assert sorted(waits) == pytest.approx([0, 0] + [0.1 * n for n in range(1, 59)])


def test_a_limited_session_takes_a_token_per_request() -> None:
    taken: list[str] = []

    class Base:
        def request(self, method: str, url: str, *args: object, **kwargs: object) -> str:
            return f"{method} {url}"

    session = limited_session(Base(), lambda: taken.append("token"))  # type: ignore[arg-type]
    assert [session.request("GET", f"http://h/{n}") for n in range(3)] == \
        ["GET http://h/0", "GET http://h/1", "GET http://h/2"]
    assert taken == ["token"] * 3

"""Rate limits (a node's ``rateLimit``): a token bucket shared by every execution and
concurrent run, in a ``GuardStore``.

The bucket holds at most ``burst`` tokens and refills at ``perSecond``; the refill is
computed from the time of the last write, so nothing ticks. A taker reserves its token in one
conditional write: the balance may go below zero, and a taker who left it at ``-k`` waits
``(k) / perSecond`` before it goes (its slot in the queue), so concurrent takers go in turn
instead of racing each time a token appears. Over any interval ``t`` at most ``burst +
perSecond * t`` takers go. A taker whose wait would pass ``maxWaitSeconds`` or the task's
time left reserves nothing and fails with ``Sfnflow.RateLimited`` (retryable), as does
every taker over the rate with ``onLimit: fail``.

What takes a token: one run of the node; for httpRequest, which sends one request per item,
one request (``limited_session``), so the limit is the dependency's request rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from functions.errors import RateLimited
from functions.store.breakers import GuardStore


@dataclass(frozen=True)
class RatePolicy:
    per_second: float
    burst: int
    on_limit: str  # "wait" | "fail"
    max_wait_seconds: float


class OverRate(RateLimited):
    """This node's own rate limit refused the run (``Sfnflow.RateLimited``, as a dependency's
    429): no dependency was called, so a circuit breaker does not count it."""


def rate_key(workflow: str, node: str) -> str:
    return f"rate#{workflow}#{node}"


class RateLimiter:
    """Token buckets on one store; ``now`` (epoch seconds) and ``sleep`` injectable."""

    def __init__(self, store: GuardStore, *, now: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.now = now
        self.sleep = sleep

    def take(self, key: str, policy: RatePolicy, *,
             time_left: Callable[[], float] | None = None) -> float:
        """Take one token, waiting for it when allowed; the seconds waited. Raises
        ``RateLimited`` when over the rate and not allowed to wait that long."""
        while True:
            current = self.store.read(key)
            now = self.now()
            if current is None:
                tokens = float(policy.burst)
            else:
                elapsed = max(0.0, now - float(current.state["at"]))
                tokens = min(float(policy.burst),
                             float(current.state["tokens"]) + elapsed * policy.per_second)
            left = tokens - 1
            wait = max(0.0, -left / policy.per_second)
            allowed = 0.0 if policy.on_limit == "fail" else policy.max_wait_seconds
            if time_left is not None:
                allowed = min(allowed, max(0.0, time_left()))
            if wait > allowed:
                raise OverRate(
                    f"rate limit of {policy.per_second:g}/s (burst {policy.burst}) reached: "
                    f"the next slot is {wait:.3f} s away"
                    + (f", past the {allowed:.3f} s this run may wait"
                       if policy.on_limit == "wait" else ""))
            if self.store.write(key, {"tokens": left, "at": now}, current):
                if wait > 0:
                    self.sleep(wait)
                return wait


def limited_session(session: requests.Session | None,
                    take: Callable[[], Any]) -> requests.Session:
    """A session that takes a token (``take()``) before every request it sends."""
    base = session if session is not None else requests.Session()

    class _Limited(requests.Session):
        def request(self, method: str | bytes, url: str | bytes,
                    *args: Any, **kwargs: Any) -> requests.Response:
            take()
            return base.request(method, url, *args, **kwargs)

    return _Limited()

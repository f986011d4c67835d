"""The node runner's hook for a node's ``circuitBreaker`` and ``rateLimit``: one context
around the node's work, so ``functions.runner`` only says where the work is.

Order: the breaker first (an open breaker fails at once, taking no token and calling
nothing), then the rate limit: one token per run, or for httpRequest one per request (the
session handed to the executor takes it), since that node sends one request per item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from compiler.model import CircuitBreakerPolicy, RateLimitPolicy
from functions.services.breakers import BreakerPolicy, CircuitBreakers, breaker_key
from functions.services.rate_limits import (
    OverRate,
    RateLimiter,
    RatePolicy,
    limited_session,
    rate_key,
)
from functions.store.breakers import DynamoGuardStore, GuardStore

PER_REQUEST_TYPES = frozenset({"httpRequest"})  # executors sending one request per item


class NodeGuards:
    def __init__(self, store: GuardStore | None = None, **clocks: Any) -> None:
        store = store if store is not None else DynamoGuardStore()
        self.breakers = CircuitBreakers(store, **{k: v for k, v in clocks.items()
                                                  if k == "now"})
        self.rates = RateLimiter(store, **clocks)

    @contextmanager
    def around(self, workflow: str, node: Any, http: Any,
               time_left: Callable[[], float] | None = None) -> Iterator[Any]:
        """Run the node's work inside: yields the HTTP session its executor should use.
        ``node``: the runner's NodeSpec (``circuitBreaker``/``rateLimit`` dicts or None)."""
        if node.circuitBreaker is None and node.rateLimit is None:
            yield http
            return
        # the compiler validated them; defaults fill what an older definition left out
        breaker = rate = None
        if node.circuitBreaker is not None:
            breaker = CircuitBreakerPolicy.model_validate(node.circuitBreaker)
        if node.rateLimit is not None:
            rate = RateLimitPolicy.model_validate(node.rateLimit)
        permit = policy = None
        if breaker is not None:
            policy = BreakerPolicy(breaker.failureThreshold, breaker.windowSeconds,
                                   breaker.cooldownSeconds)
            key = breaker_key(workflow, node.name, node.type, node.parameters, breaker.key)
            permit = self.breakers.admit(key, policy, workflow=workflow, node=node.name,
                                         lease=time_left() if time_left else 0.0)
        try:
            if rate is not None:
                bucket = RatePolicy(rate.perSecond, rate.burst, rate.onLimit,
                                    rate.maxWaitSeconds)
                key = rate_key(workflow, node.name)

                def take() -> None:
                    self.rates.take(key, bucket, time_left=time_left)

                if node.type in PER_REQUEST_TYPES:
                    http = limited_session(http, take)
                else:
                    take()
            yield http
        except OverRate:
            if permit is not None:
                self.breakers.released(permit)
            raise
        except BaseException as exc:
            if permit is not None and policy is not None:
                self.breakers.failed(permit, policy, exc, workflow=workflow, node=node.name)
            raise
        if permit is not None:
            self.breakers.succeeded(permit, workflow=workflow, node=node.name)

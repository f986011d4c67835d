"""The runner's hook: breaker before rate limit, a token per request for httpRequest, and
the node's own rate refusal never counted against its dependency."""

from __future__ import annotations

from typing import Any

import pytest

from functions.errors import HttpServerError, RateLimited
from functions.runner import NodeSpec
from functions.services.breakers import HALF_OPEN, CircuitOpen
from functions.services.node_guards import NodeGuards
from tests.functions.services.guard_fakes import Clock, MemoryGuardStore

BREAKER = {"failureThreshold": 1, "windowSeconds": 60, "cooldownSeconds": 5}
STRICT = {"perSecond": 0.1, "burst": 1, "onLimit": "fail"}  # a token per 10 s


def spec(node_type: str = "code", **guards: Any) -> NodeSpec:
    return NodeSpec(name="Call", type=node_type, **guards)


def test_an_open_breaker_refuses_before_any_token_is_taken() -> None:
    store, clock = MemoryGuardStore(), Clock()
    guards = NodeGuards(store, now=clock, sleep=lambda _: None)
    node = spec(circuitBreaker=BREAKER, rateLimit={"perSecond": 1, "burst": 5})
    with pytest.raises(HttpServerError), guards.around("wf", node, None):
        raise HttpServerError("502")
    tokens = store.items["rate#wf#Call"].state["tokens"]
    with pytest.raises(CircuitOpen), guards.around("wf", node, None):
        pytest.fail("the work ran behind an open breaker")
    assert store.items["rate#wf#Call"].state["tokens"] == tokens


def test_its_own_rate_refusal_gives_the_probe_back_uncounted() -> None:
    store, clock = MemoryGuardStore(), Clock()
    guards = NodeGuards(store, now=clock, sleep=lambda _: None)
    node = spec(circuitBreaker=BREAKER, rateLimit=STRICT)
    with pytest.raises(HttpServerError), guards.around("wf", node, None):
        raise HttpServerError("502")  # opens it (and takes the one token)
    clock.advance(5)
    with pytest.raises(RateLimited), guards.around("wf", node, None):
        pytest.fail("ran over the rate")
    breaker = store.items["breaker#node#wf#Call"].state
    assert breaker["state"] == HALF_OPEN and breaker["probeUntil"] == 0
    clock.advance(6)
    with guards.around("wf", node, None):  # the next run probes at once, and closes it
        pass
    assert store.items["breaker#node#wf#Call"].state["state"] == "closed"


def test_an_http_request_node_takes_a_token_per_request() -> None:
    store, clock = MemoryGuardStore(), Clock()
    waits: list[float] = []
    guards = NodeGuards(store, now=clock, sleep=waits.append)

    class Session:
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> str:
            return url

    node = spec("httpRequest", rateLimit={"perSecond": 10, "burst": 1})
    with guards.around("wf", node, Session()) as http:
        assert [http.request("GET", f"u{n}") for n in range(3)] == ["u0", "u1", "u2"]
    assert waits == pytest.approx([0.1, 0.2])
    with guards.around("wf", spec(), "session") as http:  # no settings: untouched
        assert http == "session"

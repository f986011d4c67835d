"""The circuit breaker's state machine: closed -> open -> half-open -> closed (or open
again), one probe under concurrency, and the key a breaker is shared by."""

from __future__ import annotations

import threading

import pytest

from functions.errors import HttpServerError
from functions.services.breakers import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerPolicy,
    CircuitBreakers,
    CircuitOpen,
    Permit,
    breaker_key,
)
from tests.functions.services.guard_fakes import Clock, MemoryGuardStore

POLICY = BreakerPolicy(failure_threshold=3, window_seconds=10, cooldown_seconds=5)
KEY = "breaker#node#wf#Call"


def fail(breakers: CircuitBreakers, times: int) -> None:
    for _ in range(times):
        breakers.failed(breakers.admit(KEY, POLICY), POLICY, HttpServerError("502"))


def state(store: MemoryGuardStore) -> str:
    held = store.read(KEY)
    return held.state["state"] if held else CLOSED


def test_failures_within_the_window_open_it_and_it_fails_fast() -> None:
    store, clock = MemoryGuardStore(), Clock()
    breakers = CircuitBreakers(store, now=clock)
    fail(breakers, 2)
    clock.advance(11)  # those two age out of the window
    fail(breakers, 2)
    assert state(store) == CLOSED
    fail(breakers, 1)
    assert state(store) == OPEN
    with pytest.raises(CircuitOpen) as raised:
        breakers.admit(KEY, POLICY)
    assert raised.value.error_type == "Sfnflow.CircuitOpen" and raised.value.retryable
    assert "3 failures within 10 s" in str(raised.value)


def test_after_the_cooldown_a_probe_closes_it_or_opens_it_again() -> None:
    store, clock = MemoryGuardStore(), Clock()
    breakers = CircuitBreakers(store, now=clock)
    fail(breakers, 3)
    clock.advance(5)
    probe = breakers.admit(KEY, POLICY)
    assert probe.probe and state(store) == HALF_OPEN
    breakers.failed(probe, POLICY, HttpServerError("503"))
    assert state(store) == OPEN
    with pytest.raises(CircuitOpen):
        breakers.admit(KEY, POLICY)  # a fresh cooldown
    clock.advance(5)
    probe = breakers.admit(KEY, POLICY)
    breakers.succeeded(probe)
    assert state(store) == CLOSED
    assert breakers.admit(KEY, POLICY) == Permit(KEY, probe=False)
    held = store.read(KEY)
    assert held is not None
    assert [(t["from"], t["to"]) for t in held.state["transitions"]] == [
        (CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, OPEN), (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED)]
    assert held.state["transitions"][2]["why"].startswith("probe run failed: "
                                                          "Sfnflow.HttpServerError")


def test_exactly_one_probe_when_many_runs_arrive_after_the_cooldown() -> None:
    store, clock = MemoryGuardStore(), Clock()
    breakers = CircuitBreakers(store, now=clock)
    fail(breakers, 3)
    clock.advance(6)
    permits: list[Permit] = []
    refused: list[CircuitOpen] = []
    start = threading.Barrier(16)

    def run() -> None:
        start.wait()
        try:
            permits.append(breakers.admit(KEY, POLICY))
        except CircuitOpen as exc:
            refused.append(exc)

    threads = [threading.Thread(target=run) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(permits) == 1 and permits[0].probe and len(refused) == 15


def test_a_probe_that_never_reports_loses_its_turn_after_its_lease() -> None:
    store, clock = MemoryGuardStore(), Clock()
    breakers = CircuitBreakers(store, now=clock)
    fail(breakers, 3)
    clock.advance(5)
    assert breakers.admit(KEY, POLICY, lease=40).probe
    clock.advance(39)
    with pytest.raises(CircuitOpen, match="probe run is in flight"):
        breakers.admit(KEY, POLICY)
    clock.advance(2)
    assert breakers.admit(KEY, POLICY).probe


def test_a_breaker_is_the_node_or_the_host_of_a_literal_url() -> None:
    url = {"url": "https://api.example.com/v1/x"}
    assert breaker_key("wf", "Call", "httpRequest", url, "host") == \
        "breaker#host#api.example.com"
    assert breaker_key("wf", "Call", "httpRequest", url) == "breaker#node#wf#Call"
    assert breaker_key("wf", "Call", "httpRequest", {"url": "={{ $json.u }}"}, "host") == \
        "breaker#node#wf#Call"

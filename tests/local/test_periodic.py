"""``local.periodic.Periodic``: woken at once, spaced apart, otherwise on its interval."""

from __future__ import annotations

import threading
import time

from local.periodic import Periodic


def test_a_wake_runs_the_task_long_before_its_interval() -> None:
    calls: list[float] = []
    called = threading.Event()

    def task() -> None:
        calls.append(time.monotonic())
        called.set()

    ticker = Periodic(task, 60, "test-wake")
    ticker.start()
    try:
        time.sleep(0.05)
        assert calls == []  # not at once: the first call is an interval away
        woken = time.monotonic()
        ticker.wake()
        assert called.wait(5)
        assert calls[0] - woken < 5 < 60
    finally:
        ticker.stop()


def test_a_burst_of_wakes_costs_one_call_per_gap() -> None:
    calls: list[int] = []
    ticker = Periodic(lambda: calls.append(1), 60, "test-burst", at_once=True,
                      min_gap_seconds=0.2)
    ticker.start()
    try:
        deadline = time.monotonic() + 0.3
        while time.monotonic() < deadline:
            ticker.wake()
            time.sleep(0.001)
    finally:
        ticker.stop()
    assert 1 <= len(calls) <= 3  # the first call, then at most one per 0.2 s gap


def test_idle_it_sleeps_until_its_interval_and_stops_at_once() -> None:
    calls: list[int] = []
    ticker = Periodic(lambda: calls.append(1), 60, "test-idle", at_once=True)
    ticker.start()
    time.sleep(0.2)
    stopping = time.monotonic()
    ticker.stop()
    assert time.monotonic() - stopping < 5
    assert calls == [1]

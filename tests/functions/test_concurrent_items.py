"""functions.concurrent_items: a bounded pool that keeps item order and the error a
one-at-a-time run would raise. Barriers instead of sleeps: a test that needs N calls in
flight at once waits for them at a barrier (and fails after a second if they never are)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from functions.concurrent_items import NOT_STARTED, Outcome, run_items, values_or_raise

TOGETHER_SECONDS = 1.0  # a barrier that is never full breaks after this


class Boom(Exception):
    pass


def _values(outcomes: list[Any]) -> list[Any]:
    return [o.value if isinstance(o, Outcome) and o.error is None else o for o in outcomes]


def test_items_run_side_by_side_and_keep_their_order() -> None:
    together = threading.Barrier(6, timeout=TOGETHER_SECONDS)
    finished: list[int] = []

    def call(index: int) -> int:
        together.wait()  # all six in flight at once, or BrokenBarrierError
        finished.append(index)
        return index * 10

    outcomes = run_items(6, lambda index: index, call, concurrency=6)
    assert _values(outcomes) == [0, 10, 20, 30, 40, 50]
    assert sorted(finished) == list(range(6))


def test_no_more_than_concurrency_calls_are_in_flight() -> None:
    lock, in_flight, most = threading.Lock(), [0], [0]
    pairs = threading.Barrier(3, timeout=TOGETHER_SECONDS)

    def call(index: int) -> int:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        pairs.wait()  # three at a time can always meet: 9 items, 3 threads
        with lock:
            in_flight[0] -= 1
        return index

    assert _values(run_items(9, lambda i: i, call, concurrency=3)) == list(range(9))
    assert most[0] == 3


def test_the_lowest_failing_item_wins_and_no_item_starts_after_a_failure() -> None:
    started: list[int] = []
    first_two = threading.Barrier(2, timeout=TOGETHER_SECONDS)

    def call(index: int) -> int:
        started.append(index)
        if index in (1, 2):
            first_two.wait()  # 1 and 2 are in flight together; 2 fails, then 1 does
        if index == 1:
            raise Boom("item 1")
        if index == 2:
            raise Boom("item 2")
        return index

    outcomes = run_items(8, lambda i: i, call, concurrency=2)
    with pytest.raises(Boom, match="item 1"):
        values_or_raise(outcomes)
    assert sorted(started) == [0, 1, 2]  # nothing started once 1 and 2 had failed
    assert outcomes[3:] == [NOT_STARTED] * 5


def test_one_at_a_time_runs_on_the_calling_thread_and_stops_at_the_failure() -> None:
    threads: set[str] = set()

    def call(index: int) -> int:
        threads.add(threading.current_thread().name)
        if index == 2:
            raise Boom("two")
        return index

    outcomes = run_items(5, lambda i: i, call)
    assert threads == {threading.current_thread().name}
    assert _values(outcomes[:2]) == [0, 1]
    assert isinstance(outcomes[2], Outcome) and isinstance(outcomes[2].error, Boom)
    assert outcomes[3:] == [NOT_STARTED, NOT_STARTED]


def test_errors_that_do_not_stop_leave_every_item_its_outcome() -> None:
    def call(index: int) -> int:
        if index % 2:
            raise Boom(str(index))
        return index

    outcomes = run_items(5, lambda i: i, call, concurrency=3, stops=lambda _: False)
    assert [type(o.error).__name__ if isinstance(o, Outcome) and o.error else o.value
            for o in outcomes if isinstance(o, Outcome)] == [0, "Boom", 2, "Boom", 4]


def test_preparation_runs_in_order_on_the_calling_thread_and_its_error_is_the_items() -> None:
    prepared: list[tuple[int, str]] = []

    def prepare(index: int) -> int:
        prepared.append((index, threading.current_thread().name))
        if index == 3:
            raise Boom("bad parameters")
        return index

    outcomes = run_items(6, prepare, lambda i: i, concurrency=4)
    assert prepared == [(i, threading.current_thread().name) for i in range(4)]
    with pytest.raises(Boom, match="bad parameters"):
        values_or_raise(outcomes)


def test_batches_start_an_interval_apart() -> None:
    waits: list[float] = []
    outcomes = run_items(7, lambda i: i, lambda i: i, concurrency=4, batch_size=3,
                         batch_interval=0.25, sleep=waits.append)
    assert waits == [0.25, 0.25]  # before items 3 and 6
    assert _values(outcomes) == list(range(7))


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        run_items(1, lambda i: i, lambda i: i, concurrency=0)

"""One call per item on a bounded pool of threads, outcomes kept in item order.

A node that makes one slow call per item (HTTP Request) spends its run waiting; running the
items' calls side by side turns ``n x call`` into about ``n / concurrency x call``. What
stays as it was one at a time:

- **order**: outcome ``i`` is item ``i``'s, whatever finished first;
- **which error wins**: items are started in order and, once an item has failed with an
  error that ``stops``, no further item is started. Every item before the first failing one
  has been started by then, so the lowest failing index — the error a one-at-a-time run
  raises — is always among the outcomes; later items are ``NOT_STARTED``;
- **preparation** (evaluating an item's parameters, which may use a JavaScript engine that is
  not thread-safe) happens on the calling thread, in item order; only ``perform`` runs on
  the pool.

``batch_size`` / ``batch_interval`` space the starts as n8n's HTTP Request batching does:
before item ``i`` (``i > 0``, ``i % batch_size == 0``) the caller waits ``batch_interval``
seconds, while earlier batches may still be in flight. ``concurrency == 1`` runs everything
on the calling thread, exactly as a plain loop would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

P = TypeVar("P")
T = TypeVar("T")


class _NotStarted:
    def __repr__(self) -> str:
        return "NOT_STARTED"


NOT_STARTED = _NotStarted()


def _always(_: BaseException) -> bool:
    return True


class Outcome(Generic[T]):
    """An item's value, or the exception its preparation or call raised."""

    __slots__ = ("error", "value")

    def __init__(self, value: T | None = None, error: BaseException | None = None) -> None:
        self.value, self.error = value, error


def run_items(count: int, prepare: Callable[[int], P], perform: Callable[[P], T], *,
              concurrency: int = 1, batch_size: int = 1, batch_interval: float = 0.0,
              stops: Callable[[BaseException], bool] = _always,
              sleep: Callable[[float], None] = time.sleep,
              ) -> list[Outcome[T] | _NotStarted]:
    """``perform(prepare(i))`` for every item ``i`` (see the module docstring)."""
    if concurrency < 1 or batch_size < 1:
        raise ValueError("concurrency and batch_size must be at least 1")
    outcomes: list[Outcome[T] | _NotStarted] = [NOT_STARTED] * count
    stopped = threading.Event()
    slots = threading.Semaphore(concurrency)  # an item starts when a thread is free for it

    def watch(future: Future[T]) -> None:  # on the worker: stop starting items at once
        error = future.exception()
        if error is not None and stops(error):
            stopped.set()
        slots.release()

    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="item") if concurrency > 1 \
        else None
    running: dict[int, Future[T]] = {}
    try:
        for index in range(count):
            if stopped.is_set():
                break
            if index and batch_interval > 0 and index % batch_size == 0:
                sleep(batch_interval)
            if pool is not None:
                slots.acquire()
                if stopped.is_set():
                    break
            try:
                prepared = prepare(index)
            except Exception as error:  # noqa: BLE001 (the item's outcome, raised by the caller)
                outcomes[index] = Outcome(error=error)
                if pool is not None:
                    slots.release()
                if stops(error):
                    break
                continue
            if pool is None:
                try:
                    outcomes[index] = Outcome(value=perform(prepared))
                except Exception as error:  # noqa: BLE001 (as above)
                    outcomes[index] = Outcome(error=error)
                    if stops(error):
                        break
                continue
            future = pool.submit(perform, prepared)
            future.add_done_callback(watch)
            running[index] = future
        wait(running.values())
        for index, future in running.items():  # here, not in callbacks: wait() can return
            error = future.exception()         # before a future's callbacks have run
            outcomes[index] = Outcome(error=error) if error is not None \
                else Outcome(value=future.result())
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return outcomes


def values_or_raise(outcomes: list[Outcome[T] | _NotStarted]) -> list[T]:
    """The items' values in order, or the first item's error in item order (items are
    only left unstarted after a failure, so that error comes before them)."""
    found: list[T] = []
    for outcome in outcomes:
        if not isinstance(outcome, Outcome):
            raise RuntimeError("an item was not started, yet no item before it failed")
        if outcome.error is not None:
            raise outcome.error
        found.append(outcome.value)  # type: ignore[arg-type]  # set when error is None
    return found

"""A task run again and again on a daemon thread: what EventBridge schedules and Step
Functions' event delivery do for the local cloud (the status-change emitter's poll, the
scheduler's clock, the reconciler under ``sfnflow serve``).

An idle ``sfnflow serve`` should cost nothing: a task that has something to react to (an
execution started or ended) is woken by ``wake()`` rather than polled every few
milliseconds, and its interval is only the fallback for changes nobody announced.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("sfnflow.local")


class Periodic:
    """Calls ``task`` every ``interval_seconds`` (real seconds) until stopped, and soon
    after each ``wake()``; with ``at_once`` the first call comes at the start, else after
    one interval. ``min_gap_seconds`` spaces calls apart, so a burst of wakes (600 starts)
    costs one call per gap, not one each. A failing call is logged and the next one tries
    again."""

    def __init__(self, task: Callable[[], Any], interval_seconds: float, name: str, *,
                 at_once: bool = False, min_gap_seconds: float = 0.0) -> None:
        self.task = task
        self.interval_seconds = interval_seconds
        self.min_gap_seconds = min_gap_seconds
        self.name = name
        self.at_once = at_once
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._wake.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Call the task now (or once the gap since the last call has passed), not at the
        next interval. Cheap, and safe from any thread; a no-op while stopped."""
        self._wake.set()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        if not self.at_once:
            self._wake.wait(self.interval_seconds)
        while not self._stop.is_set():
            self._wake.clear()  # a wake while the task runs calls it again
            try:
                self.task()
            except Exception:  # noqa: BLE001 - the next call tries again
                logger.exception("%s failed", self.name)
            if self.min_gap_seconds and self._stop.wait(self.min_gap_seconds):
                return
            self._wake.wait(self.interval_seconds)

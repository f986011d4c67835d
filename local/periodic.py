"""A task run again and again on a daemon thread: what EventBridge schedules and Step
Functions' event delivery do for the local cloud (the status-change emitter's poll, the
scheduler's clock, the reconciler under ``sfnflow serve``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("sfnflow.local")


class Periodic:
    """Calls ``task`` every ``interval_seconds`` (real seconds) until stopped; with
    ``at_once`` the first call comes at the start, else after one interval. A failing call
    is logged and the next one tries again."""

    def __init__(self, task: Callable[[], Any], interval_seconds: float, name: str, *,
                 at_once: bool = False) -> None:
        self.task = task
        self.interval_seconds = interval_seconds
        self.name = name
        self.at_once = at_once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        if not self.at_once and self._stop.wait(self.interval_seconds):
            return
        while not self._stop.is_set():
            try:
                self.task()
            except Exception:  # noqa: BLE001 - the next call tries again
                logger.exception("%s failed", self.name)
            self._stop.wait(self.interval_seconds)

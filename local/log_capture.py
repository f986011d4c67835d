"""The handlers' log lines, kept per execution: what CloudWatch Logs holds in AWS, for
``GET /executions/{id}/logs`` under ``sfnflow serve``.

``capture()`` adds a handler to every Powertools logger of ``functions.handlers`` (and
their child loggers' lines, which reach it): each record is formatted by that logger's
own Powertools formatter, exactly the JSON line Lambda would write, and kept when it
carries an ``execution`` correlation key. The local cloud keeps stdout quiet
(``POWERTOOLS_LOG_LEVEL=ERROR``); captured lines are INFO and up, so the loggers are
opened to INFO while their stdout handlers keep the level they had.

Bounded: the newest ``MAX_EXECUTIONS`` executions, ``MAX_LINES`` lines each (the oldest
dropped first). ``CapturedLogs`` is also the ``execution_logs.LogSource`` the API reads.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

from functions.services import execution_logs
from functions.services.execution_logs import LogPage, TimeRange, decode_cursor, encode_cursor

MAX_EXECUTIONS = 1_000
MAX_LINES = 5_000
CAPTURE_LEVEL = logging.INFO
# The handlers that run an execution's work (their module-level Loggers are captured).
HANDLER_MODULES = ("node_runner", "code_runner", "execution_events", "error_router",
                   "triggers", "reconciler", "webhooks", "api")


class CapturedLogs:
    """Lines per execution, each numbered in order of arrival (the cursor is a number)."""

    def __init__(self, max_executions: int = MAX_EXECUTIONS,
                 max_lines: int = MAX_LINES) -> None:
        self.max_executions = max_executions
        self.max_lines = max_lines
        self._lines: OrderedDict[str, deque[tuple[int, dict[str, Any]]]] = OrderedDict()
        self._seq = 0
        self._lock = threading.Lock()

    def add(self, document: dict[str, Any]) -> None:
        execution = document.get("execution")
        if not isinstance(execution, str):
            return
        with self._lock:
            self._seq += 1
            lines = self._lines.get(execution)
            if lines is None:
                lines = self._lines[execution] = deque(maxlen=self.max_lines)
                while len(self._lines) > self.max_executions:
                    self._lines.popitem(last=False)
            lines.append((self._seq, document))

    def page(self, execution_id: str, span: TimeRange, cursor: str | None,
             limit: int) -> LogPage:
        after = int(decode_cursor(cursor).get("seq") or 0)
        with self._lock:
            lines = [(seq, doc) for seq, doc in self._lines.get(execution_id, ())
                     if seq > after]
        shown = lines[:limit]
        more = len(lines) > limit
        return LogPage([execution_logs.log_line(doc) for _, doc in shown],
                       encode_cursor({"seq": shown[-1][0]}) if more else None)


class _Capture(logging.Handler):
    def __init__(self, store: CapturedLogs, formatter: logging.Formatter) -> None:
        super().__init__(CAPTURE_LEVEL)
        self.store = store
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            document = json.loads(self.format(record))
        except Exception:  # noqa: BLE001 - a line that cannot be kept is dropped
            return
        if isinstance(document, dict):
            self.store.add(document)


def _powertools_loggers() -> list[logging.Logger]:
    for name in HANDLER_MODULES:
        importlib.import_module(f"functions.handlers.{name}")
    return [logger for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
            and getattr(logger, "powertools_handler", None) is not None]


@contextlib.contextmanager
def capture(store: CapturedLogs) -> Iterator[CapturedLogs]:
    """Keep the handlers' lines in ``store`` and serve them to the logs route while
    inside; everything is put back on exit."""
    undo: list[Any] = []
    services = {logger.name for logger in _powertools_loggers()}
    for logger in list(logging.root.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger):
            continue
        handler = getattr(logger, "powertools_handler", None)
        if handler is not None:
            added = _Capture(store, handler.formatter)
            logger.addHandler(added)
            previous_handler_level = handler.level
            handler.setLevel(max(handler.level, logger.getEffectiveLevel()))
            undo.append(lambda lg=logger, h=added: lg.removeHandler(h))
            undo.append(lambda h=handler, lv=previous_handler_level: h.setLevel(lv))
        elif logger.name.split(".")[0] not in services:
            continue
        if logger.level == logging.NOTSET or logger.level > CAPTURE_LEVEL:
            undo.append(lambda lg=logger, lv=logger.level: lg.setLevel(lv))
            logger.setLevel(CAPTURE_LEVEL)
    previous = execution_logs.use_source(store)
    try:
        yield store
    finally:
        execution_logs.use_source(previous)
        for step in reversed(undo):
            step()

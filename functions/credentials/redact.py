"""The one home of redaction: every secret value this process resolved, and ``scrub`` to
take them out of anything before it is written.

A credential's value may reach text the platform keeps in many ways: an upstream echoing
the header it got, an error quoting the URL with its ``?api_key=``, a log line formatting
an exception. So the redactor does not try to know where values flow; it knows the values
(registered by ``functions.credentials.resolver`` as it resolves them, with the forms a
request carries them in: raw, URL-encoded, JSON-escaped, and base64 for basic auth) and the
runner scrubs at its choke point, before a node's outputs, error and logs are recorded,
cached, returned to Step Functions or raised (``functions.runner``); a logging filter on
every handler scrubs log records (message, arguments, extra fields, tracebacks) as a
second line.

Values are kept for the process's life (a warm Lambda environment may run the same
credential again from the resolver's cache, and the set is small); nothing else is kept.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

from functions.credentials.types import MIN_SECRET_CHARS

MASK = "[redacted]"


def encodings(value: str) -> set[str]:
    """``value`` and the forms it travels in: URL-encoded (path, query, form) and escaped
    inside a JSON string."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


class Redactor:
    """Thread-safe: the runner's nodes may run items concurrently."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def learn(self, values: Iterable[str]) -> bool:
        """Add secret values (and their encodings); True when one was new."""
        new = set().union(*(encodings(v) for v in values)) - self._forms
        if not new:
            return False
        with self._lock:
            self._forms |= new
            # longest first: a form inside a longer one must not leave the rest behind
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(form) for form in ordered))
        return True

    def forget_all(self) -> None:
        with self._lock:
            self._forms, self._pattern = set(), None

    @property
    def active(self) -> bool:
        return self._pattern is not None

    def scrub_text(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def scrub(self, value: Any) -> Any:
        """``value`` with every secret form replaced by ``MASK``: strings, and the strings
        inside dicts (keys too), lists and tuples; other values as they are. Without any
        secret known, ``value`` itself (no copy)."""
        if self._pattern is None:
            return value
        return self._scrub(value)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub_text(value)
        if isinstance(value, dict):
            return {self._scrub(k): self._scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._scrub(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._scrub(v) for v in value)
        return value

    def leaks(self, text: str) -> bool:
        pattern = self._pattern
        return pattern is not None and pattern.search(text) is not None

    def scrub_error(self, exc: BaseException) -> BaseException:
        """``exc``, or when its message reveals a secret a copy of it with the message
        scrubbed and no cause or context (their text would reveal it again)."""
        if not self.leaks(str(exc)):
            return exc
        from functions.errors import NodeError

        message = self.scrub_text(str(exc))
        if isinstance(exc, NodeError):
            clean: BaseException = NodeError.__new__(type(exc))
            clean.__dict__.update(exc.__dict__)
            clean.args = (message,)
        else:
            clean = NodeError(f"{type(exc).__name__}: {message}")
        clean.__cause__, clean.__suppress_context__ = None, True
        return clean


REDACTOR = Redactor()
"""The process's redactor: ``functions.credentials.resolver`` teaches it; everyone scrubs."""


_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) \
    | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Scrubs a log record in place before a handler formats it."""

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = self.redactor
        if not redactor.active:
            return True
        if isinstance(record.msg, str | dict | list | tuple):
            record.msg = redactor.scrub(record.msg)
        elif redactor.leaks(str(record.msg)):
            record.msg = redactor.scrub_text(str(record.msg))
        if record.args:
            record.args = redactor.scrub(record.args if isinstance(record.args, tuple | dict)
                                         else tuple(record.args))
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_FIELDS:
                record.__dict__[key] = redactor.scrub(value)
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if redactor.leaks(text):
                record.exc_info, record.exc_text = None, None
                record.msg = f"{record.msg}\n{redactor.scrub_text(text)}"
        return True


_FILTER = RedactingFilter()


def install_log_filter() -> None:
    """Put the redacting filter on every log handler that exists now (idempotent).
    Handlers are filtered, not loggers, because a logger's filters skip its children's
    records, which Powertools' child loggers send to their parent's handler."""
    loggers = [logging.getLogger(), *(logger for logger in
                                      list(logging.Logger.manager.loggerDict.values())
                                      if isinstance(logger, logging.Logger))]
    for logger in loggers:
        for handler in list(logger.handlers):
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)

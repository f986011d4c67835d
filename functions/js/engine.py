"""One QuickJS context with Luxon, n8n's extension methods and the expression runtime loaded.

Why one context per node run: creating a bare context costs ~0.14 ms, the prelude a few
milliseconds more, and Luxon tens of milliseconds, so Luxon is parsed only when a node run first
touches a date (prelude/luxon.js); the binding offers no bytecode cache
(``benchmarks/js_expressions.py`` measures both). A node run evaluates all its items in one
context; nothing is shared between node runs, so one workflow's code cannot see another's.

Host access: QuickJS has no require, fs, network, process or timers; the only bridge out is
``__sfnflowHost(op, payload)`` to the pure Python functions below (time-zone offsets and
validity, hashes, $jmespath): strings in, strings out, no I/O. The binding refuses such calls
while a time limit is set; expressions.py and code_node.py say what that means for each.

Limits: ``set_time_limit`` (CPU seconds per eval call and per promise job), ``set_memory_limit``
(bytes for user code on top of what the prelude and the node run's frame use) and
``set_max_stack_size``. A limit hit surfaces as :class:`JsLimitExceeded` with ``kind`` =
"time", "memory" or "stack".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
import quickjs

from functions.js.errors import JsError, JsLimitExceeded

_HERE = Path(__file__).parent
# Load order matters: the Luxon loader before the files that register hooks with it.
_LUXON = _HERE / "vendor" / "luxon.min.js"
_SCRIPTS = (
    _HERE / "prelude" / "intl.js",
    _HERE / "prelude" / "luxon.js",
    _HERE / "prelude" / "zones.js",
    _HERE / "prelude" / "extensions.js",
    _HERE / "prelude" / "runtime.js",
)

HostHandler = Callable[[str], str | None]


@dataclass(frozen=True)
class Limits:
    """Budgets for user code in one context. Defaults suit a 1 GB Lambda running one node."""

    cpu_seconds: float = 5.0
    memory_bytes: int = 64 * 1024 * 1024
    stack_bytes: int = 512 * 1024


@lru_cache(maxsize=1)
def _prelude() -> str:
    return "\n;\n".join(path.read_text(encoding="utf-8") for path in _SCRIPTS)


@lru_cache(maxsize=1)
def _luxon_source() -> str:
    return _LUXON.read_text(encoding="utf-8")


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _tz_offset(payload: str) -> str:
    name, millis = json.loads(payload)
    zone = _zone(name)
    if zone is None:
        return "NaN"
    offset = datetime.fromtimestamp(millis / 1000, UTC).astimezone(zone).utcoffset()
    return str(offset.total_seconds() / 60 if offset is not None else 0)


def _tz_valid(name: str) -> str:
    return "true" if name and _zone(name) is not None else "false"


_HASHES = {
    "md5": "md5",
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "sha3": "sha3_512",
}


def _hash(payload: str) -> str | None:
    algorithm, text = json.loads(payload)
    name = _HASHES.get(algorithm)
    if name is None:
        return None
    return hashlib.new(name, text.encode("utf-8")).hexdigest()


def _jmespath(payload: str) -> str:
    data, expression = json.loads(payload)
    try:
        return json.dumps({"value": jmespath.search(expression, data)})
    except jmespath.exceptions.JMESPathError as exc:
        return json.dumps({"error": f"$jmespath: {exc}"})


class JsEngine:
    """A QuickJS context ready for n8n expressions and Code nodes (see the package docstring)."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._handlers: dict[str, HostHandler] = {
            "tzOffset": _tz_offset,
            "tzValid": _tz_valid,
            "hash": _hash,
            "jmespath": _jmespath,
        }
        self._context = quickjs.Context()
        self._context.add_callable("__sfnflowHost", self._dispatch)
        self._context.set("__sfnflowLuxonSource", _luxon_source())
        self._context.eval(_prelude())
        self.rebase_memory_limit()
        self._context.set_max_stack_size(self.limits.stack_bytes)
        self._context.set_time_limit(self.limits.cpu_seconds)

    def load_frame(self, frame_json: str) -> None:
        """Hand JavaScript a node run's frame (frame.py), outside the user code's budgets."""
        self._context.set_memory_limit(-1)
        self.set_time_limit(None)
        try:
            self.call("setFrame", frame_json)
        finally:
            self.set_time_limit(self.limits.cpu_seconds)
        self.rebase_memory_limit()

    def rebase_memory_limit(self) -> None:
        """Allow ``limits.memory_bytes`` on top of what is in use now (the prelude, the frame),
        so a node run's own input never eats the budget meant for its code."""
        self._context.set_memory_limit(-1)
        used = int(self._context.memory().get("memory_used_size", 0))
        self._context.set_memory_limit(used + self.limits.memory_bytes)

    def set_time_limit(self, seconds: float | None) -> None:
        """CPU seconds per eval call; None lifts the limit (needed to call into Python)."""
        self._context.set_time_limit(-1 if seconds is None else seconds)

    def _dispatch(self, op: str, payload: Any) -> str | None:
        handler = self._handlers.get(op)
        if handler is None:
            return json.dumps({"error": f"unknown host operation {op}"})
        return handler(payload if isinstance(payload, str) else json.dumps(payload))

    def call(self, function: str, *args: str | int) -> str:
        """Call ``__sfnflow.<function>(*args)`` and return its string result."""
        for position, arg in enumerate(args):
            self._context.set(f"__sfnflowArg{position}", arg)
        names = ", ".join(f"__sfnflowArg{position}" for position in range(len(args)))
        # ``slice(0)`` flattens the result: quickjs-ng 0.17's binding cannot convert a
        # string QuickJS built by concatenation (a rope; "Unknown quickjs tag: -6").
        return str(self.eval(f"String(__sfnflow.{function}({names})).slice(0)"))

    def eval(self, source: str) -> Any:
        """Evaluate ``source``; engine failures become :class:`JsError` subclasses."""
        try:
            return self._context.eval(source)
        except quickjs.StackOverflow as exc:
            raise JsLimitExceeded("stack", str(exc)) from exc
        except quickjs.JSException as exc:
            raise classify(str(exc)) from exc

    def run_pending_jobs(self) -> bool:
        """Run one queued promise job; False when the queue is empty."""
        try:
            return bool(self._context.execute_pending_job())
        except quickjs.StackOverflow as exc:
            raise JsLimitExceeded("stack", str(exc)) from exc
        except quickjs.JSException as exc:
            raise classify(str(exc)) from exc


def classify(message: str) -> JsError:
    """Map an engine error message onto a typed error (limits are recognised by QuickJS text)."""
    head = message.splitlines()[0] if message else message
    if "interrupted" in head:
        return JsLimitExceeded("time", head)
    if "out of memory" in head:
        return JsLimitExceeded("memory", head)
    if "stack overflow" in head or "Maximum call stack" in head:
        return JsLimitExceeded("stack", head)
    return JsError(head)

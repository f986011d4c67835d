"""An in-memory ``GuardStore`` with the same compare-and-set rule as DynamoDB's conditional
put, and a clock the tests move, shared by the breaker and rate-limit tests."""

from __future__ import annotations

import threading
from typing import Any

from functions.store.breakers import Versioned


class MemoryGuardStore:
    def __init__(self) -> None:
        self.items: dict[str, Versioned] = {}
        self.lock = threading.Lock()
        self.writes = 0

    def read(self, key: str) -> Versioned | None:
        with self.lock:
            return self.items.get(key)

    def write(self, key: str, state: dict[str, Any], expected: Versioned | None, *,
              kind: str | None = None, workflow_id: str | None = None,
              node: str | None = None) -> bool:
        with self.lock:
            held = self.items.get(key)
            if (held.rev if held else None) != (expected.rev if expected else None):
                return False
            self.items[key] = Versioned(dict(state), (held.rev + 1) if held else 1,
                                        workflow_id, node)
            self.writes += 1
            return True


class Clock:
    def __init__(self, at: float = 1_700_000_000.0) -> None:
        self.at = at
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.at

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.at += seconds

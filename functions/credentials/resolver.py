"""Reading credentials while a node runs: by name, cached briefly, every value taught to the
redactor before the caller sees it.

The cache lives as long as the process (a warm Lambda environment) but each entry only
``TTL_SECONDS``: a rotated value is used within that long everywhere, and a burst of items
or node runs costs one GetSecretValue per credential, not one per request. The API's own
writes forget the entry at once (``forget``), so locally a rotation is seen immediately.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, overload

from functions.credentials.errors import CredentialTypeMismatch
from functions.credentials.redact import REDACTOR, Redactor, install_log_filter
from functions.credentials.store import CredentialStore
from functions.credentials.types import Credential

TTL_SECONDS = 30.0

_C = TypeVar("_C")


class CredentialResolver:
    def __init__(self, store: Callable[[], CredentialStore], *,
                 ttl_seconds: float = TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic,
                 redactor: Redactor = REDACTOR) -> None:
        self._store_factory = store
        self._store: CredentialStore | None = None
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.redactor = redactor
        self._cache: dict[str, tuple[float, Credential]] = {}
        self._lock = threading.Lock()

    @property
    def store(self) -> CredentialStore:
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    @overload
    def resolve(self, name: str, expect: None = None) -> Credential: ...

    @overload
    def resolve(self, name: str, expect: type[_C] | tuple[type[_C], ...]) -> _C: ...

    def resolve(self, name: str, expect: Any = None) -> Any:
        """Credential ``name``; ``expect``: the model (or models) the caller can use, any
        other type is ``CredentialTypeMismatch`` naming both."""
        now = self.clock()
        with self._lock:
            cached = self._cache.get(name)
        if cached is not None and cached[0] > now:
            credential = cached[1]
        else:
            credential = self.store.read(name)
            with self._lock:
                self._cache[name] = (now + self.ttl_seconds, credential)
        if self.redactor.learn(credential.secrets()):
            install_log_filter()
        if expect is not None and not isinstance(credential, expect):
            wanted = expect if isinstance(expect, tuple) else (expect,)
            names = ", ".join(str(model.model_fields["type"].default) for model in wanted)
            raise CredentialTypeMismatch(
                f"credential {name!r} is {credential.type}; this needs {names}")
        return credential

    def forget(self, name: str | None = None) -> None:
        with self._lock:
            if name is None:
                self._cache.clear()
            else:
                self._cache.pop(name, None)

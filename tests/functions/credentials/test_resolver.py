"""Resolving credentials: cached for a short TTL, typed, and taught to the redactor before
the caller sees a value."""

from __future__ import annotations

from typing import Any

import pytest

from functions.credentials import (
    CredentialNotFound,
    CredentialResolver,
    CredentialTypeMismatch,
    HttpBearerAuth,
    Postgres,
    Redactor,
)


class FakeStore:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {"api": HttpBearerAuth(token="tok-000001")}
        self.reads = 0

    def read(self, name: str) -> Any:
        self.reads += 1
        if name not in self.values:
            raise CredentialNotFound(name)
        return self.values[name]


@pytest.fixture
def setup() -> tuple[CredentialResolver, FakeStore, list[float], Redactor]:
    store, now, redactor = FakeStore(), [0.0], Redactor()
    resolver = CredentialResolver(lambda: store, ttl_seconds=30,  # type: ignore[arg-type, return-value]
                                  clock=lambda: now[0], redactor=redactor)
    return resolver, store, now, redactor


def test_cached_for_the_ttl_then_read_again(setup: Any) -> None:
    resolver, store, now, redactor = setup
    assert resolver.resolve("api", HttpBearerAuth).token == "tok-000001"
    store.values["api"] = HttpBearerAuth(token="tok-000002")
    now[0] = 29.9
    assert resolver.resolve("api").token == "tok-000001" and store.reads == 1
    now[0] = 30.0
    assert resolver.resolve("api").token == "tok-000002" and store.reads == 2
    assert redactor.scrub("tok-000001 tok-000002") == "[redacted] [redacted]"


def test_forget_reads_again_at_once(setup: Any) -> None:
    resolver, store, _now, _redactor = setup
    resolver.resolve("api")
    store.values["api"] = HttpBearerAuth(token="tok-000003")
    resolver.forget("api")
    assert resolver.resolve("api").token == "tok-000003"


def test_a_wrong_type_names_both_and_the_value_is_still_redacted(setup: Any) -> None:
    resolver, _store, _now, redactor = setup
    with pytest.raises(CredentialTypeMismatch, match="'api' is httpBearerAuth; this needs "
                                                      "postgres"):
        resolver.resolve("api", Postgres)
    assert redactor.leaks("tok-000001")
    with pytest.raises(CredentialNotFound):
        resolver.resolve("missing")

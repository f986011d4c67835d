"""httpRequest with a credential (``credentials: {name}``) against a real server on
127.0.0.1 that records what arrived: each HTTP auth type puts its header, basic pair or
query parameter on every request; moto's Secrets Manager holds the credentials."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from moto import mock_aws

from functions import credentials
from functions.config import Config
from functions.credentials import (
    CredentialNotFound,
    CredentialTypeMismatch,
    HttpBasicAuth,
    HttpBearerAuth,
    HttpHeaderAuth,
    HttpQueryAuth,
    Postgres,
    node_credential,
)
from functions.credentials.http_auth import HTTP_AUTH
from functions.errors import ParameterError
from tests.support.loopback import JsonHandler, serving

from .support import context, run

ARRIVED: list[dict[str, Any]] = []


class Recorder(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlsplit(self.path)
        ARRIVED.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                        "query": {k: v[0] for k, v in parse_qs(url.query).items()}})
        if url.path == "/deny":
            self.reply(401, {"error": "no"})
        else:
            self.reply(200, {"ok": True})


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(Recorder) as base:
        yield base


@pytest.fixture(scope="module")
def store(aws_env: None) -> Iterator[credentials.CredentialStore]:
    with mock_aws():
        credentials.reset()
        store = credentials.store_for(Config.from_env())
        for name, credential in CREDENTIALS.items():
            store.create(name, credential)
        yield store
    credentials.reset()


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.setenv(key, "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        yield


CREDENTIALS = {
    "header": HttpHeaderAuth(name="X-Api-Key", value="hdr-3c9f1e27"),
    "bearer": HttpBearerAuth(token="tok-a51d9e0b"),
    "basic": HttpBasicAuth(user="ann", password="pw-0e7c44f1"),
    "query": HttpQueryAuth(name="api_key", value="q-val/+ 19d2"),
    "db": Postgres(host="h", database="d", user="u", password="pg-2b8e71aa"),
}


def call(base_url: str, name: str | None, path: str = "/echo", **params: Any) -> list[Any]:
    extras = {"credentials": {"name": name}} if name else {}
    ARRIVED.clear()
    outputs = run("httpRequest", {"url": base_url + path, **params}, [{"i": 1}, {"i": 2}],
                  extras=extras)
    return outputs[0]


@pytest.mark.parametrize(("name", "arrived"), [
    ("header", lambda a: a["headers"]["x-api-key"] == "hdr-3c9f1e27"),
    ("bearer", lambda a: a["headers"]["authorization"] == "Bearer tok-a51d9e0b"),
    ("basic", lambda a: a["headers"]["authorization"] == "Basic " + base64.b64encode(
        b"ann:pw-0e7c44f1").decode()),
    ("query", lambda a: a["query"]["api_key"] == "q-val/+ 19d2"),
])
def test_each_auth_type_arrives_on_every_request(
        store: Any, base_url: str, name: str, arrived: Any) -> None:
    assert call(base_url, name, query={"page": "1"}) == [{"ok": True}, {"ok": True}]
    assert len(ARRIVED) == 2 and all(arrived(a) for a in ARRIVED)
    assert all(a["query"]["page"] == "1" for a in ARRIVED)


def test_the_credential_wins_over_a_header_of_the_same_name(store: Any,
                                                             base_url: str) -> None:
    call(base_url, "header", headers={"x-api-key": "mine", "X-Other": "kept"})
    assert [(a["headers"]["x-api-key"], a["headers"]["x-other"]) for a in ARRIVED] == \
        [("hdr-3c9f1e27", "kept")] * 2


def test_without_a_credential_nothing_is_added(store: Any, base_url: str) -> None:
    call(base_url, None)
    assert all("authorization" not in a["headers"] and "x-api-key" not in a["headers"]
               for a in ARRIVED)


def test_a_missing_or_mistyped_credential_fails_before_any_request(
        store: Any, base_url: str) -> None:
    with pytest.raises(CredentialNotFound, match="'nowhere'"):
        call(base_url, "nowhere")
    with pytest.raises(CredentialTypeMismatch, match="'db' is postgres"):
        call(base_url, "db")
    assert ARRIVED == []
    assert not CredentialNotFound("x").retryable


def test_node_credential_needs_the_node_to_name_one() -> None:
    with pytest.raises(ParameterError, match="'Node' needs a credential"):
        node_credential(context("httpRequest"), HTTP_AUTH)

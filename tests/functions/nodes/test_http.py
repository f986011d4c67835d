"""The HTTP node against a real server on 127.0.0.1 (no mocks of requests)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from functions.errors import (
    ConnectionFailed,
    HttpClientError,
    HttpServerError,
    NodeTimeout,
    ParameterError,
    RateLimited,
)

from .support import run


class Handler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Test", "yes")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        sent = json.loads(self.rfile.read(length)) if length else None
        echo = {
            "method": self.command,
            "path": url.path,
            "query": {k: v[0] for k, v in parse_qs(url.query).items()},
            "auth": self.headers.get("Authorization"),
            "body": sent,
        }
        routes = {
            "/echo": lambda: self._reply(200, json.dumps(echo).encode()),
            "/list": lambda: self._reply(200, b'[{"a": 1}, {"a": 2}, 3]'),
            "/empty-list": lambda: self._reply(200, b"[]"),
            "/text": lambda: self._reply(200, b"plain words", "text/plain"),
            "/missing": lambda: self._reply(404, b'{"error": "not found"}'),
            "/broken": lambda: self._reply(500, b"x" * 1000, "text/plain"),
            "/busy": lambda: self._reply(429, b"slow down", "text/plain"),
            "/slow": self._slow,
        }
        routes.get(url.path, lambda: self._reply(404, b"{}"))()

    def _slow(self) -> None:
        time.sleep(1.0)
        self._reply(200, b"{}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def http(params: dict, items: list[dict] | None = None, **kwargs: object) -> list[dict]:
    [out] = run("httpRequest", params, items if items is not None else [{}], **kwargs)
    return out


def test_get_with_query_and_headers_per_item(base_url: str) -> None:
    params = {
        "url": base_url + "/echo",
        "query": {"id": "{% $json.id %}"},
        "headers": {"Authorization": "Bearer {% $json.token %}"},
    }
    out = http(params, [{"id": 1, "token": "t1"}, {"id": 2, "token": "t2"}])
    assert [(o["method"], o["query"], o["auth"], o["body"]) for o in out] == [
        ("GET", {"id": "1"}, "Bearer t1", None),
        ("GET", {"id": "2"}, "Bearer t2", None),
    ]


def test_post_sends_the_body_as_json(base_url: str) -> None:
    params = {"url": base_url + "/echo", "method": "POST", "body": {"n": "{% $json.n %}"}}
    [out] = http(params, [{"n": 7}])
    assert out["method"] == "POST" and out["body"] == {"n": 7}


def test_method_from_an_expression(base_url: str) -> None:
    [out] = http({"url": base_url + "/echo", "method": "{% $json.m %}"}, [{"m": "DELETE"}])
    assert out["method"] == "DELETE"


def test_a_json_list_is_one_item_per_element(base_url: str) -> None:
    assert http({"url": base_url + "/list"}) == [{"a": 1}, {"a": 2}, {"data": 3}]
    assert http({"url": base_url + "/empty-list"}) == []


def test_text_bodies(base_url: str) -> None:
    assert http({"url": base_url + "/text"}) == [{"data": "plain words"}]
    assert http({"url": base_url + "/list", "responseFormat": "text"}) == [
        {"data": '[{"a": 1}, {"a": 2}, 3]'}
    ]


def test_full_response(base_url: str) -> None:
    [out] = http({"url": base_url + "/list", "fullResponse": True})
    assert out["statusCode"] == 200
    assert out["headers"]["X-Test"] == "yes"
    assert out["body"] == [{"a": 1}, {"a": 2}, 3]


def test_head_has_an_empty_body(base_url: str) -> None:
    assert http({"url": base_url + "/echo", "method": "HEAD"}) == [{"data": ""}]


def test_uses_the_given_session(base_url: str) -> None:
    session = requests.Session()
    session.headers["Authorization"] = "from-session"
    [out] = http({"url": base_url + "/echo"}, http=session)
    assert out["auth"] == "from-session"


@pytest.mark.parametrize(
    ("path", "error", "status"),
    [
        ("/missing", HttpClientError, "404"),
        ("/broken", HttpServerError, "500"),
        ("/busy", RateLimited, "429"),
    ],
)
def test_status_errors(base_url: str, path: str, error: type, status: str) -> None:
    with pytest.raises(error, match=f"GET {base_url}{path} returned {status}") as caught:
        http({"url": base_url + path})
    assert len(str(caught.value)) < 400  # a short excerpt of the body, not all of it


def test_client_error_is_not_retryable_server_errors_are() -> None:
    assert not HttpClientError.retryable
    assert HttpServerError.retryable and RateLimited.retryable


def test_timeout(base_url: str) -> None:
    with pytest.raises(NodeTimeout, match="timed out after 0.2s"):
        http({"url": base_url + "/slow", "timeoutSeconds": 0.2})


def test_connection_refused() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionFailed, match="failed to connect"):
        http({"url": f"http://127.0.0.1:{port}/", "timeoutSeconds": 2})


def test_invalid_url_is_a_parameter_error() -> None:
    with pytest.raises(ParameterError, match="not a valid request"):
        http({"url": "not a url"})

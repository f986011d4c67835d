"""The local API Gateway's own checks over real HTTP on loopback (issue 11, HTTP front end):
the key before the body, the payload quota before reading, a time limit on the body and
the head, AWS's URL and header quotas, and a JSON error for every status the server
answers itself — including requests h11 cannot parse. Raw sockets where a client library
would refuse to misbehave. The handlers are stubs: these are the gateway's decisions."""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local import server_protocol
from local.server import API_GATEWAY_MAX_BODY, ApiGateway, LocalServer

KEY = "the-key"
BODY_TIMEOUT = 0.5


class Handlers:
    """Stub Lambda handlers that record the events they get and answer ``reply``."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.reply: Any = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if callable(self.reply):
            return self.reply(event)
        return self.reply if self.reply is not None else {
            "statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"base64": event["isBase64Encoded"], "body": event["body"]})}


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def server(handlers: Handlers) -> Iterator[LocalServer]:
    gateway = ApiGateway(handlers, handlers, KEY)
    with LocalServer(gateway, body_timeout=BODY_TIMEOUT) as local_server:
        yield local_server


def address(server: LocalServer) -> tuple[str, int]:
    host, port = server.url.removeprefix("http://").split(":")
    return host, int(port)


def exchange(server: LocalServer, head: bytes, body: bytes = b"",
             timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read the answer until the server closes or it is complete."""
    with socket.create_connection(address(server), timeout=timeout) as client:
        client.sendall(head + body)
        return read_response(client)


def read_response(client: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            raise AssertionError(f"the server closed without an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes,
                      expected: int) -> dict[str, Any]:
    assert status == expected, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["type"] and error["message"]
    return dict(error)


def connection_closed(client: socket.socket) -> bool:
    client.settimeout(2)
    try:
        return client.recv(1) == b""
    except ConnectionResetError:
        return True


# ------------------------------------------------------------------ the key, before the body


def test_an_unauthenticated_huge_body_is_refused_from_its_headers_alone(
        server: LocalServer, handlers: Handlers) -> None:
    """300 MB announced, none sent: the 401 comes back before a byte of the body."""
    with socket.create_connection(address(server), timeout=5) as client:
        client.sendall(b"POST /workflows HTTP/1.1\r\nHost: x\r\nContent-Type: "
                       b"application/json\r\nContent-Length: 314572800\r\n\r\n")
        status, headers, body = read_response(client)
        assert_json_error(status, headers, body, 401)
        assert headers["connection"] == "close" and connection_closed(client)
    assert handlers.events == []


def test_a_wrong_key_is_compared_in_constant_time(server: LocalServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    wrong = requests.get(server.url + "/workflows", headers={"x-api-key": "the-kex"},
                         timeout=5)
    assert wrong.status_code == 403 and wrong.json()["error"]["type"] == "Forbidden"
    assert compared == [(b"the-kex", KEY.encode())]
    right = requests.get(server.url + "/workflows", headers={"x-api-key": KEY}, timeout=5)
    assert right.status_code == 200


# ------------------------------------------------------------------ the payload quota


def test_a_declared_body_over_10_mb_is_a_413_before_it_is_read(
        server: LocalServer, handlers: Handlers) -> None:
    head = (f"POST /webhook/in HTTP/1.1\r\nHost: x\r\nContent-Length: "
            f"{API_GATEWAY_MAX_BODY + 1}\r\n\r\n").encode()
    with socket.create_connection(address(server), timeout=5) as client:
        client.sendall(head)
        error = assert_json_error(*read_response(client), 413)
        assert error["type"] == "RequestTooLarge" and connection_closed(client)
    assert handlers.events == []


def test_a_chunked_body_is_counted_as_it_arrives(server: LocalServer,
                                                 handlers: Handlers) -> None:
    chunk = b"x" * (1 << 20)
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    with socket.create_connection(address(server), timeout=5) as client:
        client.sendall(b"POST /webhook/in HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < 40 * len(chunk):
                client.sendall(framed)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused: the server closed while we were still sending
        client.settimeout(5)
        # The reset of the unread rest may beat the 413 to us; the count held either way.
        with contextlib.suppress(ConnectionResetError):
            assert_json_error(*read_response(client), 413)
    assert sent < 20 * len(chunk)  # far short of the 40 MB we meant to send
    assert handlers.events == []


# ------------------------------------------------------------------ time limits


def test_a_stalled_upload_gets_a_408_and_its_connection_closed(
        server: LocalServer, handlers: Handlers) -> None:
    with socket.create_connection(address(server), timeout=5) as client:
        client.sendall(b"POST /webhook/in HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
                       b"\r\nonly part of it")
        started = time.monotonic()
        error = assert_json_error(*read_response(client), 408)
        assert time.monotonic() - started < BODY_TIMEOUT + 2
        assert error["type"] == "RequestTimeout" and connection_closed(client)
    assert handlers.events == []


def test_stalled_uploads_hold_no_thread(server: LocalServer) -> None:
    before = threading.active_count()
    clients = [socket.create_connection(address(server), timeout=5) for _ in range(50)]
    try:
        for client in clients:
            client.sendall(b"POST /webhook/in HTTP/1.1\r\nHost: x\r\nContent-Length: 10"
                           b"\r\n\r\nabc")
        time.sleep(0.1)
        assert threading.active_count() <= before + 1  # at most the pool's first worker
        for client in clients:  # and every one of them is let go at the deadline
            assert read_response(client)[0] == 408
    finally:
        for client in clients:
            client.close()


def test_a_trickled_head_gets_a_408(server: LocalServer,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_protocol.GatewayProtocol, "head_timeout", 0.3)
    with socket.create_connection(address(server), timeout=5) as client:
        client.sendall(b"GET /workflows HTTP/1.1\r\nHost: x\r\nX-Slow: a")
        assert_json_error(*read_response(client), 408)
        assert connection_closed(client)


# ------------------------------------------------------------------ malformed requests


@pytest.mark.parametrize("head", [
    b"POST /webhook/in HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /workflows HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"NOT HTTP AT ALL\r\n\r\n",
    b"GET /w\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
])
def test_a_request_h11_cannot_parse_is_a_json_400(server: LocalServer, head: bytes) -> None:
    assert_json_error(*exchange(server, head), 400)


@pytest.mark.parametrize("size", [12_000, 200_000])
def test_headers_over_api_gateways_quota_are_a_json_431(server: LocalServer,
                                                        size: int) -> None:
    head = (f"GET /workflows HTTP/1.1\r\nHost: x\r\nx-api-key: {KEY}\r\n"
            f"X-Big: {'a' * size}\r\n\r\n").encode()
    assert_json_error(*exchange(server, head), 431)


@pytest.mark.parametrize("size", [10_300, 200_000])
def test_a_url_over_api_gateways_quota_is_a_json_414(server: LocalServer, size: int) -> None:
    head = f"GET /workflows?q={'a' * size} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    assert_json_error(*exchange(server, head), 414)


# ------------------------------------------------------------------ methods


def test_an_unknown_method_is_a_json_501(server: LocalServer) -> None:
    response = requests.request("PROPFIND", server.url + "/workflows", timeout=5)
    assert response.status_code == 501
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["type"] == "NotImplemented"


def test_head_reaches_an_any_method_and_gets_no_body(server: LocalServer,
                                                     handlers: Handlers) -> None:
    response = requests.head(server.url + "/workflows", headers={"x-api-key": KEY},
                             timeout=5)
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["Content-Length"]) > 0  # what a GET would have sent
    assert handlers.events[-1]["httpMethod"] == "HEAD"
    assert requests.head(server.url + "/workflows", timeout=5).status_code == 401


def test_a_method_the_resource_lacks_is_a_json_405(server: LocalServer) -> None:
    response = requests.post(server.url + "/openapi.json", headers={"x-api-key": KEY},
                             timeout=5)
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "MethodNotAllowed"
    assert "GET" in response.headers["Allow"]


def test_options_needs_no_key_and_reaches_the_function(server: LocalServer,
                                                       handlers: Handlers) -> None:
    handlers.reply = {"statusCode": 204, "headers": {"Access-Control-Allow-Origin": "*"},
                      "body": ""}
    assert requests.options(server.url + "/workflows/x", timeout=5).status_code == 204
    assert handlers.events[-1]["httpMethod"] == "OPTIONS"


# ------------------------------------------------------------------ bodies and answers


def test_a_body_that_is_not_utf8_reaches_the_handler_base64(server: LocalServer) -> None:
    body = b"\xff\xfe not text \x80"
    response = requests.post(server.url + "/webhook/in", data=body, timeout=5)
    assert response.status_code == 200
    assert response.json()["base64"] is True
    assert base64.b64decode(response.json()["body"]) == body


def test_a_handler_that_raises_is_a_json_502(server: LocalServer,
                                             handlers: Handlers) -> None:
    def fail(event: dict[str, Any]) -> Any:
        raise RuntimeError("/secret/path/handler.py exploded")

    handlers.reply = fail
    response = requests.get(server.url + "/workflows", headers={"x-api-key": KEY}, timeout=5)
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "InternalError"
    assert "secret" not in response.text


@pytest.mark.parametrize("reply", [
    {"statusCode": "abc"}, {"statusCode": 99}, {"statusCode": 200, "body": {"a": 1}},
    {"statusCode": 200, "isBase64Encoded": True, "body": "***"},
    {"statusCode": 200, "headers": {"X-Bad": "a\r\nInjected: yes"}}, ["not", "a", "dict"]])
def test_a_malformed_proxy_response_is_a_json_502(server: LocalServer, handlers: Handlers,
                                                  reply: Any) -> None:
    handlers.reply = reply
    response = requests.get(server.url + "/workflows", headers={"x-api-key": KEY}, timeout=5)
    assert response.status_code == 502 and "Injected" not in response.headers
    assert response.json()["error"]["type"] == "InternalError"


def test_a_response_without_a_content_type_is_sent_as_json(server: LocalServer,
                                                           handlers: Handlers) -> None:
    handlers.reply = {"statusCode": 200, "body": "{}"}
    response = requests.get(server.url + "/workflows", headers={"x-api-key": KEY}, timeout=5)
    assert response.headers["Content-Type"] == "application/json"


def test_the_gateways_own_refusals_carry_the_cors_origin(server: LocalServer) -> None:
    """As the stack's gateway responses do: a browser may read why it was refused."""
    refused = [requests.get(server.url + "/workflows", timeout=5),
               requests.get(server.url + "/nothing-here", timeout=5)]
    assert [r.headers["Access-Control-Allow-Origin"] for r in refused] == ["*", "*"]
    status, headers, _ = exchange(server, b"GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n")
    assert status == 400 and headers["access-control-allow-origin"] == "*"

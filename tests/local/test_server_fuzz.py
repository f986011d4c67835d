"""Seeded raw-HTTP fuzz of the local gateway (issue 11): hostile request lines, paths,
headers and bodies over loopback. Whatever arrives, the server answers — promptly, never
with a 5xx (the stub handlers never fail), and every error it gives is JSON
``{"error": {...}}`` with ``Content-Type: application/json``. What the handlers do with
hostile bodies is the API fuzz suite's concern; this one is the front end's."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from local.server import ApiGateway, LocalServer

KEY = "fuzz-key"
CASES = 250
SLOWEST_SECONDS = 3.0  # a request the server must wait out (body timeout) takes ~0.3 s
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "TRACE",
           "CONNECT", "get", "X" * 300, "G@T"]
PATHS = ["/workflows", "/workflows/{s}", "/workflows/{s}/executions", "/executions/{s}",
         "/executions/{s}/resume/{s}", "/executions/{s}/nodes/{s}/pin", "/webhook/{s}",
         "/webhook", "/", "/openapi.json", "/admin/prune", "/stream-tokens", "/{s}",
         "*", "http://evil.example.com/workflows", "/executions/{s}/stream"]
SEGMENTS = ["x", "%2F", "a%2Fb", "%00", "%ff%fe", "%zz", "..", "", "%252F", "é", "%C3%A9",
            "a" * 3000, "{proxy+}", "resume", "nodes", "%2e%2e", " ", "a?b=c", "a#b"]


def _request(rng: random.Random) -> bytes:
    method = rng.choice(METHODS)
    path = rng.choice(PATHS)
    while "{s}" in path:
        path = path.replace("{s}", rng.choice(SEGMENTS), 1)
    if rng.random() < 0.3:
        path += "?" + rng.choice(["sig=x", "a=1&a=2", "%ff=%fe", "=", "&&", "q=" + "b" * 9000,
                                  "token=abc"])
    body = rng.choice([b"", b"{}", b'{"a": 1}', b"\xff\xfe\x80", bytes(rng.randrange(256)
                                                                     for _ in range(300))])
    headers = [("Host", "x")]
    key = rng.choice([KEY, "wrong", None, KEY + "\t", "é"])
    if key is not None:
        headers.append(("x-api-key", key))
    framing = rng.random()
    if framing < 0.55:
        headers.append(("Content-Length", str(len(body))))
    elif framing < 0.65:
        headers.append(("Content-Length", rng.choice(["abc", "-1", "1e3", "99999999999",
                                                      f"{len(body)}, {len(body) + 1}",
                                                      str(len(body) + 5)])))
    elif framing < 0.8:
        headers.append(("Transfer-Encoding", "chunked"))
        body = (f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n") if body else \
            b"0\r\n\r\n"
        if rng.random() < 0.3:
            body = b"zz\r\n" + body  # not a chunk size
    for _ in range(rng.randrange(4)):
        headers.append(rng.choice([("Content-Type", "application/json"),
                                   ("Content-Type", "text/plain; charset=latin-1"),
                                   ("X-Sfnflow-Signature", "sha256=00"), ("Origin", "https://a"),
                                   ("X-Big", "v" * rng.choice([10, 5000, 11000])),
                                   ("Bad Name", "v"), ("X-High", "\u00e9\u00ff"),
                                   ("Expect", "100-continue"), ("Connection", "close")]))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("utf-8") + b"\r\n" + body


def _read(client: socket.socket, head_only: bool) -> tuple[int, dict[str, str], bytes]:
    """The final answer (after any ``100 Continue``); an answer to HEAD has no body."""
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = client.recv(65536)
            assert chunk, f"no answer: {data!r}"
            data += chunk
        if not data.startswith(b"HTTP/1.1 100 "):
            break
        data = data.partition(b"\r\n\r\n")[2]
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split()[1]), headers, body


class Echo:
    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": json.dumps({"path": event["path"]})}


@pytest.fixture(scope="module")
def address() -> Iterator[tuple[str, int]]:
    with LocalServer(ApiGateway(Echo(), Echo(), KEY), body_timeout=0.3) as server:
        host, port = server.url.removeprefix("http://").split(":")
        yield host, int(port)


def test_every_hostile_request_gets_a_prompt_answer_and_errors_are_json(
        address: tuple[str, int]) -> None:
    rng = random.Random(11)
    statuses: dict[int, int] = {}
    slowest = 0.0
    for case in range(CASES):
        request = _request(rng)
        started = time.monotonic()
        with socket.create_connection(address, timeout=5) as client:
            # Refused while sending: the answer is already waiting.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                client.sendall(request)
            status, headers, body = _read(client, request.startswith(b"HEAD "))
        slowest = max(slowest, time.monotonic() - started)
        statuses[status] = statuses.get(status, 0) + 1
        where = f"case {case}: {request[:200]!r}"
        assert status < 500 or status == 501, where  # 501: a method HTTP has, not AWS
        if status >= 400 and not request.startswith(b"HEAD "):
            assert headers.get("content-type") == "application/json", where
            assert json.loads(body)["error"]["type"], where
    assert slowest < SLOWEST_SECONDS
    assert {200, 400, 401, 404} <= set(statuses)  # the cases reach every kind of answer

"""Shared fixtures: the embedded cloud (with a fast clock) and a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from local.cloud import LocalCloud

TIME_SCALE = 0.01  # a 1 s Retry interval or Wait costs 10 ms


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


ORDERS = [
    {"id": 1, "total": 100.0, "paid": True},
    {"id": 2, "total": 20.0, "paid": False},
    {"id": 3, "total": 250.0, "paid": True},
    {"id": 4, "total": 75.5, "paid": True},
]


class _Api(BaseHTTPRequestHandler):
    hits: Counter[str]

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.hits[self.path] += 1
        if self.path == "/orders":
            self._json(200, {"orders": ORDERS})
        elif self.path == "/flaky":
            if self.hits[self.path] <= 2:
                self._json(503, {"error": "try again"})
            else:
                self._json(200, {"ok": True, "attempt": self.hits[self.path]})
        elif self.path == "/fails-once":
            if self.hits[self.path] == 1:
                self._json(500, {"error": "first call fails"})
            else:
                self._json(200, {"ok": True})
        elif self.path == "/down":
            self._json(500, {"error": "down"})
        else:
            self._json(404, {"error": "not found"})


class HttpApi:
    def __init__(self, server: ThreadingHTTPServer, hits: Counter[str]) -> None:
        self.server = server
        self.hits = hits
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"


@pytest.fixture
def http_api() -> Iterator[HttpApi]:
    hits: Counter[str] = Counter()
    handler = type("Api", (_Api,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield HttpApi(server, hits)
    finally:
        server.shutdown()
        server.server_close()

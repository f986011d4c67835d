"""A fake OpenAI-compatible model server on 127.0.0.1, for tests and examples.

``POST /v1/chat/completions`` answers from a script: each request takes the next reply
(plain text, tool calls, a malformed body, a 429 with Retry-After, a 500); when the script
runs out the last reply repeats. Every request is recorded (path, headers, JSON body) so a
test can assert what the agent sent: messages, tools, the Authorization header.

Other paths can be served by ``routes`` (``"POST /tools/weather": handler``; the handler
gets the parsed JSON body or query and returns ``(status, body)``), so one server plays the
model and the HTTP tools it calls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Route = Callable[[Any], tuple[int, Any]]


@dataclass(frozen=True)
class Scripted:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _completion(message: dict[str, Any], finish: str, usage: tuple[int, int]) -> Scripted:
    body = {"id": "chatcmpl-fake", "object": "chat.completion", "model": "fake",
            "choices": [{"index": 0, "message": {"role": "assistant", **message},
                         "finish_reason": finish}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": sum(usage)}}
    return Scripted(200, json.dumps(body).encode(), {"Content-Type": "application/json"})


def text(content: str, usage: tuple[int, int] = (10, 5)) -> Scripted:
    """An answer: the assistant's text, ``usage`` = (prompt, completion) tokens."""
    return _completion({"content": content}, "stop", usage)


def tool_calls(*calls: tuple[str, Any], usage: tuple[int, int] = (10, 5)) -> Scripted:
    """The model calls tools: ``(name, arguments)`` pairs; arguments that are not a str
    are sent as their JSON text (a str is sent as is: malformed JSON is possible)."""
    return _completion({"content": None, "tool_calls": [
        {"id": f"call_{index}", "type": "function",
         "function": {"name": name,
                      "arguments": args if isinstance(args, str) else json.dumps(args)}}
        for index, (name, args) in enumerate(calls)]}, "tool_calls", usage)


def malformed() -> Scripted:
    """A 200 whose body is not JSON."""
    return Scripted(200, b'{"choices": [', {"Content-Type": "application/json"})


def rate_limited(retry_after: str = "1") -> Scripted:
    return Scripted(429, b'{"error": {"message": "Rate limit reached"}}',
                    {"Content-Type": "application/json", "Retry-After": retry_after})


def server_error() -> Scripted:
    return Scripted(500, b'{"error": {"message": "boom"}}',
                    {"Content-Type": "application/json"})


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeModel:
    def __init__(self, script: list[Scripted] | None = None,
                 routes: dict[str, Route] | None = None) -> None:
        self.script = list(script or [])
        self.routes = dict(routes or {})
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._served = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/v1/chat/completions"]

    def then(self, *replies: Scripted) -> FakeModel:
        self.script.extend(replies)
        return self

    def next_reply(self) -> Scripted:
        with self._lock:
            if not self.script:
                return server_error()
            reply = self.script[min(self._served, len(self.script) - 1)]
            self._served += 1
            return reply

    def start(self) -> FakeModel:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._handle()

            def do_POST(self) -> None:  # noqa: N802
                self._handle()

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else dict(parse_qsl(parts.query))
                except ValueError:
                    body = raw.decode(errors="replace")
                with fake._lock:
                    fake.requests.append(Recorded(self.command, parts.path,
                                                  dict(self.headers.items()), body))
                route = fake.routes.get(f"{self.command} {parts.path}")
                if route is not None:
                    status, answer = route(body)
                    reply = Scripted(status, json.dumps(answer).encode(),
                                     {"Content-Type": "application/json"})
                elif self.command == "POST" and parts.path == "/v1/chat/completions":
                    reply = fake.next_reply()
                else:
                    reply = Scripted(404, b'{"error": "not found"}')
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a short poll interval: stop() (shutdown) waits for the loop to notice, 0.5 s by default
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def fake_model(*script: Scripted, routes: dict[str, Route] | None = None) -> Iterator[FakeModel]:
    server = FakeModel(list(script), routes).start()
    try:
        yield server
    finally:
        server.stop()

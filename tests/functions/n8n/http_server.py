"""Local HTTP server for n8n HTTP Request tests (also used to record n8n's outputs)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class Handler(BaseHTTPRequestHandler):
    def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _route(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if parts.path == "/echo":
            echo = {"method": self.command, "query": parts.query, "body": body,
                    "contentType": self.headers.get("Content-Type"),
                    "accept": self.headers.get("Accept"), "x": self.headers.get("X-Token")}
            self._reply(200, json.dumps(echo).encode())
        elif parts.path == "/text":
            self._reply(200, b"hello", "text/plain; charset=utf-8")
        elif parts.path == "/jsontext":
            self._reply(200, b'{"a": 1}', "text/plain")
        elif parts.path == "/list":
            self._reply(200, b'[{"n": 1}, {"n": 2}]')
        elif parts.path == "/null":
            self._reply(200, b"null")
        elif parts.path == "/badjson":
            self._reply(200, b"{nope", "application/json")
        elif parts.path.startswith("/status/"):
            self._reply(int(parts.path.rsplit("/", 1)[1]), b'{"error": "nope"}')
        elif parts.path == "/slow":
            time.sleep(0.5)
            self._reply(200, b"{}")
        else:
            self._reply(404, b"{}")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route

    def log_message(self, *args: object) -> None:
        pass


def serve(port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":  # port 18765: the one peer_http.json was recorded against
    serve(18765)
    while True:
        time.sleep(60)

"""``sfnflow serve``: the API on 127.0.0.1, backed by the embedded cloud.

An HTTP server does what API Gateway does in AWS, and nothing more: it checks the API key
on management routes (401 without one, 403 with a wrong one; webhooks are public), turns
the request into a REST API proxy event, and hands it to the same Lambda handlers the
stack deploys (``functions.handlers.api`` / ``functions.handlers.webhooks``). Everything
behind them — Step Functions, DynamoDB, S3, EventBridge, Scheduler — is the local cloud.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from local.moto_patches import InvokeContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
WEBHOOK_PREFIX = "/webhook/"


def proxy_event(method: str, target: str, headers: dict[str, str], body: bytes,
                resource: str) -> dict[str, Any]:
    """A REST API (v1) proxy integration event, as API Gateway sends it to Lambda."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    text = body.decode("utf-8") if body else None
    binary = False
    if body:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            text, binary = base64.b64encode(body).decode(), True
    return {
        "resource": resource,
        "path": unquote(parts.path),
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource, "httpMethod": method, "path": parts.path,
            "stage": "local", "requestId": uuid.uuid4().hex,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text,
        "isBase64Encoded": binary,
    }


class ApiGateway:
    """Routes a request to its handler after API Gateway's checks; returns the
    handler's proxy response (statusCode, headers, body)."""

    def __init__(self, api: Handler, webhooks: Handler, api_key: str | None) -> None:
        self.api = api
        self.webhooks = webhooks
        self.api_key = api_key

    def __call__(self, method: str, target: str, headers: dict[str, str],
                 body: bytes) -> dict[str, Any]:
        path = urlsplit(target).path
        if path.startswith(WEBHOOK_PREFIX):
            event = proxy_event(method, target, headers, body, "/webhook/{proxy+}")
            return self.webhooks(event, InvokeContext("sfnflow-webhooks"))
        if self.api_key is not None:
            given = {k.lower(): v for k, v in headers.items()}.get("x-api-key")
            if given is None:
                return _error(401, "Unauthorized", "this route needs an API key (x-api-key)")
            if given != self.api_key:
                return _error(403, "Forbidden", "the API key is not valid")
        event = proxy_event(method, target, headers, body, "/{proxy+}")
        return self.api(event, InvokeContext("sfnflow-api"))


def _error(status: int, error_type: str, message: str) -> dict[str, Any]:
    body = {"error": {"type": error_type, "message": message, "details": None}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}


def http_server(gateway: ApiGateway, host: str = "127.0.0.1",
                port: int = 8000) -> ThreadingHTTPServer:
    """A threaded HTTP server in front of ``gateway`` (call ``serve_forever``)."""

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key: value for key, value in self.headers.items()}
            response = gateway(self.command, self.path, headers, body)
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") \
                else payload.encode()
            self.send_response(int(response.get("statusCode", 200)))
            for key, value in (response.get("headers") or {}).items():
                if key.lower() != "content-length":
                    self.send_header(key, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the CLI prints its own access lines

    return ThreadingHTTPServer((host, port), RequestHandler)


class LocalServer:
    """The HTTP server on a thread; ``url`` once started. Use as a context manager."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = http_server(gateway, host, port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="sfnflow-serve")

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

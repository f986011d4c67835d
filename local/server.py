"""``sfnflow serve``: the API on 127.0.0.1, backed by the embedded cloud.

An HTTP server does what API Gateway does in AWS, and nothing more: it checks the API key
on management routes (401 without one, 403 with a wrong one; webhooks and signed resume
URLs are public), turns the request into a REST API proxy event, and hands it to the same
Lambda handlers the stack deploys (``functions.handlers.api`` /
``functions.handlers.webhooks``). Everything behind them — Step Functions, DynamoDB, S3,
EventBridge, Scheduler — is the local cloud. AWS's limits hold here too: a body over API
Gateway's 10 MB or an event over Lambda's 6 MB is a 413, a response over 6 MB a 502, an
answer after the 29 s integration timeout a 504, and the handler's context counts those
29 s down (``GatewayContext``).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from functions.api.gateway import is_binary
from functions.services.waiting import API_GATEWAY_TIMEOUT_SECONDS
from functions.services.waits import PUBLIC_ROUTE
from local import call_recorder
from local.moto_patches import InvokeContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
WEBHOOK_PREFIX = "/webhook/"


def proxy_event(method: str, target: str, headers: dict[str, str], body: bytes,
                resource: str) -> dict[str, Any]:
    """A REST API (v1) proxy integration event, as API Gateway sends it to Lambda."""
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    # As API Gateway with the stack's binaryMediaTypes: a body whose type matches arrives
    # base64-encoded, byte for byte (``functions.api.gateway``).
    # Without a Content-Type, a body that is not UTF-8 text is passed base64 too.
    binary = bool(body) and is_binary(content_type)
    text = None
    if body and not binary:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            binary = True
    if binary:
        text = base64.b64encode(body).decode()
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
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text,
        "isBase64Encoded": binary,
    }


ProgressReader = Callable[[str, str | None], dict[str, Any]]
# A stream token -> the execution it lets its holder watch; ValueError when not valid.
TokenVerifier = Callable[[str], str]
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # REST API payload quota: 10 MB, else 413
LAMBDA_MAX_PAYLOAD = 6_291_556  # bytes of a synchronous invoke's request or response


class GatewayContext(InvokeContext):
    """The Lambda context of a request behind API Gateway: the time it has left is what
    is left of the integration timeout (29 s), as a 29 s Lambda behind it sees it."""

    def __init__(self, function_name: str, deadline: float) -> None:
        super().__init__(function_name)
        self.deadline = deadline  # time.monotonic() when API Gateway gives up

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self.deadline - time.monotonic()) * 1000))
STREAM_PATH = re.compile(r"^/executions/([^/]+)/stream$")


class ApiGateway:
    """Routes a request to its handler after API Gateway's checks; returns the
    handler's proxy response (statusCode, headers, body). ``stream`` serves the local
    Server-Sent Events route (in AWS, a WebSocket API plays this part)."""

    def __init__(self, api: Handler, webhooks: Handler, api_key: str | None,
                 progress: ProgressReader | None = None, poll_seconds: float = 0.1,
                 integration_timeout: float = API_GATEWAY_TIMEOUT_SECONDS,
                 verify_token: TokenVerifier | None = None) -> None:
        self.integration_timeout = integration_timeout
        self.verify_token = verify_token
        self.api = api
        self.webhooks = webhooks
        self.api_key = api_key
        self.progress = progress
        self.poll_seconds = poll_seconds

    def authorize(self, headers: dict[str, str]) -> dict[str, Any] | None:
        """None when the key is right, else the 401/403 response API Gateway gives."""
        if self.api_key is None:
            return None
        given = {k.lower(): v for k, v in headers.items()}.get("x-api-key")
        if given is None:
            return _error(401, "Unauthorized", "this route needs an API key (x-api-key)")
        if given != self.api_key:
            return _error(403, "Forbidden", "the API key is not valid")
        return None

    def authorize_stream(self, headers: dict[str, str], execution_id: str,
                         token: str | None) -> dict[str, Any] | None:
        """The SSE route takes the API key or, for browsers (an ``EventSource`` sends no
        headers), ``?token=`` from ``POST /stream-tokens`` — as ``$connect`` does in AWS."""
        if token is None:
            return self.authorize(headers)
        if self.verify_token is None:
            return _error(403, "Forbidden", "stream tokens are not configured")
        try:
            watched = self.verify_token(token)
        except ValueError as exc:
            return _error(403, "Forbidden", str(exc))
        if watched != execution_id:
            return _error(403, "Forbidden", "the token is for another execution")
        return None

    def stream(self, execution_id: str, last_seen: str | None) -> Iterator[bytes]:
        """``GET /executions/{id}/stream``: progress events as SSE, until it finishes."""
        assert self.progress is not None
        cursor = last_seen
        idle = 0.0
        while True:
            try:
                page = self.progress(execution_id, cursor)
            except LookupError as exc:
                yield _sse("error", None, {"message": str(exc)})
                return
            for event in page["items"]:
                event["etaSeconds"] = page["etaSeconds"]
                yield _sse("progress", event["seq"], event)
                if event["type"] == "executionFinished":
                    return
            cursor = page["cursor"]
            if page["items"]:
                idle = 0.0
            else:
                idle += self.poll_seconds
                if idle >= 15:
                    yield b": keep-alive\n\n"
                    idle = 0.0
                time.sleep(self.poll_seconds)

    def __call__(self, method: str, target: str, headers: dict[str, str],
                 body: bytes) -> dict[str, Any]:
        received = time.monotonic()
        if len(body) > API_GATEWAY_MAX_BODY:
            return _error(413, "RequestTooLarge", f"the body has {len(body):,} bytes; API "
                          f"Gateway takes at most {API_GATEWAY_MAX_BODY:,}")
        path = urlsplit(target).path
        if path.startswith(WEBHOOK_PREFIX):
            event = proxy_event(method, target, headers, body, "/webhook/{proxy+}")
            return self._integrate(self.webhooks, event, "sfnflow-webhooks", received)
        if method == "POST" and PUBLIC_ROUTE.match(path):  # a signed resume URL
            event = proxy_event(method, target, headers, body,
                                "/executions/{execution_id}/resume/{wait_id}")
            return self._integrate(self.api, event, "sfnflow-api", received)
        if method == "OPTIONS":  # a CORS preflight: the stack's OPTIONS methods need no key
            event = proxy_event(method, target, headers, body, "/{proxy+}")
            return self._integrate(self.api, event, "sfnflow-api", received)
        denied = self.authorize(headers)
        if denied is not None:
            return denied
        event = proxy_event(method, target, headers, body, "/{proxy+}")
        return self._integrate(self.api, event, "sfnflow-api", received)

    def _integrate(self, handler: Handler, event: dict[str, Any], function_name: str,
                   received: float) -> dict[str, Any]:
        """The Lambda proxy integration with AWS's limits: an event over Lambda's 6 MB is
        refused (413), a response over it is a 502, an answer after the integration
        timeout a 504; the handler's context counts down that timeout."""
        size = len(json.dumps(event))
        if size > LAMBDA_MAX_PAYLOAD:
            return _error(413, "RequestTooLarge", f"the request event has {size:,} bytes; a "
                          f"Lambda invocation takes at most {LAMBDA_MAX_PAYLOAD:,}")
        deadline = received + self.integration_timeout
        response = _invoke(handler, event, function_name,
                           GatewayContext(function_name, deadline))
        if time.monotonic() > deadline:
            return _error(504, "IntegrationTimeout", "Endpoint request timed out")
        size = len(json.dumps(response))
        if size > LAMBDA_MAX_PAYLOAD:
            return _error(502, "ResponseTooLarge", f"the handler answered {size:,} bytes; a "
                          f"Lambda response has at most {LAMBDA_MAX_PAYLOAD:,}")
        return response


def _invoke(handler: Handler, event: dict[str, Any], function_name: str,
            context: InvokeContext | None = None) -> dict[str, Any]:
    """API Gateway's Lambda proxy integration: the handler runs as that function."""
    with call_recorder.running(function_name):
        return handler(event, context or InvokeContext(function_name))


def _sse(event: str, event_id: str | None, data: Any) -> bytes:
    head = f"id: {event_id}\n" if event_id else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


def _error(status: int, error_type: str, message: str) -> dict[str, Any]:
    body = {"error": {"type": error_type, "message": message, "details": None}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body)}


def http_server(gateway: ApiGateway, host: str = "127.0.0.1",
                port: int = 8000) -> ThreadingHTTPServer:
    """A threaded HTTP server in front of ``gateway`` (call ``serve_forever``)."""

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _stream(self, execution_id: str) -> None:
            headers = {key: value for key, value in self.headers.items()}
            token = parse_qs(urlsplit(self.path).query).get("token", [None])[-1]
            denied = gateway.authorize_stream(headers, execution_id, token)
            if denied is not None or gateway.progress is None:
                self._respond(denied or _error(404, "RouteNotFound", "no progress source"))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for chunk in gateway.stream(execution_id, self.headers.get("Last-Event-ID")):
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away

        def _respond(self, response: dict[str, Any]) -> None:
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") \
                else payload.encode()
            self.send_response(int(response.get("statusCode", 200)))
            # API Gateway merges both forms a proxy response may use (powertools' REST
            # resolver answers with multiValueHeaders).
            headers = [(key, str(value)) for key, value in
                       (response.get("headers") or {}).items()]
            for key, values in (response.get("multiValueHeaders") or {}).items():
                if not any(key.lower() == known.lower() for known, _ in headers):
                    headers += [(key, str(value)) for value in values]
            for key, value in headers:
                if key.lower() != "content-length":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            streamed = STREAM_PATH.match(urlsplit(self.path).path)
            if streamed and self.command == "GET":
                self._stream(unquote(streamed.group(1)))
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {key: value for key, value in self.headers.items()}
            self._respond(gateway(self.command, self.path, headers, body))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle  # noqa: N815

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

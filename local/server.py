"""``sfnflow serve``: the API on 127.0.0.1, backed by the embedded cloud.

An HTTP server does what API Gateway does in AWS, in API Gateway's order, and nothing
more; every answer it gives itself is the API's JSON error (``local.server_errors``):

1. the request's head: a method API Gateway knows (else 501), a URL of at most 10,240
   characters (414), a request line and header values of at most 10,240 bytes together
   (431) — AWS's REST API quotas; a head h11 cannot parse is a 400 (``local.server_protocol``);
2. the route, on the path decoded once (``local.server_routes``): none is a 404, a
   method the resource does not define a 405;
3. the API key, from the headers alone and compared in constant time (401 without one,
   403 with a wrong one), unless the method is public (webhooks, signed resume URLs,
   CORS preflights);
4. the body, only now: a ``Content-Length`` over the 10 MB payload quota is a 413 before
   a byte of it is read, a chunked body is counted as it arrives (413 past the quota),
   and the whole body must arrive within ``body_timeout`` (408). Every refusal closes the
   connection, so nothing more of an unwanted body is read;
5. the Lambda proxy integration: the request becomes a REST API proxy event for the same
   handlers the stack deploys (``functions.handlers.api`` / ``functions.handlers.webhooks``),
   run in a bounded thread pool; an event over Lambda's 6 MB is a 413, a response over it
   or a malformed one (or a handler that raises) a 502, an answer after the 29 s
   integration timeout a 504, and the handler's context counts those 29 s down
   (``GatewayContext``).

One route is the local server's own, before all of these: ``GET /metrics``, the
handlers' metrics for Prometheus (``local.observability``; no key, loopback only).

uvicorn serves it (asyncio, h11): a slow or stalled client holds a coroutine until its
deadline, not a thread. Everything behind the handlers is the local cloud.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import uvicorn

from functions.api.gateway import is_binary
from functions.services.waiting import API_GATEWAY_TIMEOUT_SECONDS
from local import call_recorder
from local.moto_patches import InvokeContext
from local.observability import METRICS_PATH, Observability
from local.server_errors import JSON, TYPES, error_response
from local.server_protocol import GatewayProtocol
from local.server_routes import HTTP_METHODS, STREAM, WEBHOOKS_FUNCTION, Match, match

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
ProgressReader = Callable[[str, str | None], dict[str, Any]]
# A stream token -> the execution it lets its holder watch; ValueError when not valid.
TokenVerifier = Callable[[str], str]
Response = dict[str, Any]  # a Lambda proxy response: statusCode, headers, body

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024  # REST API payload quota: 10 MB, else 413
LAMBDA_MAX_PAYLOAD = 6_291_556  # bytes of a synchronous invoke's request or response
MAX_URL_LENGTH = 10_240  # characters of a regional REST API's URL
MAX_HEAD_BYTES = 10_240  # the request line and header values together
BODY_TIMEOUT_SECONDS = 30.0  # for a whole body to arrive, from the request's arrival
WORKERS = 64  # handlers running at once; more requests wait (as coroutines) for a thread

logger = logging.getLogger(__name__)


def proxy_event(method: str, target: str, headers: dict[str, str], body: bytes,
                resource: str, path_parameters: dict[str, str] | None = None
                ) -> dict[str, Any]:
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
        "pathParameters": path_parameters or None,
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


class GatewayContext(InvokeContext):
    """The Lambda context of a request behind API Gateway: the time it has left is what
    is left of the integration timeout (29 s), as a 29 s Lambda behind it sees it."""

    def __init__(self, function_name: str, deadline: float) -> None:
        super().__init__(function_name)
        self.deadline = deadline  # time.monotonic() when API Gateway gives up

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def _error(status: int, error_type: str, message: str) -> Response:
    return error_response(status, error_type, message)


class ApiGateway:
    """API Gateway's decisions about a request (route, key, integration), apart from
    HTTP: ``admit`` decides from the method, path and headers alone; ``integrate`` runs
    the handler. ``stream`` serves the local Server-Sent Events route (in AWS, a
    WebSocket API plays this part)."""

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

    def authorize(self, headers: dict[str, str]) -> Response | None:
        """None when the key is right, else the 401/403 response API Gateway gives. The
        comparison takes the same time wherever the given key first differs."""
        if self.api_key is None:
            return None
        given = {k.lower(): v for k, v in headers.items()}.get("x-api-key")
        if given is None:
            return _error(401, "Unauthorized", "this route needs an API key (x-api-key)")
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            return _error(403, "Forbidden", "the API key is not valid")
        return None

    def authorize_stream(self, headers: dict[str, str], execution_id: str,
                         token: str | None) -> Response | None:
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

    def admit(self, method: str, path: str, headers: dict[str, str]) -> Match | Response:
        """The route a request reaches, or API Gateway's refusal, before any body is
        read: an unknown method (501), no resource (404), a method the resource lacks
        (405), a missing or wrong key on a keyed method (401/403). ``path`` is decoded.
        The stream route checks its own credentials (``authorize_stream``)."""
        if method not in HTTP_METHODS:
            return _error(501, TYPES[501], f"API Gateway does not support the method "
                                           f"{method[:40]!r}")
        matched = match(path)
        if matched is None:
            return _error(404, TYPES[404], f"no route {method} {path[:200]}")
        needs_key = matched.resource.method(method)
        if needs_key is None:
            allowed = ", ".join(matched.resource.allowed)
            refusal = _error(405, TYPES[405], f"{matched.resource.path} takes {allowed}")
            refusal["headers"]["Allow"] = allowed
            return refusal
        if needs_key and matched.resource.function != STREAM:
            denied = self.authorize(headers)
            if denied is not None:
                return denied
        return matched

    def integrate(self, route: Match, method: str, target: str, headers: dict[str, str],
                  body: bytes, received: float) -> Response:
        """The Lambda proxy integration of an admitted request whose body has arrived."""
        webhooks = route.resource.function == WEBHOOKS_FUNCTION
        handler, name = ((self.webhooks, WEBHOOKS_FUNCTION) if webhooks
                         else (self.api, "sfnflow-api"))
        event = proxy_event(method, target, headers, body, route.resource.path,
                            route.parameters)
        return self._integrate(handler, event, name, received)

    async def stream(self, execution_id: str, last_seen: str | None) -> AsyncIterator[bytes]:
        """``GET /executions/{id}/stream``: progress events as SSE, until it finishes.
        Each read of the progress runs on a worker thread; waiting between reads holds
        no thread."""
        assert self.progress is not None
        cursor = last_seen
        idle = 0.0
        while True:
            try:
                page = await asyncio.to_thread(self.progress, execution_id, cursor)
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
                await asyncio.sleep(self.poll_seconds)

    def _integrate(self, handler: Handler, event: dict[str, Any], function_name: str,
                   received: float) -> Response:
        """The Lambda proxy integration with AWS's limits: an event over Lambda's 6 MB is
        refused (413), a response over it is a 502, an answer after the integration
        timeout a 504, a handler that raises a 502 (as a Lambda function error is); the
        handler's context counts down that timeout."""
        size = len(json.dumps(event))
        if size > LAMBDA_MAX_PAYLOAD:
            return _error(413, "RequestTooLarge", f"the request event has {size:,} bytes; a "
                          f"Lambda invocation takes at most {LAMBDA_MAX_PAYLOAD:,}")
        deadline = received + self.integration_timeout
        try:
            response = _invoke(handler, event, function_name,
                               GatewayContext(function_name, deadline))
        except Exception:
            logger.exception("%s failed", function_name)
            return _error(502, TYPES[502], "Internal server error")
        if time.monotonic() > deadline:
            return _error(504, "IntegrationTimeout", "Endpoint request timed out")
        try:
            size = len(json.dumps(response))
        except (TypeError, ValueError):
            return _error(502, TYPES[502], "Malformed Lambda proxy response")
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


# ---------------------------------------------------------------------- HTTP (ASGI)

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection"}
RawHeaders = list[tuple[bytes, bytes]]


class _Gone(Exception):
    """The client closed the connection before its request arrived whole."""


def http_answer(response: Response) -> tuple[int, RawHeaders, bytes]:
    """A Lambda proxy response as HTTP (status, headers, body), or API Gateway's 502
    for one it cannot send. API Gateway merges both header forms a proxy response may
    use (powertools' REST resolver answers with multiValueHeaders) and sends
    ``Content-Type: application/json`` when the function names none."""
    try:
        status = response.get("statusCode", 200)
        if isinstance(status, str) and status.isdigit():
            status = int(status)
        if not isinstance(status, int) or isinstance(status, bool) \
                or not 100 <= status <= 599:
            raise ValueError(f"statusCode {status!r}")
        payload = response.get("body") or ""
        if not isinstance(payload, str):
            raise ValueError("the body is not a string")
        body = base64.b64decode(payload, validate=True) if response.get("isBase64Encoded") \
            else payload.encode()
        pairs = [(str(key), str(value)) for key, value in
                 (response.get("headers") or {}).items()]
        for key, values in (response.get("multiValueHeaders") or {}).items():
            if not any(str(key).lower() == known.lower() for known, _ in pairs):
                pairs += [(str(key), str(value)) for value in values]
        headers: RawHeaders = []
        for key, value in pairs:
            if not _TOKEN.match(key) or any(c in value for c in "\r\n\0"):
                raise ValueError(f"the header {key[:40]!r} cannot be sent")
            if key.lower() not in _HOP_BY_HOP:
                headers.append((key.lower().encode("latin-1"), value.encode("utf-8")))
    except (AttributeError, TypeError, ValueError, binascii.Error):
        logger.warning("malformed Lambda proxy response", exc_info=True)
        return http_answer(_error(502, TYPES[502], "Malformed Lambda proxy response"))
    if not any(name == b"content-type" for name, _ in headers):
        headers.append((b"content-type", JSON.encode()))
    return status, headers + [(b"content-length", str(len(body)).encode())], body


class GatewayApp:
    """The ASGI application: API Gateway's checks on a request in its order (the module
    docstring), then the integration on a worker thread."""

    def __init__(self, gateway: ApiGateway, body_timeout: float,
                 observability: Observability | None = None) -> None:
        self.gateway = gateway
        self.body_timeout = body_timeout
        self.observability = observability  # GET /metrics (local only, no key)

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any],
                       send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        started = False

        async def tracked(message: dict[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._serve(scope, receive, tracked)
        except (_Gone, asyncio.CancelledError):
            return  # the client left, or the server is stopping: nobody to answer
        except Exception:
            logger.exception("the local gateway failed on %s", scope.get("path"))
            if not started:
                await self._answer(send, scope, _error(500, TYPES[500], "the local gateway "
                                                       "failed to handle the request"), True)

    async def _serve(self, scope: dict[str, Any], receive: Callable[..., Any],
                     send: Callable[..., Any]) -> None:
        received = time.monotonic()
        method: str = scope["method"]
        query = scope["query_string"].decode("latin-1")
        target = scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers[name.decode("latin-1")] = value.decode("utf-8", "replace")
        if scope["path"] == METRICS_PATH and self.observability is not None:
            await self._answer(send, scope, self.observability.metrics_response(method),
                               close=False)
            return
        refusal = _head_refusal(method, target, scope["headers"])
        admitted = refusal or self.gateway.admit(method, scope["path"], headers)
        if not isinstance(admitted, Match):
            await self._answer(send, scope, admitted, close=True)
            return
        if admitted.resource.function == STREAM and method == "GET":
            await self._stream(scope, receive, send, admitted, headers)
            return
        body = await self._body(receive, headers, received)
        if not isinstance(body, bytes):
            await self._answer(send, scope, body, close=True)
            return
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(None, self.gateway.integrate, admitted,
                                              method, target, headers, body, received)
        await self._answer(send, scope, response, close=False)

    async def _body(self, receive: Callable[..., Any], headers: dict[str, str],
                    received: float) -> bytes | Response:
        """The request's body, read only up to the payload quota and within the time
        limit; else the refusal (413, 408)."""
        declared = headers.get("content-length")
        if declared is not None and int(declared) > API_GATEWAY_MAX_BODY:
            return _too_large(int(declared))
        deadline = received + self.body_timeout
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - time.monotonic())
            except TimeoutError:
                return _error(408, TYPES[408], f"the body did not arrive within "
                                               f"{self.body_timeout:g} s")
            if message["type"] == "http.disconnect":
                raise _Gone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > API_GATEWAY_MAX_BODY:
                return _too_large(size)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _stream(self, scope: dict[str, Any], receive: Callable[..., Any],
                      send: Callable[..., Any], route: Match,
                      headers: dict[str, str]) -> None:
        execution_id = route.parameters["execution_id"]
        token = parse_qs(scope["query_string"].decode("latin-1")).get("token", [None])[-1]
        denied = self.gateway.authorize_stream(headers, execution_id, token)
        if denied is not None or self.gateway.progress is None:
            await self._answer(send, scope, denied or _error(
                404, TYPES[404], "no progress source"), close=True)
            return
        gone = asyncio.ensure_future(_disconnect(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
                (b"connection", b"close")]})
            async for chunk in self.gateway.stream(execution_id,
                                                   headers.get("last-event-id")):
                if gone.done():
                    return  # the client went away
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()

    @staticmethod
    async def _answer(send: Callable[..., Any], scope: dict[str, Any], response: Response,
                      close: bool) -> None:
        status, headers, body = http_answer(response)
        if close:  # a refused request's body is never read: the connection cannot go on
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _head_refusal(method: str, target: str, raw: RawHeaders) -> Response | None:
    if len(target) > MAX_URL_LENGTH:
        return _error(414, TYPES[414], f"the URL has {len(target):,} characters; API "
                                       f"Gateway takes at most {MAX_URL_LENGTH:,}")
    size = len(method) + len(target) + len(" HTTP/1.1") + sum(len(v) for _, v in raw)
    if size > MAX_HEAD_BYTES:
        return _error(431, TYPES[431], f"the request line and header values have "
                                       f"{size:,} bytes; API Gateway takes at most "
                                       f"{MAX_HEAD_BYTES:,}")
    return None


def _too_large(size: int) -> Response:
    return _error(413, "RequestTooLarge", f"the body has {size:,} bytes; API Gateway "
                                          f"takes at most {API_GATEWAY_MAX_BODY:,}")


async def _disconnect(receive: Callable[..., Any]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, woken to stop instead of polling ten times a second, and stopped
    at once: open connections are closed and requests in flight abandoned (their
    handler threads finish on their own), as the threaded server did."""

    def __init__(self, config: uvicorn.Config, pool: ThreadPoolExecutor) -> None:
        super().__init__(config)
        self.pool = pool
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.set_default_executor(self.pool)
        self._wake = asyncio.Event()
        await super().startup(sockets)
        self.ready.set()

    async def main_loop(self) -> None:
        assert self._wake is not None
        while not await self.on_tick(0):  # tick 0 refreshes the Date header
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    def stop(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for connection in list(self.server_state.connections):
            connection.transport.close()
        tasks = list(self.server_state.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class LocalServer:
    """The HTTP server on a thread; ``url`` once constructed (the port is bound then, so
    a busy port is an ``OSError`` here). Use as a context manager."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 0, *,
                 body_timeout: float = BODY_TIMEOUT_SECONDS, workers: int = WORKERS) -> None:
        self.socket = socket.create_server((host, port))
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sfnflow-api")
        self.observability = Observability()  # /metrics and the execution logs it keeps
        config = uvicorn.Config(
            GatewayApp(gateway, body_timeout, self.observability), http=GatewayProtocol, ws="none",
            lifespan="off", log_config=None, log_level="warning", access_log=False,
            server_header=False, timeout_keep_alive=5,
            # h11 refuses heads past this itself (431); smaller ones over API Gateway's
            # quota get the app's precise 414/431.
            h11_max_incomplete_event_size=8 * MAX_HEAD_BYTES)
        self.server = _Uvicorn(config, self.pool)
        self.thread = threading.Thread(target=self.server.run, args=([self.socket],),
                                       daemon=True, name="sfnflow-serve")

    @property
    def url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        self.observability.__enter__()
        self.thread.start()
        while not self.server.ready.wait(0.01):
            if not self.thread.is_alive():
                self.socket.close()
                self.observability.__exit__(None, None, None)
                raise RuntimeError("the local HTTP server did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()
        if self.thread.ident is not None:
            self.thread.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.socket.close()
        self.observability.__exit__(*exc_info)

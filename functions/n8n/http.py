"""HTTP Request v3 and v4.x without credentials (``authentication: "none"``).

One request per input item; every parameter is read for its item. n8n 1.123 starts every
item's request before awaiting any (measured: 10 items x 300 ms take ~0.4 s on its engine),
so the requests run side by side here too, at most ``MAX_IN_FLIGHT`` at a time, output in
item order (``functions.concurrent_items``). ``options.batching.batch`` spaces the starts as
n8n does: ``batchInterval`` ms before each ``batchSize``-th item, earlier batches still in
flight. What is sent, as n8n sends it (recorded on n8n's engine):

* ``url`` must be text starting with ``http://`` or ``https://``; ``method`` defaults to GET.
* Query (``sendQuery``): ``queryParameters.parameters`` ``[{name, value}]`` (``keypair``;
  a repeated name overwrites before v4.3 and collects into a list from v4.3) or ``jsonQuery``
  (``specifyQuery: "json"``); encoded like n8n's ``qs``: RFC 3986 (a space is ``%20``),
  lists as ``a[0]=..&a[1]=..``, objects as ``a[b]=..``, appended to the URL's own query.
* Headers (``sendHeaders``): ``headerParameters.parameters`` or ``jsonHeaders``; names are
  lowercased unless ``options.lowercaseHeaders`` is false. ``accept`` defaults per
  response format, as n8n's.
* Body (``sendBody``): ``contentType`` ``json`` (default) from ``bodyParameters`` (v4+: a
  dotted name nests, lodash ``set``; v3: taken as it is) or ``jsonBody`` (``specifyBody:
  "json"``), sent as compact UTF-8 JSON; ``form-urlencoded`` from the parameters or a
  ``body`` query string (``specifyBody: "string"``); ``raw``: ``body`` with
  ``rawContentType``. Multipart and binary bodies are not supported (a parameter error).

What comes back (``options.response.response``): ``responseFormat`` ``autodetect`` reads
JSON when the content type says so (invalid JSON fails, or is ``{}`` with ``neverError``),
a binary content type is refused (sfnflow has no binary data), anything else is text;
``json`` parses any body (not JSON fails with n8n's message); ``text`` gives the body as
text, JSON re-serialised compactly as n8n does. A JSON array is one item per element; text
is ``{outputPropertyName (default "data"): text}``; ``null`` is ``{}``; ``fullResponse`` is
``{body (or the text property), headers (lowercased), statusCode, statusMessage}``.
A JSON scalar that is not in an object is ``{"data": value}`` (n8n would emit a broken item).

Failures are sfnflow's HTTP error types, the ones ``functions.nodes.http`` raises, so the
same Retry/Catch rules apply: 429 ``RateLimited``, 5xx ``HttpServerError``, other 4xx
``HttpClientError`` (unless ``neverError``), ``NodeTimeout`` after ``options.timeout`` ms
(default 300 s, n8n's, capped by the caller's time left), ``ConnectionFailed``. With
``continueOnFail`` a failed item becomes n8n's error item (``n8n_error``): for a failed
request the error object n8n's HTTP client gives (``{message: "404 - \"<body>\"", name:
"AxiosError", code: "ERR_BAD_REQUEST" | "ERR_BAD_RESPONSE", status}``; a timeout's
``ECONNABORTED``; ``connect ECONNREFUSED host:port`` / ``getaddrinfo ENOTFOUND host``),
without n8n's JavaScript ``stack``; for the node's own failures (invalid JSON...) the
message text, as n8n does.
"""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import requests

from functions.concurrent_items import Outcome, run_items
from functions.credentials.http_auth import HTTP_AUTH, RequestAuth, request_auth
from functions.errors import ConnectionFailed, NodeError, NodeTimeout
from functions.http import send, status_error
from functions.n8n.call import NodeCall
from functions.n8n.errors import NodeOperationError, NodeParameterError
from functions.n8n.items import Item, paired

DEFAULT_TIMEOUT_MS = 300_000  # n8n's when options.timeout is unset
# n8n starts every item's request at once; here at most this many are in flight: the
# connection pool of a requests session keeps 10 per host (more would be opened and dropped)
MAX_IN_FLIGHT = 10
EXCERPT_CHARS = 200
ACCEPT = {
    "json": "application/json,text/*;q=0.99",
    "text": "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, "
            "*/*;q=0.1",
    "autodetect": "application/json,text/html,application/xhtml+xml,application/xml,"
                  "text/*;q=0.9, image/*;q=0.8, */*;q=0.7",
}
BINARY_CONTENT_TYPES = (
    "image/", "audio/", "video/", "application/octet-stream", "application/gzip",
    "application/zip", "application/vnd.rar", "application/epub+zip", "application/x-bzip",
    "application/x-bzip2", "application/x-cdf", "application/vnd.amazon.ebook",
    "application/msword", "application/vnd.ms-", "application/pdf",
)
NOT_JSON = 'Response body is not valid JSON. Change "Response Format" to "Text"'


def _js_text(value: Any) -> str:
    """A scalar as JavaScript's ``String(value)``."""
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def qs_stringify(values: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``qs.stringify`` with RFC 3986 encoding and indexed arrays, as n8n's request does."""
    parts: list[str] = []
    for key, value in values.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            parts.extend(qs_stringify(value, name))
        elif isinstance(value, list):
            parts.extend(qs_stringify({str(i): v for i, v in enumerate(value)}, name))
        elif value is not None:
            parts.append(f"{_encode(name)}={_encode(_js_text(value))}")
    return parts


def _pairs(call: NodeCall, path: str, index: int) -> list[Mapping[str, Any]]:
    pairs = call.parameter(path, index, [])
    return [pair for pair in pairs if isinstance(pair, Mapping)] if isinstance(pairs, list) \
        else []


def _keypairs(call: NodeCall, path: str, index: int, collect: bool) -> dict[str, Any]:
    """Name/value pairs; from v4.3 a repeated name collects its values into a list."""
    result: dict[str, Any] = {}
    for pair in _pairs(call, path, index):
        name, value = str(pair.get("name", "")), pair.get("value", "")
        if collect and name in result:
            held = result[name]
            result[name] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            result[name] = value
    return result


def _json_parameter(call: NodeCall, path: str, index: int) -> Any:
    value = call.parameter(path, index, "")
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise NodeOperationError(call.node, "JSON parameter needs to be valid JSON",
                                 item_index=index) from None


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    """lodash ``set`` for dotted names (v4 JSON body parameters)."""
    keys = dotted.split(".")
    for key in keys[:-1]:
        nested = target.get(key)
        if not isinstance(nested, dict):
            nested = target[key] = {}
        target = nested
    target[keys[-1]] = value


GENERIC_CREDENTIAL = "genericCredentialType"


def node_auth(ctx: Any) -> RequestAuth | None:
    """The HTTP auth of the credential the runner's node names (``credentials: {name}``,
    which the importer maps from n8n's block), resolved once per run; None without one."""
    from functions.credentials import NODE_CREDENTIALS_KEY, node_credential

    if not (getattr(ctx, "extras", None) or {}).get(NODE_CREDENTIALS_KEY):
        return None
    return request_auth(node_credential(ctx, HTTP_AUTH))


class Request:
    """One item's request, built from its parameters (and the node's credential: ``auth``,
    applied as n8n's generic credential types are, over the node's own header or query
    parameter of the same name)."""

    def __init__(self, call: NodeCall, index: int, auth: RequestAuth | None = None) -> None:
        self.call, self.index = call, index
        url = call.parameter("url", index, "")
        if not isinstance(url, str):
            kind = "null" if url is None else type(url).__name__
            raise NodeOperationError(call.node, f"URL parameter must be a string, got {kind}",
                                     item_index=index)
        if not url.startswith(("http://", "https://")):
            raise NodeOperationError(
                call.node, f'Invalid URL: {url}. URL must start with "http" or "https".',
                item_index=index)
        authentication = call.parameter("authentication", index, "none")
        if authentication == GENERIC_CREDENTIAL:
            if auth is None:  # n8n: the node has no credential set
                raise NodeParameterError(call.node, "credentials", "authentication "
                                         f"{GENERIC_CREDENTIAL} needs the node's credential")
        elif authentication not in ("none", None):
            raise NodeParameterError(call.node, "authentication",
                                     f"{authentication!r}: only 'none' or "
                                     f"{GENERIC_CREDENTIAL!r} runs on sfnflow")
        else:
            auth = None  # n8n ignores a credential left from an earlier choice
        self.auth = auth
        self.method = str(call.parameter("method", index, "GET")).upper()
        self.options: Mapping[str, Any] = call.parameter("options", index, {}) or {}
        response = (self.options.get("response") or {}).get("response") or {}
        self.response_format = str(response.get("responseFormat") or "autodetect")
        self.full_response = bool(response.get("fullResponse"))
        self.never_error = bool(response.get("neverError"))
        self.output_property = str(response.get("outputPropertyName") or "data")
        self.url = url + self._query(url)
        self.headers = self._headers()
        self.data: bytes | None = self._body()
        timeout = self.options.get("timeout")
        self.timeout_ms = float(timeout) if isinstance(timeout, int | float) and timeout \
            else DEFAULT_TIMEOUT_MS

    def _query(self, url: str) -> str:
        call, index = self.call, self.index
        query: Mapping[str, Any] = {}
        if not call.parameter("sendQuery", index, False):
            pass
        elif call.parameter("specifyQuery", index, "keypair") == "json":
            query = _json_parameter(call, "jsonQuery", index)
            query = query if isinstance(query, Mapping) else {}
        else:
            query = _keypairs(call, "queryParameters.parameters", index,
                              collect=call.type_version >= 4.3)
        if self.auth is not None:
            query = {**query, **self.auth.query}
        parts = qs_stringify(query)
        return ("&" if "?" in url else "?") + "&".join(parts) if parts else ""

    def _headers(self) -> dict[str, str]:
        call, index = self.call, self.index
        headers: dict[str, Any] = {}
        if call.parameter("sendHeaders", index, False):
            if call.parameter("specifyHeaders", index, "keypair") == "json":
                extra = _json_parameter(call, "jsonHeaders", index)
                headers = dict(extra) if isinstance(extra, Mapping) else {}
            else:
                headers = {str(p.get("name")): p.get("value", "")
                           for p in _pairs(call, "headerParameters.parameters", index)
                           if p.get("name")}
            if self.options.get("lowercaseHeaders", True) is not False:
                headers = {name.lower(): value for name, value in headers.items()}
        result = {name: _js_text(value) for name, value in headers.items()}
        if self.auth is not None:
            result, _ = self.auth.apply(result, None)
        if not any(name.lower() == "accept" for name in result):
            result["accept"] = ACCEPT.get(self.response_format, ACCEPT["autodetect"])
        return result

    def _body(self) -> bytes | None:
        call, index = self.call, self.index
        if not call.parameter("sendBody", index, False):
            return None
        content_type = call.parameter("contentType", index, "json")
        specify = call.parameter("specifyBody", index, "keypair")
        if content_type == "raw":
            self.headers["content-type"] = str(call.parameter("rawContentType", index, ""))
            return str(call.parameter("body", index, "")).encode()
        if content_type not in ("json", "form-urlencoded"):
            raise NodeParameterError(call.node, "contentType",
                                     f"{content_type!r} bodies are not supported on sfnflow")
        body: Any
        if specify == "json":
            body = _json_parameter(call, "jsonBody", index)
        elif specify == "string":
            body = dict(parse_qsl(str(call.parameter("body", index, "")),
                                  keep_blank_values=True))
        else:
            body = {}
            for pair in _pairs(call, "bodyParameters.parameters", index):
                name, value = str(pair.get("name", "")), pair.get("value", "")
                if content_type == "json" and call.type_version >= 4:
                    _set_path(body, name, value)
                else:
                    body[name] = value
        if content_type == "form-urlencoded":
            self.headers["content-type"] = "application/x-www-form-urlencoded"
            return "&".join(qs_stringify(body if isinstance(body, Mapping) else {})).encode()
        self.headers["content-type"] = "application/json"
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        return text.encode()

    def send(self, session: requests.Session, time_left: float | None) -> requests.Response:
        seconds = self.timeout_ms / 1000
        if time_left is not None:
            seconds = max(min(seconds, time_left), 0.001)
        follow = self.call.type_version >= 4 or bool(
            ((self.options.get("redirect") or {}).get("redirect") or {}).get("followRedirects"))
        try:
            return send(session, self.method, self.url, timeout=seconds, headers=self.headers,
                        data=self.data, allow_redirects=follow)
        except NodeTimeout as error:
            raise _with_n8n_error(error, {"message": f"timeout of {self.timeout_ms:g}ms "
                                          "exceeded", "name": "AxiosError",
                                          "code": "ECONNABORTED"}) from error.__cause__
        except ConnectionFailed as error:
            raise _with_n8n_error(error, _connection_error(error, self.url)) \
                from error.__cause__

    def items(self, response: requests.Response) -> list[Item]:
        if "charset" not in response.headers.get("content-type", ""):
            response.encoding = "utf-8"  # n8n decodes UTF-8 when no charset is given
        status = response.status_code
        if status >= 400 and not self.never_error:
            error = status_error(status)(f"{self.method} {self.url} returned {status}: "
                                         f"{response.text[:EXCERPT_CHARS]}")
            raise _with_n8n_error(error, _status_error(status, response.text))
        body = self._read(response)
        if self.full_response:
            key = self.output_property if self._format(response) == "text" else "body"
            return [{key: body,
                     "headers": {k.lower(): v for k, v in response.headers.items()},
                     "statusCode": status,
                     "statusMessage": response.reason or _reason(status)}]
        if self._format(response) == "text":
            return [{} if body is None else {self.output_property: body}]
        values = body if isinstance(body, list) else [body]
        return [{} if value is None else value if isinstance(value, dict) else {"data": value}
                for value in values]

    def _format(self, response: requests.Response) -> str:
        if self.response_format != "autodetect":
            return self.response_format
        content_type = response.headers.get("content-type", "")
        if "application/json" in content_type:
            return "json"
        if any(kind in content_type for kind in BINARY_CONTENT_TYPES):
            raise NodeOperationError(self.call.node, f"binary responses ({content_type}) "
                                     "are not supported on sfnflow", item_index=self.index)
        return "text"

    def _read(self, response: requests.Response) -> Any:
        kind, text = self._format(response), response.text
        if self.response_format == "autodetect":
            if kind == "text":
                return text or None
            try:
                return json.loads(text)
            except ValueError:
                if self.never_error:
                    return {}
                raise NodeOperationError(self.call.node, "Invalid JSON in response body",
                                         item_index=self.index) from None
        try:
            parsed = json.loads(text)
        except ValueError:
            if kind == "json":
                raise NodeOperationError(self.call.node, NOT_JSON,
                                         item_index=self.index) from None
            return text
        if kind == "text" and isinstance(parsed, dict | list):
            return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
        return parsed


# What n8n's HTTP client (axios) says of a 429, instead of the body.
TOO_MANY_REQUESTS = "Try spacing your requests out using the batching settings under 'Options'"


def _status_error(status: int, body: str) -> dict[str, Any]:
    """n8n's error object of a response with an error status (the body as JSON text)."""
    message = TOO_MANY_REQUESTS if status == 429 else \
        f"{status} - {json.dumps(body, ensure_ascii=False)}"
    return {"message": message, "name": "AxiosError",
            "code": "ERR_BAD_RESPONSE" if status >= 500 else "ERR_BAD_REQUEST",
            "status": status}


def _connection_error(error: BaseException, url: str) -> dict[str, Any]:
    """n8n's error object of a request that reached no server: Node.js's errno names."""
    parts = urlsplit(url)
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return {"message": f"getaddrinfo ENOTFOUND {parts.hostname}", "name": "Error",
                    "code": "ENOTFOUND"}
        if isinstance(cause, OSError) and cause.errno in errno.errorcode:
            code = errno.errorcode[cause.errno]
            port = parts.port or (443 if parts.scheme == "https" else 80)
            return {"message": f"connect {code} {parts.hostname}:{port}", "name": "Error",
                    "code": code}
        cause = cause.__cause__ or cause.__context__
    return {"message": str(error), "name": "Error"}


_N8N_ERROR = "n8n_error"


def _with_n8n_error(error: NodeError, shape: dict[str, Any]) -> NodeError:
    """``error`` (sfnflow's type, for Retry/Catch) carrying n8n's error item object."""
    setattr(error, _N8N_ERROR, shape)
    return error


def n8n_error(error: NodeError) -> Any:
    """The ``error`` of n8n's item for a failed item (continueOnFail): the request's error
    object, or the message of the node's own failure."""
    return getattr(error, _N8N_ERROR, None) or str(error)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def batching(call: NodeCall) -> tuple[int, float]:
    """``options.batching.batch``'s items per batch and seconds between batch starts, as
    n8n's HTTP Request V3 reads them: a size below 1 is 1, an interval of 0 or none spaces
    nothing. Read from the first item's options (n8n reads them per item)."""
    try:
        options = call.parameter("options", 0, {}) or {}
    except NodeError:
        return 1, 0.0
    batch = ((options.get("batching") or {}).get("batch") or {}) \
        if isinstance(options, Mapping) else {}
    size, interval = batch.get("batchSize"), batch.get("batchInterval")
    size = int(size) if isinstance(size, int | float) and size > 0 else 1
    seconds = interval / 1000 if isinstance(interval, int | float) and interval > 0 else 0.0
    return size, seconds


def run(call: NodeCall, session: requests.Session | None = None,
        time_left: float | None = None, auth: RequestAuth | None = None) -> list[list[Item]]:
    """Every item's request, side by side as n8n sends them (at most ``MAX_IN_FLIGHT`` at a
    time; batching spaces the starts), output in item order; ``session`` is the runner's (a
    new one without it). Without ``continueOnFail`` the first failing item in item order
    fails the node and no item after it is started."""
    own = session is None
    active = session if session is not None else requests.Session()
    size, interval = batching(call)

    def stops(error: BaseException) -> bool:
        return not (call.continue_on_fail and isinstance(error, NodeError))

    try:
        outcomes = run_items(
            len(call.items), lambda index: Request(call, index, auth),
            lambda request: request.items(request.send(active, time_left)),
            concurrency=MAX_IN_FLIGHT, batch_size=size, batch_interval=interval, stops=stops)
    finally:
        if own:
            active.close()
    out: list[Item] = []
    for index, outcome in enumerate(outcomes):
        if not isinstance(outcome, Outcome):
            break  # only after an error that stops, raised below before reaching here
        if outcome.error is not None:
            if stops(outcome.error):
                raise outcome.error
            values = [{"error": n8n_error(outcome.error)}]  # type: ignore[arg-type]
        else:
            values = outcome.value or []
        out.extend({"json": value, "pairedItem": paired(index)} for value in values)
    return [out]

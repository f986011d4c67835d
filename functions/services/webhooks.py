"""Webhook requests -> executions.

A request to ``/webhook/<path>`` finds the active workflow whose ``webhook`` trigger has
that method and path (one registry read), checks the HMAC-SHA256 signature when the
trigger has a secret (constant-time comparison of ``X-Sfnflow-Signature: sha256=<hex>``
against the raw body), parses the body (a binary one — an image, octet-stream, anything
not UTF-8 text — becomes base64 text with ``bodyEncoding: "base64"``), and starts the
workflow with one item ``{body, headers, query, method, path}`` and ``triggeredBy`` = the
webhook node. Nothing starts unless every check passes. ``Idempotency-Key`` makes a
delivery retried by its sender start one execution. Response modes: ``onReceived``
answers 202 with the execution id;
``lastNode`` waits while the request's budget lasts (``functions.services.waiting``) and
answers with the output items, or 202 with a status URL.

An n8n Webhook node's route (its manifest trigger has ``n8nType``) starts with n8n's item
and answers as n8n does (``functions.n8n.webhook``: responseCode, responseData,
Respond to Webhook), which may be text, JSON of any shape, or no body.

What a public caller can see, all of it JSON: ``202 {executionId}``; for ``lastNode``
``200 {executionId, status, items...}``, ``202 {executionId, status: RUNNING, statusUrl}``
or, when the execution failed, ``500 {executionId, status, error: {type, message}}`` whose
message is the workflow author's ``stopAndError`` text or a fixed sentence
(``functions.services.public_errors``: the runtime's report has exception text, stack
traces and server paths); ``400`` for a body that is not JSON it can read, ``413`` for
one too large to start with even when staged (sizes named), ``401`` for a missing or
wrong signature, ``404`` for a route with no active webhook (a route too long to be a key
names none); anything unexpected is ``500`` with a fixed message and the request id,
logged by the handler. No message quotes a runtime exception: the caller is anyone with
the URL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from functions.api.requests import BodyInvalid, parse_json
from functions.n8n import webhook as n8n_webhook
from functions.services.execution_control import ExecutionControl, ExecutionNotFound
from functions.services.staging import InputTooLarge
from functions.services.waiting import wait_seconds
from functions.store.limits import ItemTooLarge
from functions.store.workflows import WorkflowRepository

SIGNATURE_HEADER = "x-sfnflow-signature"
IDEMPOTENCY_HEADER = "idempotency-key"
ROUTE_KEY_MAX_BYTES = 2048  # the webhook table's partition key: DynamoDB's limit
ECHO_MAX_CHARS = 200  # of the caller's path, quoted back in a 404
RESPONSE_POLL_SECONDS = 0.5  # how often a responseNode wait looks for the recorded answer


class BodyUnreadable(ValueError):
    """The body claims to be JSON and is not JSON this service can read."""


@dataclass
class WebhookRequest:
    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    received_epoch_ms: float | None = None  # when API Gateway received it


@dataclass
class WebhookResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    text: bool = False  # body is text, sent as is (an n8n answer)
    empty: bool = False  # no body at all (an n8n answer)


def _error(status: int, error_type: str, message: str) -> WebhookResponse:
    return WebhookResponse(status, {"error": {"type": error_type, "message": message,
                                              "details": None}})


def signature(secret: str, body: bytes) -> str:
    """The header value a sender computes: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _is_text(content_type: str) -> bool:
    return content_type in ("", "application/x-www-form-urlencoded", "application/javascript") \
        or content_type.startswith("text/") \
        or any(content_type.endswith(kind) for kind in ("/json", "+json", "/xml", "+xml"))


def _parse_body(request: WebhookRequest) -> tuple[Any, bool]:
    """The item's body, and whether it is base64: a body of a binary media type (an
    image, ``application/octet-stream``...) or one that is not UTF-8 travels as base64,
    byte for byte, rather than as text with replacement characters."""
    if not request.body:
        return None, False
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = request.body.decode("utf-8") if _is_text(content_type) else None
    except UnicodeDecodeError:
        text = None
    if text is None:
        return base64.b64encode(request.body).decode(), True
    return _parse_text(content_type, text), False


def _parse_text(content_type: str, text: str) -> Any:
    if content_type == "application/x-www-form-urlencoded":
        return {key: values[0] if len(values) == 1 else values
                for key, values in parse_qs(text, keep_blank_values=True).items()}
    if content_type in ("", "application/json") or content_type.endswith("+json"):
        return _json(text)
    return text


def _json(text: str) -> Any:
    """Within the API's limits for every JSON body (``functions.api.requests``: nesting,
    number length, NaN, lone surrogates), whose refusals name the problem in the body."""
    try:
        return parse_json(text)
    except BodyInvalid as exc:
        raise BodyUnreadable(exc.message) from None


def _routable(request: WebhookRequest) -> bool:
    """Whether the route can be a key of the webhook table at all (else it names none)."""
    try:
        key = f"{request.method.upper()} {request.path.strip('/')}".encode()
    except UnicodeEncodeError:
        return False
    return len(key) <= ROUTE_KEY_MAX_BYTES


class WebhookService:
    def __init__(self, workflows: WorkflowRepository, control: ExecutionControl) -> None:
        self.workflows = workflows
        self.control = control

    def handle(self, request: WebhookRequest, context: Any = None) -> WebhookResponse:
        """``context``: the Lambda context, whose remaining time bounds a ``lastNode`` wait."""
        hook = self.workflows.webhook(request.method, request.path) \
            if _routable(request) else None
        record = self.workflows.get(hook.workflow_id) if hook else None
        trigger = next((t for t in (record.manifest.get("triggers") or []) if record and hook
                        and t.get("node") == hook.node), None) if record else None
        if hook is None or record is None or trigger is None or not record.active:
            route = f"{request.method.upper()} /webhook/{request.path.strip('/')}"
            return _error(404, "NotFound", f"no active webhook at {route[:ECHO_MAX_CHARS]}")
        parameters = trigger.get("parameters") or {}
        secret = parameters.get("secret")
        if secret:
            given = request.headers.get(SIGNATURE_HEADER, "")  # any text: compared as bytes
            if not hmac.compare_digest(given.encode("utf-8", "replace"),
                                       signature(secret, request.body).encode()):
                return _error(401, "Unauthorized", "missing or wrong X-Sfnflow-Signature "
                                                   "(sha256=<hex HMAC of the raw body>)")
        try:
            body, base64_body = _parse_body(request)
        except BodyUnreadable as exc:
            return _error(400, "BadRequest", str(exc))
        item = {"body": body, **({"bodyEncoding": "base64"} if base64_body else {}),
                "headers": request.headers, "query": request.query,
                "method": request.method.upper(), "path": request.path.strip("/")}
        n8n = trigger.get("n8nType") is not None
        if n8n:
            url = f"{self.control.config.api_url}/webhook/{request.path.strip('/')}"
            item = n8n_webhook.trigger_item(request.headers, request.query, body, url)
        try:
            execution = self.control.start(
                hook.workflow_id, {"items": [item]}, mode="webhook",
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER) or None,
                envelope_extras={"triggeredBy": hook.node})
        except (InputTooLarge, ItemTooLarge) as exc:  # our own sentence, sizes included
            return WebhookResponse(413, {"error": {
                "type": "PayloadTooLarge", "message": str(exc),
                "details": {"what": exc.what, "size": exc.size, "limit": exc.limit}}})
        except ExecutionNotFound:  # the workflow was deleted since the route was read
            return _error(404, "NotFound", "no active webhook at this route")
        if n8n:
            return self._n8n_answer(execution, parameters.get("n8n") or {}, request, context)
        if parameters.get("responseMode") != "lastNode":
            return WebhookResponse(202, {"executionId": execution.execution_id})
        result = self.control.wait(execution, context=context,
                                   request_epoch_ms=request.received_epoch_ms)
        status = {"SUCCEEDED": 200, "RUNNING": 202}.get(result["status"], 500)
        return WebhookResponse(status, result)

    def _n8n_answer(self, execution: Any, fields: dict[str, Any], request: WebhookRequest,
                    context: Any) -> WebhookResponse:
        """n8n's answer (``functions.n8n.webhook``); a run still going when the time is
        up, or one that failed before answering, is answered as sfnflow's lastNode."""
        mode = fields.get("responseMode")
        if mode not in ("lastNode", "responseNode"):
            return _answer(n8n_webhook.on_received(fields))
        if mode == "responseNode":
            return self._respond_node_answer(execution, request, context)
        result = self.control.wait(execution, context=context,
                                   request_epoch_ms=request.received_epoch_ms)
        if result["status"] == "SUCCEEDED":
            return _answer(n8n_webhook.last_node(fields, result.get("items") or []))
        return WebhookResponse(202 if result["status"] == "RUNNING" else 500, result)

    def _respond_node_answer(self, execution: Any, request: WebhookRequest,
                             context: Any) -> WebhookResponse:
        """As n8n: the answer goes as soon as a Respond to Webhook node has recorded it,
        while the execution goes on. The request's budget is waited in slices of
        ``RESPONSE_POLL_SECONDS``, the node runs read after each."""
        budget = wait_seconds(context, request_epoch_ms=request.received_epoch_ms)
        deadline = self.control.clock() + budget
        while True:
            left = max(0.0, deadline - self.control.clock())
            result = self.control.wait(execution, min(RESPONSE_POLL_SECONDS, left),
                                       context=context,
                                       request_epoch_ms=request.received_epoch_ms)
            recorded = self._recorded_response(execution.execution_id)
            if recorded is not None or result["status"] == "SUCCEEDED":
                return _answer(n8n_webhook.from_response(recorded))
            if result["status"] != "RUNNING" or left <= RESPONSE_POLL_SECONDS:
                return WebhookResponse(202 if result["status"] == "RUNNING" else 500, result)

    def _recorded_response(self, execution_id: str) -> dict[str, Any] | None:
        runs = [run for run in self.control.runs.node_runs(execution_id, with_output=False)
                if run.node_type == n8n_webhook.RESPOND_TO_WEBHOOK and run.status == "success"]
        for run in runs:
            run.output = self.control.runs.node_output(execution_id, run.node, run.run_index)
        return n8n_webhook.recorded_response(runs)


def _answer(answer: n8n_webhook.Answer) -> WebhookResponse:
    return WebhookResponse(answer.status, answer.body, answer.headers, answer.text,
                           answer.empty)

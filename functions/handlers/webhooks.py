"""Lambda: public webhook routes ``ANY /webhook/{proxy+}`` (``functions.services.webhooks``)."""

from __future__ import annotations

import base64
import binascii
import json
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from functions.api.gateway import cors_headers
from functions.config import Config
from functions.services.execution_control import ExecutionControl
from functions.services.executions import ExecutionService
from functions.services.waiting import poll_client, request_epoch_ms
from functions.services.webhooks import WebhookRequest, WebhookResponse, WebhookService
from functions.store.repository import RunRepository
from functions.store.workflows import WorkflowRepository
from functions.tracing import tracer

logger = Logger(service="sfnflow-webhooks")
PREFIX = "/webhook/"


@cache
def _service() -> WebhookService:
    config = Config.from_env()
    sfn = boto3.client("stepfunctions", region_name=config.region)
    s3 = boto3.client("s3", region_name=config.region) if config.payload_bucket else None
    runs = RunRepository(config, s3_client=s3)
    registry = WorkflowRepository()
    control = ExecutionControl(sfn, runs, registry, ExecutionService(sfn, runs), config,
                               poll_sfn=poll_client(config.region))
    return WebhookService(registry, control)


def to_request(event: APIGatewayProxyEvent) -> WebhookRequest:
    raw = event.body or ""
    body = base64.b64decode(raw) if event.is_base64_encoded else raw.encode()
    path = event.path
    path = path[path.index(PREFIX) + len(PREFIX):] if PREFIX in path else path
    return WebhookRequest(
        method=event.http_method,
        path=path,
        headers={key.lower(): value for key, value in (event.headers or {}).items()},
        query=dict(event.query_string_parameters or {}),
        body=body,
        received_epoch_ms=request_epoch_ms(event.raw_event),
    )


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CORS as the API's resolver does it (``functions.api.gateway``): a preflight is
    answered here, every response names the allowed origin."""
    proxy = APIGatewayProxyEvent(event)
    preflight = proxy.http_method == "OPTIONS"
    cors = cors_headers(Config.from_env(), (proxy.headers or {}).get("origin"),
                        preflight=preflight)
    if preflight:
        return {"statusCode": 204, "headers": cors, "body": ""}
    response = _handle(event, context)
    response["headers"].update(cors)
    return response


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Every answer is JSON. What fails here unexpectedly is logged with the request id
    and answered 500 with a fixed message and that id only: the caller is anyone with the
    URL, so no exception text, stack trace or path goes back."""
    proxy = APIGatewayProxyEvent(event)
    try:
        request = to_request(proxy)
    except (binascii.Error, ValueError):  # a body flagged base64 that is not
        return _json(400, {"error": {"type": "BadRequest", "details": None,
                                     "message": "the body is not valid base64"}})
    try:
        response = _service().handle(request, context)
        status, body = response.status, response.body
        if response.text or response.empty or response.headers:  # an n8n answer
            return _n8n(response)
    except Exception:
        context_of_request = event.get("requestContext")
        request_id = context_of_request.get("requestId") \
            if isinstance(context_of_request, dict) else None
        logger.exception("webhook failed", extra={"requestId": request_id})
        status, body = 500, {"error": {"type": "InternalError",
                                       "details": {"requestId": request_id},
                                       "message": "the server failed to handle the request"}}
    answer = _json(status, body)
    # a lastNode wait that ran out of time
    if status == 202 and isinstance(body, dict) and body.get("statusUrl"):
        answer["headers"]["Location"] = body["statusUrl"]
    return answer


def _n8n(response: WebhookResponse) -> dict[str, Any]:
    """An n8n Webhook's answer (``functions.n8n.webhook``): text as is (``text/html``
    unless its headers say otherwise, as n8n's server sends a string), JSON, or no body;
    with the headers a Respond to Webhook node set."""
    if response.empty:
        answer = {"statusCode": response.status, "headers": {}, "body": ""}
    elif response.text:
        answer = {"statusCode": response.status, "body": str(response.body),
                  "headers": {"Content-Type": "text/html; charset=utf-8"}}
    else:
        answer = _json(response.status, response.body)
    given = {key.lower() for key in response.headers}
    answer["headers"] = {key: value for key, value in answer["headers"].items()
                         if key.lower() not in given} | response.headers
    return answer


def _json(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body, default=str)}

"""Lambdas: live progress over the WebSocket API (``functions.services.streams``).

``connections_handler`` serves the routes ``$connect`` and ``$disconnect``. ``$connect``
needs ``?token=``, a short-lived token ``POST /stream-tokens`` issued for one execution
(``StreamTokens``: browsers cannot send an ``x-api-key`` header on a WebSocket, so the
route needs no API key and this handler is the check): 401 without one, 403 for a forged,
expired or other execution's token (``?executionId=``, if given, must be the token's),
404 for an execution that does not exist. ``publisher_handler`` reads the progress
table's DynamoDB stream and posts each new event to the execution's connections; a record
that fails is reported alone (partial batch response) and delivered again.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from functions.config import Config
from functions.services.execution_control import ExecutionNotFound
from functions.services.progress import ProgressService
from functions.services.streams import StreamService, StreamTokens, TokenInvalid
from functions.store.repository import RunRepository
from functions.store.streams import StreamConnectionRepository
from functions.store.workflows import WorkflowRepository
from functions.tracing import tracer

logger = Logger(service="sfnflow-stream")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def _service() -> StreamService:
    config = Config.from_env()
    runs = RunRepository(config)
    management = boto3.client("apigatewaymanagementapi", region_name=config.region,
                              endpoint_url=config.stream_endpoint) \
        if config.stream_endpoint else None
    return StreamService(runs, ProgressService(runs, WorkflowRepository()),
                         StreamConnectionRepository(), management)


@cache
def _tokens() -> StreamTokens | None:
    config = Config.from_env()
    if not config.stream_token_key_arn:
        return None
    return StreamTokens(boto3.client("kms", region_name=config.region),
                        config.stream_token_key_arn)


def on_route(event: APIGatewayWebSocketEvent, service: StreamService,
             tokens: StreamTokens | None) -> dict[str, Any]:
    """One WebSocket route event -> the proxy response API Gateway expects; on
    ``$connect`` anything but a 2xx refuses the connection."""
    context = event.request_context
    if context.route_key == "$disconnect":
        service.disconnect(context.connection_id)
        return _response(200, None)
    if context.route_key != "$connect":
        return _response(404, "RouteNotFound", f"no route {context.route_key}")
    query = event.query_string_parameters or {}
    token = query.get("token")
    if not token:
        return _response(401, "Unauthorized", "connect with ?token=<a token from "
                                              "POST /stream-tokens>")
    if tokens is None:
        return _response(503, "Unavailable", "stream tokens are not configured")
    try:
        execution_id = tokens.verify(token)
    except TokenInvalid as exc:
        return _response(403, "Forbidden", str(exc))
    if query.get("executionId") not in (None, execution_id):
        return _response(403, "Forbidden", "the token is for another execution")
    try:
        service.connect(execution_id, context.connection_id)
    except ExecutionNotFound as exc:
        return _response(404, "NotFound", str(exc))
    return _response(200, None)


def publish_record(record: DynamoDBRecord, service: StreamService) -> None:
    """One stream record: a new progress event is posted; other changes (TTL deletes)
    are skipped (the event source's filter already drops most of them)."""
    if record.event_name != DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return
    published = service.publish([record.dynamodb.new_image])
    if published.posts or published.gone:
        logger.debug("progress published", extra={"posts": published.posts,
                                                   "gone": published.gone})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def connections_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ws_event = APIGatewayWebSocketEvent(event)
    logger.append_keys(connection=ws_event.request_context.connection_id,
                       route=ws_event.request_context.route_key)
    try:
        return on_route(ws_event, _service(), _tokens())
    except Exception:
        logger.exception("stream route failed")
        return _response(500, "InternalError", "the server failed to handle the request")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def publisher_handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    service = _service()
    return process_partial_response(
        event=event, record_handler=lambda record: publish_record(record, service),
        processor=processor, context=context)


def _response(status: int, error_type: str | None, message: str = "") -> dict[str, Any]:
    body = None if error_type is None else {
        "error": {"type": error_type, "message": message, "details": None}}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(body) if body else ""}

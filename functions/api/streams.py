"""``POST /stream-tokens``: a short-lived token to watch one execution's live progress.

Browsers cannot put an ``x-api-key`` header on a WebSocket (nor on an ``EventSource``), so
a client holding the API key asks this route for a token and opens ``url`` — the WebSocket
API's ``$connect?token=`` in AWS, ``GET /executions/{id}/stream?token=`` under ``sfnflow
serve`` — within ``expiresAt`` (``functions.services.streams.StreamTokens``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated
from urllib.parse import quote

import boto3
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ConfigDict, Field

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.services.execution_control import ExecutionNotFound
from functions.services.streams import StreamTokens

router = Router()


class StreamTokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    executionId: str = Field(min_length=1, max_length=256,
                             description="The execution the token lets its holder watch.")


@cache
def stream_tokens() -> StreamTokens | None:
    config = services().config
    if not config.stream_token_key_arn:
        return None
    return StreamTokens(boto3.client("kms", region_name=config.region),
                        config.stream_token_key_arn)


@router.post("/stream-tokens", summary="A short-lived token to connect to live progress")
def create_stream_token(body: Annotated[StreamTokenRequest, Body()]) -> Response[str]:
    current = services()
    tokens = stream_tokens()
    if tokens is None:
        return error_response(503, "Unavailable", "stream tokens are not configured "
                                                  "(SFNFLOW_STREAM_TOKEN_KEY_ARN)")
    if current.runs.get_execution(body.executionId) is None:
        raise ExecutionNotFound(f"execution {body.executionId!r} does not exist")
    issued = tokens.issue(body.executionId)
    config = current.config
    query = f"token={quote(issued.token)}"
    if config.stream_url:
        url: str | None = f"{config.stream_url}?{query}"
    elif config.api_url:  # sfnflow serve: the Server-Sent Events route
        url = f"{config.api_url}/executions/{quote(body.executionId, safe='')}/stream?{query}"
    else:
        url = None
    return json_response(201, {
        "token": issued.token, "executionId": issued.execution_id, "url": url,
        "expiresAt": datetime.fromtimestamp(issued.expires_at, UTC).isoformat()})

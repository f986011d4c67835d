"""``GET /executions/{id}/logs``: the log lines of one execution across its Lambdas,
oldest first, each naming its node and run (``functions.services.execution_logs``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.services.execution_logs import MAX_PAGE, BadLogCursor, TimeRange, current_source

router = Router()


@router.get("/executions/<execution_id>/logs",
            summary="The execution's log lines across its functions, node by node")
def get_execution_logs(
    execution_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response[str]:
    api = services()
    execution = api.executions.get(execution_id)  # 404 for an unknown execution
    source = current_source(api.config.region)
    try:
        page = source.page(execution_id,
                           TimeRange(execution.started_at, execution.stopped_at),
                           cursor, limit)
    except BadLogCursor as exc:
        return error_response(400, "BadRequest", str(exc), [
            {"location": ["query", "cursor"], "message": str(exc), "type": "invalid_cursor"}])
    return json_response(200, {"executionId": execution_id, "items": page.lines,
                               "cursor": page.cursor, "complete": page.complete})

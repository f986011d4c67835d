"""Routes under /executions: list (one index query), inspect, cancel, retry; and
``GET /admin/queue``, admission's queues and slots (``functions.services.admission``)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from functions.api.dependencies import services
from functions.api.limits import QUERY_KEY_MAX_CHARS
from functions.api.models import Replay, Status
from functions.api.workflows import json_response
from functions.services.execution_control import execution_view

router = Router()


@router.get("/executions", summary="Executions, newest first")
def list_executions(
    workflowId: Annotated[str | None,  # noqa: N803 - the query's name
                          Query(max_length=QUERY_KEY_MAX_CHARS)] = None,
    status: Annotated[Status | None, Query()] = None,
    started_from: Annotated[str | None, Query(
        alias="from", max_length=QUERY_KEY_MAX_CHARS,
        description="ISO-8601 start, inclusive")] = None,
    started_to: Annotated[str | None, Query(
        alias="to", max_length=QUERY_KEY_MAX_CHARS,
        description="ISO-8601 end, inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    page = services().runs.query_executions(
        workflow_id=workflowId, status=status.upper() if status else None,
        started_from=started_from, started_to=started_to, limit=limit, cursor=cursor)
    return json_response(200, {"items": [execution_view(e) for e in page.items],
                               "cursor": page.cursor})


@router.get("/executions/<execution_id>", summary="Status, timings, error and node runs")
def get_execution(execution_id: str) -> Response[str]:
    view = services().executions.describe(execution_id)
    return json_response(200, view | {"nodeRuns": _node_run_views(view["nodeRuns"])})


@router.get("/executions/<execution_id>/nodes/<node>",
            summary="One node's runs with items (large stored outputs as pre-signed URLs)")
def get_node_runs(
    execution_id: str,
    node: str,
    offset: Annotated[int, Query(ge=0, description="Runs to skip (`nextOffset`)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response[str]:
    page = services().executions.node(execution_id, node, offset, limit)
    return json_response(200, page | {"items": _node_run_views(page["items"])})


def _node_run_views(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Node runs as shown: ``logs`` (the console output the node printed) only on runs
    that printed something; a run without logs has no such field."""
    return [{key: value for key, value in run.items() if key != "logs" or value}
            for run in runs]


@router.post("/executions/<execution_id>/cancel",
             summary="Stop a running execution, or take a queued one off its queue")
def cancel(execution_id: str) -> Response[str]:
    return json_response(200, execution_view(services().executions.cancel(execution_id)))


@router.post("/executions/<execution_id>/retry",
             summary="A new execution that reuses the successful node runs")
def retry(execution_id: str) -> Response[str]:
    execution = services().executions.retry(execution_id)
    return json_response(202, {"executionId": execution.execution_id,
                               "retryOf": execution_id, "status": execution.status})


@router.post("/executions/<execution_id>/replay",
             summary="Run the workflow again with the original (or a new) input")
def replay(execution_id: str, request: Annotated[Replay, Body()]) -> Response[str]:
    execution = services().executions.replay(execution_id, request.input)
    return json_response(202, {"executionId": execution.execution_id,
                               "replayOf": execution_id, "status": execution.status})


@router.get("/executions/<execution_id>/events",
            summary="Progress events (node started/finished) with percent and ETA")
def progress_events(
    execution_id: str,
    after: Annotated[str | None, Query(max_length=QUERY_KEY_MAX_CHARS,
                                       description="`cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response[str]:
    services().executions.get(execution_id)
    return json_response(200, services().progress.events(execution_id, after, limit))


@router.get("/admin/queue",
            summary="Admission: queued executions by workflow and priority, the oldest "
            "waiting, running per workflow, the limits")
def admission_queue() -> Response[str]:
    return json_response(200, services().executions.executions.admission.overview())

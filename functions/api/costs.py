"""Routes for what executions cost: one execution's breakdown, a workflow's days.

``GET /executions/{id}/cost``: the breakdown recorded when the execution ended
(``functions.costs``), its sub-workflows' total and suggestions (with the workflow's
graph, so a native-capable node on Lambda is explained). ``GET /costs``: one workflow's
totals per UTC day, from one item per day (no Scan), at most ``MAX_DAYS`` days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.errors import error_response
from functions.api.limits import QUERY_KEY_MAX_CHARS
from functions.api.workflows import json_response
from functions.costs.store import CostStore
from functions.costs.view import CostNotRecorded, cost_view
from functions.services.execution_control import ExecutionNotFound

router = Router()

MAX_DAYS = 366
DEFAULT_DAYS = 30
DAY_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _graph(workflow_id: str | None) -> Any:
    """The workflow's validated graph for the suggestions; None when it cannot be had
    (deleted, or a document this compiler no longer accepts): suggestions then skip it."""
    if not workflow_id:
        return None
    from compiler.passes.validate import validate
    from functions.store.workflows import WorkflowRepository

    try:
        record = WorkflowRepository().get(workflow_id)
        return validate(record.document) if record is not None else None
    except Exception:  # noqa: BLE001 - suggestions are optional, the cost is not
        return None


@router.get("/executions/<execution_id>/cost",
            summary="What the execution cost: by component and by node, with suggestions")
def get_execution_cost(execution_id: str) -> Response[str]:
    store = CostStore()
    cost = store.execution_cost(execution_id)
    try:
        view = cost_view(store, execution_id,
                         _graph(cost.get("workflowId")) if cost is not None else None)
    except CostNotRecorded as exc:
        raise ExecutionNotFound(str(exc)) from exc
    return json_response(200, view)


def _day(value: str | None, default: date) -> date:
    return date.fromisoformat(value) if value else default


@router.get("/costs", summary="A workflow's cost per UTC day")
def get_costs(
    workflowId: Annotated[str, Query(min_length=1,  # noqa: N803 - the query's name
                                     max_length=QUERY_KEY_MAX_CHARS)],
    first: Annotated[str | None, Query(alias="from", pattern=DAY_PATTERN,
                                       description="first day (YYYY-MM-DD), inclusive")] = None,
    last: Annotated[str | None, Query(alias="to", pattern=DAY_PATTERN,
                                      description="last day (YYYY-MM-DD), inclusive")] = None,
) -> Response[str]:
    today = datetime.now(UTC).date()
    try:
        end = _day(last, today)
        start = _day(first, end - timedelta(days=DEFAULT_DAYS - 1))
    except ValueError as exc:
        return error_response(400, "BadRequest", f"not a day: {exc}")
    if start > end or (end - start).days >= MAX_DAYS:
        return error_response(400, "BadRequest",
                              f"from must not be after to, and span at most {MAX_DAYS} days")
    days = CostStore().days(workflowId, start, end)
    return json_response(200, {
        "workflowId": workflowId, "from": start.isoformat(), "to": end.isoformat(),
        "days": [day.to_dict() for day in days],
        "total": float(f"{sum(day.total for day in days):.9g}"),
        "executions": sum(day.executions for day in days),
    })

"""Statistics routes (``functions.services.stats``): one workflow's, and every workflow's.

``from`` and ``to`` are UTC days (``YYYY-MM-DD``, inclusive); without them the last 30 days
up to today. A range is at most 366 days, so a request is a bounded number of Queries. A
workflow that is not deployed and has no statistics in the range is a 404.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.services.stats import StatsRangeInvalid, StatsService, day_range

router = Router()
DAY_CHARS = 32  # a day is 10 characters; longer values are refused with a clear message

FromDay = Annotated[str | None, Query(alias="from", max_length=DAY_CHARS,
                                      description="First UTC day, YYYY-MM-DD (inclusive)")]
ToDay = Annotated[str | None, Query(alias="to", max_length=DAY_CHARS,
                                    description="Last UTC day, YYYY-MM-DD (inclusive)")]


def stats_service() -> StatsService:
    return StatsService()


@router.exception_handler(StatsRangeInvalid)
def _bad_range(exc: StatsRangeInvalid) -> Response[str]:
    return error_response(400, "BadRequest", str(exc), [
        {"location": f"query.{exc.field}", "message": str(exc), "type": "invalid_day_range"}])


@router.get("/workflows/<workflow_id>/stats",
            summary="A workflow's executions by status and day, durations, failing nodes, cost")
def workflow_stats(workflow_id: str, first: FromDay = None, last: ToDay = None,
                   ) -> Response[str]:
    start, end = day_range(first, last)
    view = stats_service().workflow(workflow_id, start, end)
    if not view["executions"]:
        services().workflows.get(workflow_id)  # WorkflowNotFound: a 404
    return json_response(200, view)


@router.get("/stats", summary="Every workflow's statistics over a day range, busiest first")
def all_stats(first: FromDay = None, last: ToDay = None) -> Response[str]:
    start, end = day_range(first, last)
    return json_response(200, stats_service().summary(start, end))

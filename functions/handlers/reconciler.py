"""Lambda: on an EventBridge schedule, complete executions whose status change was lost."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.config import Config
from functions.services.error_router import ErrorRouter
from functions.services.executions import ExecutionService
from functions.services.reconciler import Reconciler
from functions.store.repository import RunRepository
from functions.tracing import tracer

logger = Logger(service="sfnflow-reconciler")


@cache
def _reconciler() -> Reconciler:
    config = Config.from_env()
    sfn = boto3.client("stepfunctions", region_name=config.region)
    repository = RunRepository(config)
    executions = ExecutionService(sfn, repository)
    return Reconciler(sfn, repository, executions,
                      ErrorRouter(sfn, executions, repository, config),
                      settle_seconds=config.reconcile_after_seconds)


def _now(event: dict[str, Any]) -> datetime:
    """The scheduled event's ``time`` (when it was due), else the clock."""
    text = event.get("time")
    if isinstance(text, str):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return datetime.now(UTC)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = _reconciler().run(
        _now(event), time_left=lambda: context.get_remaining_time_in_millis() / 1000)
    if result.completed or result.not_started:
        logger.warning("completed executions whose status change was lost", extra={
            "completed": result.completed, "notStarted": result.not_started})
    if any(result.admission.values()):  # a lost release or a dead admitter, recovered
        logger.warning("admission recovered slots or queued executions",
                       extra={"admission": result.admission})
    return {"checked": result.checked, "completed": result.completed,
            "notStarted": result.not_started, "more": result.more,
            "admission": result.admission}

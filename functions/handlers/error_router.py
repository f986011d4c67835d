"""Lambda: EventBridge "Step Functions Execution Status Change" -> the error workflow."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.config import Config
from functions.services.error_router import ErrorRouter
from functions.services.executions import ExecutionService
from functions.store.repository import RunRepository
from functions.tracing import correlated, tracer

logger = Logger(service="sfnflow-error-router")


@cache
def _router() -> ErrorRouter:
    config = Config.from_env()
    sfn = boto3.client("stepfunctions", region_name=config.region)
    repository = RunRepository(config)
    return ErrorRouter(sfn, ExecutionService(sfn, repository), repository, config)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = event["detail"].get("name")
    with correlated(logger, {"execution": name} if name else {}):
        started = _router().on_status_change(event["detail"])
        if started is not None:
            logger.info("error workflow started", extra={
                "failedExecution": name,
                "errorExecution": started.execution_id, "errorWorkflow": started.workflow_id})
    return {"errorExecutionId": started.execution_id if started else None}

"""Lambda: EventBridge "Step Functions Execution Status Change" -> execution record."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.config import Config
from functions.services.executions import ExecutionService
from functions.store.repository import RunRepository
from functions.tracing import correlated, tracer

logger = Logger(service="sfnflow-execution-events")


@cache
def _service() -> ExecutionService:
    config = Config.from_env()
    return ExecutionService(boto3.client("stepfunctions", region_name=config.region),
                            RunRepository(config))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> None:
    detail = event["detail"]
    with correlated(logger, {"execution": detail.get("name")} if detail.get("name") else {}):
        logger.info("execution status change", extra={"status": detail.get("status")})
        _service().on_status_change(detail)

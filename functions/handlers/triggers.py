"""Lambda: a schedule or event rule fired -> start its workflow, named after the delivery."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.config import Config
from functions.services.triggers import TriggerStarter
from functions.tracing import tracer

logger = Logger(service="sfnflow-triggers")


@cache
def _starter() -> TriggerStarter:
    config = Config.from_env()
    return TriggerStarter(boto3.client("stepfunctions", region_name=config.region), config)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    name = _starter().start(event)
    if name is None:
        logger.info("duplicate delivery: already started", extra={
            "workflow": event.get("workflow"), "node": event.get("node")})
    return {"executionName": name}

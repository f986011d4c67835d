"""Lambda: CloudFormation's custom resource (via the CDK provider framework) -> the stack's
workflows registered and activated (``functions.services.registration``)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.config import Config
from functions.services.registration import on_event
from functions.services.triggers import TriggerRules
from functions.services.workflows import WorkflowService
from functions.store.repository import RunRepository
from functions.store.workflows import WorkflowRepository
from functions.tracing import tracer

logger = Logger(service="sfnflow-registration")


@cache
def _workflows() -> WorkflowService:
    config = Config.from_env()
    RunRepository(config)  # binds the tables
    triggers = TriggerRules(events=boto3.client("events", region_name=config.region),
                            scheduler=boto3.client("scheduler", region_name=config.region),
                            config=config)
    return WorkflowService(boto3.client("stepfunctions", region_name=config.region),
                           WorkflowRepository(), triggers, config)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.info("registration", extra={"requestType": event.get("RequestType"),
                                       "workflow": event.get("PhysicalResourceId") or
                                       event.get("ResourceProperties", {}).get("WorkflowId")})
    return on_event(event, _workflows())

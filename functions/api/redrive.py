"""``POST /executions/{id}/redrive``: Step Functions' own redrive of a failed Standard
execution (same execution, from the failed state). Its rules and errors are
``functions.services.redrive``'s; answered here as 409 (not redrivable)."""

from __future__ import annotations

from functools import cache

import boto3
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.services.executions import execution_arn_of
from functions.services.redrive import ExecutionNotRedrivable, ExecutionRedrive

router = Router()


@cache
def redriver() -> ExecutionRedrive:
    return ExecutionRedrive(boto3.client("stepfunctions",
                                         region_name=services().config.region))


@router.post("/executions/<execution_id>/redrive",
             summary="Continue a failed Standard execution from its failed state")
def redrive(execution_id: str) -> Response[str]:
    found = services().executions.get(execution_id)  # 404 when unknown
    arn = found.execution_arn or execution_arn_of(
        services().config.state_machine_arn(found.workflow_id), found.execution_id)
    answer = redriver().redrive(arn)
    return json_response(202, {"executionId": execution_id, "status": "RUNNING",
                               "redriveCount": answer["redriveCount"] + 1})


@router.exception_handler(ExecutionNotRedrivable)
def _not_redrivable(exc: ExecutionNotRedrivable) -> Response[str]:
    return error_response(409, "ExecutionNotRedrivable", str(exc))

"""The API's services, built once per Lambda container from configuration."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import boto3

from functions.config import Config
from functions.services.execution_control import ExecutionControl
from functions.services.executions import ExecutionService
from functions.services.progress import ProgressService
from functions.services.waiting import poll_client
from functions.services.workflows import WorkflowService
from functions.store.repository import RunRepository
from functions.store.workflows import WorkflowRepository


@dataclass(frozen=True)
class Services:
    config: Config
    runs: RunRepository
    workflows: WorkflowService
    executions: ExecutionControl
    progress: ProgressService


@cache
def services() -> Services:
    from functions.services.triggers import TriggerRules

    config = Config.from_env()
    sfn = boto3.client("stepfunctions", region_name=config.region)
    s3 = boto3.client("s3", region_name=config.region) if config.payload_bucket else None
    runs = RunRepository(config, s3_client=s3)
    registry = WorkflowRepository()
    triggers = TriggerRules(
        events=boto3.client("events", region_name=config.region),
        scheduler=boto3.client("scheduler", region_name=config.region),
        config=config,
    )
    return Services(
        config=config,
        runs=runs,
        workflows=WorkflowService(sfn, registry, triggers, config),
        executions=ExecutionControl(sfn, runs, registry, ExecutionService(sfn, runs), config,
                                    poll_sfn=poll_client(config.region)),
        progress=ProgressService(runs, registry),
    )

"""Lambda: run one node (see ``functions.runner``), do a rendezvous's bookkeeping
(``functions.services.rendezvous``) or move a loop's items through S3
(``functions.services.loop_items``). Thin: config, logger, one call.

Every log line carries the node run's correlation keys (``functions.tracing``), and a
node run is one X-Ray subsegment."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.config import Config
from functions.errors import NodeError
from functions.runner import NodeRunner
from functions.services.loop_items import LoopItemStager
from functions.services.rendezvous import RendezvousService
from functions.services.waits import WaitService
from functions.store.repository import RunRepository
from functions.store.waits import WaitRepository
from functions.tracing import correlated, node_run_keys, node_run_segment, tracer

logger = Logger(service="sfnflow-node-runner")

# Kept back from the invocation's time: a code process still running then is killed, and
# its failure recorded and answered, before Lambda ends the invocation without a word.
ANSWER_MARGIN_SECONDS = 1.0


@cache
def _runner() -> NodeRunner:
    config = Config.from_env()
    s3 = boto3.client("s3", region_name=config.region) if config.payload_bucket else None
    repository = RunRepository(config, s3_client=s3)
    waits = WaitService(boto3.client("stepfunctions", region_name=config.region), repository,
                        WaitRepository(config.retention_days), config)
    return NodeRunner(repository, waits=waits)


@cache
def _stager() -> LoopItemStager:
    return LoopItemStager(_runner().repository)


@cache
def _rendezvous() -> RendezvousService:
    config = Config.from_env()
    _runner()  # binds the tables
    return RendezvousService(boto3.client("stepfunctions", region_name=config.region))


@cache
def _lambda_error_class(error_type: str) -> type[NodeError]:
    """The Lambda runtime reports ``type(exc).__name__`` as errorType: name a class after it."""
    return type(error_type, (NodeError,), {"error_type": error_type})


def time_left(context: Any) -> Callable[[], float] | None:
    """Seconds until the node must have answered, as a function (None without a context):
    the invocation's remaining time less the margin to record and answer."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return None
    return lambda: remaining() / 1000 - ANSWER_MARGIN_SECONDS


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)  # outputs may be large or private
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    with correlated(logger, node_run_keys(event)):
        return _handle(event, context)


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        if "stage" in event:
            return _stager().stage(event["stage"])
        if "collect" in event:
            return _stager().collect(event["collect"])
        result = {}
        if "node" in event:
            with node_run_segment(event):
                result = _runner().run(event, time_left=time_left(context))
        if "rendezvous" in event:  # a Flow's signal or await (after the node's run, if any)
            _rendezvous().handle(event["rendezvous"], result if "node" in event else None)
        return result
    except NodeError as exc:
        logger.warning("node failed", extra={"errorType": exc.error_type, "error": str(exc)})
        raise _lambda_error_class(exc.error_type)(str(exc)) from exc

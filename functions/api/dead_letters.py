"""Routes under /admin/dead-letters: what failed every retry, and its redrive.

The queue's service (``functions.services.dead_letters``) is built here from configuration,
beside the API's other services, so the shared ``dependencies`` module stays as it is.
Its errors are answered here: 404 for a message that is not (or no longer) in the queue,
409 for one whose target cannot take it again, 501 when the stage has no queue.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

import boto3
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.config import Config
from functions.services.dead_letters import (
    MAX_LIST,
    DeadLetterNotFound,
    DeadLetters,
    DeadLettersUnavailable,
    DeadLetterUnredrivable,
)

router = Router()


@cache
def dead_letters() -> DeadLetters:
    config = Config.from_env()
    return DeadLetters(boto3.client("sqs", region_name=config.region),
                       boto3.client("lambda", region_name=config.region),
                       config.trigger_dlq_arn)


@router.get("/admin/dead-letters", summary="Deliveries that failed every retry, oldest first")
def list_dead_letters(limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 50) -> Response[str]:
    letters = dead_letters().list(limit)
    return json_response(200, {"items": [letter.view() for letter in letters]})


@router.post("/admin/dead-letters/<message_id>/redrive",
             summary="Send a dead letter to its target again; deleted once accepted")
def redrive_dead_letter(message_id: str) -> Response[str]:
    letter = dead_letters().redrive(message_id)
    return json_response(202, {"redriven": letter.view()})


@router.exception_handler(DeadLetterNotFound)
def _not_found(exc: DeadLetterNotFound) -> Response[str]:
    return error_response(404, "DeadLetterNotFound", str(exc))


@router.exception_handler(DeadLetterUnredrivable)
def _unredrivable(exc: DeadLetterUnredrivable) -> Response[str]:
    return error_response(409, "DeadLetterUnredrivable", str(exc))


@router.exception_handler(DeadLettersUnavailable)
def _unavailable(exc: DeadLettersUnavailable) -> Response[str]:
    return error_response(501, "DeadLettersUnavailable", str(exc))

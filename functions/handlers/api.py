"""Lambda: the management REST API behind API Gateway (``functions.api``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from functions.api.app import app

logger = Logger(service="sfnflow-api")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)

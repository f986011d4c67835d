"""Lambda: the management REST API behind API Gateway (``functions.api``).

The resolver answers every route, and ``functions.api.errors`` turns every exception a
route raises into a typed 4xx or a 500 without internals. What can still escape it (an
exception in an error handler, an event the resolver cannot read) is caught here, logged
and answered the same way: API Gateway would otherwise turn it into a bare 502. Every
answer names its ``Content-Type`` in ``headers`` as well as in the ``multiValueHeaders``
powertools fills: clients and proxies that read only one form see it either way.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from functions.api.app import app
from functions.api.errors import internal_error_response
from functions.tracing import tracer

logger = Logger(service="sfnflow-api")
JSON = "application/json"


def with_content_type(response: dict[str, Any]) -> dict[str, Any]:
    """``response`` with a ``Content-Type`` header in ``headers`` (JSON unless it names
    another type in either form)."""
    multi = response.get("multiValueHeaders") or {}
    single = dict(response.get("headers") or {})
    named = next((values[0] for key, values in multi.items()
                  if key.lower() == "content-type" and values), None)
    named = next((value for key, value in single.items() if key.lower() == "content-type"),
                 named)
    single = {key: value for key, value in single.items() if key.lower() != "content-type"}
    return response | {"headers": single | {"Content-Type": named or JSON}}


def _internal(event: Any) -> dict[str, Any]:
    context = event.get("requestContext") if isinstance(event, dict) else None
    request_id = context.get("requestId") if isinstance(context, dict) else None
    response = internal_error_response(str(request_id) if request_id else None)
    return {"statusCode": 500, "headers": {"Content-Type": JSON},
            "body": response.body if isinstance(response.body, str)
            else json.dumps(response.body), "isBase64Encoded": False}


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return with_content_type(app.resolve(event, context))
    except Exception:
        logger.exception("the API failed outside its error handlers")
        return _internal(event)

"""The answers the local API Gateway gives itself, in the API's one error shape.

Every refusal — a missing key, an unknown route, a body too large or too slow, a request
h11 cannot parse — is ``{"error": {"type", "message", "details"}}`` with
``Content-Type: application/json``, as the handlers answer (``functions.api.errors``) and
as the stack's gateway responses are templated (``cdk/sfnflow_cdk/api.py``), so a client
parses one shape whoever refused it. Like the stack's gateway responses, each carries
``Access-Control-Allow-Origin`` with the first configured origin, so a browser can read
why it was refused.
"""

from __future__ import annotations

import json
from typing import Any

from functions.api.gateway import allowed_origins
from functions.config import Config

JSON = "application/json"
# The error type of each status the gateway answers itself without a more precise one.
TYPES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "RouteNotFound",
         405: "MethodNotAllowed", 408: "RequestTimeout", 413: "RequestTooLarge",
         414: "UriTooLong", 431: "HeadersTooLarge", 500: "InternalError",
         501: "NotImplemented", 502: "InternalError", 504: "IntegrationTimeout"}


def error_body(error_type: str, message: str, details: Any = None) -> bytes:
    return json.dumps({"error": {"type": error_type, "message": message,
                                 "details": details}}).encode()


def error_headers() -> dict[str, str]:
    """As ``cdk/sfnflow_cdk/api.py`` sets them on API Gateway's own responses."""
    return {"Content-Type": JSON,
            "Access-Control-Allow-Origin": allowed_origins(Config.from_env())[0]}


def error_response(status: int, error_type: str, message: str) -> dict[str, Any]:
    """The refusal as a Lambda proxy response (what the server sends for any answer)."""
    return {"statusCode": status, "headers": error_headers(),
            "body": error_body(error_type, message).decode()}

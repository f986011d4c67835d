"""Every API error is JSON ``{"error": {"type", "message", "details"}}`` with its status.

Exceptions raised by the services are translated here, at the boundary, so services stay
free of HTTP; anything unexpected is logged and answered as a 500 without internals.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from compiler.errors import WorkflowInvalid
from functions.services.execution_control import ExecutionConflict, ExecutionNotFound
from functions.services.workflows import WorkflowConflict, WorkflowNotFound
from functions.store.pages import BadCursor

logger = Logger(service="sfnflow-api", child=True)


def error_response(status: int, error_type: str, message: str,
                   details: Any = None) -> Response[str]:
    body = {"error": {"type": error_type, "message": message, "details": details}}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str))


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"location": ".".join(str(part) for part in error.get("loc", ())),
         "message": error.get("msg"), "type": error.get("type")}
        for error in exc.errors()
    ]


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _bad_request(exc: RequestValidationError) -> Response[str]:
        return error_response(400, "BadRequest", "the request is not valid",
                              _validation_details(exc))

    @app.exception_handler(WorkflowInvalid)
    def _invalid_workflow(exc: WorkflowInvalid) -> Response[str]:
        problems = [
            {"node": p.node, "field": p.field, "message": p.message, "code": p.code}
            for p in exc.problems
        ]
        return error_response(400, "WorkflowInvalid",
                              f"the workflow has {len(problems)} problem(s)", problems)

    @app.exception_handler(BadCursor)
    def _bad_cursor(exc: BadCursor) -> Response[str]:
        return error_response(400, "BadRequest", str(exc))

    @app.exception_handler([WorkflowNotFound, ExecutionNotFound])
    def _not_found(exc: LookupError) -> Response[str]:
        return error_response(404, "NotFound", str(exc.args[0] if exc.args else exc))

    @app.exception_handler([WorkflowConflict, ExecutionConflict])
    def _conflict(exc: Exception) -> Response[str]:
        return error_response(409, "Conflict", str(exc))

    @app.not_found
    def _no_route(_exc: Exception) -> Response[str]:
        event = app.current_event
        return error_response(404, "RouteNotFound",
                              f"no route {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def _internal(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(500, "InternalError", "the server failed to handle the request")

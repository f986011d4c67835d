"""Every API error is JSON ``{"error": {"type", "message", "details"}}`` with its status.

Exceptions raised by the services are translated here, at the boundary, so services stay
free of HTTP; anything unexpected is logged and answered as a 500 without internals: no
exception text, stack trace, path or cause, only the request id the log line carries, to
find it by. A bad request is never a 500: bodies are read by ``functions.api.requests``
(typed ``BodyInvalid``), cursors by ``functions.store.pages`` (``BadCursor``) and records
too large for DynamoDB are refused before they are written (``ItemTooLarge``, 413).
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from compiler.errors import WorkflowInvalid
from functions.api.limits import IdTooLong
from functions.api.requests import BodyInvalid, body_problem, hostile_body
from functions.services.execution_control import ExecutionConflict, ExecutionNotFound
from functions.services.staging import InputTooLarge
from functions.services.workflows import WorkflowConflict, WorkflowNotFound
from functions.store.limits import ItemTooLarge
from functions.store.pages import BadCursor

logger = Logger(service="sfnflow-api", child=True)


def error_response(status: int, error_type: str, message: str,
                   details: Any = None) -> Response[str]:
    body = {"error": {"type": error_type, "message": message, "details": details}}
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str))


def _validation_details(exc: RequestValidationError | RequestUnsupportedContentType,
                        ) -> list[dict[str, Any]]:
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
        return error_response(400, "BadRequest", str(exc), [
            {"location": exc.field, "message": str(exc), "type": "invalid_cursor"}])

    @app.exception_handler(BodyInvalid)
    def _bad_body(exc: BodyInvalid) -> Response[str]:
        return _body_error(exc)

    @app.exception_handler([UnicodeDecodeError, binascii.Error])
    def _undecodable(exc: ValueError) -> Response[str]:
        # powertools decodes the body lazily (``decoded_body``): a body that is not UTF-8
        # surfaces as this error wherever it is first read. Only then is it the caller's.
        problem = body_problem(app.current_event.raw_event)
        return _body_error(problem) if problem is not None else _internal_error(exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported_type(exc: RequestUnsupportedContentType) -> Response[str]:
        return error_response(415, "UnsupportedMediaType",
                              "send the body as application/json", _validation_details(exc))

    @app.exception_handler([ItemTooLarge, InputTooLarge])
    def _too_large(exc: ItemTooLarge | InputTooLarge) -> Response[str]:
        return error_response(413, "PayloadTooLarge", str(exc),
                              {"what": exc.what, "size": exc.size, "limit": exc.limit})

    @app.exception_handler([WorkflowNotFound, ExecutionNotFound, IdTooLong])
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
        return _internal_error(exc)

    def _internal_error(exc: Exception) -> Response[str]:
        event = app.current_event.raw_event
        problem = hostile_body(event)
        if problem is not None:  # a route read the body with a parser of its own
            logger.warning("a route failed on a body it should have refused",
                           extra={"requestId": _request_id(event), "problem": problem.code},
                           exc_info=exc)
            return _body_error(problem)
        request_id = _request_id(event)
        logger.exception("unhandled error", extra={"requestId": request_id})
        return internal_error_response(request_id)


def _body_error(exc: BodyInvalid) -> Response[str]:
    return error_response(400, "BadRequest", exc.message,
                          [{"location": "body", "message": exc.message, "type": exc.code}])


def _request_id(event: dict[str, Any] | None) -> str | None:
    context = (event or {}).get("requestContext")
    request_id = context.get("requestId") if isinstance(context, dict) else None
    return str(request_id) if request_id else None


def internal_error_response(request_id: str | None) -> Response[str]:
    """A 500 that tells the caller nothing of the failure but where the log has it."""
    return error_response(500, "InternalError", "the server failed to handle the request",
                          {"requestId": request_id})

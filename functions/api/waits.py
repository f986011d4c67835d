"""Routes that decide paused waits (``functions.services.waits``).

``POST /executions/{id}/resume/{waitId}?sig=`` is public — API Gateway lets it through
without an API key (a sibling resource of ``/executions/{id}/{proxy+}``), and so does
``sfnflow serve`` (``PUBLIC_ROUTE``) — because its signature is the credential: the URL can
be handed to a third party. ``approve`` / ``reject`` and the list of waits are management
routes. A body may be JSON or a form (``application/x-www-form-urlencoded``).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.api.requests import parse_json
from functions.api.workflows import json_response
from functions.services.waits import PayloadInvalid, SignatureInvalid, WaitService
from functions.store.waits import WaitRepository

router = Router()


def wait_service() -> WaitService:
    base = services()  # cached per container; this is only a thin wrapper around it
    return WaitService(base.executions.sfn, base.runs, WaitRepository(base.config.retention_days),
                       base.config)


def _payload() -> Any:
    event = router.current_event
    text = event.decoded_body or ""
    if not text.strip():
        return None
    content_type = next((value for key, value in (event.headers or {}).items()
                         if key.lower() == "content-type"), "")
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        return {key: values[0] if len(values) == 1 else values
                for key, values in parse_qs(text, keep_blank_values=True).items()}
    return parse_json(text)  # BodyInvalid: a 400 naming the problem (functions.api.errors)


@router.exception_handler(SignatureInvalid)
def _bad_signature(exc: SignatureInvalid) -> Response[str]:
    if exc.missing:
        return error_response(401, "Unauthorized", str(exc))
    return error_response(403, "Forbidden", str(exc))


@router.exception_handler(PayloadInvalid)
def _bad_payload(exc: PayloadInvalid) -> Response[str]:
    return error_response(400, "BadRequest", str(exc))


@router.get("/executions/<execution_id>/waits",
            summary="The execution's waits, with the URLs that resume the paused ones")
def list_waits(execution_id: str) -> Response[str]:
    return json_response(200, {"items": wait_service().views(execution_id)})


@router.post("/executions/<execution_id>/resume/<wait_id>",
             summary="Resume a paused wait (public: the signature is the credential)")
def resume(execution_id: str, wait_id: str,
           sig: Annotated[str | None, Query(description="The URL's signature")] = None,
           ) -> Response[str]:
    return json_response(200, wait_service().resume(execution_id, wait_id, sig, _payload()))


@router.post("/executions/<execution_id>/approve/<wait_id>",
             summary="Approve a paused wait; the body (optional) becomes its items")
def approve(execution_id: str, wait_id: str) -> Response[str]:
    return json_response(200, wait_service().decide(execution_id, wait_id, "approve",
                                                    _payload()))


@router.post("/executions/<execution_id>/reject/<wait_id>",
             summary="Reject a paused wait: it fails with Sfnflow.Rejected")
def reject(execution_id: str, wait_id: str) -> Response[str]:
    return json_response(200, wait_service().decide(execution_id, wait_id, "reject",
                                                    _payload()))

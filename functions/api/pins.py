"""Routes for pin data (``/workflows/{id}/pins/{node}``, pinning from an execution) and
run-data retention (``/admin/prune``). The logic is ``functions.services.pins`` and
``functions.store.retention``; this file shapes requests and answers."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from functions.api.dependencies import Services, services
from functions.api.errors import error_response
from functions.api.models import PinItems, PinRollback, Prune
from functions.api.workflows import json_response
from functions.services.pins import NodeNotPinnable, PinNotFound, PinService
from functions.store.pins import PinTooLarge
from functions.store.retention import RetentionStore

router = Router()
_built: tuple[Services, PinService] | None = None


def pin_service() -> PinService:
    """One PinService per ``services()`` (a new local cloud builds new services)."""
    global _built
    current = services()
    if _built is None or _built[0] is not current:
        _built = (current, PinService(current.runs, current.workflows.workflows,
                                      current.executions))
    return _built[1]


@router.exception_handler(PinNotFound)
def _not_found(exc: PinNotFound) -> Response[str]:
    return error_response(404, "NotFound", str(exc))


@router.exception_handler(NodeNotPinnable)
def _not_pinnable(exc: NodeNotPinnable) -> Response[str]:
    return error_response(400, "NodeNotPinnable", str(exc), [
        {"node": exc.node, "field": "pin", "message": str(exc), "code": "not_pinnable"}])


@router.exception_handler(PinTooLarge)
def _too_large(exc: PinTooLarge) -> Response[str]:
    return error_response(413, "PinTooLarge", str(exc), {"size": exc.size,
                                                         "limit": exc.limit})


@router.get("/workflows/<workflow_id>/pins/<node>", summary="A node's current pin, with items")
def get_pin(workflow_id: str, node: str) -> Response[str]:
    return json_response(200, pin_service().get(workflow_id, node).summary())


@router.put("/workflows/<workflow_id>/pins/<node>",
            summary="Pin items on a node (a new version; 413 over the size limit)")
def put_pin(workflow_id: str, node: str, body: Annotated[PinItems, Body()]) -> Response[str]:
    pin, changed = pin_service().put(workflow_id, node, body.items)
    return json_response(200, pin.summary() | {"changed": changed})


@router.delete("/workflows/<workflow_id>/pins/<node>",
               summary="Unpin a node (its versions stay, for rollback)")
def delete_pin(workflow_id: str, node: str) -> Response[str]:
    pin_service().delete(workflow_id, node)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@router.get("/workflows/<workflow_id>/pins/<node>/versions",
            summary="Every version of a node's pin, newest first")
def pin_versions(workflow_id: str, node: str) -> Response[str]:
    return json_response(200, pin_service().versions(workflow_id, node))


@router.post("/workflows/<workflow_id>/pins/<node>/rollback",
             summary="Make an earlier version's items current again (as a new version)")
def rollback_pin(workflow_id: str, node: str,
                 body: Annotated[PinRollback, Body()]) -> Response[str]:
    return json_response(200, pin_service().rollback(workflow_id, node, body.version).summary())


@router.post("/executions/<execution_id>/nodes/<node>/pin",
             summary="Pin a node with the output it had in an execution")
def pin_from_execution(
    execution_id: str,
    node: str,
    runIndex: Annotated[int | None, Query(ge=0, description="The run inside a loop "  # noqa: N803
                                          "(default: the latest)")] = None,
) -> Response[str]:
    return json_response(200, pin_service().pin_from_execution(execution_id, node,
                                                               runIndex).summary())


@router.post("/admin/prune", summary="Delete expired (or older) run data now")
def prune(body: Annotated[Prune, Body()]) -> Response[str]:
    current = services()
    result = RetentionStore(current.runs.s3).prune(older_than_days=body.olderThanDays)
    return json_response(200, result)

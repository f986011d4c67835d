"""Routes for circuit breakers (a node's ``circuitBreaker``): their state and its recent
changes (time, from, to, why). ``/admin/breakers`` lists every breaker; the workflow and
node routes narrow it to the breakers those last wrote (a ``key: host`` breaker is shared by
every node calling that host, and shows under the one that last changed it)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.api.workflows import json_response
from functions.services.breakers import describe
from functions.store.breakers import DynamoGuardStore

router = Router()


def _breakers() -> list[dict[str, Any]]:
    services()  # binds the tables to this deployment's names and endpoint
    return [describe(key, current) for key, current in DynamoGuardStore().breakers()]


@router.get("/admin/breakers", summary="Every circuit breaker: state and recent changes")
def list_breakers() -> Response[str]:
    return json_response(200, {"breakers": _breakers()})


@router.get("/workflows/<workflow_id>/breakers", summary="A workflow's circuit breakers")
def workflow_breakers(workflow_id: str) -> Response[str]:
    return json_response(200, {"breakers": [breaker for breaker in _breakers()
                                            if breaker["workflowId"] == workflow_id]})


@router.get("/workflows/<workflow_id>/breakers/<node>", summary="A node's circuit breaker")
def node_breaker(workflow_id: str, node: str) -> Response[str]:
    for breaker in _breakers():
        if breaker["workflowId"] == workflow_id and breaker["node"] == node:
            return json_response(200, breaker)
    return error_response(404, "NotFound", f"node {node!r} of workflow {workflow_id!r} has "
                          "no circuit breaker state (none configured, or it never ran)")

"""Routes under /workflows: deploy, version, (de)activate, delete, and start executions."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from functions.api.admission import AdmittedStart, queued_answer, start_priority
from functions.api.dependencies import services
from functions.api.errors import error_response
from functions.services.admission import InvalidPriority
from functions.services.waiting import request_epoch_ms
from functions.store.workflows import WorkflowRecord

router = Router()


def json_response(status: int, body: Any) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON,
                    body=json.dumps(body, default=str))


def _detail(record: WorkflowRecord) -> dict[str, Any]:
    return record.summary() | {"document": record.document}


@router.post("/workflows", summary="Validate, compile and deploy a workflow (version 1)")
def create_workflow(
    document: Annotated[dict[str, Any], Body(description="The workflow document.")],
    active: Annotated[bool, Query(description="Turn its triggers on now.")] = True,
) -> Response[str]:
    return json_response(201, _detail(services().workflows.create(document, active=active)))


@router.get("/workflows", summary="List workflows")
def list_workflows(
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> Response[str]:
    page = services().workflows.workflows.list(limit, cursor)
    return json_response(200, {"items": [record.summary() for record in page.items],
                               "cursor": page.cursor})


@router.get("/workflows/<workflow_id>", summary="A workflow: current version and document")
def get_workflow(workflow_id: str) -> Response[str]:
    return json_response(200, _detail(services().workflows.get(workflow_id)))


@router.get("/workflows/<workflow_id>/versions", summary="Every version, newest first")
def workflow_versions(workflow_id: str) -> Response[str]:
    workflows = services().workflows
    workflows.get(workflow_id)
    return json_response(200, {"items": workflows.workflows.versions(workflow_id)})


@router.put("/workflows/<workflow_id>", summary="Deploy a new version")
def update_workflow(
    workflow_id: str,
    document: Annotated[dict[str, Any], Body(description="The new workflow document.")],
) -> Response[str]:
    return json_response(200, _detail(services().workflows.update(workflow_id, document)))


@router.delete("/workflows/<workflow_id>",
               summary="Delete the workflow, its state machine, schedules and triggers")
def delete_workflow(workflow_id: str) -> Response[str]:
    services().workflows.delete(workflow_id)
    return Response(status_code=204, content_type=content_types.APPLICATION_JSON, body="")


@router.post("/workflows/<workflow_id>/activate", summary="Turn its triggers on")
def activate(workflow_id: str) -> Response[str]:
    return json_response(200, services().workflows.set_active(workflow_id, True).summary())


@router.post("/workflows/<workflow_id>/deactivate", summary="Turn its triggers off")
def deactivate(workflow_id: str) -> Response[str]:
    return json_response(200, services().workflows.set_active(workflow_id, False).summary())


@router.post("/workflows/<workflow_id>/executions", summary="Start an execution")
def start_execution(
    workflow_id: str,
    request: Annotated[AdmittedStart, Body()],
    wait: Annotated[bool, Query(description="Answer with the result if the execution "
                                "ends within `timeout` seconds.")] = False,
    timeout: Annotated[float, Query(gt=0, le=25)] = 25,
) -> Response[str]:
    control = services().executions
    try:
        priority = start_priority(request, router.current_event)
    except InvalidPriority as exc:
        return error_response(400, "BadRequest", str(exc))
    if request.partial:
        execution = control.start_partial(
            workflow_id, request.input, start_nodes=request.startNodes,
            destination=request.destinationNode, from_execution=request.fromExecution,
            idempotency_key=request.idempotencyKey, priority=priority)
    elif request.usePins:
        from functions.api.pins import pin_service  # pins imports this module

        execution = pin_service().start(workflow_id, request.input,
                                        idempotency_key=request.idempotencyKey,
                                        priority=priority)
    else:
        execution = control.start(workflow_id, request.input,
                                  idempotency_key=request.idempotencyKey, priority=priority)
    if execution.status == "QUEUED":  # waits for a slot: nothing to wait for here yet
        response = json_response(202, queued_answer(control, execution))
        response.headers["Location"] = control.status_url(execution.execution_id)
        return response
    if not wait:
        return json_response(202, {"executionId": execution.execution_id,
                                   "status": execution.status})
    result = control.wait(execution, timeout, context=router.lambda_context,
                          request_epoch_ms=request_epoch_ms(router.current_event.raw_event))
    if result["status"] != "RUNNING":
        return json_response(200, result)
    response = json_response(202, result)
    response.headers["Location"] = result["statusUrl"]
    return response

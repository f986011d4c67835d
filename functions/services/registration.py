"""The workflows deployed with the stack, in the workflow registry.

The CDK stack compiles ``workflows/`` into state machines at synth time; one
CloudFormation custom resource per workflow (``cdk/sfnflow_cdk/registration.py``) carries
``registration_properties(compiled, state_machine_arn)`` to the registration Lambda, whose
``on_event`` registers and activates the workflow through ``WorkflowService.register``
(the API's own activation code: webhooks, schedules, rules) on Create and Update, and
unregisters it on Delete (``WorkflowService.unregister``: triggers and registry entry go,
run data stays). Every request is idempotent, so CloudFormation's retries and rollbacks
are safe. ``LocalCloud.deploy`` sends the same properties through ``on_event``: local =
cloud. The API then knows them (``GET /workflows/{id}``), and ``POST /workflows`` with
their name is a conflict naming the existing workflow rather than a failed
CreateStateMachine.

CloudFormation passes every property value as a string: the document and the manifest
travel as JSON text.
"""

from __future__ import annotations

import json
from typing import Any

from compiler import CompiledWorkflow
from functions.services.workflows import WorkflowService

__all__ = ["document_of", "on_event", "registration_properties"]


def document_of(compiled: CompiledWorkflow) -> dict[str, Any]:
    """The workflow's document as written (unset fields left out)."""
    document: dict[str, Any] = compiled.graph.workflow.model_dump(
        mode="json", by_alias=True, exclude_unset=True)
    return document


def registration_properties(compiled: CompiledWorkflow, state_machine_arn: str) -> dict[str, str]:
    """The custom resource's properties (strings, as CloudFormation passes them)."""
    return {
        "WorkflowId": compiled.name,
        "StateMachineArn": state_machine_arn,
        "Document": json.dumps(document_of(compiled), sort_keys=True, separators=(",", ":")),
        "Manifest": json.dumps(compiled.manifest, sort_keys=True, separators=(",", ":")),
    }


def on_event(request: dict[str, Any], workflows: WorkflowService) -> dict[str, Any]:
    """One CloudFormation request (``RequestType`` Create | Update | Delete) -> the
    provider framework's answer: the workflow id is the physical resource id."""
    kind = request["RequestType"]
    if kind == "Delete":
        workflows.unregister(str(request["PhysicalResourceId"]))
        return {"PhysicalResourceId": request["PhysicalResourceId"]}
    properties = request["ResourceProperties"]
    record = workflows.register(json.loads(properties["Document"]),
                                json.loads(properties["Manifest"]),
                                str(properties["StateMachineArn"]))
    return {"PhysicalResourceId": record.workflow_id,
            "Data": {"Version": str(record.version), "Active": str(record.active).lower()}}

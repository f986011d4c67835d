"""What a workflow's triggers ask of the platform, for the manifest, and their checks.

The manifest carries it so the API, the CDK app and the local cloud can create schedules,
event rules and webhook routes, and tag the state machine, without parsing the document
again:

- ``tags``: ``sfnflow:workflow`` (the workflow's name) and ``sfnflow:errorWorkflow`` — the
  workflow to start when an execution fails, times out or is aborted: ``settings.
  errorWorkflow``, or the workflow itself when it has an ``errorTrigger`` node and no
  ``errorWorkflow`` (it handles its own failures). The error router reads the tag from the
  failed execution's state machine, so it needs no registry lookup.
- ``triggers``: ``[{"node", "type", "parameters"}]`` for every enabled trigger node, with
  the parameters validated and defaults filled in. An n8n trigger node appears as the
  sfnflow trigger it rides on (``compiler.n8n.triggers.platform_trigger``: a Webhook is a
  ``webhook`` route, a Schedule Trigger a ``scheduleTrigger`` in the workflow's
  ``settings.timezone``), with ``n8nType`` naming its own type.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from compiler.errors import Problem
from compiler.graph import Graph
from compiler.n8n.triggers import (
    ERROR_TRIGGER,
    RESPOND_TO_WEBHOOK,
    WEBHOOK,
    platform_trigger,
    webhook_fields,
)
from compiler.nodetypes import NODE_TYPES, N8nParams, WorkflowTriggerParams

WORKFLOW_TAG = "sfnflow:workflow"
ERROR_WORKFLOW_TAG = "sfnflow:errorWorkflow"


def error_workflow(graph: Graph) -> str | None:
    workflow = graph.workflow
    if workflow.settings.errorWorkflow:
        return workflow.settings.errorWorkflow
    handles_own = any(node.type in ("errorTrigger", ERROR_TRIGGER) and not node.disabled
                      for node in graph.nodes)
    return workflow.name if handles_own else None


def manifest_tags(graph: Graph) -> dict[str, str]:
    tags = {WORKFLOW_TAG: graph.workflow.name}
    target = error_workflow(graph)
    if target is not None:
        tags[ERROR_WORKFLOW_TAG] = target
    return tags


def manifest_triggers(graph: Graph) -> list[dict[str, Any]]:
    triggers = []
    for node, params in zip(graph.nodes, graph.params, strict=True):
        if not NODE_TYPES[node.type].trigger or node.disabled:
            continue
        if isinstance(params, N8nParams):
            timezone = graph.workflow.settings.timezone or "UTC"
            entry = platform_trigger(node.type, params.typeVersion, params.parameters,
                                     timezone)
            if entry is not None:
                triggers.append({"node": node.name, **entry, "n8nType": node.type})
            continue
        triggers.append({"node": node.name, "type": node.type,
                         "parameters": params.model_dump(mode="json")})
    return triggers


def trigger_problems(graph: Graph) -> list[Problem]:
    """A workflowTrigger may not wait for its own workflow: on SUCCEEDED it would restart
    itself forever, and reacting to its own failures is what an errorTrigger is for (the
    error router never routes an error run again, so that cannot loop)."""
    return [
        Problem(node.name, "parameters.workflow",
                "a workflow cannot trigger itself (it would run forever); to handle its "
                "own failures, use an errorTrigger node", "loop")
        for node, params in zip(graph.nodes, graph.params, strict=True)
        if isinstance(params, WorkflowTriggerParams) and not node.disabled
        and params.workflow == graph.workflow.name
    ] + _respond_problems(graph)


def _descendants(graph: Graph, start: int) -> set[int]:
    seen, frontier = set(), [start]
    while frontier:
        for successor in graph.succs[frontier.pop()]:
            if successor not in seen:
                seen.add(successor)
                frontier.append(successor)
    return seen


def _respond_problems(graph: Graph) -> list[Problem]:
    """n8n's Webhook v2 refuses to run (``checkResponseModeConfiguration``) when it answers
    ``responseNode`` with no Respond to Webhook node after it, or has one after it and
    answers otherwise: the same two mistakes, found before deploying."""
    problems = []
    for i, (node, params) in enumerate(zip(graph.nodes, graph.params, strict=True)):
        if node.type != WEBHOOK or node.disabled or not isinstance(params, N8nParams) \
                or params.typeVersion < 2:
            continue
        mode = webhook_fields(params.typeVersion, params.parameters)["responseMode"]
        responds = any(graph.nodes[j].type == RESPOND_TO_WEBHOOK and not graph.nodes[j].disabled
                       for j in _descendants(graph, i))
        if mode == "responseNode" and not responds:
            problems.append(Problem(node.name, "parameters.responseMode", "No Respond to "
                                    "Webhook node found in the workflow: add one after "
                                    "this node, or choose another response mode", "configuration"))
        elif responds and mode != "responseNode":
            problems.append(Problem(node.name, "parameters.responseMode", "Unused Respond "
                                    "to Webhook node found in the workflow: set the response "
                                    "mode to responseNode, or remove it", "configuration"))
    return problems


def event_bus_problems(triggers: list[dict[str, Any]], allowed: Collection[str]) -> list[Problem]:
    """An ``eventTrigger`` may listen only on a bus the platform may put rules on: the
    deployment knows which (``default`` and the stage's own bus), the document does not,
    so the caller passes them. Any other bus would pass here and fail with AccessDenied
    when the workflow is activated. A bus given by ARN is judged by its name."""
    names = sorted(allowed)
    return [
        Problem(trigger["node"], "parameters.eventBus",
                f"event bus {bus!r} is not one this platform may listen on; use one of "
                f"{', '.join(map(repr, names))}", "event_bus")
        for trigger in triggers if trigger.get("type") == "eventTrigger"
        for bus in [str((trigger.get("parameters") or {}).get("eventBus") or "default")]
        if bus.rsplit("event-bus/", 1)[-1] not in allowed
    ]

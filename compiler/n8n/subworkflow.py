"""n8n's Execute Workflow node as sfnflow's ``executeWorkflow`` (a child execution).

sfnflow runs a sub-workflow as a Step Functions child execution whose state machine ARN is
a deploy-time substitution (``compiler.lowering.subworkflow``), so the importer turns n8n's
node into that node type and keeps n8n's own node in ``editor.n8n`` for export:

- ``source: database`` with ``workflowId`` — a literal id (v1) or a resource locator
  ``{"__rl": true, "value", "cachedResultName"}`` (v1.1+). **The sfnflow workflow it runs**
  is named after ``cachedResultName`` when the locator has one (``workflow_name`` of it:
  the name ``sfnflow import`` gives that workflow from its n8n name), else the id itself
  (deploy the child under that name: its document's ``name``).
- ``options.waitForSubWorkflow`` (default true) is ``waitForCompletion``: the node outputs
  the child's output items (the items of its sink nodes); false passes the input on.
- ``mode: once`` (the default) sends every item to one child execution, whose Execute
  Workflow Trigger emits them.

Refused, naming the field: other sources (a file, a URL, JSON in the parameter), an
expression choosing the workflow (the ARN is fixed at deploy time), ``mode: each`` (one
child per item) and v1.2's ``workflowInputs`` mapping with fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compiler.errors import Problem
from compiler.n8n.names import workflow_name

EXECUTE_WORKFLOW = "n8n-nodes-base.executeWorkflow"
SFNFLOW_TYPE = "executeWorkflow"
VERSIONS = frozenset({1.0, 1.1, 1.2})
UNSUPPORTED = "unsupported"
ORIGINAL = "n8n"  # the key of editor holding n8n's node


def _refused(node: str, field: str, why: str) -> Problem:
    return Problem(node, field, why, UNSUPPORTED)


def target_workflow(workflow_id: Any) -> str | None:
    """The sfnflow workflow an n8n ``workflowId`` names (see the module docstring)."""
    if isinstance(workflow_id, Mapping):
        cached = workflow_id.get("cachedResultName")
        if isinstance(cached, str) and cached.strip():
            return workflow_name(cached)
        workflow_id = workflow_id.get("value")
    if isinstance(workflow_id, int) and not isinstance(workflow_id, bool):
        workflow_id = str(workflow_id)
    if not isinstance(workflow_id, str) or not workflow_id or workflow_id.startswith("="):
        return None
    return workflow_id


def as_execute_workflow(raw: Mapping[str, Any], node: dict[str, Any],
                        problems: list[Problem]) -> dict[str, Any]:
    """``node`` (already imported field by field) as an sfnflow ``executeWorkflow``."""
    name = str(raw.get("name", ""))
    version = raw.get("typeVersion", 1)
    parameters = raw.get("parameters") or {}
    if version not in VERSIONS:
        known = ", ".join(f"{v:g}" for v in sorted(VERSIONS))
        problems.append(_refused(name, "typeVersion", f"{EXECUTE_WORKFLOW} version "
                                 f"{version} is not supported (supported: {known})"))
    source = parameters.get("source", "database")
    if source != "database":
        problems.append(_refused(name, "parameters.source", f"source {source!r} is not "
                                 "supported: only a workflow of the platform (database)"))
    workflow = target_workflow(parameters.get("workflowId"))
    if workflow is None and source == "database":
        problems.append(_refused(name, "parameters.workflowId", "the workflow must be "
                                 "named literally (an id, or a workflow picked from the list): "
                                 "the child's state machine is fixed at deploy time"))
    if parameters.get("mode", "once") != "once":
        problems.append(_refused(name, "parameters.mode", "'each' (one sub-workflow run per "
                                 "item) is not supported: use 'once', or a loop around it"))
    inputs = parameters.get("workflowInputs")
    value = inputs.get("value") if isinstance(inputs, Mapping) else None
    if value:
        problems.append(_refused(name, "parameters.workflowInputs", "mapped workflow inputs "
                                 "are not supported: the child receives the items as they are"))
    options = parameters.get("options")
    options = options if isinstance(options, Mapping) else {}
    wait = options.get("waitForSubWorkflow", True)
    if not isinstance(wait, bool):
        problems.append(_refused(name, "parameters.options.waitForSubWorkflow",
                                 "must be true or false (not an expression)"))
        wait = True
    editor = dict(node.get("editor") or {})
    editor[ORIGINAL] = {"type": raw.get("type"), "typeVersion": version,
                        "parameters": parameters}
    converted = {key: value for key, value in node.items()
                 if key not in ("type", "typeVersion", "parameters", "editor",
                                "alwaysOutputData", "executeOnce")}
    converted["type"] = SFNFLOW_TYPE
    converted["parameters"] = {"workflow": workflow or "unnamed", "waitForCompletion": wait}
    for flag in ("alwaysOutputData", "executeOnce"):
        if node.get(flag):
            problems.append(_refused(name, flag, f"{flag} on Execute Workflow is not "
                                     "supported"))
        if flag in node:
            editor[flag] = node[flag]
    converted["editor"] = editor
    return converted


def original(node: Mapping[str, Any]) -> dict[str, Any] | None:
    """n8n's own node fields an imported Execute Workflow keeps for export."""
    editor = node.get("editor")
    held = editor.get(ORIGINAL) if isinstance(editor, Mapping) else None
    return dict(held) if node.get("type") == SFNFLOW_TYPE and isinstance(held, Mapping) \
        else None

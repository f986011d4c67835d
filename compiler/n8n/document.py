"""n8n's workflow JSON, as n8n exports it, to sfnflow's document and back.

The two documents describe the same thing in different shapes, so the importer moves
fields and never translates node semantics: an n8n node keeps its type
(``n8n-nodes-base.set``), its ``typeVersion`` and its parameters verbatim, and the node
runner implements n8n's behaviour per type and version. What changes:

- ``connections``: n8n's ``{Source: {main: [[{node, type, index}], ...]}}`` (outer list = output
  port) becomes sfnflow's list of ``{from, to, output, input}``;
- node flags: ``continueOnFail`` becomes ``onError: continueRegularOutput`` (what n8n itself
  reads it as), ``retryOnFail``/``maxTries``/``waitBetweenTries`` (ms) become a ``retry``
  policy (Step Functions waits whole seconds: a shorter wait is rounded up and reported);
- ``settings``: ``executionOrder``, ``errorWorkflow``, ``timezone`` keep their names,
  ``executionTimeout`` (seconds, -1 for none) becomes ``timeoutSeconds``. n8n's
  ``errorWorkflow`` is a workflow *id*, kept as is: it names the sfnflow workflow to start,
  so deploy the error workflow under that name (its document's ``name``), or put the
  error workflow's sfnflow name here; ``timezone`` is also the Schedule Trigger's;
- ``pinData``: n8n's ``[{json: ...}]`` items become plain JSON objects;
- an HTTP Request's credential (``authentication: genericCredentialType``) becomes the
  node's ``credentials`` by its n8n *name*, which must be an sfnflow credential's name;
- the name becomes a valid workflow name (letters, digits, ``-`` and ``_``);
- n8n's Execute Workflow becomes sfnflow's ``executeWorkflow`` (a child execution), the
  one node whose type changes: ``compiler.n8n.subworkflow`` says how its workflow id
  names the sfnflow workflow, and keeps n8n's node for export;
- what only the n8n editor reads (node ids and positions, sticky notes, tags, the
  workflow's id and version, instance settings such as ``saveManualExecutions``) goes into
  ``editor`` on the node or the document, untouched, so ``export`` gives it back.

Whatever cannot be carried is listed as a ``Problem`` (node, field, why) with code
``unsupported``; nothing is dropped silently. Whether a node type or parameter value is
supported is the validator's question, not the importer's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from compiler.credentials import from_n8n as credential_from_n8n
from compiler.errors import Problem
from compiler.n8n import subworkflow
from compiler.n8n.names import workflow_name

N8N_TYPE_PREFIXES = ("n8n-nodes-base.", "n8n-nodes-testing.", "@n8n/")
STICKY_NOTE = "n8n-nodes-base.stickyNote"
MAIN = "main"
UNSUPPORTED = "unsupported"
HTTP_REQUEST = "n8n-nodes-base.httpRequest"
GENERIC_CREDENTIAL = "genericCredentialType"  # HTTP Request: a credential of an HTTP auth type

# Node fields the importer maps; every other field of an n8n node is the editor's.
_MAPPED_NODE_FIELDS = frozenset({
    "name", "type", "typeVersion", "parameters", "disabled", "notes", "onError",
    "continueOnFail", "retryOnFail", "maxTries", "waitBetweenTries", "alwaysOutputData",
    "executeOnce",
})
_MAPPED_SETTINGS = frozenset({"executionOrder", "errorWorkflow", "executionTimeout",
                              "timezone"})
_MAPPED_TOP_LEVEL = frozenset({"name", "nodes", "connections", "settings", "pinData"})
# n8n's defaults for a retrying node (packages/workflow: maxTries 3, waitBetweenTries 1000 ms).
N8N_MAX_TRIES = 3
N8N_WAIT_BETWEEN_TRIES_MS = 1000


@dataclass
class Imported:
    """An n8n workflow as an sfnflow document, and what could not be carried over."""

    document: dict[str, Any]
    unsupported: list[Problem] = field(default_factory=list)


def is_n8n(document: Any) -> bool:
    """n8n's shape: connections keyed by node name, or nodes typed ``n8n-nodes-…``."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("connections"), dict):
        return True
    nodes = document.get("nodes")
    return isinstance(nodes, list) and any(
        isinstance(node, dict) and str(node.get("type", "")).startswith(N8N_TYPE_PREFIXES)
        for node in nodes)


def from_n8n(n8n: dict[str, Any], fallback_name: str = "imported") -> Imported:
    """Convert one n8n workflow (as exported) to an sfnflow document."""
    unsupported: list[Problem] = []
    nodes: list[dict[str, Any]] = []
    sticky_notes: list[dict[str, Any]] = []
    for raw in n8n.get("nodes") or []:
        if not isinstance(raw, dict):
            unsupported.append(Problem(None, "nodes", "a node that is not an object", UNSUPPORTED))
        elif raw.get("type") == STICKY_NOTE:
            sticky_notes.append(raw)  # layout only: n8n never executes it
        elif raw.get("type") == subworkflow.EXECUTE_WORKFLOW:
            nodes.append(subworkflow.as_execute_workflow(raw, _node(raw, unsupported),
                                                         unsupported))
        else:
            nodes.append(_node(raw, unsupported))
    document: dict[str, Any] = {
        "name": workflow_name(n8n.get("name"), fallback_name),
        "nodes": nodes,
        "connections": _connections(n8n.get("connections") or {}, unsupported),
    }
    settings, instance_settings = _settings(n8n.get("settings") or {})
    if settings:
        document["settings"] = settings
    pins = _pin_data(n8n.get("pinData") or {}, unsupported)
    if pins:
        document["pinData"] = pins
    editor = {key: value for key, value in n8n.items() if key not in _MAPPED_TOP_LEVEL}
    if n8n.get("name") is not None and n8n.get("name") != document["name"]:
        editor["name"] = n8n["name"]
    if sticky_notes:
        editor["stickyNotes"] = sticky_notes
    if instance_settings:
        editor["settings"] = instance_settings
    if editor:
        document["editor"] = editor
    return Imported(document, unsupported)


def to_n8n(document: dict[str, Any]) -> dict[str, Any]:
    """The inverse of ``from_n8n``: an sfnflow document as n8n's editor imports it."""
    editor = dict(document.get("editor") or {})
    sticky_notes = editor.pop("stickyNotes", [])
    instance_settings = editor.pop("settings", {})
    name = editor.pop("name", document["name"])
    settings = dict(instance_settings)
    for key, value in (document.get("settings") or {}).items():
        if key == "timeoutSeconds":
            settings["executionTimeout"] = value
        elif key in _MAPPED_SETTINGS:
            settings[key] = value
    n8n: dict[str, Any] = {
        "name": name,
        "nodes": [_n8n_node(node) for node in document["nodes"]] + list(sticky_notes),
        "connections": _n8n_connections(document.get("connections") or []),
        "settings": settings,
        "pinData": {node: [{"json": item} for item in items]
                    for node, items in (document.get("pinData") or {}).items()},
    }
    n8n.update(editor)
    return n8n


# --------------------------------------------------------------------------- nodes


def _node(raw: dict[str, Any], unsupported: list[Problem]) -> dict[str, Any]:
    name = str(raw.get("name", ""))
    node: dict[str, Any] = {"name": name, "type": raw.get("type")}
    if "typeVersion" in raw:
        node["typeVersion"] = raw["typeVersion"]
    node["parameters"] = raw.get("parameters") or {}
    for flag in ("disabled", "alwaysOutputData", "executeOnce"):
        if isinstance(raw.get(flag), bool):
            node[flag] = raw[flag]
    if raw.get("notes"):
        node["notes"] = raw["notes"]
    if raw.get("onError"):
        node["onError"] = raw["onError"]
    elif raw.get("continueOnFail"):
        node["onError"] = "continueRegularOutput"  # n8n reads the legacy flag so
    editor = {key: value for key, value in raw.items() if key not in _MAPPED_NODE_FIELDS}
    retry = _retry(raw, name, editor, unsupported)
    if retry is not None:
        node["retry"] = retry
    credentials = _credentials(raw, name, unsupported)
    if credentials is not None:
        node["credentials"] = credentials
    if editor:
        node["editor"] = editor
    return node


def _credentials(raw: dict[str, Any], name: str,
                 unsupported: list[Problem]) -> dict[str, str] | None:
    """The credential an n8n node uses, as ``Node.credentials`` (its name; the secret is
    sfnflow's, ``POST /credentials``). n8n's block stays in ``editor`` for export.

    Only an HTTP Request with ``authentication: genericCredentialType`` reads its block,
    the entry ``genericAuthType`` names (n8n keeps the block of an earlier choice when
    authentication is set back to none, and ignores it then). Any other node's credentials
    are a problem: sfnflow does not run it with them."""
    block = raw.get("credentials")
    if raw.get("type") != HTTP_REQUEST:
        if block:
            unsupported.append(Problem(name, "credentials", "credentials are not imported "
                                       "for this node type: configure them in sfnflow",
                                       UNSUPPORTED))
        return None
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict) or \
            parameters.get("authentication") != GENERIC_CREDENTIAL:
        return None  # other modes are the catalogue's refusals
    auth_type = parameters.get("genericAuthType")
    ref, problem = credential_from_n8n(block, auth_type if isinstance(auth_type, str)
                                       else None)
    if ref is None:
        unsupported.append(Problem(name, "credentials", problem or (
            f"authentication {GENERIC_CREDENTIAL} names no {auth_type} credential"),
            UNSUPPORTED))
    return ref


def _retry(raw: dict[str, Any], name: str, editor: dict[str, Any],
           unsupported: list[Problem]) -> dict[str, Any] | None:
    """n8n's retry flags as a retry policy; settings of a node that does not retry stay the
    editor's (n8n keeps them too, inactive)."""
    if not raw.get("retryOnFail"):
        for key in ("maxTries", "waitBetweenTries"):
            if key in raw:
                editor[key] = raw[key]
        return None
    tries = raw.get("maxTries", N8N_MAX_TRIES)
    wait_ms = raw.get("waitBetweenTries", N8N_WAIT_BETWEEN_TRIES_MS)
    seconds = max(1, math.ceil(wait_ms / 1000)) if isinstance(wait_ms, int | float) else 1
    if seconds * 1000 != wait_ms:
        editor["waitBetweenTries"] = wait_ms  # so that export gives the exact value back
        unsupported.append(Problem(
            name, "waitBetweenTries", f"{wait_ms} ms between tries becomes {seconds} s: "
            "Step Functions waits whole seconds between retries", UNSUPPORTED))
    return {"maxAttempts": tries, "intervalSeconds": seconds, "backoffRate": 1.0}


def _n8n_node(node: dict[str, Any]) -> dict[str, Any]:
    editor = dict(node.get("editor") or {})
    original = subworkflow.original(node)
    if original is not None:  # an imported Execute Workflow: n8n's own node again
        editor.pop(subworkflow.ORIGINAL)
        node = {**node, **original}
    raw: dict[str, Any] = {"parameters": node.get("parameters") or {}}
    raw.update({key: editor.pop(key) for key in ("id",) if key in editor})
    raw["name"] = node["name"]
    raw["type"] = node["type"]
    if "typeVersion" in node:
        raw["typeVersion"] = node["typeVersion"]
    for flag in ("disabled", "alwaysOutputData", "executeOnce"):
        if flag in node:
            raw[flag] = node[flag]
    if node.get("notes"):
        raw["notes"] = node["notes"]
    if node.get("onError"):
        raw["onError"] = node["onError"]
    retry = node.get("retry")
    if retry:
        raw["retryOnFail"] = True
        raw["maxTries"] = retry.get("maxAttempts", N8N_MAX_TRIES)
        raw["waitBetweenTries"] = editor.pop("waitBetweenTries", None) or \
            retry.get("intervalSeconds", 1) * 1000
    raw.update(editor)
    return raw


# --------------------------------------------------------------------------- connections


def _connections(n8n: Any, unsupported: list[Problem]) -> list[dict[str, Any]]:
    connections: list[dict[str, Any]] = []
    if not isinstance(n8n, dict):
        unsupported.append(Problem(None, "connections", "expected an object keyed by node name",
                                   UNSUPPORTED))
        return connections
    for source, kinds in n8n.items():
        for kind, outputs in (kinds or {}).items():
            if kind != MAIN:
                unsupported.append(Problem(
                    str(source), f"connections.{kind}", f"{kind!r} connections (AI "
                    "sub-nodes) are not supported; only 'main'", UNSUPPORTED))
                continue
            for output, targets in enumerate(outputs or []):
                for target in targets or []:
                    connection: dict[str, Any] = {"from": source, "to": target.get("node")}
                    if output:
                        connection["output"] = output
                    if target.get("index"):
                        connection["input"] = target["index"]
                    connections.append(connection)
    return connections


def _n8n_connections(connections: list[dict[str, Any]]) -> dict[str, Any]:
    n8n: dict[str, Any] = {}
    for connection in connections:
        output = connection.get("output", 0)
        outputs = n8n.setdefault(connection["from"], {}).setdefault(MAIN, [])
        if not isinstance(output, int):
            raise ValueError(f"output {output!r} of {connection['from']!r} has no n8n index")
        while len(outputs) <= output:
            outputs.append([])
        outputs[output].append({"node": connection["to"], "type": MAIN,
                                "index": connection.get("input", 0)})
    return n8n


# --------------------------------------------------------------------------- settings, pins


def _settings(n8n: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what sfnflow applies, the instance's own preferences kept for the editor)."""
    settings: dict[str, Any] = {}
    for key in ("executionOrder", "errorWorkflow", "timezone"):
        if n8n.get(key) not in (None, ""):
            settings[key] = n8n[key]
    timeout = n8n.get("executionTimeout")
    if isinstance(timeout, int) and timeout > 0:
        settings["timeoutSeconds"] = timeout
    kept = {key: value for key, value in n8n.items()
            if key not in _MAPPED_SETTINGS or (key not in settings and key != "executionTimeout")
            or (key == "executionTimeout" and "timeoutSeconds" not in settings)}
    return settings, kept


def _pin_data(n8n: Any, unsupported: list[Problem]) -> dict[str, list[Any]]:
    pins: dict[str, list[Any]] = {}
    if not isinstance(n8n, dict):
        return pins
    for node, items in n8n.items():
        converted = []
        for index, item in enumerate(items or []):
            if not isinstance(item, dict):
                continue
            if item.get("binary"):
                unsupported.append(Problem(str(node), f"pinData[{index}].binary",
                                           "pinned binary data is not supported", UNSUPPORTED))
            converted.append(item.get("json", {}) if "json" in item else item)
        pins[str(node)] = converted
    return pins

"""n8n's node types sfnflow runs: their typeVersions and ports, as n8n's editor draws them.

The node runner implements each type (``functions.n8n``, ``functions.nodes.n8n``); the
compiler only needs to know which types and versions exist and how many inputs and
outputs a node has, in n8n's port order, because connections name ports by index. The
compiler imports nothing from ``functions``, so the port rules live here, once, and the
runner reads the port count the compiler sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.credentials import HTTP_AUTH_TYPES
from compiler.n8n import triggers, wait

BASE = "n8n-nodes-base."
TESTING = "n8n-nodes-testing."
MAIN = ["main"]
N8N_CODE = BASE + "code"

Outputs = Callable[[float, Mapping[str, Any]], list[str]]
Inputs = Callable[[float, Mapping[str, Any]], int]
#: The parameter values of a type sfnflow does not run: (field, why) pairs, which
#: validation reports as problems naming the node and the field.
Refusals = Callable[[float, Mapping[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class N8nType:
    """One n8n node type: its versions, ports and how sfnflow runs it."""

    name: str
    versions: frozenset[float]
    description: str
    outputs: Outputs = field(default=lambda _v, _p: MAIN)
    inputs: Inputs = field(default=lambda _v, _p: 1)
    trigger: bool = False
    #: "task": the node runner; "loop": sfnflow's loop lowering (Loop Over Items v3);
    #: "native": Pass/Choice states where exact, else the runner (compiler.lowering.n8n_native);
    #: "wait": a Wait state (compiler.lowering.n8n_wait)
    lowering: str = "task"
    refusals: Refusals = field(default=lambda _v, _p: [])


def _int(value: Any, default: int) -> int:
    """An integer parameter n8n stores as a number (an expression there is not static)."""
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else default


def _options(parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    options = parameters.get("options")
    return options if isinstance(options, Mapping) else {}


def _if_outputs(_version: float, _parameters: Mapping[str, Any]) -> list[str]:
    return ["true", "false"]


def _filter_outputs(version: float, _parameters: Mapping[str, Any]) -> list[str]:
    """Filter v1 has one output; v2+ may show ``discarded`` (its option decides whether
    the editor draws it; an output no connection uses changes nothing, so it is always
    there)."""
    return ["kept", "discarded"] if version >= 2 else ["kept"]


_EXTRA_FALLBACK = ("extra", -3, "-3")


def _switch_outputs(version: float, parameters: Mapping[str, Any]) -> list[str]:
    """Per rule (and the extra fallback) in rules mode; a fixed count in expression mode."""
    if parameters.get("mode") == "expression":
        if version >= 3:
            count = _int(parameters.get("numberOutputs"), 4)
        elif version >= 2:
            count = _int(parameters.get("outputsAmount"), 4)
        else:
            count = 4
        return [str(i) for i in range(max(count, 1))]
    if version < 2:
        return [str(i) for i in range(4)]
    rules_holder = parameters.get("rules")
    rules = rules_holder.get("values" if version >= 3 else "rules") \
        if isinstance(rules_holder, Mapping) else None
    rules = rules if isinstance(rules, list) else []
    if version >= 3:
        names = [str(rule.get("outputKey")) if isinstance(rule, Mapping)
                 and rule.get("renameOutput") else str(i) for i, rule in enumerate(rules)]
        fallback = _options(parameters).get("fallbackOutput")
        if fallback == "extra":
            names.append("fallback")
        return names or ["0"]
    highest = max([_int(rule.get("output"), i) for i, rule in enumerate(rules)
                   if isinstance(rule, Mapping)] + [len(rules) - 1])
    count = highest + 1
    fallback = parameters.get("fallbackOutput")
    if fallback in _EXTRA_FALLBACK:
        count += 1
    elif isinstance(fallback, int) and fallback >= 0:
        count = max(count, fallback + 1)
    return [str(i) for i in range(max(count, 1))]


def _merge_inputs(version: float, parameters: Mapping[str, Any]) -> int:
    return _int(parameters.get("numberInputs"), 2) if version >= 3 else 2


def _batches_outputs(version: float, _parameters: Mapping[str, Any]) -> list[str]:
    if version < 2:
        return MAIN
    return ["loop", "done"] if version < 3 else ["done", "loop"]


def _region_outputs(_version: float, parameters: Mapping[str, Any]) -> list[str]:
    """One port per member output leaving the region: ``Member:output name``."""
    exits = parameters.get("exits")
    return [str(e.get("name") or f"{e.get('node')}:{e.get('output')}") for e in exits
            if isinstance(e, Mapping)] if isinstance(exits, list) else []


def _region_inputs(_version: float, parameters: Mapping[str, Any]) -> int:
    entries = parameters.get("entries")
    return max(1, len(entries)) if isinstance(entries, list) else 1


#: SplitInBatches versions that run as sfnflow's loop: v3's ports are its (done, loop),
#: and its body runs once per batch, in order, its items collected into done. v1 and v2
#: decide when to stop through ``$node[...].context`` read by an IF in the body: no Map.
LOOP_VERSIONS = frozenset({3.0})
SPLIT_IN_BATCHES = BASE + "splitInBatches"
#: A cycle through a SplitInBatches v1/v2/v2.1 node, contracted into one node that runs on
#: the node runner (``compiler.n8n.cycles``); never written in a document.
REGION_TYPE = "sfnflow.n8nLoop"
N8N_DEFAULT_BATCH_SIZE = 1  # v3 (Loop Over Items); v1 and v2 default to 10


# JavaScript on QuickJS (functions/js); Python in the code sandbox (functions/sandbox).
CODE_LANGUAGES = frozenset({"javaScript", "python", "pythonNative"})


def _code_refusals(_version: float, parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    language = parameters.get("language", "javaScript")
    if language in CODE_LANGUAGES:
        return []
    return [("parameters.language", f"the Code node's {language!r} is not supported: "
             "sfnflow runs n8n's JavaScript (jsCode) and Python (pythonCode)")]


def _http_refusals(_version: float, parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What ``functions.n8n.http`` does not do: credentials other than an HTTP auth type
    (``compiler.credentials.HTTP_AUTH_TYPES``), binary bodies and answers."""
    refused = []
    authentication = parameters.get("authentication", "none")
    if authentication == "genericCredentialType":
        auth_type = parameters.get("genericAuthType")
        if auth_type not in HTTP_AUTH_TYPES:
            refused.append(("parameters.genericAuthType", f"{auth_type!r} credentials are "
                            f"not supported: only {', '.join(HTTP_AUTH_TYPES)}"))
    elif authentication != "none":
        refused.append(("parameters.authentication", f"{authentication!r} is not supported: "
                        "only 'none' or 'genericCredentialType' (header, bearer, basic or "
                        "query auth)"))
    if parameters.get("contentType") in ("multipart-form-data", "binaryData"):
        refused.append(("parameters.contentType", f"{parameters['contentType']!r} bodies "
                        "need binary data, which sfnflow does not carry"))
    response = _options(parameters).get("response")
    response = response.get("response") if isinstance(response, Mapping) else None
    if isinstance(response, Mapping) and response.get("responseFormat") == "file":
        refused.append(("parameters.options.response.response.responseFormat",
                        "a file response is binary data, which sfnflow does not carry"))
    return refused


def _crypto_refusals(_version: float, parameters: Mapping[str, Any]) -> list[tuple[str, str]]:
    refused = []
    if parameters.get("action") == "sign":
        refused.append(("parameters.action", "signing needs a private key credential, "
                        "which sfnflow does not import"))
    if parameters.get("binaryData") is True:
        refused.append(("parameters.binaryData", "binary input is not supported"))
    return refused


_V1 = frozenset({1.0})

N8N_TYPES: dict[str, N8nType] = {
    spec.name: spec for spec in [
        N8nType(BASE + "manualTrigger", _V1, "n8n's manual trigger: one empty item.",
                inputs=lambda _v, _p: 0, trigger=True),
        N8nType(triggers.WEBHOOK, frozenset({1.0, 1.1, 2.0, 2.1}),
                "n8n's Webhook: an sfnflow webhook route (compiler.n8n.triggers).",
                inputs=lambda _v, _p: 0, trigger=True, refusals=triggers.webhook_refusals),
        N8nType(triggers.RESPOND_TO_WEBHOOK, frozenset({1.0, 1.1}),
                "n8n's Respond to Webhook: passes items through; its `response` port (as "
                "n8n v1.3 draws it) holds the answer the webhook route sends.",
                outputs=lambda _v, _p: ["main", "response"],
                refusals=triggers.respond_refusals),
        N8nType(triggers.SCHEDULE_TRIGGER, frozenset({1.0, 1.1, 1.2}),
                "n8n's Schedule Trigger: an EventBridge Scheduler schedule.",
                inputs=lambda _v, _p: 0, trigger=True, refusals=triggers.schedule_refusals),
        N8nType(triggers.ERROR_TRIGGER, _V1, "n8n's Error Trigger: starts an error workflow.",
                inputs=lambda _v, _p: 0, trigger=True),
        N8nType(triggers.EXECUTE_WORKFLOW_TRIGGER, frozenset({1.0, 1.1}),
                "n8n's Execute Workflow Trigger: the items a parent workflow sent.",
                inputs=lambda _v, _p: 0, trigger=True,
                refusals=triggers.execute_trigger_refusals),
        N8nType(BASE + "noOp", _V1, "n8n's No Operation: passes items through."),
        N8nType(BASE + "set", frozenset({1.0, 2.0, 3.0, 3.1, 3.2, 3.3, 3.4}),
                "n8n's Set / Edit Fields.", lowering="native"),
        N8nType(BASE + "if", frozenset({1.0, 2.0, 2.1, 2.2}), "n8n's IF: true, false.",
                outputs=_if_outputs, lowering="native"),
        N8nType(BASE + "filter", frozenset({1.0, 2.0, 2.1, 2.2}), "n8n's Filter.",
                outputs=_filter_outputs, lowering="native"),
        N8nType(BASE + "switch", frozenset({1.0, 2.0, 3.0, 3.1, 3.2}), "n8n's Switch.",
                outputs=_switch_outputs, lowering="native"),
        N8nType(BASE + "merge", frozenset({1.0, 2.0, 2.1, 3.0, 3.1}), "n8n's Merge.",
                inputs=_merge_inputs),
        N8nType(BASE + "splitOut", _V1, "n8n's Split Out."),
        N8nType(BASE + "sort", _V1, "n8n's Sort."),
        N8nType(BASE + "limit", _V1, "n8n's Limit."),
        N8nType(BASE + "removeDuplicates", frozenset({1.0, 1.1}), "n8n's Remove Duplicates."),
        N8nType(BASE + "aggregate", _V1, "n8n's Aggregate."),
        N8nType(BASE + "summarize", frozenset({1.0, 1.1}), "n8n's Summarize."),
        N8nType(BASE + "renameKeys", _V1, "n8n's Rename Keys."),
        N8nType(BASE + "stopAndError", _V1,
                "n8n's Stop and Error: fails the run (no outputs, as n8n draws it).",
                outputs=lambda _v, _p: []),
        N8nType(BASE + "code", frozenset({1.0, 2.0}),
                "n8n's Code node: JavaScript (jsCode) on the embedded engine, Python "
                "(pythonCode) in the code node's sandbox with n8n's globals.",
                refusals=_code_refusals),
        N8nType(BASE + "httpRequest", frozenset({3.0, 4.0, 4.1, 4.2, 4.3}),
                "n8n's HTTP Request, without credentials or with a generic HTTP auth one "
                "(header, bearer, basic, query).",
                refusals=_http_refusals),
        N8nType(BASE + "crypto", _V1, "n8n's Crypto: hash, hmac, generate.",
                refusals=_crypto_refusals),
        N8nType(TESTING + "testData", _V1, "n8n's test-only node: emits its data."),
        N8nType(BASE + "dateTime", frozenset({1.0, 2.0}),
                "n8n's Date & Time: v2 (Luxon) and v1 (moment.js format strings read as "
                "Luxon tokens), on the runner's JavaScript engine."),
        N8nType(wait.N8N_WAIT, frozenset({1.0, 1.1}),
                "n8n's Wait: a native Wait state (time) or a pause resumed by its signed "
                "URL (webhook); compiler.n8n.wait.", lowering="wait",
                refusals=wait.refusals),
        N8nType(BASE + "splitInBatches", frozenset({1.0, 2.0, 2.1, 3.0}),
                "n8n's Split In Batches / Loop Over Items.", outputs=_batches_outputs,
                lowering="loop"),
        N8nType(REGION_TYPE, _V1, "An n8n SplitInBatches v1/v2 loop, run whole in n8n's "
                "order on the node runner (compiler.n8n.cycles).", outputs=_region_outputs,
                inputs=_region_inputs),
    ]
}

"""One run of an n8n node on the node runner (``functions.nodes.n8n`` registers the types).

The input items become ``functions.js.NodeRunData`` (input items renumbered as n8n does
before a node runs, the source of each input, the run data of the execution when the
node's expressions or code name other nodes, the workflow's connections, time zone and
``$vars``); ``=`` parameters are evaluated by the JavaScript engine per item, lazily, as
n8n's ``getNodeParameter`` does; the node's semantics are ``functions.n8n``'s, wrapped in
``flags.run_with_flags`` (executeOnce, alwaysOutputData, continueOnFail). The Code node and
Sort's code mode run on the same engine (``functions.js``); the Code node in Python runs in
sfnflow's code sandbox with n8n's globals (``functions.sandbox.child``). Imported on a
node's first run: workflows without n8n nodes never load the JavaScript engine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from functions.config import Config
from functions.errors import ParameterError
from functions.js import (
    ExpressionEvaluationError,
    ExpressionEvaluator,
    NodeInfo,
    NodeRunData,
    Source,
    TaskData,
    evaluate,
    run_code,
)
from functions.n8n import NODES, NodeCall, batches
from functions.n8n import datetime as n8n_datetime
from functions.n8n import http as n8n_http
from functions.n8n.execution import execution_mode
from functions.n8n.flags import run_with_flags
from functions.n8n.items import Item
from functions.nodes import code as code_node
from functions.nodes import n8n_triggers
from functions.nodes.base import NodeContext, Ports
from functions.nodes.n8n import as_item
from functions.sandbox import run_isolated
from functions.sandbox.child import N8N_ALL, N8N_EACH, n8n_source

# Expressions or code naming other nodes need the execution's run data.
_READS_OTHER_NODES = re.compile(r"\$\(|\$node\b|\$items\b|\$prevNode\b")
_READS_MODE = re.compile(r"\$mode\b|\$execution\b")
CODE = "n8n-nodes-base.code"
SORT = "n8n-nodes-base.sort"
HTTP_REQUEST = "n8n-nodes-base.httpRequest"
DATE_TIME = "n8n-nodes-base.dateTime"
SPLIT_IN_BATCHES, REGION = "n8n-nodes-base.splitInBatches", "sfnflow.n8nLoop"
# n8n's Python flavours: Pyodide's ("python") and the task runner's ("pythonNative", whose
# ``_items``/``_item`` the sandbox's n8n globals hold too).
PYTHON_LANGUAGES = frozenset({"python", "pythonNative"})


def renumbered(items: Sequence[Any]) -> list[Item]:
    """n8n rewrites each input item's ``pairedItem`` to its position before a node runs."""
    return [{**as_item(item), "pairedItem": {"item": index}} for index, item in enumerate(items)]


class N8nRun:
    """What one run of an n8n node reads, from the runner's context (``ctx.extras["n8n"]``,
    set by ``functions.runner``): the node's spec, runIndex, execution and run data."""

    def __init__(self, inputs: Ports, ctx: NodeContext) -> None:
        extras: Mapping[str, Any] = ctx.extras.get("n8n") or {}
        self.ctx = ctx
        self.node: Mapping[str, Any] = extras.get("node") or {}
        self.context: Mapping[str, Any] = json.loads(self.node.get("n8n") or "{}")
        self.inputs = [renumbered(port) for port in inputs]
        self.sources: list[list[tuple[str, int]]] = extras.get("sources") or []
        self.run_index = int(extras.get("runIndex") or 0)
        self.workflow = str(extras.get("workflow") or "")
        self.execution_id = str(extras.get("executionId") or "")
        # how the execution started (its input's ``mode``): a trigger's own, or the
        # execution record's, read only when an expression or code asks (``_mode``)
        trigger = ctx.extras.get("trigger")
        self.mode = trigger.get("mode") if isinstance(trigger, dict) else None
        recorded = extras.get("executionMode")
        self._recorded_mode: Callable[[], Any] = recorded if callable(recorded) \
            else (lambda: recorded)
        self.load_runs: Callable[[], list[Any]] = extras.get("runs") or (lambda: [])
        self.parameters: Mapping[str, Any] = ctx.raw_params
        # inside an n8n loop region (functions.nodes.n8n_region): SplitInBatches contexts
        self.contexts: Mapping[str, Any] = extras.get("contexts") or {}

    @property
    def type_version(self) -> float:
        return float(self.node.get("typeVersion") or 1)

    @property
    def connections(self) -> Mapping[str, Any]:
        return self.context.get("connections") or {}

    def run_data(self, input_index: int = 0, code: str = "") -> NodeRunData:
        text = json.dumps(self.parameters) + code
        runs = self._task_data() if _READS_OTHER_NODES.search(text) else {}
        contexts = self.contexts or (self._loop_contexts() if ".context" in text else {})
        items = self.inputs[input_index] if input_index < len(self.inputs) else []
        scope = self.ctx.scope
        return NodeRunData(
            node=self.ctx.node_name,
            input_items=items,
            run_index=self.run_index,
            input_index=input_index,
            sources=[self._source(port) for port in range(len(self.inputs))],
            run_data=runs,
            nodes={name: NodeInfo(name, context=contexts.get(name) or {})
                   for name in self._node_names() | set(contexts)},
            connections=self.connections,
            workflow={"id": self.workflow, "name": self.workflow, "active": False},
            execution={"id": self.execution_id, "mode": execution_mode(self._mode(text)),
                       "resumeUrl": ""},
            variables=scope.variables or {},
            timezone=str(self.context.get("timezone") or "UTC"),
        )

    def _mode(self, text: str) -> Any:
        """The execution's start kind; beyond a trigger only where ``text`` reads it."""
        if self.mode is None and _READS_MODE.search(text):
            self.mode = self._recorded_mode()
        return self.mode

    def _loop_contexts(self) -> Mapping[str, Any]:
        """Node contexts n8n loops of this execution left (``functions.nodes.n8n_region``)."""
        from functions.nodes.n8n_region import stored_contexts

        return stored_contexts(self.load_runs())

    def _node_names(self) -> set[str]:
        names = set(self.connections) | {self.ctx.node_name}
        for outputs in self.connections.values():
            for port in (outputs or {}).get("main") or []:
                names.update(target["node"] for target in port or [])
        return names

    def _source(self, port: int) -> Source | None:
        """Where input ``port``'s items came from: the first of its sources that sent any."""
        sources = self.sources[port] if port < len(self.sources) else []
        return Source(sources[0][0], sources[0][1]) if sources else None

    def _task_data(self) -> dict[str, list[TaskData]]:
        """The execution's node runs as n8n's run data; each input's source is the node
        connected to it that ran (n8n's ``source`` of a run)."""
        runs: dict[str, list[TaskData]] = {}
        recorded = sorted((run for run in self.load_runs() if run.output is not None),
                          key=lambda run: (run.node, run.run_index))
        ran = {run.node for run in recorded}
        feeding: dict[str, dict[int, list[Source]]] = {}
        for source, outputs in self.connections.items():
            for output, targets in enumerate((outputs or {}).get("main") or []):
                for target in targets or []:
                    feeding.setdefault(target["node"], {}).setdefault(
                        int(target.get("index") or 0), []).append(Source(source, output))
        for run in recorded:
            by_input = feeding.get(run.node, {})
            sources: list[Source | None] = [
                next((s for s in by_input.get(i, []) if s.previous_node in ran), None)
                for i in range(max(by_input, default=-1) + 1)]
            outputs = [[as_item(item) for item in port] for port in run.output]
            runs.setdefault(run.node, []).append(TaskData(outputs, sources))
        return runs


class _LazyEvaluator:
    """``NodeCall.evaluate``: one JavaScript context for the node run; each item's whole
    parameter tree is resolved on first use (one engine call per item), and an expression
    is looked up in it; one that fails is evaluated alone, so a parameter the node never
    reads cannot fail an item (n8n evaluates parameters as the node reads them)."""

    def __init__(self, data: NodeRunData, parameters: Mapping[str, Any]) -> None:
        self.data = data
        self.evaluator = ExpressionEvaluator(data, parameters)
        self.parameters = parameters
        self.resolved: dict[int, dict[str, Any] | None] = {}

    def __call__(self, expression: str, item_index: int) -> Any:
        if item_index not in self.resolved:
            try:
                tree = self.evaluator.resolve(item_index)
                self.resolved[item_index] = _pairs(self.parameters, tree, {})
            except ExpressionEvaluationError:
                self.resolved[item_index] = None
        pairs = self.resolved[item_index]
        if pairs is not None and expression in pairs:
            return _n8n_value(pairs[expression])
        return _n8n_value(evaluate(self.data, expression, item_index))


def _n8n_value(value: Any) -> Any:
    """A fresh copy of an evaluated value: the evaluator keeps one resolution per item, and
    a node may change what it is given. (``undefined`` is one marker in both packages:
    ``functions.n8n.jsvalues.UNDEFINED``.)"""
    if isinstance(value, dict):
        return {key: _n8n_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_n8n_value(item) for item in value]
    return value


def _pairs(raw: Any, resolved: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Each expression string of ``raw`` with its value in ``resolved`` (same shape)."""
    if isinstance(raw, str) and raw.startswith("="):
        found.setdefault(raw, resolved)
    elif isinstance(raw, Mapping) and isinstance(resolved, Mapping):
        for key, value in raw.items():
            if key in resolved:
                _pairs(value, resolved[key], found)
    elif isinstance(raw, list) and isinstance(resolved, list):
        for value, result in zip(raw, resolved, strict=False):
            _pairs(value, result, found)
    return found


def _sort_by_code(run: N8nRun) -> Ports:
    """Sort's code mode: n8n sorts with ``new Function('a', 'b', code)`` as comparator."""
    code = str(run.parameters.get("code") or "")
    script = (f"const compare = new Function('a', 'b', {json.dumps(code)});\n"
              "return $input.all().sort(compare);")
    return [run_code(run.run_data(code=code), script).items]


def _code(run: N8nRun) -> Ports:
    language = run.parameters.get("language", "javaScript")
    if language in PYTHON_LANGUAGES:
        return _python_code(run)
    if language != "javaScript":
        raise ParameterError(f"node {run.ctx.node_name!r}: the Code node's {language!r} "
                             "language is not supported (JavaScript or Python)")
    code = str(run.parameters.get("jsCode") or "")
    mode = str(run.parameters.get("mode") or "runOnceForAllItems")
    logs: list[str] = []
    run.ctx.extras["logs"] = logs  # the runner records them, also when the code throws
    return [run_code(run.run_data(code=code), code, mode, logs=logs).items]


def _python_code(run: N8nRun) -> Ports:
    """The Code node in Python: sfnflow's code sandbox (a fresh process per call, the code
    node's limits, the code runner Lambda where one is deployed) with n8n's globals
    (``functions.sandbox.child.run_n8n``); its errors are ``CodeError``s naming the node."""
    mode = str(run.parameters.get("mode") or N8N_ALL)
    if mode not in (N8N_ALL, N8N_EACH):
        raise ParameterError(f"node {run.ctx.node_name!r}: the Code node's mode {mode!r} "
                             f"is not one of {N8N_ALL}, {N8N_EACH}")
    source = n8n_source(str(run.parameters.get("pythonCode") or ""), mode)
    items: list[Any] = list(run.inputs[0]) if run.inputs else []
    name, ctx = run.ctx.node_name, run.ctx
    runner_arn = Config.from_env().code_runner_arn
    if runner_arn:
        result = code_node.invoke_code_runner(runner_arn, source, items, name)
        return [code_node.as_items(name, result)]
    logs: list[str] = []
    ctx.extras["logs"] = logs  # its prints, recorded with the run also when it fails
    return [code_node.as_items(name, run_isolated(
        source, items, name, code_node.limits_within(ctx.seconds_left()),
        time_left=ctx.time_left, logs=logs))]


def waits_for_input_0(run: N8nRun) -> bool:
    """n8n's legacy execution order (a document without ``executionOrder: "v1"``) reads a
    node's items from input 0 alone: a multi-input node whose input 0 got no items does not
    run, whatever its other inputs hold (only ``alwaysOutputData`` still gives one empty
    item). ``compiler.n8n.order`` refuses the legacy cases that this does not cover."""
    return run.context.get("executionOrder", "v1") != "v1" and len(run.inputs) > 1 \
        and not run.inputs[0]


def run_node(type_name: str, inputs: Ports, ctx: NodeContext) -> Ports:
    """One run of an n8n node of ``type_name``: its ports, as many as the compiler drew."""
    if type_name == REGION:  # a SplitInBatches v1/v2 cycle, run whole
        from functions.nodes.n8n_region import run_region_node

        return run_region_node(inputs, ctx)
    run = N8nRun(inputs, ctx)
    data = run.run_data()
    call = NodeCall(ctx.node_name, run.type_version, run.parameters, run.inputs,
                    _LazyEvaluator(data, run.parameters))

    def node_function(call: NodeCall) -> list[list[Item]]:
        if waits_for_input_0(run):
            return []
        if type_name == SPLIT_IN_BATCHES:  # its node context: the region's, in memory
            return batches.run(call, run.ctx.extras["n8n"]["batchState"])
        if type_name == CODE:
            return _code(run)
        if type_name == SORT and call.parameter("type", 0, "simple") == "code":
            return _sort_by_code(run)
        if type_name == HTTP_REQUEST:  # the runner's HTTP session, time left, credential
            return n8n_http.run(call, ctx.http, ctx.seconds_left(), n8n_http.node_auth(ctx))
        if type_name == DATE_TIME:  # the workflow's time zone
            return n8n_datetime.run(call, data.timezone)
        if type_name in n8n_triggers.TRIGGERS:  # the execution's envelope
            return n8n_triggers.run(type_name, call, ctx,
                                    str(run.context.get("timezone") or "UTC"))
        function = NODES.get(type_name)
        if function is None:
            raise ParameterError(f"node {ctx.node_name!r}: {type_name} does not run on "
                                 "sfnflow yet")
        return function(call)

    outputs = run_with_flags(node_function, call, run.node)
    count = len(run.node.get("outputs") or ["main"])
    if run.node.get("onError") == "continueErrorOutput":
        count -= 1
    return [*outputs[:count], *([] for _ in range(count - len(outputs)))]

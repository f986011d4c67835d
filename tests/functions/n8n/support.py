"""Test helpers for functions.n8n: a fake expression evaluator (``$json`` paths, and
``$('Node').item.json`` paths through ``functions.n8n.lineage``), a reader for Code nodes
that only return literal data, and a small n8n-v1-order runner over a workflow JSON.

None of this is product code: the real expression engine is the runner's JavaScript
engine, and the real executor is Step Functions. These exist so the node functions can be
checked against n8n's own pinned outputs without either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from functions.n8n import NODES, NodeCall, NodeParameterError
from functions.n8n.flags import run_with_flags
from functions.n8n.items import Item, get_path
from functions.n8n.lineage import Source, trace_item
from tests.n8n.compare import strip_paired as strip_paired  # n8n's comparison: one home
from tests.n8n.compare import to_equal as to_equal

# ------------------------------------------------------------------ fake evaluator


class Unsupported(Exception):
    """The workflow needs something these helpers deliberately do not do."""


_JSON_PATH = re.compile(
    r"""^=\{\{\s*\$json((?:\.[A-Za-z_$][\w$]*|\[\s*(?:"[^"]*"|'[^']*'|\d+)\s*\])*)\s*\}\}$"""
)
_STEP = re.compile(r"""\.([A-Za-z_$][\w$]*)|\[\s*(?:"([^"]*)"|'([^']*)'|(\d+))\s*\]""")


_NODE_ITEM = re.compile(
    r"""^=\{\{\s*\$\(\s*'([^']+)'\s*\)\.item\.json((?:\.[A-Za-z_$][\w$]*)*)\s*\}\}$"""
)
Lineage = Callable[[str, int], Item]


def fake_evaluator(items: list[Item], lineage: Lineage | None = None) -> Callable[[str, int], Any]:
    """Evaluate ``={{ $json.a.b }}``, ``={{ $json["x"] }}`` and ``=text`` against ``items``,
    and ``={{ $('Node').item.json.a }}`` when given ``lineage(node, item_index)``."""

    def evaluate(expression: str, item_index: int) -> Any:
        match = _JSON_PATH.match(expression.strip())
        if match:
            steps = _STEP.finditer(match.group(1))
            path = [next(g for g in step.groups() if g is not None) for step in steps]
            data = items[item_index]["json"] if item_index < len(items) else {}
            return get_path(data, path) if path else data
        match = _NODE_ITEM.match(expression.strip())
        if match and lineage is not None:
            data = lineage(match.group(1), item_index)["json"]
            path = [p for p in match.group(2).split(".") if p]
            return get_path(data, path) if path else data
        if "{{" in expression:
            raise Unsupported(f"expression {expression!r}")
        return expression[1:]

    return evaluate


# ------------------------------------------------------------ JavaScript literals


_TOKEN = re.compile(
    r"""\s+|//[^\n]*|/\*.*?\*/|(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
    r"""|(?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<word>[A-Za-z_$][\w$]*)"""
    r"""|(?P<punct>[{}\[\]:,;])""",
    re.DOTALL,
)
_UNDEFINED = object()


def _tokens(source: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if not match:
            raise Unsupported(f"not a literal near {source[position:position + 20]!r}")
        position = match.end()
        kind = match.lastgroup
        if kind:
            out.append((kind, match.group(kind)))
    return out


def _string(text: str) -> str:
    body = text[1:-1]
    if text[0] == "'":
        body = body.replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
    return json.loads(f'"{body}"')


def parse_js_return(source: str) -> Any:
    """The value of ``return <literal>;`` (objects, arrays, strings, numbers, true/false/null)."""
    tokens = _tokens(source)
    if not tokens or tokens[0] != ("word", "return"):
        raise Unsupported("Code node does more than return a literal")
    position = 1

    def value() -> Any:
        nonlocal position
        kind, text = tokens[position]
        position += 1
        if kind == "str":
            return _string(text)
        if kind == "num":
            number = float(text)
            integral = number.is_integer() and "." not in text and "e" not in text.lower()
            return int(number) if integral else number
        if kind == "word":
            words = {
                "true": True,
                "false": False,
                "null": None,
                "undefined": _UNDEFINED,
                # n8n's own tests put $now in source data they never assert: a marker
                # keeps them runnable, and would show in any output that used it.
                "$now": "<$now is not evaluated here>",
            }
            if text in words:
                return words[text]
            raise Unsupported(f"identifier {text!r} in Code node")
        if text == "[":
            items = []
            while tokens[position][1] != "]":
                items.append(value())
                if tokens[position][1] == ",":
                    position += 1
            position += 1
            return [None if v is _UNDEFINED else v for v in items]
        if text == "{":
            obj: dict[str, Any] = {}
            while tokens[position][1] != "}":
                key_kind, key = tokens[position]
                position += 1
                key = _string(key) if key_kind == "str" else key
                if tokens[position][1] != ":":
                    raise Unsupported("shorthand property in Code node")
                position += 1
                obj[key] = value()
                if tokens[position][1] == ",":
                    position += 1
            position += 1
            return {k: v for k, v in obj.items() if v is not _UNDEFINED}
        raise Unsupported(f"unexpected {text!r} in Code node")

    try:
        result = value()
    except IndexError:
        raise Unsupported("truncated literal") from None
    rest = [t for t in tokens[position:] if t[1] != ";"]
    if rest:
        raise Unsupported("statements after return in Code node")
    return result


def code_node_items(source: str) -> list[Item]:
    """n8n's Code node output for a literal: ``{json}`` wrappers kept, bare objects wrapped."""
    value = parse_js_return(source)
    values = value if isinstance(value, list) else [value]
    if all(isinstance(v, dict) and "json" in v for v in values):
        return [{"json": v["json"], "pairedItem": {"item": 0}} for v in values]
    return [{"json": v, "pairedItem": {"item": 0}} for v in values]


# ------------------------------------------------------------------- workflow runner

TRIGGERS = {"n8n-nodes-base.manualTrigger"}
IGNORED = {"n8n-nodes-base.stickyNote"}


class WorkflowRun:
    """What ``run_workflow`` produced: outputs of the nodes that ran, reasons for the others."""

    def __init__(self) -> None:
        self.outputs: dict[str, list[list[Item]]] = {}
        self.unsupported: dict[str, str] = {}


def run_workflow(workflow: Mapping[str, Any]) -> WorkflowRun:
    """Run a loop-free workflow in n8n's v1 order.

    A node runs once, after every node that feeds it, on the items of each input port; a
    node fed no items does not run (a Merge runs if any input has items). A node these
    helpers cannot run (and everything downstream of it) is listed with the reason.
    """
    run = WorkflowRun()
    nodes = {n["name"]: n for n in workflow["nodes"] if n["type"] not in IGNORED}
    incoming: dict[str, list[tuple[str, int, int]]] = {name: [] for name in nodes}
    for source, ports in workflow.get("connections", {}).items():
        for out_port, targets in enumerate(ports.get("main", [])):
            for target in targets or []:
                incoming[target["node"]].append((source, out_port, target["index"]))
    for name, edges in incoming.items():
        ports = [edge[2] for edge in edges]
        if len(ports) != len(set(ports)):
            raise Unsupported(f"{name!r} has several connections into one input (a loop)")
    for node in nodes.values():
        if node.get("disabled"):
            raise Unsupported("disabled nodes")
    sources = {
        n: [_source_of(incoming[n], port) for port in range(_width(incoming[n]))] for n in nodes
    }
    done: set[str] = set()
    pending = list(nodes)
    while pending:
        ready = [n for n in pending if all(src in done for src, _, _ in incoming[n])]
        if not ready:
            raise Unsupported("a cycle")
        name = ready[0]
        pending.remove(name)
        done.add(name)
        node = nodes[name]
        blocked = [src for src, _, _ in incoming[name] if src in run.unsupported]
        if blocked:
            run.unsupported[name] = run.unsupported[blocked[0]]  # the root cause
            continue
        if node["type"] in TRIGGERS:
            run.outputs[name] = [[{"json": {}}]]
            continue
        inputs: list[list[Item]] = [[] for _ in range(_width(incoming[name]))]
        for source, out_port, in_port in incoming[name]:
            if source in run.outputs and out_port < len(run.outputs[source]):
                inputs[in_port] = list(run.outputs[source][out_port])
        if not any(inputs) or not incoming[name]:
            continue
        def lineage(target: str, item_index: int, name: str = name) -> Item:
            return trace_item(run.outputs, sources, name, item_index, target)

        try:
            run.outputs[name] = _run_node(node, inputs, lineage)
        except Unsupported as exc:
            run.unsupported[name] = str(exc)
    return run


def _width(edges: list[tuple[str, int, int]]) -> int:
    return max([edge[2] for edge in edges] + [0]) + 1


def _source_of(edges: list[tuple[str, int, int]], port: int) -> Source | None:
    return next((Source(src, out) for src, out, into in edges if into == port), None)


def _run_node(
    node: Mapping[str, Any], inputs: list[list[Item]], lineage: Lineage | None = None
) -> list[list[Item]]:
    if node["type"] == "n8n-nodes-base.code":
        if node.get("parameters", {}).get("language", "javaScript") != "javaScript":
            raise Unsupported("Python Code node")
        return [code_node_items(node["parameters"].get("jsCode", ""))]
    if node["type"] == "n8n-nodes-base.sort" and node["parameters"].get("type") == "code":
        raise Unsupported("a Sort with a JavaScript comparator")
    if node["type"] == "n8n-nodes-base.splitInBatches":
        raise Unsupported("SplitInBatches loops")
    function = NODES.get(node["type"])
    if function is None:
        raise Unsupported(f"node type {node['type']}")
    call = NodeCall(
        node=node["name"],
        type_version=float(node.get("typeVersion", 1)),
        parameters=node.get("parameters", {}),
        inputs=inputs,
        evaluate=fake_evaluator(inputs[0] if inputs else [], lineage),
    )
    try:
        return run_with_flags(function, call, node)
    except NodeParameterError as exc:
        if isinstance(exc.__cause__, Unsupported):
            raise exc.__cause__ from None
        raise

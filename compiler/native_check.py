"""Whether a node can be lowered to native states, and why not.

A capability, not a decision: ``native_refusal`` says what in a node (or in the workflow
around it) native states could not reproduce exactly — the rules are listed in
``compiler.lowering.native``'s docstring, which lowers the nodes this accepts. The
decisions pass (``compiler.passes.decide``) asks it once per node, adds what depends on
the node's place (inside a Distributed Map a node runs on the runner), and records the
answer with its reason; every other pass reads that record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from compiler.expressions import has_expression, is_expression, parse, segments, strings_in
from compiler.graph import Graph, per_graph
from compiler.jsonata_text import one_line
from compiler.n8n import native_forms
from compiler.naming import variable_names
from compiler.nodetypes import (
    NODE_TYPES,
    ConditionParams,
    MergeParams,
    SetParams,
    StopAndErrorParams,
    SwitchParams,
)

# sfnflow's own node types that have native states (``compiler.lowering.native``).
NATIVE_TYPES = frozenset({"set", "if", "switch", "filter", "noOp", "limit", "merge",
                          "stopAndError"})

# JSONata functions both the runner (jsonata-python) and Step Functions provide, with the
# same result on the same input: a user expression may call these and stay native.
_PORTABLE_TEXT = """
    sum count max min average string substring substringBefore substringAfter lowercase
    uppercase length trim pad formatNumber formatBase formatInteger parseInteger number
    floor ceil round abs sqrt power boolean not map zip filter single reduce sift keys
    lookup append exists spread merge reverse each error assert type sort distinct
    base64encode base64decode encodeUrlComponent encodeUrl decodeUrlComponent decodeUrl
    toMillis fromMillis split join match contains replace
"""
# Functions whose results Step Functions' JSONata (JavaScript, native states on AWS) and
# jsonata-python (the runner, and native states on the local runtime) disagree on for some
# inputs, beyond what compiler.jsonata_compat aligns (tests/functions/
# test_jsonata_differential.py; docs/jsonata.md): a node calling one runs on the runner,
# where it computes the same locally and on AWS.
JS_DIVERGENT_FUNCTIONS = frozenset({"formatNumber", "base64encode", "base64decode"})
_PORTABLE_FUNCTIONS = frozenset(_PORTABLE_TEXT.split()) - JS_DIVERGENT_FUNCTIONS
_ITEM_BINDINGS = frozenset({"json", "index", "items"})
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REFERENCE = re.compile(r"\$(" + _NAME + ")")
_BOUND = re.compile(r"[#@]\s*\$(" + _NAME + r")|\$(" + _NAME + r")\s*:=")
_PARAMETERS = re.compile(r"(?:function|λ)\s*\(([^)]*)\)")
_NODE_USE = re.compile(r"\$node\b")
_NODE_CALL = re.compile(r"""\$node\s*\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\)""")


def expression_sources(value: Any) -> Iterator[str]:
    """The JSONata source of every ``{% ... %}`` inside a parameter value."""
    for text in strings_in(value):
        yield from segments(text)


@dataclass
class _WorkflowFacts:
    """What native decisions need about the whole workflow, computed once per graph."""

    read_by_node_call: frozenset[str] | None  # None: some $node() name is computed
    taken: frozenset[str]  # node variables and "states": never free in a native expression
    refusals: dict[int, str | None] = field(default_factory=dict)  # filled as asked


@per_graph
def _facts(graph: Graph) -> _WorkflowFacts:
    names: set[str] | None = set()
    for spec in graph.nodes:
        for source in expression_sources(spec.parameters):
            calls = [_string_literal(quoted) for quoted in _NODE_CALL.findall(source)]
            if names is not None and None not in calls \
                    and len(_NODE_USE.findall(source)) == len(calls):
                names.update(name for name in calls if name is not None)
            else:
                names = None
    variables = variable_names(graph)
    facts = _WorkflowFacts(
        None if names is None else frozenset(names),
        frozenset(variables) | {f"{v}_batch" for v in variables} | {"states"},
    )
    return facts


def _string_literal(quoted: str) -> str | None:
    try:
        value = parse(quoted).evaluate(None)
    except Exception:  # noqa: BLE001 - any failure: treat the name as computed
        return None
    return value if isinstance(value, str) else None


def portable(source: str, taken: frozenset[str] = frozenset()) -> bool:
    """True when ``source`` evaluates natively exactly as the runner evaluates it: it reads
    only ``$json``, ``$index``, ``$items``, names it binds itself and portable functions."""
    if "{%" in source or "$$" in source or one_line(source) is None:
        return False
    bound = {a or b for a, b in _BOUND.findall(source)}
    for parameters in _PARAMETERS.findall(source):
        bound.update(_REFERENCE.findall(parameters))
    for name in set(_REFERENCE.findall(source)) - _ITEM_BINDINGS:
        if name in taken or (name not in _PORTABLE_FUNCTIONS and name not in bound):
            return False
    return True


def _shape_problem(params: Any) -> str | None:
    """Why this node's parameters cannot be reproduced natively, if they cannot."""
    if isinstance(params, SetParams):
        if any("." in key for key in params.values):
            return "set with a dot-path key"
        for value in params.values.values():
            problem = _set_value_problem(value)
            if problem is not None:
                return problem
    conditions = [params.condition] if isinstance(params, ConditionParams) else [
        rule.condition for rule in params.rules] if isinstance(params, SwitchParams) else []
    if any(not isinstance(c, bool) and not is_expression(c) for c in conditions):
        return "a template condition"
    if isinstance(params, MergeParams):
        if params.mode != "append":
            return f"merge mode {params.mode}"
        if any(has_expression(v) for v in params.model_dump().values()):
            return "an expression in merge parameters"
    if isinstance(params, StopAndErrorParams) and is_expression(params.message):
        return "a whole-expression message"
    return None


def _set_value_problem(value: Any, in_list: bool = False) -> str | None:
    if isinstance(value, str) and in_list and has_expression(value):
        return "set with an expression inside a list"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return "set with an integer JSONata cannot hold exactly"
    children = value.values() if isinstance(value, dict) else value \
        if isinstance(value, list) else ()
    for child in children:
        problem = _set_value_problem(child, in_list or isinstance(value, list))
        if problem is not None:
            return problem
    return None

def native_refusal(graph: Graph, node: int) -> str | None:
    """Why ``node`` cannot be lowered natively, wherever it stands (None: it can)."""
    facts = _facts(graph)
    if node not in facts.refusals:
        facts.refusals[node] = _refusal(graph, node, facts)
    return facts.refusals[node]


def _refusal(graph: Graph, node: int, facts: _WorkflowFacts) -> str | None:
    spec = graph.nodes[node]
    n8n = NODE_TYPES[spec.type].n8n
    if spec.type not in NATIVE_TYPES and not n8n:
        return f"{spec.type} has no native lowering"
    if spec.retry is not None:
        return "retry"
    if spec.onError != "stopWorkflow":
        return f"onError {spec.onError}"
    if spec.disabled:
        return "disabled"
    if spec.name in graph.workflow.pinData:
        return "pinned"
    if spec.cache is not None:
        return "cache"
    if spec.circuitBreaker is not None or spec.rateLimit is not None:
        return "circuitBreaker" if spec.circuitBreaker is not None else "rateLimit"
    if n8n:  # n8n expressions are JavaScript: their own translation and reads by name
        return native_forms.refusal(graph, node)
    if facts.read_by_node_call is None:
        return "$node() with a computed name in the workflow"
    if spec.name in facts.read_by_node_call:
        return "read by $node()"
    problem = _shape_problem(graph.params[node])
    if problem is not None:
        return problem
    for source in expression_sources(spec.parameters):
        divergent = sorted(JS_DIVERGENT_FUNCTIONS & set(_REFERENCE.findall(source)))
        if divergent:
            return (f"expression {source!r} calls ${divergent[0]}, which Step Functions' "
                    "JSONata computes differently (docs/jsonata.md)")
        if not portable(source, facts.taken):
            return f"expression {source!r} is not portable"
    return None

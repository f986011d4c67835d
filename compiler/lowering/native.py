"""Nodes whose work is pure data, as native states: no Lambda call.

set, if, switch, filter, noOp, limit and merge (append) become ONE ``Pass`` state named
after the node, whose ``Assign`` computes the node's outputs with JSONata over its input
items; stopAndError becomes a ``Fail`` state (``Error`` = errorType, ``Cause`` = message)
behind a ``#stop?`` Choice, because a node without input items does not run (n8n), so it
must not fail either. The semantics are the runner's (``functions/nodes``), reproduced:

* Per-item expressions are JSONata lambdas over ``$items`` (every input item):
  ``$map($items, function($json, $index) { ... })``; conditions are made boolean as the
  runner does (``(expr) ? true : false``: JSONata truthiness, a missing field is false);
  a whole-expression value that yields nothing becomes ``null``; a template
  (``"Hi {% $json.name %}"``) concatenates its parts, a null or missing value as ``""``.
* Every array of items is rebuilt with ``[...]``: JSONata unwraps one-element sequences.
* Beside its outputs, the state assigns ``<var>_run`` = ``{"sfnflowRun": true, "node",
  "type", "variable", "inputs": [count per input port], "runIndex"}`` (plus ``error`` for
  stopAndError). Step Functions reports assigned variables in the state's exit event, so
  ``functions.services.native_runs`` records the node run from the execution history, with
  its iteration inside loops. ``Comment`` names the node type for failed states.

The node falls back to the runner (``compiler.lowering.task``: one Task, as before) whenever
native states would change its semantics or lose a feature (``fallback_reason``):

* it has ``retry`` (even ``maxAttempts: 1``: the documented way to force the runner),
  ``onError`` other than stopWorkflow, or ``disabled``;
* it is pinned (``pinData``): pins are looked up by the runner; it has ``cache`` (the
  runner keeps the results);
* some expression in the workflow reads it with ``$node("Name")`` (run data must exist
  before later nodes run), or calls ``$node`` with a computed name (then no node is native);
* one of its expressions refers to a variable other than ``$json``, ``$index``, ``$items``
  and its own local bindings (``$node``, ``$execution``, ``$workflow``, ``$now``, ``$vars``,
  ``$states``, node variables...), uses ``$$``, calls a function the runner lacks or
  Step Functions adds (``$partition``, ``$range``, ``$hash``, ``$randomSeeded``, ``$uuid``,
  ``$parse``, ``$eval``) or a nondeterministic one (``$random``, ``$millis``, ``$shuffle``:
  a state at the end of a scope evaluates its expression twice, in Assign and Output);
* set: a dot-path key (``a.b``), or an expression inside a list value (JSONata array
  constructors flatten arrays); if/filter/switch: a condition that is a template rather than
  a whole expression (the runner rejects its text); merge: a mode other than append, or an
  expression in its parameters; stopAndError: a message that is a whole expression (the
  runner requires text); any expression with a newline inside a backtick name or a regex;
  a literal integer beyond 2^53 (JSONata numbers are doubles).

n8n's IF, Filter, Switch and Set (``compiler.lowering.n8n_native``) share the generic
reasons above (retry, onError, disabled, pinned, cache); their expressions are JavaScript,
translated by ``compiler.n8n.jsonata``, and reads by name (``$('X')``) have their own rule.

A node's ``timeoutSeconds`` does not make it fall back: a native state does no work that a
timeout could bound.

Known difference, documented rather than avoided: a template renders a number with
JSONata's ``$string`` (15 significant digits) where the runner writes Python's shortest
form, so ``0.1 + 0.2`` reads ``0.3`` natively. Runtime expression errors fail the execution
with ``States.QueryEvaluationError`` instead of ``Sfnflow.ExpressionError``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from compiler import asl
from compiler.expressions import has_expression, is_expression, parse, segments, strings_in
from compiler.graph import Graph, per_graph
from compiler.jsonata_text import jsonata
from compiler.lowering import task
from compiler.nodetypes import (
    NODE_TYPES,
    ConditionParams,
    LimitParams,
    MergeParams,
    SetParams,
    StopAndErrorParams,
    SwitchParams,
)

if TYPE_CHECKING:
    from compiler.passes.emit import Emitter, ScopeOutput

COMMENT_PREFIX = "sfnflow native node: "
RUN_MARKER = "sfnflowRun"

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


# JSON escapes what JSONata fields may not hold raw: ``%`` (``%}`` ends a field) and the
# line terminators JSON leaves alone (asl-validator's ``{%.*%}`` does not match across
# U+2028/U+2029, like every JavaScript ``.``).
_LITERAL_ESCAPES = str.maketrans({"%": "\\u0025", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_LINE_BREAKS = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_literal(value: Any) -> str:
    """A JSON value as a JSONata literal on one line, with no ``{%``/``%}``."""
    return json.dumps(value, ensure_ascii=False).translate(_LITERAL_ESCAPES)


@lru_cache(maxsize=65_536)
def text(value: str) -> str:
    """A JSONata string literal on one line, with no ``{%``/``%}`` (which end a field)."""
    return json_literal(value)


def one_line(source: str) -> str | None:
    """``source`` without line breaks (asl-validator rejects them in JSONata fields): inside
    string literals they become escapes, elsewhere spaces. None if that is not safe."""
    if not any(char in source for char in _LINE_BREAKS):
        return source
    out: list[str] = []
    quote = ""
    position = 0
    while position < len(source):
        char = source[position]
        if quote:
            if char == "\\":
                out.append(source[position:position + 2])
                position += 2
                continue
            if char == quote:
                quote = ""
            out.append(_LINE_BREAKS.get(char, char) if quote != "`" else char)
            if quote == "`" and char in _LINE_BREAKS:
                return None
        elif source.startswith("/*", position):
            end = source.find("*/", position + 2)
            if end < 0:
                return None
            out.append(" ")
            position = end + 2
            continue
        elif char == "/":
            return None  # division or a regex literal: cannot tell where strings are
        elif char in "\"'`":
            quote = char
            out.append(char)
        else:
            out.append(" " if char in _LINE_BREAKS else char)
        position += 1
    return "".join(out)


# --------------------------------------------------------------------------- fallbacks


def expression_sources(value: Any) -> Iterator[str]:
    """The JSONata source of every ``{% ... %}`` inside a parameter value."""
    for text in strings_in(value):
        yield from segments(text)


@dataclass
class _WorkflowFacts:
    """What native decisions need about the whole workflow, computed once per graph."""

    read_by_node_call: frozenset[str] | None  # None: some $node() name is computed
    taken: frozenset[str]  # node variables and "states": never free in a native expression
    reasons: dict[int, str | None]  # fallback_reason per node, filled as asked
    base_reasons: dict[int, str | None] = field(default_factory=dict)
    distributed: frozenset[int] | None = None  # nodes inside Distributed Maps


@per_graph
def _facts(graph: Graph) -> _WorkflowFacts:
    from compiler.passes.emit import variable_names  # emit imports the lowerings

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
        {},
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


def fallback_reason(graph: Graph, node: int) -> str | None:
    """Why ``node`` must run in the node runner instead (None: it is lowered natively)."""
    facts = _facts(graph)
    if node not in facts.reasons:
        reason = base_fallback_reason(graph, node)
        if reason is None and node in _distributed_members(graph, facts):
            reason = "inside a Distributed Map (its runs are recorded by the runner)"
        facts.reasons[node] = reason
    return facts.reasons[node]


def base_fallback_reason(graph: Graph, node: int) -> str | None:
    """``fallback_reason`` without the place of the node (used to plan Distributed Maps)."""
    facts = _facts(graph)
    if node not in facts.base_reasons:
        facts.base_reasons[node] = _reason(graph, node, facts)
    return facts.base_reasons[node]


def _distributed_members(graph: Graph, facts: _WorkflowFacts) -> frozenset[int]:
    if facts.distributed is None:
        from compiler.lowering.loop import distributed_members

        facts.distributed = distributed_members(graph)
    return facts.distributed


def falls_back_to_runner(graph: Graph, node: int) -> bool:
    return fallback_reason(graph, node) is not None


def _reason(graph: Graph, node: int, facts: _WorkflowFacts) -> str | None:
    spec = graph.nodes[node]
    n8n = NODE_TYPES[spec.type].n8n
    if spec.type not in _BUILDERS and not n8n:
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
        from compiler.lowering import n8n_native

        return n8n_native.fallback_reason(graph, node)
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


# --------------------------------------------------------------------------- JSONata


def _user(source: str) -> str:
    line = one_line(source.strip())
    assert line is not None  # fallback_reason checked
    return "(" + line + ")"


def _value(source: str) -> str:
    """A whole-expression value: the runner turns nothing (undefined) into null."""
    return f"($v := {_user(source)}; $exists($v) ? $v : null)"


def _template(value: str) -> str:
    """A string with embedded expressions, as the runner's ``_as_text`` renders it."""
    parts: list[str] = []
    rest = value
    for source in segments(value):
        head, _, rest = rest.partition("{%")
        _, _, rest = rest.partition("%}")
        if head:
            parts.append(text(head))
        parts.append(f'($v := {_user(source)}; $exists($v) and $type($v) != "null" '
                     '? $string($v) : "")')
    if rest or not parts:
        parts.append(text(rest))
    return "(" + " & ".join(parts) + ")"


def _parameter(value: Any) -> str:
    """JSONata building a parameter value for one item, as ``functions.expressions``."""
    if isinstance(value, str):
        if is_expression(value):
            return _value(value[2:-2])
        return _template(value) if has_expression(value) else text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{text(k)}: {_parameter(v)}" for k, v in value.items()) + "}"
    return json_literal(value)


def _condition(condition: bool | str) -> str | None:
    if isinstance(condition, bool):
        return "true" if condition else "false"
    if is_expression(condition):
        return f"({_user(condition[2:-2])} ? true : false)"
    return None


def _ports(items: list[str]) -> str:
    """The node's variable from the JSONata of each output port's item array."""
    ports = ", ".join(f'($i := {i}; {{"count": $count($i), "items": $i}})' for i in items)
    return '{"ports": [' + ports + "]}"


def _per_item(body: str) -> str:
    return f"[$map($items, function($json, $index) {{ {body} }})]"


Outputs = tuple[str, list[str]]
"""What a builder returns: bindings (``$m := ...; ``) and the item array of each port."""


def _set(params: SetParams) -> Outputs:
    fields = "{" + ", ".join(
        f"{text(key)}: {_parameter(value)}" for key, value in params.values.items()) + "}"
    item = fields if params.keepOnlySet else f"$merge([$json, {fields}])"
    return "", [_per_item(item)]


def _filter(params: ConditionParams) -> Outputs:
    condition = _condition(params.condition)
    return "", [f"[$filter($items, function($json, $index) {{ {condition} }})]"]


def _if(params: ConditionParams) -> Outputs:
    routed = _per_item(f'{{"t": {_condition(params.condition)}, "j": $json}}')
    return f"$m := {routed}; ", ["[$m[t].j]", "[$m[$not(t)].j]"]


def _switch(params: SwitchParams) -> Outputs:
    # Every rule is evaluated for every item, as the runner does, then the item is routed.
    conditions = "[" + ", ".join(str(_condition(r.condition)) for r in params.rules) + "]"
    count = len(params.rules)
    if params.allMatchingOutputs:
        routed = _per_item(f'{{"c": {conditions}, "j": $json}}')
        ports = [f"[$m[c[{k}]].j]" for k in range(count)]
        fallback = "[$m[$not(true in c)].j]"
    else:
        first = "".join(f"$c[{k}] ? {k} : " for k in range(count)) + "-1"
        routed = _per_item(f'($c := {conditions}; {{"o": {first}, "j": $json}})')
        ports = [f"[$m[o = {k}].j]" for k in range(count)]
        fallback = "[$m[o = -1].j]"
    if params.fallbackOutput == "extra":
        ports.append(fallback)
    return f"$m := {routed}; ", ports


def _limit(params: LimitParams) -> Outputs:
    keep = (f"$p < {params.maxItems}" if params.keep == "first"
            else f"$p >= $count($items) - {params.maxItems}")
    return "", [f"[$filter($items, function($v, $p) {{ {keep} }})]"]


def _pass_through(_params: Any) -> Outputs:
    return "", ["$items"]


_BUILDERS: dict[str, Callable[[Any], Outputs]] = {
    "set": _set,
    "if": _if,
    "switch": _switch,
    "filter": _filter,
    "noOp": _pass_through,
    "limit": _limit,
    "merge": _pass_through,
    "stopAndError": _pass_through,
}


# --------------------------------------------------------------------------- states


def _port_sources(emitter: Emitter, node: int) -> list[list[str]]:
    ports: list[list[str]] = [[] for _ in range(emitter.graph.inputs[node])]
    for edge in emitter.graph.in_edges[node]:
        ports[edge.input].append(f"${emitter.var[edge.source]}.ports[{edge.output}].items")
    region_input = emitter.region_input(node)  # a try/catch region's catch or finally
    if region_input is not None and ports:
        ports[0].append(f"{region_input[1]}.ports[{region_input[2]}].items")
    return ports


def input_items(emitter: Emitter, node: int,
                ports: list[list[str]] | None = None) -> str:
    """JSONata: every input item, port by port, in the runner's order (``$items``)."""
    ports = _port_sources(emitter, node) if ports is None else ports
    return "[" + ", ".join(s for port in ports for s in port) + "]"


def _taken_names(variables: list[str]) -> frozenset[str]:
    """Node variables and loop batch variables (computed once per workflow, not per node)."""
    return frozenset(variables) | {f"{v}_batch" for v in variables}


def run_variable(emitter: Emitter, node: int) -> str:
    """The variable holding a native node's run record: ``<var>_run``, never a node's."""
    taken = emitter.cache.get("taken_names")
    if taken is None:
        taken = emitter.cache["taken_names"] = _taken_names(emitter.var)
    name, suffix = f"{emitter.var[node]}_run", 2
    while name in taken:
        name, suffix = f"{emitter.var[node]}_run_{suffix}", suffix + 1
    return name


def run_record(emitter: Emitter, node: int, extra: str = "",
               ports: list[list[str]] | None = None) -> str:
    """JSONata of the run record a native state assigns (see the module docstring)."""
    spec = emitter.graph.nodes[node]
    ports = _port_sources(emitter, node) if ports is None else ports
    counts = ", ".join("$count([" + ", ".join(port) + "])" for port in ports)
    return (
        f'{{"{RUN_MARKER}": true, "node": {text(spec.name)}, "type": {text(spec.type)}, '
        f'"variable": {text(emitter.var[node])}, "inputs": [{counts}], '
        f'"runIndex": {emitter.run_index() or "0"}{extra}}}'
    )


def comment(node_type: str) -> str:
    return COMMENT_PREFIX + node_type


def node_type_of(state: dict[str, Any]) -> str | None:
    """The node type of a native state in a definition (None for other states)."""
    note = state.get("Comment")
    if isinstance(note, str) and note.startswith(COMMENT_PREFIX):
        return note[len(COMMENT_PREFIX):]
    return None


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    if fallback_reason(emitter.graph, node) is not None:
        return task.lower(emitter, node, states, next_name, out)
    spec, params = emitter.graph.nodes[node], emitter.graph.params[node]
    if NODE_TYPES[spec.type].n8n:
        from compiler.lowering import n8n_native

        return n8n_native.lower(emitter, node, states, next_name, out)
    if spec.type == "stopAndError":
        assert isinstance(params, StopAndErrorParams)
        return _stop(emitter, node, params, states, next_name, out)
    bindings, ports = _BUILDERS[spec.type](params)
    sources = _port_sources(emitter, node)
    result = f"($items := {input_items(emitter, node, sources)}; {bindings}{_ports(ports)})"
    states[spec.name] = asl.Pass(
        comment=comment(spec.type),
        assign={emitter.var[node]: jsonata(result),
                run_variable(emitter, node): jsonata(run_record(emitter, node, "", sources))},
        output=emitter.end_output(next_name, out, {node: result}),
        next=next_name,
    )
    return spec.name


def _stop(emitter: Emitter, node: int, params: StopAndErrorParams,
          states: dict[str, asl.State], next_name: str | None, out: ScopeOutput) -> str:
    """``#stop? X`` (any input items?) -> ``X`` (Fail); without items the node does not run."""
    spec = emitter.graph.nodes[node]
    items = input_items(emitter, node)
    message = f"($items := {items}; $json := $items[0]; $index := 0; {_parameter(params.message)})"
    error = f', "error": {{"type": {text(params.errorType)}, "message": {message}}}'
    check = emitter.helper("stop?", spec.name)
    empty = emitter.empty_ports(node)
    default = next_name
    if default is None:
        default = emitter.helper("skipped", spec.name)
        states[default] = asl.Pass(output=out.expression(emitter, {node: json.dumps(empty)}))
    states[check] = asl.Choice(
        choices=(asl.ChoiceRule(
            jsonata(f"$count({items}) > 0"), spec.name,
            assign={run_variable(emitter, node): jsonata(run_record(emitter, node, error))},
        ),),
        default=default,
        assign={emitter.var[node]: empty},
    )
    states[spec.name] = asl.Fail(comment=comment(spec.type), error=params.errorType,
                                 cause=jsonata(message))
    return check

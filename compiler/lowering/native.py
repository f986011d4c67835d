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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from compiler import asl
from compiler.expressions import has_expression, is_expression, segments
from compiler.graph import Graph
from compiler.jsonata_text import json_literal, jsonata, one_line, text
from compiler.native_check import (  # what a native expression may read: for its readers
    _PORTABLE_FUNCTIONS,
    JS_DIVERGENT_FUNCTIONS,
    NATIVE_TYPES,
    expression_sources,
    native_refusal,
    portable,
)
from compiler.nodetypes import (
    ConditionParams,
    LimitParams,
    SetParams,
    StopAndErrorParams,
    SwitchParams,
)
from compiler.passes.decide import node_decisions

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

__all__ = ["COMMENT_PREFIX", "JS_DIVERGENT_FUNCTIONS", "RUN_MARKER", "_PORTABLE_FUNCTIONS",
           "comment", "expression_sources", "fallback_reason", "input_items", "json_literal",
           "lower", "node_type_of", "one_line", "portable", "run_record", "run_variable",
           "text"]

COMMENT_PREFIX = "sfnflow native node: "
RUN_MARKER = "sfnflowRun"


def fallback_reason(graph: Graph, node: int) -> str | None:
    """Why ``node`` runs in the node runner instead (None: it is lowered natively), as
    decided (``compiler.passes.decide``): for readers outside the compiler."""
    return node_decisions(graph)[0][node].fallback


def base_fallback_reason(graph: Graph, node: int) -> str | None:
    """Why ``node`` could not be native wherever it stood (``compiler.native_check``)."""
    return native_refusal(graph, node)



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
assert _BUILDERS.keys() == NATIVE_TYPES  # compiler.native_check accepts what is built here


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
    """One of sfnflow's data nodes, decided native (``compiler.lowering.dispatch`` routes
    the others: n8n's to ``n8n_native``, those decided for the runner to ``task``)."""
    spec, params = emitter.graph.nodes[node], emitter.graph.params[node]
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

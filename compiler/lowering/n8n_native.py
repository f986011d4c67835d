"""n8n's IF, Filter, Switch and Set as native states, where JSONata computes them exactly.

``compiler.lowering.native`` lowers sfnflow's own data nodes; this module gives n8n's the
same treatment when every parameter is a literal or an expression in the subset of
``compiler.n8n.jsonata``, and the node's options are ones reproduced here (else
``fallback_reason`` says why; ``sfnflow plan`` shows the node's state: Lambda). The
semantics are the runner's (``functions/n8n``: branching.py, conditions.py, switch.py,
set.py), read for the parameters below and nothing more, and checked against n8n 1.123
itself (``tests/compiler/lowering/peer_n8n_native.json``), which corrected three places
where the runner differs from n8n (legacy startsWith on non-text, Switch v2 outputs, a
Set v3 string field of undefined: those stay on the runner):

* IF v1 / Filter v1 (legacy conditions, ``combineOperation`` / ``combineConditions``):
  boolean, number and string conditions with equal, notEqual, smaller(Equal),
  larger(Equal), contains, notContains, startsWith, notStartsWith, endsWith, notEndsWith,
  isEmpty, isNotEmpty (dateTime and regex stay on the runner);
* IF v2-v2.2 / Filter v2-v2.2 and Switch v3-v3.2 rules (the filter format): string,
  number and boolean operators, strict or loose type validation, resolved from the stored
  options and the node's (``ignoreCase`` only over ASCII text);
* Switch v1 rules, v2 rules whose outputs are their positions (legacy operations on
  ``value1``) and v3 rules with ``allMatchingOutputs`` and ``fallbackOutput`` none, extra
  or an output index;
* Set v1/v2 (``values``; ``keepOnlySet``) and v3-v3.4 manual mode (string, number and
  boolean fields; include all or none, ``includeOtherFields`` from v3.3); names are flat
  keys, or dotted paths without index keys (lodash ``set``; an array on the way: runner).

Items are n8n's: ``$json`` is ``item.json``, ``$itemIndex`` the item's position, and every
output item is ``{"json", "pairedItem": {"item": i}}``, as the runner writes them.

Exactness at run time: each translated value carries a guard (``compiler.n8n.jsonata``),
and so do the node's own conversions (a strict ``number`` operator on a string is n8n's
"Wrong type" error; ``(v || 0) < w`` on text compares JavaScript's way). When some guard is
not statically true (or an input may come from a node that does not write n8n items), the
node's state is a Choice instead of a Pass: its one rule holds when every input item passes
and assigns what the Pass would; its default is the node's runner Task (``#runner
<node>``), so errors and every value outside the exact domain are n8n's by construction.
Either way the native node is one state transition, as its Task was, and no Lambda call
(a Choice that ends its scope adds a ``#done`` Succeed: Choice states cannot end one).

Reads by name stay on the runner: a node named in ``$('X')``, ``$node["X"]``,
``$items("X")`` (or Python's ``_('X')``) anywhere in the workflow, and every node on a path
from such a node to its reader — ``$('X').item`` walks the recorded run data of each node
between them, which must exist before the reader runs. A reference whose name is computed
keeps every n8n node on the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata
from compiler.lowering import native, task
from compiler.n8n.jsonata import HELPERS
from compiler.n8n.native_forms import (  # the translation, re-exported for its readers
    FILTER,
    IF,
    SET,
    SWITCH,
    TYPES,
    Built,
    _built,
    build,
    names_read,
)
from compiler.nodetypes import NODE_TYPES

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

__all__ = ["FILTER", "IF", "SET", "SWITCH", "TYPES", "Built", "build", "is_n8n", "lower",
           "names_read"]


def is_n8n(graph: Graph, node: int) -> bool:
    return NODE_TYPES[graph.type_of(node)].n8n


# --------------------------------------------------------------------------- states


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    """The node's state: a Pass when nothing needs checking at run time, else a Choice
    whose one rule (every item exact) assigns what the Pass would, and whose default is
    the node's runner Task, ``#runner <node>``."""
    built = _built(emitter.graph, node)
    assert isinstance(built, Built)  # fallback_reason checked
    spec = emitter.graph.nodes[node]
    sources = native._port_sources(emitter, node)
    items = native.input_items(emitter, node, sources)
    result = f"($items := {items}; {HELPERS}{built.bindings}{native._ports(built.ports)})"
    assign: dict[str, asl.JSON] = {
        emitter.var[node]: jsonata(result),
        native.run_variable(emitter, node): jsonata(native.run_record(emitter, node, "",
                                                                      sources))}
    output = emitter.end_output(next_name, out, {node: result})
    if built.guard == "true" and all(is_n8n(emitter.graph, p)
                                     for p in emitter.graph.preds[node]):
        # n8n nodes write n8n items: nothing to check at run time
        states[spec.name] = asl.Pass(comment=native.comment(spec.type), assign=assign,
                                     output=output, next=next_name)
        return spec.name
    shape = '$type($it.json) = "object"'
    guard = shape if built.guard == "true" else \
        f"({shape} ? ($json := $it.json; {built.guard}) : false)"
    runner: dict[str, asl.State] = {}
    task.lower(emitter, node, runner, next_name, out)
    runner_name = emitter.helper("runner", spec.name)
    states[runner_name] = runner.pop(spec.name)
    states.update(runner)
    target = next_name
    if target is None:  # a Choice cannot end a scope
        target = emitter.helper("done", spec.name)
        states[target] = asl.Succeed()
    exact = (f"($items := {items}; {HELPERS}$count($items) = $count($filter($items, "
             f"function($it, $index) {{ {guard} }})))")
    states[spec.name] = asl.Choice(
        comment=native.comment(spec.type),
        choices=(asl.ChoiceRule(jsonata(exact), target, assign=assign, output=output),),
        default=runner_name)
    return spec.name

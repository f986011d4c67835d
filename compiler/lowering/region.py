"""A try/catch/finally region (``compiler.regions``): one Parallel state with one branch.

The branch runs the region's plan and outputs the members' variables that later states read.
The Parallel's Catch (``States.ALL``) empties those variables — so nothing after the region
runs on its items. The entry's variable also carries the region's outcome,
``try: {"ports": [error items, finally item]}`` (so it travels out of enclosing parallel
branches like any node output): the catch node's input is one item
``{"error": {"message", "type", "node"}}``, the finally node's is
``{"region", "status": "succeeded"|"failed", "error"?}``. On success the error port is empty
(the catch node does not run) and the finally item says ``succeeded``.

Which member failed: a runner Task inside a region that has no ``onError: continue*`` Catch
gets one that re-raises its error from a ``#failed`` Fail state as
``Sfnflow.RegionNodeFailed`` with a JSON Cause naming the node. Other states' errors
(native states, sub-workflows) reach the catch with ``node: null``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata, literal
from compiler.regions import REGION_NODE_FAILED, Region

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

_MESSAGE = (
    "$e := $states.errorOutput; $c := $e.Cause; "
    '$j := ($exists($c) and $substring($c, 0, 1) = "{") ? $parse($c) : {}; '
)


def lower(emitter: Emitter, region: Region, states: dict[str, asl.State],
          next_name: str | None, out: ScopeOutput) -> str:
    from compiler.lowering.scope import ScopeOutput, in_flow_order

    var, key = emitter.var, emitter.key
    exports = emitter.exported(set(region.members))
    body_out = ScopeOutput(tuple((key[n], n) for n in exports))
    body_states: dict[str, asl.State] = {}
    outer, emitter.current_region = emitter.current_region, region
    try:
        with emitter.inner_scope(emitter.assigned_in(region.members)):
            start = emitter.emit(emitter.region_plans[region.entry], body_states, None,
                                 body_out)
    finally:
        emitter.current_region = outer
    name = emitter.helper("try", region.name)
    entry = region.entry  # always exported: its variable carries the region's outcome
    empty = {"count": 0, "items": []}
    succeeded = {"ports": [empty, {"count": 1, "items": [
        {"region": region.name, "status": "succeeded"}]}]}
    overrides = {n: f"$states.result[0].{key[n]}" for n in exports}
    overrides[entry] = f'$merge([{overrides[entry]}, {{"try": {literal(succeeded)}}}])'
    assign: dict[str, object] = {var[n]: jsonata(overrides[n]) for n in exports}
    failed: dict[str, object] = {var[n]: emitter.empty_ports(n) for n in exports}
    entry_ports = literal(emitter.empty_ports(entry)["ports"])
    failed[var[entry]] = jsonata(
        "(" + _MESSAGE + f'$err := $e.Error = "{REGION_NODE_FAILED}" ? $j : '
        '{"message": $exists($j.errorMessage) ? $j.errorMessage : $c, "type": $e.Error, '
        f'"node": null}}; {{"ports": {entry_ports}, "try": '
        '{"ports": [{"count": 1, "items": [{"error": $err}]}, {"count": 1, "items": '
        f'[{{"region": {literal(region.name)}, "status": "failed", "error": $err}}]}}]}}}})')
    caught = next_name
    if caught is None:  # last in its scope: a Pass puts the assigned variables into the output
        caught = emitter.helper("caught", region.name)
        states[caught] = asl.Pass(output=out.expression(emitter, {}))
    states[name] = asl.Parallel(
        branches=(asl.Branch(start, in_flow_order(start, body_states)),),
        assign=assign,
        output=emitter.end_output(next_name, out, overrides),
        next=next_name,
        catch=(asl.Catcher(("States.ALL",), caught, assign=failed),),
    )
    return name


def failure_catch(emitter: Emitter, node: int, states: dict[str, asl.State]
                  ) -> tuple[asl.Catcher, ...]:
    """Inside a region, a failing runner Task re-raises its error naming the node."""
    if emitter.current_region is None:
        return ()
    spec = emitter.graph.nodes[node]
    failed = emitter.helper("failed", spec.name)
    states[failed] = asl.Fail(error=REGION_NODE_FAILED, cause=jsonata("$string($states.input)"))
    error = jsonata(
        "(" + _MESSAGE + '{"message": $exists($j.errorMessage) ? $j.errorMessage : $c, '
        f'"type": $e.Error, "node": {literal(spec.name)}}})')
    return (asl.Catcher(("States.ALL",), failed, output=error),)

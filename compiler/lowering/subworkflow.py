"""executeWorkflow: one Task state that runs the child workflow's state machine.

``waitForCompletion`` (default) uses ``states:startExecution.sync:2``: the Task ends with the
child, and the node's `main` output is *the child's output items* — every item on every
output port of the child's sink nodes (the nodes without outgoing connections), sink by
sink in the child's document order. Without waiting it uses plain ``startExecution`` and
passes its input items through.

The child's input is ``{"items", "mode": "subworkflow", "workflow", "parent"}``; ``parent``
links the child to this execution and node (recorded in the run data) and carries the call
depth (root execution = 0) and the depth limit in force, which the child's trigger enforces
(``Sfnflow.SubworkflowDepthExceeded``): no extra state, no extra transition.

The child execution's name is derived from this execution, node, loop iteration and attempt
(``<first 32 chars of this execution's name>-<32 hex of a SHA-256>-<attempt>``, at most 68
characters): a duplicate StartExecution for the same attempt is idempotent in Step
Functions, a Retry starts a fresh child, and every descendant's name starts with the root
execution's id.

A failed child surfaces as the typed error ``Sfnflow.SubworkflowFailed``: Step Functions
raises ``States.TaskFailed`` with the child's DescribeExecution as the cause; with
``onError: stopWorkflow`` a Catch routes it to a ``#failed`` Fail state that re-raises it
with a readable cause, and ``continue*`` builds the usual error item from it. Retry runs
before Catch, so ``retry.errors`` names ``Sfnflow.SubworkflowFailed`` (the default), which
compiles to ``States.TaskFailed``.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata, literal
from compiler.lowering.task import catchers, error_item_ports, policy_retrier
from compiler.nodetypes import SUBWORKFLOW_MAX_DEPTH, ExecuteWorkflowParams

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

START_SYNC = asl.integration("states:startExecution.sync:2")
START = asl.integration("states:startExecution")
SUBWORKFLOW_FAILED = "Sfnflow.SubworkflowFailed"
TASK_FAILED = "States.TaskFailed"  # what Step Functions raises when a .sync child fails


def substitution_key(workflow: str) -> str:
    """The DefinitionSubstitutions key of a child's state machine ARN. Names with ``-`` or
    ``_`` get a short digest so that ``a-b`` and ``a_b`` never share a key."""
    safe = re.sub(r"[^A-Za-z0-9]", "_", workflow)
    if safe != workflow or "_" in workflow:
        safe += "_" + hashlib.sha256(workflow.encode()).hexdigest()[:6]
    return "Workflow_" + safe


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    graph, spec = emitter.graph, emitter.graph.nodes[node]
    params = graph.params[node]
    assert isinstance(params, ExecuteWorkflowParams)
    name, var = spec.name, emitter.var[node]
    items = emitter.input_items(node)
    if spec.disabled:  # n8n: a disabled node passes its input items through
        passed = _ports(emitter, node, items)
        states[name] = asl.Pass(assign={var: jsonata(passed)},
                                output=emitter.end_output(next_name, out, {node: passed}),
                                next=next_name)
        return name

    result = _ports(emitter, node, "[$states.result.Output.*.ports.items]"
                    if params.waitForCompletion else items)
    retry = policy_retrier(emitter, node, (SUBWORKFLOW_FAILED,), {SUBWORKFLOW_FAILED: TASK_FAILED})
    catch = catchers(emitter, node, states, next_name, out,
                     errors=_error_ports(emitter, node, params.workflow))
    if spec.onError == "stopWorkflow" and params.waitForCompletion:
        failed = emitter.helper("failed", name)
        states[failed] = asl.Fail(error=SUBWORKFLOW_FAILED,
                                  cause=jsonata(_failure_cause(params.workflow)))
        catch = (asl.Catcher((TASK_FAILED,), failed,
                             output=jsonata("$states.errorOutput")),)
    states[name] = asl.Task(
        resource=START_SYNC if params.waitForCompletion else START,
        arguments={
            "StateMachineArn": "${" + substitution_key(params.workflow) + "}",
            "Name": jsonata(_execution_name(emitter, node)),
            "Input": jsonata(_child_input(emitter, node, params, items)),
        },
        assign={var: jsonata(result)},
        output=emitter.end_output(next_name, out, {node: result}),
        next=next_name,
        retry=(retry,) if retry else (),
        catch=catch,
    )
    return name


def _ports(emitter: Emitter, node: int, items: str) -> str:
    """JSONata: the node's outputs with ``items`` on `main` (and an empty `error` port)."""
    empty = "".join(',{"count":0,"items":[]}' for _ in emitter.graph.outputs[node][1:])
    return f'($i := {items}; {{"ports":[{{"count":$count($i),"items":$i}}{empty}]}})'


def _execution_name(emitter: Emitter, node: int) -> str:
    run_index = emitter.run_index() or "0"
    execution = emitter.execution
    key = (f"{execution}.Id & '/' & {literal(emitter.graph.name(node))} & '/' & "
           f"$string({run_index})")
    return (f"$substring({execution}.Name, 0, 32) & '-' & "
            f"$substring($hash({key}, 'SHA-256'), 0, 32) & '-' & "
            "$string($states.context.State.RetryCount + 1)")


def _child_input(emitter: Emitter, node: int, params: ExecuteWorkflowParams,
                 items: str) -> str:
    """JSONata: the child's execution input. ``$i`` is bound first: the locals after it
    may shadow node variables, which ``items`` reads."""
    graph = emitter.graph
    inherited = f"($exists($m.maxDepth) ? $m.maxDepth : {SUBWORKFLOW_MAX_DEPTH})"
    limit = inherited if params.maxDepth is None else \
        f"$min([{inherited}, $e - 1 + {params.maxDepth}])"
    parent = ",".join([
        '"executionId":$x.Name',
        f'"workflow":{literal(graph.workflow.name)}',
        f'"node":{literal(graph.name(node))}',
        '"depth":$e',
        f'"maxDepth":{limit}',
        '"attempt":$c.State.RetryCount + 1',
        f'"runIndex":{emitter.run_index() or "0"}',
        f'"waitForCompletion":{literal(params.waitForCompletion)}',
    ])
    return (
        f"($i := {items}; $c := $states.context; $x := {emitter.execution}; "
        "$m := $x.Input.parent; "
        "$e := ($exists($m.depth) ? $m.depth : 0) + 1; "
        f'{{"items":$i,"mode":"subworkflow","workflow":{literal(params.workflow)},'
        f'"parent":{{{parent}}}}})'
    )


def _failure(workflow: str, error: str = "$states.errorOutput") -> str:
    """JSONata binding, from the error output (``error``): ``$k`` (a child failed: Step Functions
    raised ``States.TaskFailed`` with the child's DescribeExecution as the cause), ``$x``
    (that DescribeExecution), ``$y`` (the child's own error message) and ``$m`` (a readable
    message). A Lambda error's cause is JSON with an ``errorMessage``; others are text."""
    message = "($exists($c) and $substring($c, 0, 1) = '{') ? $parse($c).errorMessage : $c"
    return (
        f"$e := {error}; $c := $e.Cause; "
        f"$x := ($e.Error = {literal(TASK_FAILED)} and $exists($c) and "
        "$substring($c, 0, 1) = '{') ? $parse($c); "
        "$k := $exists($x.Status); "
        f"$y := $k ? ($c := $x.Cause; {message}); "
        f"$m := $k ? $join([{literal(workflow + ' execution ')} & $x.Name & ' ' & "
        f"$lowercase($x.Status), $x.Error, $y], ': ') : ({message}); "
    )


def _failure_cause(workflow: str) -> str:
    """JSONata: the ``#failed`` state's Cause. A Fail state has no ``$states.errorOutput``:
    the Catch passes the error output on as the state's input."""
    return f"({_failure(workflow, '$states.input')}$exists($m) ? $m : $e.Error)"


def _error_ports(emitter: Emitter, node: int, workflow: str) -> str:
    """JSONata: the node's outputs for ``onError: continue*`` — one error item on `main`
    or `error`, shaped like the node runner's, plus the child's execution and error."""
    spec = emitter.graph.nodes[node]
    ports = error_item_ports(emitter, node, (
        '{"message":$m,'
        f'"type":$k ? {literal(SUBWORKFLOW_FAILED)} : $e.Error,"node":{literal(spec.name)},'
        '"attempt":$states.context.State.RetryCount + 1,'
        '"executionId":$x.Name,"cause":$k ? {"type":$x.Error,"message":$y}}'))
    return "(" + _failure(workflow) + '{"ports":[' + ",".join(ports) + "]})"

"""Workflow variables: ``setVariable`` nodes and ``$vars`` in expressions.

``$vars`` is one ASL variable, ``vars`` (an object), initialised to ``{}`` by a
``#variables`` Pass that starts the machine when the workflow has a setVariable node.
A setVariable node is a node-runner Task: the runner evaluates its ``values`` against the
first input item (with ``$vars`` bound), passes the items through and returns
``{"ports", "vars"}``; the state assigns ``vars`` = the merged object. Every runner Task of
such a workflow gets ``vars`` in its Arguments, so runner-evaluated expressions read
``$vars``; native states read the ASL variable itself.

Step Functions lets an inner scope (a Parallel branch, a Map iteration) read the variables
around it but never assign them, so a setVariable node must run in the machine's own scope:
on the top-level sequence, not inside a parallel branch, a loop body or a try region.
``variable_problems`` reports the others. Loop iterations and branches still read ``$vars``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.errors import Problem
from compiler.graph import Graph
from compiler.jsonata_text import jsonata
from compiler.lowering import region
from compiler.lowering.task import NODE_RUNNER, catchers, retriers, runner_arguments
from compiler.naming import SET_VARIABLE, VARS
from compiler.passes.structure import Guard, NodeStep, Seq, Step

if TYPE_CHECKING:
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.emit import Emitter

START = "#variables"


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    spec = emitter.graph.nodes[node]
    ports = '{"ports": $states.result.ports}'
    states[spec.name] = asl.Task(
        resource=NODE_RUNNER,
        arguments=runner_arguments(emitter, node),
        assign={emitter.var[node]: jsonata(ports),
                VARS: jsonata(f"$exists($states.result.vars) ? $states.result.vars : ${VARS}")},
        output=emitter.end_output(next_name, out, {node: ports}),
        next=next_name,
        retry=retriers(emitter, node),
        catch=catchers(emitter, node, states, next_name, out)
        or region.failure_catch(emitter, node, states),
        timeout_seconds=spec.timeoutSeconds,
    )
    return spec.name


def initialise(start: str, states: dict[str, asl.State]) -> str:
    """A first state that sets ``$vars`` to ``{}`` (a Pass: the first state may be a
    Parallel, whose branches could not see its own Assign)."""
    states[START] = asl.Pass(assign={VARS: {}}, next=start)
    return START


def variable_problems(graph: Graph, top: Step) -> list[Problem]:
    """setVariable nodes that are not steps of the top-level sequence (see module doc)."""
    steps = top.steps if isinstance(top, Seq) else (top,)
    allowed = set()
    for step in steps:
        while isinstance(step, Guard):
            step = step.body
        if isinstance(step, NodeStep):
            allowed.add(step.node)
        elif isinstance(step, Seq):
            allowed.update(s.node for s in step.steps if isinstance(s, NodeStep))
    return [
        Problem(node.name, "type", "setVariable must run on the workflow's main path, not "
                "inside a parallel branch, a loop body or a try region (Step Functions "
                "cannot assign a variable from an inner scope)", "variables")
        for index, node in enumerate(graph.nodes)
        if node.type == SET_VARIABLE
        and (index not in allowed or any(node.name in r.nodes for r in graph.workflow.regions))
    ]

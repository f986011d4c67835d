"""A ``Flow`` (``compiler.passes.structure``): chains of a non-series-parallel segment run
as the branches of one Parallel, and meet where the DAG says, through rendezvous.

Step Functions' Parallel only waits for all of its branches, so structured plans must add
synchronisation a non-series-parallel DAG does not have. A Flow adds none: each chain is a
path of the DAG, and a node whose predecessor runs in another chain waits for exactly that
predecessor:

* a producer that nodes of other chains wait for signals: the node runner appends the
  producer's outputs to the rendezvous item of every waiting node (the merge-quorum table;
  key: execution ARN, waiting node, run index) and, if that completes an item whose node is
  already parked, sends its task token back. A producer run by the node runner signals in
  the same call (``rendezvous.signal`` in its event: no extra state); any other producer
  (a native state, a Wait, a node whose Catch builds its outputs) is followed by a
  ``#signal <producer>`` Task, one runner call.
* ``#await <node>`` (before the waiting node): a ``lambda:invoke.waitForTaskToken`` Task;
  the runner stores the token on the node's item and, if every producer has already
  signalled, sends it back at once. The result holds each producer's outputs, which the
  Task assigns to the producers' variables: the node then reads them like any input.

**A lost signal** (a producer's call that never reached the table) would park the waiting
node for the execution's whole life (a year). ``#await`` has a ``TimeoutSeconds``: the
longest its producers can take (``await_timeout``: each node of the Flow upstream of them at
its own limit — a runner node its ``timeoutSeconds`` or Lambda's 900 s, times its attempts,
plus retry delays — and a margin), or the workflow's ``timeoutSeconds`` when that is sooner.
When it expires, the Task's Catch goes to ``#unmet <node>``, a Fail state whose error
``Sfnflow.RendezvousTimeout`` names the node and the producers it waited for. A Flow with
a producer that may wait without a bound (an approval without ``timeoutSeconds``, a
sub-workflow, a Wait until a time) and no workflow timeout waits as long as that may.

Exactly one party sends a token: the item changes atomically, and only the update that
makes it complete (every producer signalled, and the token stored) finds it so. A failing
node fails the Parallel, which cancels the parked awaits. Each rendezvous costs one state
transition and one Lambda call per waiting node and per producer that is not a runner
node; a Lambda call is the
cheaper of the two (an order of magnitude under a transition's price), so the runner does
the bookkeeping rather than a chain of native DynamoDB, Choice and SDK states.
``settings.rendezvous: false`` turns Flows off (structured cuts instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata
from compiler.lowering import task
from compiler.lowering.resume import CALLBACK_RESOURCE

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.lowering.scope import ScopeOutput
    from compiler.passes.decide import Decisions
    from compiler.passes.emit import Emitter
    from compiler.passes.structure import Flow

FLOW_COMMENT = "sfnflow flow: branches meet through rendezvous"
SIGNAL, AWAIT = "signal", "await"
RENDEZVOUS_TIMEOUT = "Sfnflow.RendezvousTimeout"
AWAIT_MARGIN_SECONDS = 60  # Lambda cold starts, Step Functions' own scheduling


def slot(index: int) -> str:
    """Where the waiting node's item keeps its ``index``-th producer's outputs."""
    return f"p{index}"


def _meeting(emitter: Emitter, **parts: object) -> dict[str, object]:
    """A ``rendezvous`` argument: the meeting's scope (execution ARN and, in loops, the run
    index: the runner keys items by them and the waiting node's name) and its ``parts``."""
    run_index = emitter.run_index()
    scope: dict[str, object] = {"execution": jsonata(f"{emitter.execution}.Id")}
    if run_index is not None:
        scope["runIndex"] = jsonata(run_index)
    return scope | parts


def emit_chain(emitter: Emitter, flow: Flow, chain: tuple[int, ...],
               states: dict[str, asl.State], out: ScopeOutput) -> str:
    """The states of one chain (a Parallel branch); returns its first state."""
    waits = flow.producers
    next_name: str | None = None
    for node in reversed(chain):
        if node in flow.consumers and signals_itself(emitter.decisions, node):
            emitter.signals[node] = _signal_arguments(emitter, flow, node)
        elif node in flow.consumers:
            next_name = _signal(emitter, flow, node, states, next_name, out)
        next_name = emitter.emit_node(node, states, next_name, out)
        if node in waits:
            next_name = _await(emitter, flow, node, waits[node], states, next_name)
    assert next_name is not None
    return next_name


def signals_itself(decisions: Decisions, node: int) -> bool:
    """Whether the node-runner call that runs ``node`` also signals its outputs: a runner
    node whose outputs are the runner's result (no Catch building them from an error)."""
    return decisions.nodes[node].lowering == "runner" \
        and decisions.graph.nodes[node].onError == "stopWorkflow"


def _signal_arguments(emitter: Emitter, flow: Flow, node: int,
                      **output: str) -> dict[str, object]:
    """``output``: the outputs to signal, when a runner call does not produce them."""
    waits = flow.producers
    targets = [{"node": emitter.graph.name(consumer), "slot": slot(waits[consumer].index(node)),
                "needs": len(waits[consumer])} for consumer in flow.consumers[node]]
    return _meeting(emitter, **{SIGNAL: {"node": emitter.graph.name(node), "targets": targets,
                                         **output}})


def _signal(emitter: Emitter, flow: Flow, node: int, states: dict[str, asl.State],
            next_name: str | None, out: ScopeOutput) -> str:
    arguments = _signal_arguments(emitter, flow, node,
                                  output=jsonata(f"${emitter.var[node]}"))
    name = emitter.helper(SIGNAL, emitter.graph.name(node))
    states[name] = asl.Task(
        resource=task.NODE_RUNNER,
        arguments={"rendezvous": arguments},
        output=emitter.end_output(next_name, out, {}) or jsonata("$states.input"),
        next=next_name,
        retry=task.SERVICE_RETRIERS,
    )
    return name


def _delays(interval: float, retries: int, backoff: float, most: float | None) -> float:
    """The longest a retrier waits between attempts, over all its ``retries``."""
    return sum(min(interval * backoff ** n, most or interval * backoff ** n)
               for n in range(retries))


def _node_seconds(graph: Graph, node: int) -> float | None:
    """The longest ``node`` can run, retries included (None: no bound)."""
    from compiler.limits import LAMBDA_MAX_SECONDS
    from compiler.nodetypes import NODE_TYPES, WaitParams

    spec, lowering = graph.nodes[node], NODE_TYPES[graph.type_of(node)].lowering
    params = graph.params[node]
    if lowering == "wait" and isinstance(params, WaitParams):
        if params.resume != "time":
            return spec.timeoutSeconds
        return params.seconds if params.until is None and isinstance(params.seconds, int) \
            else None
    if lowering not in ("task", "variables", "native", "jump"):
        return spec.timeoutSeconds  # a sub-workflow; loops never run in Flows
    attempt = min(spec.timeoutSeconds or LAMBDA_MAX_SECONDS, LAMBDA_MAX_SECONDS)
    service = sum(_delays(r.interval_seconds, r.max_attempts, r.backoff_rate,
                          r.max_delay_seconds) for r in task.SERVICE_RETRIERS)
    policy = spec.retry
    if policy is None or policy.maxAttempts <= 1:
        return attempt + service
    return policy.maxAttempts * attempt + service + _delays(
        policy.intervalSeconds, policy.maxAttempts - 1, policy.backoffRate,
        policy.maxDelaySeconds)


def await_timeout(graph: Graph, members: tuple[int, ...], producers: tuple[int, ...]
                  ) -> int | None:
    """``#await``'s TimeoutSeconds: how long the ``producers`` can take from the Flow's
    start (every member upstream of them at its limit, one after another), or the
    workflow's timeout when sooner; None when neither bounds it."""
    inside, upstream, pending = set(members), set(producers), list(producers)
    while pending:
        for pred in graph.preds[pending.pop()]:
            if pred in inside and pred not in upstream:
                upstream.add(pred)
                pending.append(pred)
    seconds = [_node_seconds(graph, n) for n in upstream]
    bound = None if None in seconds else \
        int(sum(s for s in seconds if s is not None)) + AWAIT_MARGIN_SECONDS
    limits = [t for t in (bound, graph.workflow.settings.timeoutSeconds) if t is not None]
    return min(limits) if limits else None


def _await(emitter: Emitter, flow: Flow, node: int, producers: tuple[int, ...],
           states: dict[str, asl.State], next_name: str) -> str:
    graph = emitter.graph
    name = emitter.helper(AWAIT, emitter.graph.name(node))
    timeout = await_timeout(graph, flow.members, producers)
    catch: tuple[asl.Catcher, ...] = ()
    if timeout is not None:
        unmet = emitter.helper("unmet", graph.name(node))
        after = ", ".join(repr(graph.name(p)) for p in producers)
        states[unmet] = asl.Fail(error=RENDEZVOUS_TIMEOUT, cause=(
            f"node {graph.name(node)!r} waited {timeout:,} s for the outputs of {after}, "
            "longer than they can take: a signal was lost (see the node runner's logs of "
            "those nodes)"))
        catch = (asl.Catcher(("States.Timeout",), unmet),)
    states[name] = asl.Task(
        resource=CALLBACK_RESOURCE,
        arguments={"FunctionName": task.NODE_RUNNER, "Payload": {"rendezvous": _meeting(
            emitter, **{AWAIT: {
                "node": emitter.graph.name(node),
                "after": [emitter.graph.name(p) for p in producers], "needs": len(producers),
                "taskToken": jsonata("$states.context.Task.Token")}})}},
        assign={emitter.var[p]: jsonata(f"$states.result.{slot(i)}")
                for i, p in enumerate(producers)},
        output=jsonata("$states.input"),
        next=next_name,
        retry=task.SERVICE_RETRIERS,
        catch=catch,
        timeout_seconds=timeout,
    )
    return name

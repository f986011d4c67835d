"""A node run by the node-runner Lambda: one Task state, with Retry and Catch.

The Task passes the node's definition (parameters JSON-encoded, so Step Functions never
evaluates a user's ``{% ... %}``), where each input port's items come from, and its
predecessors' variables. ``onError: continue*`` becomes a Catch that builds the node's
outputs from the error (one error item on the main or the ``error`` output).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata, literal
from compiler.lowering import region
from compiler.naming import VARS, uses_variables
from compiler.nodetypes import NODE_TYPES

if TYPE_CHECKING:
    from compiler.graph import Graph
    from compiler.lowering.scope import ScopeOutput
    from compiler.model import Node
    from compiler.passes.emit import Emitter

NODE_RUNNER = "${NodeRunnerArn}"  # a DefinitionSubstitutions placeholder

RETRYABLE_ERRORS = (
    "Sfnflow.Timeout",
    "Sfnflow.ConnectionError",
    "Sfnflow.HttpServerError",
    "Sfnflow.RateLimited",
    "Sfnflow.CircuitOpen",  # retried after the breaker's cooldown, when a probe may pass
    "Sfnflow.ModelResponseInvalid",  # a garbled model reply (a proxy, an overloaded server)
    "States.Timeout",
)
# The Lambda service's transient 500s, as a Task invoking a function sees them, with the
# retrier AWS recommends for them (Step Functions best practices, "Handle Lambda service
# exceptions"): 2 s, doubling, 6 retries.
LAMBDA_SERVICE_ERRORS = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
SERVICE_RETRY = asl.Retrier(LAMBDA_SERVICE_ERRORS, 2, 6, 2.0)
# Lambda answers 429 TooManyRequestsException when the function's (reserved) or the
# account's concurrency is exhausted: a wide Map outruns it for as long as its other
# iterations run, so throttles get their own, longer retrier, with full jitter so that the
# throttled iterations do not come back in lockstep. Delays are drawn from [0, min(2 * 2^n,
# 60)] s: up to ~6 min over 10 retries (~3 min expected) before the node fails.
THROTTLE_ERRORS = ("Lambda.TooManyRequestsException",)
THROTTLE_RETRY = asl.Retrier(THROTTLE_ERRORS, 2, 10, 2.0, max_delay_seconds=60, jitter=True)
# Every Task calling a runner Lambda starts its Retry with these, before the node's own
# retrier: the first retrier whose ErrorEquals names the error applies, and a node policy
# naming States.ALL must come last.
SERVICE_RETRIERS = (THROTTLE_RETRY, SERVICE_RETRY)


def lower(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
          out: ScopeOutput) -> str:
    spec = emitter.graph.nodes[node]
    name, var = spec.name, emitter.var[node]
    arguments = runner_arguments(emitter, node)
    signal = emitter.signals.get(node)  # a Flow's producer (compiler.lowering.rendezvous)
    if signal is not None:
        arguments["rendezvous"] = signal
    states[name] = asl.Task(
        resource=NODE_RUNNER,
        arguments=arguments,
        assign={var: jsonata("$states.result")},
        output=emitter.end_output(next_name, out, {node: "$states.result"}),
        next=next_name,
        retry=retriers(emitter, node),
        catch=catchers(emitter, node, states, next_name, out)
        or region.failure_catch(emitter, node, states),
        timeout_seconds=spec.timeoutSeconds,
    )
    return name


def lower_fused(emitter: Emitter, members: tuple[int, ...], states: dict[str, asl.State],
                next_name: str | None, out: ScopeOutput) -> str:
    """A fused runner chain (``compiler.passes.decide``): one Task, named after its first
    node, whose event is the first node's plus ``fused``, the others' in order
    (``functions.fused``). A later node's predecessor is the node before it in the chain,
    whose outputs the runner hands over: its ``data`` does not read a variable for it.
    Only the last node's variable is assigned: the chain's other nodes are read by the
    next node alone. No Retry beyond the Lambda service's and no Catch: the members have
    neither retry nor onError routing."""
    graph = emitter.graph
    rest: list[dict[str, object]] = []
    for before, node in zip(members, members[1:], strict=False):
        arguments = runner_arguments(emitter, node)
        data = arguments["data"]
        assert isinstance(data, dict)
        arguments["data"] = {key: value for key, value in data.items()
                             if key != graph.name(before)}
        rest.append(arguments)
    last = members[-1]
    name = graph.name(members[0])
    states[name] = asl.Task(
        resource=NODE_RUNNER,
        arguments=runner_arguments(emitter, members[0]) | {"fused": rest},
        assign={emitter.var[last]: jsonata("$states.result")},
        output=emitter.end_output(next_name, out, {last: "$states.result"}),
        next=next_name,
        retry=SERVICE_RETRIERS,
    )
    return name


def catchers(emitter: Emitter, node: int, states: dict[str, asl.State], next_name: str | None,
             out: ScopeOutput, errors: str | None = None) -> tuple[asl.Catcher, ...]:
    """The Catch of ``onError: continue*`` (none for stopWorkflow). ``errors`` is the JSONata
    building the node's outputs from the error (default: ``error_ports``)."""
    spec = emitter.graph.nodes[node]
    if spec.onError == "stopWorkflow":
        return ()
    errors = errors or error_ports(emitter, node)
    if next_name is not None:
        return (asl.Catcher(("States.ALL",), next_name,
                            assign={emitter.var[node]: jsonata(errors)}),)
    # Last in its scope: $states.errorOutput exists only in the Catch, so build the ports
    # there and let a Pass put them into the scope's output.
    caught = emitter.helper("caught", spec.name)
    states[caught] = asl.Pass(output=out.expression(emitter, {node: "$states.input"}))
    return (asl.Catcher(("States.ALL",), caught, output=jsonata(errors)),)


def error_item_ports(emitter: Emitter, node: int, error: str) -> list[str]:
    """JSONata of each output port for ``onError: continue*``: empty ports, except one
    error item ``{"error": <error>}`` on `main` (continueRegularOutput) or `error`."""
    spec = emitter.graph.nodes[node]
    ports = [literal({"count": 0, "items": []}) for _ in emitter.graph.outputs[node]]
    target = len(ports) - 1 if spec.onError == "continueErrorOutput" else 0
    ports[target] = '{"count":1,"items":[{"error":' + error + "}]}"
    return ports


def error_ports(emitter: Emitter, node: int) -> str:
    """JSONata building a node's outputs from ``$states.errorOutput`` (onError=continue*)."""
    spec = emitter.graph.nodes[node]
    ports = error_item_ports(emitter, node, (
        '{"message":$m,"type":$e.Error,'
        f'"node":{literal(spec.name)},"attempt":$states.context.State.RetryCount + 1}}'))
    return (
        "($e := $states.errorOutput; $c := $e.Cause; "
        '$m := ($exists($c) and $substring($c, 0, 1) = "{") ? $parse($c).errorMessage : $c; '
        '{"ports":[' + ",".join(ports) + "]})"
    )


def runner_arguments(emitter: Emitter, node: int) -> dict[str, object]:
    graph, spec = emitter.graph, emitter.graph.nodes[node]
    inputs: list[list[dict[str, object]]] = [[] for _ in range(graph.inputs[node])]
    for edge in graph.in_edges[node]:
        inputs[edge.input].append({"from": graph.name(edge.source), "output": edge.output})
    region_input = emitter.region_input(node)  # a try/catch region's catch or finally
    if region_input is not None and inputs:
        inputs[0].append({"from": region_input[0], "output": region_input[2]})
    execution = emitter.execution  # the execution context (passed into Distributed Maps)
    arguments: dict[str, object] = {
        "workflow": graph.workflow.name,
        "execution": {
            "id": jsonata(f"{execution}.Name"),
            "arn": jsonata(f"{execution}.Id"),
            "startTime": jsonata(f"{execution}.StartTime"),
        },
        "node": {
            "name": spec.name,
            "type": spec.type,
            "parameters": json.dumps(spec.parameters, separators=(",", ":"),
                                     ensure_ascii=False),
            "onError": spec.onError,
            "disabled": spec.disabled,
            "outputs": graph.outputs[node],
        } | ({"cache": spec.cache.model_dump()} if spec.cache is not None else {})
          | ({"credentials": spec.credentials.model_dump(exclude_none=True)}
             if spec.credentials is not None else {})
          | guard_arguments(spec)
          | n8n_arguments(graph, node),
        "inputs": inputs,
        "data": {
            graph.name(source): jsonata("$" + emitter.var[source])
            for source in dict.fromkeys(edge.source for edge in graph.in_edges[node])
        } | ({region_input[0]: jsonata(region_input[1])} if region_input else {}),
        "attempt": jsonata("$states.context.State.RetryCount + 1"),
        "pinned": jsonata(f"{literal(spec.name)} in {execution}.Input.pinned"),
        # A retry of a failed execution names the nodes whose recorded outputs to replay.
        "reuseFrom": jsonata(f"{literal(spec.name)} in {execution}.Input.reuse"
                             f".nodes ? {execution}.Input.reuse.from : null"),
        # A partial run (compiler.partial) silences the nodes outside it.
        "skipped": jsonata(f"{literal(spec.name)} in {execution}.Input.skip"),
    }
    if outputs_may_travel_as_references(emitter, node):
        # A sink's outputs are the execution's output, which a parent's executeWorkflow
        # reads inline: in a sub-workflow execution they never travel as references.
        arguments["outputRefs"] = True if graph.succs[node] else jsonata(
            f"$not({execution}.Input.mode = 'subworkflow')")
    if uses_variables(graph):  # runner-evaluated expressions read $vars
        arguments[VARS] = jsonata(emitter.variables)
    run_index = emitter.run_index()
    if run_index is not None:
        arguments["runIndex"] = jsonata(run_index)
    if graph.is_trigger(node):
        arguments["trigger"] = jsonata("$states.context.Execution.Input")
    return arguments


def guard_arguments(spec: Node) -> dict[str, object]:
    """The node's circuit breaker and rate limit, which the runner applies around its work
    (``functions.services.node_guards``)."""
    guards: dict[str, object] = {}
    if spec.circuitBreaker is not None:
        guards["circuitBreaker"] = spec.circuitBreaker.model_dump()
    if spec.rateLimit is not None:
        guards["rateLimit"] = spec.rateLimit.model_dump()
    return guards


def n8n_arguments(graph: Graph, node: int) -> dict[str, object]:
    """What an n8n node's runner needs beyond sfnflow's node definition: its typeVersion and
    flags, and (JSON-encoded, like parameters) the workflow's connections in n8n's shape,
    which its expressions walk for ``$('X').item`` lineage and ``$prevNode``, and the time
    zone and execution order of the document."""
    spec = graph.nodes[node]
    if not NODE_TYPES[spec.type].n8n:
        return {}
    settings = graph.workflow.settings
    context = {"connections": n8n_connections(graph), "timezone": settings.timezone or "UTC",
               "executionOrder": settings.executionOrder or "v0"}
    return {"typeVersion": spec.typeVersion or 1, "alwaysOutputData": spec.alwaysOutputData,
            "executeOnce": spec.executeOnce,
            "n8n": json.dumps(context, separators=(",", ":"), ensure_ascii=False)}


def n8n_connections(graph: Graph) -> dict[str, object]:
    """The graph's edges, loop back edges included, as n8n's ``connections`` object."""
    edges = [*graph.edges, *(e for loop in graph.loops.values() for e in loop.back_edges)]
    connections: dict[str, dict[str, list[list[dict[str, object]]]]] = {}
    for edge in sorted(edges, key=lambda e: (e.source, e.output, e.target, e.input)):
        ports = connections.setdefault(graph.name(edge.source), {"main": []})["main"]
        while len(ports) <= edge.output:
            ports.append([])
        ports[edge.output].append({"node": graph.name(edge.target), "type": "main",
                                   "index": edge.input})
    return dict(connections)


def outputs_may_travel_as_references(emitter: Emitter, node: int,
                                     port: int | None = None) -> bool:
    """Large outputs may travel as S3 references only when every reader resolves them:
    runner Tasks do, and loops that read their items from S3; states that compute with
    the items in JSONata (native nodes, Wait, inline loops) do not. Sinks' outputs are
    read from the run data. ``port``: only the readers of that output port count."""
    graph, decided = emitter.graph, emitter.decisions
    readers = graph.succs[node] if port is None else \
        [e.target for e in graph.edges if e.source == node and e.output == port]
    if node in emitter.back_sources and not all(  # a staged loop's #collect resolves them
            decided.distributed(loop) for loop, spec in graph.loops.items()
            if any(edge.source == node for edge in spec.back_edges)):
        return False  # (every Distributed Map is staged: compiler.lowering.loop.staged)
    return all(decided.on_runner(succ) or decided.distributed(succ) for succ in readers)


def retriers(emitter: Emitter, node: int) -> tuple[asl.Retrier, ...]:
    user = policy_retrier(emitter, node, RETRYABLE_ERRORS)
    return SERVICE_RETRIERS if user is None else (*SERVICE_RETRIERS, user)


def policy_retrier(emitter: Emitter, node: int, default_errors: tuple[str, ...],
                   rename: dict[str, str] | None = None) -> asl.Retrier | None:
    """The node's ``retry`` policy as a Retrier (None without one). ``rename`` maps
    sfnflow error names to the names Step Functions raises for this state."""
    policy = emitter.graph.nodes[node].retry
    if policy is None or policy.maxAttempts <= 1:
        return None
    errors = [(rename or {}).get(error, error) for error in policy.errors or default_errors]
    return asl.Retrier(
        tuple(dict.fromkeys(errors)),
        policy.intervalSeconds,
        policy.maxAttempts - 1,  # ASL counts retries; sfnflow counts attempts
        policy.backoffRate,
        policy.maxDelaySeconds,
        policy.jitter,
    )

"""What a compiled workflow does when it runs: its plan as a tree, topological levels, the
critical path, the plan's makespan, state transitions, Lambda invocations and a bill.

Pure: reads the graph, the plan and the emitted definition; no AWS calls. Durations are
estimates the caller supplies (node name -> seconds), 1 s per node when unknown.

The makespan, transitions and Lambda calls are measured on the *emitted ASL*, not on the
plan tree, so they describe what Step Functions runs: a sequence adds up, a Parallel state
takes its slowest branch, a Choice follows its Default (a guarded block whose ports carry
items: the block runs) or, for the minimum, the target that enters the fewest states (the
guard skips its block). Retries and Catch paths are not counted (every Task succeeds first
time); a Map state runs its ItemProcessor ``map_iterations`` times.

Loops (splitInBatches, forEach) are assumed to run **one iteration**: a loop node takes the
time of its body (its critical path in the DAG, its plan's makespan in the ASL), and the
nodes after its ``done`` output wait for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compiler.errors import SfnflowError
from compiler.graph import Graph
from compiler.history import HISTORY_LIMIT, execution_events
from compiler.lowering import rendezvous
from compiler.lowering.rendezvous import AWAIT, SIGNAL
from compiler.lowering.task import NODE_RUNNER
from compiler.model import HELPER_PREFIX
from compiler.nodetypes import ForEachParams, SplitInBatchesParams
from compiler.passes.decide import Decisions
from compiler.passes.structure import Flow, Guard, NodeStep, Seq, Step
from compiler.pipeline import CompiledWorkflow

LoopPlans = Mapping[int | None, Step]  # CompiledWorkflow.loop_plans: body plan per loop node

DEFAULT_SECONDS = 1.0

# us-east-1 list prices from https://aws.amazon.com/step-functions/pricing/ as published
# in March 2026. Free tiers are ignored; Lambda requests and duration are billed by Lambda,
# separately, and are not included.
STANDARD_PER_TRANSITION = 0.025 / 1000  # $0.025 per 1,000 state transitions
EXPRESS_PER_REQUEST = 1.00 / 1_000_000  # $1.00 per million requests
EXPRESS_PER_GB_SECOND = 0.00001667  # first tier (up to 1,000 GB-hours a month)
EXPRESS_MEMORY_GB = 64 / 1024  # assumed: the smallest 64 MB chunk
EXPRESS_ROUNDING_SECONDS = 0.1  # duration is rounded up to the next 100 ms
EXPRESS_MAX_SECONDS = 300  # an Express execution may run 5 minutes at most


class WeightsInvalid(SfnflowError):
    """The node durations given do not fit the workflow (unknown node, bad number)."""


def node_weights(graph: Graph, seconds: Mapping[str, object] | None,
                 default: float = DEFAULT_SECONDS) -> list[float]:
    """Seconds per node index from a ``{node name: seconds}`` mapping (``default`` if absent).

    Raises ``WeightsInvalid`` naming every unknown node and every value that is not a
    non-negative number.
    """
    weights = [default] * len(graph)
    problems: list[str] = []
    for name, value in (seconds or {}).items():
        if name not in graph.index:
            problems.append(f"unknown node {name!r}")
        elif (isinstance(value, bool) or not isinstance(value, int | float)
              or not math.isfinite(value) or value < 0):
            problems.append(f"node {name!r}: expected seconds >= 0, got {value!r}")
        else:
            weights[graph.index[name]] = float(value)
    if problems:
        raise WeightsInvalid("; ".join(problems))
    return weights


# ---------------------------------------------------------------------------- the DAG


def topological_levels(graph: Graph, after_loops: bool = True) -> list[list[int]]:
    """Nodes grouped by the length of the longest path reaching them (roots: level 0).

    With ``after_loops``, a node after a loop's ``done`` output comes after every node of
    the loop's body (as it runs); without, only the connections count (as it is drawn).
    """
    succs = [list(s) for s in graph.succs]
    for loop in graph.loops.values() if after_loops else ():
        after = [s for s in graph.succs[loop.node] if s not in loop.body]
        for node in loop.body:
            succs[node].extend(after)
    indegree = [0] * len(graph)
    for targets in succs:
        for target in targets:
            indegree[target] += 1
    level = [0] * len(graph)
    ready = [node for node in range(len(graph)) if indegree[node] == 0]
    while ready:
        node = ready.pop()
        for target in succs[node]:
            level[target] = max(level[target], level[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    levels: list[list[int]] = [[] for _ in range(max(level, default=-1) + 1)]
    for node in graph.topological_order():
        levels[level[node]].append(node)
    return levels


def critical_path(graph: Graph, weights: Sequence[float]) -> tuple[float, list[int]]:
    """The longest weighted path (its seconds and its nodes, in order): no plan is faster.

    A loop node weighs its body's critical path (one iteration) and is followed on the path
    by that body's path; body nodes are not on the path around the loop.
    """
    if not graph.loops:
        return _longest_path(graph, weights, range(len(graph)))
    return _region_path(graph, weights, set(range(len(graph))) - graph.in_loop_body())


def _region_path(graph: Graph, weights: Sequence[float],
                 members: set[int]) -> tuple[float, list[int]]:
    effective = list(weights)
    bodies: dict[int, list[int]] = {}
    for node in members & graph.loops.keys():
        body = set(graph.loops[node].body)
        nested = {n for inner in body & graph.loops.keys() for n in graph.loops[inner].body}
        effective[node], bodies[node] = (
            _region_path(graph, weights, body - nested) if body else (0.0, []))
    seconds, path = _longest_path(graph, effective, members)
    return seconds, [n for node in path for n in (node, *bodies.get(node, ()))]


def _longest_path(graph: Graph, weights: Sequence[float],
                  members: range | set[int]) -> tuple[float, list[int]]:
    finish: dict[int, float] = {}
    best_pred: dict[int, int] = {}
    for node in graph.topological_order():
        if node not in members:
            continue
        start = 0.0
        for pred in graph.preds[node]:
            if pred in finish and (node not in best_pred or finish[pred] > start):
                start, best_pred[node] = finish[pred], pred
        finish[node] = start + weights[node]
    if not finish:
        return 0.0, []
    node = max(finish, key=finish.__getitem__)
    path = [node]
    while path[-1] in best_pred:
        path.append(best_pred[path[-1]])
    return finish[node], path[::-1]


def level_batching_makespan(graph: Graph, weights: Sequence[float]) -> float:
    """The naive plan's makespan: one Parallel per topological level, levels in sequence
    (for loop-free workflows)."""
    return sum(max(weights[n] for n in level) for level in topological_levels(graph))


def plan_makespan(step: Step, weights: Sequence[float],
                  loop_plans: LoopPlans | None = None) -> float:
    """Seconds the plan tree takes: Seq adds up, Par takes the max, a Guard its body, a loop
    node its body's plan (one iteration; no plan: no time)."""
    if isinstance(step, NodeStep):
        if loop_plans is not None and step.node in loop_plans:
            return plan_makespan(loop_plans[step.node], weights, loop_plans)
        return weights[step.node]
    if isinstance(step, Guard):
        return plan_makespan(step.body, weights, loop_plans)
    if isinstance(step, Seq):
        return sum(plan_makespan(child, weights, loop_plans) for child in step.steps)
    if isinstance(step, Flow):
        return max(flow_finishes(step, weights).values(), default=0.0)
    return max((plan_makespan(branch, weights, loop_plans) for branch in step.branches),
               default=0.0)


def flow_finishes(flow: Flow, weights: Sequence[float]) -> dict[int, float]:
    """When each node of a Flow finishes: after the node before it in its chain and the
    producers it waits for (rendezvous take no time here)."""
    before = {node: chain[k - 1] for chain in flow.chains for k, node in enumerate(chain) if k}
    waits = flow.producers
    finish: dict[int, float] = {}
    for node in flow.order:
        ready = [finish[p] for p in waits.get(node, ())]
        if node in before:
            ready.append(finish[before[node]])
        finish[node] = max(ready, default=0.0) + weights[node]
    return finish


# ---------------------------------------------------------------------------- the ASL


@dataclass(frozen=True)
class PathCost:
    """One way through a state machine: how long it takes and what it enters and calls."""

    seconds: float = 0.0
    transitions: int = 0
    lambda_calls: int = 0

    def __add__(self, other: PathCost) -> PathCost:
        return PathCost(self.seconds + other.seconds, self.transitions + other.transitions,
                        self.lambda_calls + other.lambda_calls)

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "transitions": self.transitions,
                "lambdaInvocations": self.lambda_calls}


@dataclass(frozen=True)
class RunEstimate:
    """``live``: every Choice takes its Default (guarded blocks run); ``skipped``: every
    Choice takes the target entering the fewest states (guarded blocks are skipped)."""

    live: PathCost
    skipped: PathCost


def evaluate_definition(definition: Mapping[str, Any], durations: Mapping[str, float], *,
                        default_seconds: float = DEFAULT_SECONDS, runner: str = NODE_RUNNER,
                        map_iterations: int = 1) -> RunEstimate:
    """Walk an ASL definition structurally (see module docstring).

    A state named in ``durations`` takes that long, whatever its type (a node lowered to a
    Pass state still has the node's estimate). Otherwise a Wait takes its literal
    ``Seconds``, a Task ``default_seconds`` and any other state no time. A Task is a Lambda
    invocation when its Resource is ``runner``.
    """
    walker = _Walker(durations, default_seconds, runner, map_iterations)
    return walker.scope(definition)


class _Walker:
    def __init__(self, durations: Mapping[str, float], default_seconds: float, runner: str,
                 map_iterations: int) -> None:
        self.durations = durations
        self.default_seconds = default_seconds
        self.runner = runner
        self.map_iterations = map_iterations

    def scope(self, scope: Mapping[str, Any]) -> RunEstimate:
        """Cost from StartAt to the end of the scope (a while loop counts one iteration)."""
        states: Mapping[str, Mapping[str, Any]] = scope["States"]
        rest: dict[str, RunEstimate] = {}  # cost from a state (included) to the scope's end
        for name in _reverse_topological(scope["StartAt"], states):
            state = states[name]
            own = self.own(name, state)
            targets = _targets(state)
            if not targets:
                rest[name] = RunEstimate(own.live, own.skipped)
            elif state["Type"] == "Choice":
                live = _after(state.get("Default", targets[0]), states, rest).live
                skipped = min((_after(t, states, rest).skipped for t in targets),
                              key=lambda c: (c.transitions, c.seconds))
                rest[name] = RunEstimate(own.live + live, own.skipped + skipped)
            else:
                after = _after(targets[0], states, rest)
                rest[name] = RunEstimate(own.live + after.live, own.skipped + after.skipped)
        return rest[scope["StartAt"]]

    def own(self, name: str, state: Mapping[str, Any]) -> RunEstimate:
        kind = state["Type"]
        if kind == "Parallel" and state.get("Comment") == rendezvous.FLOW_COMMENT:
            flow = self.flow(state["Branches"])
            return RunEstimate(flow, flow)
        if kind == "Parallel":
            branches = [self.scope(branch) for branch in state["Branches"]]
            return RunEstimate(_parallel([b.live for b in branches]),
                               _parallel([b.skipped for b in branches]))
        if kind == "Map":
            body = self.scope(state["ItemProcessor"])
            times = self.map_iterations
            rounds = math.ceil(times / (state.get("MaxConcurrency") or max(times, 1)))
            return RunEstimate(
                PathCost(rounds * body.live.seconds, 1 + times * body.live.transitions,
                         times * body.live.lambda_calls),
                PathCost(rounds * body.skipped.seconds, 1 + times * body.skipped.transitions,
                         times * body.skipped.lambda_calls),
            )
        seconds = 0.0
        if name in self.durations:
            seconds = self.durations[name]
        elif kind == "Task" and not name.startswith(HELPER_PREFIX):  # helpers: no node's work
            seconds = self.default_seconds
        elif kind == "Wait":
            literal = state.get("Seconds")
            seconds = float(literal if isinstance(literal, int | float) else self.default_seconds)
        calls = 1 if kind == "Task" and self.runner in (  # direct, or lambda:invoke.*
            state.get("Resource"), (state.get("Arguments") or {}).get("FunctionName")) else 0
        cost = PathCost(seconds, 1, calls)
        return RunEstimate(cost, cost)


    def flow(self, branches: list[Mapping[str, Any]]) -> PathCost:
        """A Flow's Parallel (``compiler.lowering.rendezvous``): its branches are straight
        lines, and an ``#await`` state starts once every producer it names has passed its
        ``#signal`` state, in whichever branch. Simulated in time order."""
        lines = [_straight_line(branch) for branch in branches]
        signalled: dict[str, float] = {}  # producer -> when its signal finished
        clock = [0.0] * len(lines)
        position = [0] * len(lines)
        total = PathCost()
        while any(position[k] < len(line) for k, line in enumerate(lines)):
            moved = False
            for k, line in enumerate(lines):
                while position[k] < len(line):
                    name, state = line[position[k]]
                    meeting = _rendezvous(state)
                    if AWAIT in meeting:
                        after = meeting[AWAIT]["after"]
                        if any(producer not in signalled for producer in after):
                            break
                        clock[k] = max([clock[k], *(signalled[p] for p in after)])
                    cost = self.own(name, state).live
                    clock[k] += cost.seconds
                    total += PathCost(0.0, cost.transitions, cost.lambda_calls)
                    if SIGNAL in meeting:
                        signalled[meeting[SIGNAL]["node"]] = clock[k]
                    position[k] += 1
                    moved = True
            if not moved:
                raise ValueError("a flow's rendezvous wait for each other")
        return PathCost(max(clock, default=0.0), 1 + total.transitions, total.lambda_calls)


def _straight_line(scope: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The states of a scope from StartAt, following ``Next`` (a Choice: its Default)."""
    states: Mapping[str, Mapping[str, Any]] = scope["States"]
    line: list[tuple[str, Mapping[str, Any]]] = []
    name: str | None = scope["StartAt"]
    while name is not None:
        state = states[name]
        line.append((name, state))
        name = state.get("Next") or state.get("Default")
    return line


def _rendezvous(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The rendezvous part of a signal's or an await's arguments ({} for other states)."""
    arguments = state.get("Arguments") or {}
    if not isinstance(arguments, Mapping):
        return {}
    payload = arguments.get("Payload", arguments)
    found = payload.get("rendezvous") if isinstance(payload, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _after(target: str, states: Mapping[str, Mapping[str, Any]],
           rest: Mapping[str, RunEstimate]) -> RunEstimate:
    """Cost from ``target`` on. A target without one yet is a while loop's condition,
    reached again by its back edge: the loop ends there (one iteration), so its exit
    (the first rule's target) follows."""
    if target in rest:
        return rest[target]
    exits = [rest[rule["Next"]] for rule in states[target].get("Choices", ())
             if rule["Next"] in rest]
    return exits[0] if exits else RunEstimate(PathCost(), PathCost())


def _parallel(branches: list[PathCost]) -> PathCost:
    return PathCost(max((b.seconds for b in branches), default=0.0),
                    1 + sum(b.transitions for b in branches),
                    sum(b.lambda_calls for b in branches))


def _targets(state: Mapping[str, Any]) -> list[str]:
    """Where a state goes on success (Catch targets are error paths: not followed)."""
    if state["Type"] == "Choice":
        default = [state["Default"]] if "Default" in state else []
        return [*default, *(rule["Next"] for rule in state.get("Choices", ()))]
    return [state["Next"]] if "Next" in state else []


def _reverse_topological(start: str, states: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """States reachable from ``start``, every state after all the states it leads to."""
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()  # on the DFS path: a target among them is a back edge
    stack: list[tuple[str, int]] = [(start, 0)]
    while stack:
        name, child = stack.pop()
        visiting.add(name)
        # Choice rules before the Default: a while loop's exit is costed before its body
        targets = _targets(states[name])[::-1]
        if child < len(targets):
            stack.append((name, child + 1))
            if targets[child] not in done and targets[child] not in visiting:
                stack.append((targets[child], 0))
        elif name not in done:
            visiting.discard(name)
            done.add(name)
            order.append(name)
    return order


# ---------------------------------------------------------------------------- the bill


@dataclass(frozen=True)
class Cost:
    """US dollars per 1,000 executions of the Step Functions part of a workflow."""

    standard: float
    express: float

    def to_dict(self) -> dict[str, float]:
        return {"standard": self.standard, "express": self.express}


def cost_per_1000(path: PathCost) -> Cost:
    billed = math.ceil(round(path.seconds / EXPRESS_ROUNDING_SECONDS, 6))
    duration = billed * EXPRESS_ROUNDING_SECONDS * EXPRESS_MEMORY_GB * EXPRESS_PER_GB_SECOND
    return Cost(standard=1000 * path.transitions * STANDARD_PER_TRANSITION,
                express=1000 * (EXPRESS_PER_REQUEST + duration))


PRICING_ASSUMPTIONS = {
    "region": "us-east-1",
    "source": "https://aws.amazon.com/step-functions/pricing/ (March 2026)",
    "standardPerTransition": STANDARD_PER_TRANSITION,
    "expressPerRequest": EXPRESS_PER_REQUEST,
    "expressPerGbSecond": EXPRESS_PER_GB_SECOND,
    "expressMemoryMb": 64,
    "expressDuration": "the makespan, rounded up to 100 ms",
    "excluded": "free tiers, retries, Lambda charges",
}


# ---------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class PlanBlock:
    """One block of the plan tree, with the seconds it takes (all branches live)."""

    kind: str  # "node" | "sequence" | "parallel" | "guard" | "map" | "flow" | "chain"
    label: str
    seconds: float
    children: tuple[PlanBlock, ...] = ()
    node_type: str | None = None
    state: str | None = None  # how a node runs: "Lambda", or its state's Type ("Pass", ...)
    waits_for: tuple[str, ...] = ()  # in a Flow: nodes of other chains it meets
    why: str | None = None  # a native-capable node on Lambda: the compiler's reason

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "label": self.label, "seconds": self.seconds}
        if self.node_type is not None:
            out["type"] = self.node_type
        if self.state is not None:
            out["state"] = self.state
        if self.waits_for:
            out["waitsFor"] = list(self.waits_for)
        if self.why is not None:
            out["why"] = self.why
        if self.children:
            out["children"] = [child.to_dict() for child in self.children]
        return out


def node_states(definition: Mapping[str, Any], runner: str = NODE_RUNNER) -> dict[str, str]:
    """How every state runs, by state name (a node's state is named after the node):
    "Lambda" for a Task calling ``runner``, else the state's Type."""
    kinds: dict[str, str] = {}
    pending = [definition]
    while pending:
        scope = pending.pop()
        for name, state in scope["States"].items():
            lambda_task = state["Type"] == "Task" and state.get("Resource") == runner
            kinds[name] = "Lambda" if lambda_task else state["Type"]
            pending.extend(state.get("Branches", ()))
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"])
    return kinds


def plan_blocks(graph: Graph, step: Step, weights: Sequence[float],
                loop_plans: LoopPlans | None = None,
                states: Mapping[str, str] | None = None,
                decisions: Decisions | None = None) -> PlanBlock:
    """The plan tree with readable labels (node names, guard ports by name); a loop node is
    a map block holding its body's plan. ``states``: ``node_states`` of the definition;
    ``decisions``: why each node runs where it does (``compiler.passes.decide``)."""
    states = states or {}
    if isinstance(step, NodeStep):
        if step.node in graph.loops:
            return _map_block(graph, step.node, weights, loop_plans or {}, states, decisions)
        return _node_block(graph, step.node, weights, states, decisions)
    if isinstance(step, Guard):
        ports = ", ".join(f"{graph.name(n)}.{graph.outputs[n][p]}" for n, p in step.ports)
        body = plan_blocks(graph, step.body, weights, loop_plans, states, decisions)
        return PlanBlock("guard", f"if {ports} has items", body.seconds, (body,))
    if isinstance(step, Seq):
        children = tuple(plan_blocks(graph, child, weights, loop_plans, states, decisions)
                         for child in step.steps)
        return PlanBlock("sequence", f"sequence of {len(children)}",
                         sum(c.seconds for c in children), children)
    if isinstance(step, Flow):
        return _flow_block(graph, step, weights, states, decisions)
    children = tuple(plan_blocks(graph, branch, weights, loop_plans, states, decisions)
                     for branch in step.branches)
    return PlanBlock("parallel", f"parallel, {len(children)} branches",
                     max((c.seconds for c in children), default=0.0), children)


def _node_block(graph: Graph, node: int, weights: Sequence[float],
                states: Mapping[str, str], decisions: Decisions | None,
                waits_for: tuple[str, ...] = ()) -> PlanBlock:
    """One node; a node whose type lowers natively but runs on Lambda says why."""
    state = states.get(graph.name(node))
    why = None
    chain = decisions.fused_chain(node) if decisions is not None else None
    if chain is not None and node != chain.members[0]:
        first = graph.name(chain.members[0])
        state, why = states.get(first), f"fused: runs in {first}'s Task"
    elif state == "Lambda" and decisions is not None:
        why = decisions.fallback_reason(node)
    return PlanBlock("node", graph.name(node), weights[node], node_type=graph.type_of(node),
                     state=state, waits_for=waits_for, why=why)


def _flow_block(graph: Graph, flow: Flow, weights: Sequence[float],
                states: Mapping[str, str], decisions: Decisions | None) -> PlanBlock:
    """A Flow: one chain block per branch (``seconds``: when its last node finishes), each
    node saying which nodes of other chains it waits for."""
    finish = flow_finishes(flow, weights)
    waits = flow.producers
    chains = []
    for chain in flow.chains:
        nodes = tuple(_node_block(graph, n, weights, states, decisions,
                                  tuple(graph.name(p) for p in waits.get(n, ())))
                      for n in chain)
        chains.append(PlanBlock("chain", f"chain of {len(chain)}", finish[chain[-1]], nodes))
    meetings = sum(len(producers) for producers in waits.values())
    return PlanBlock("flow", f"parallel, {len(chains)} chains meeting at {meetings} "
                     "rendezvous", max(finish.values(), default=0.0), tuple(chains))


def _map_block(graph: Graph, node: int, weights: Sequence[float], loop_plans: LoopPlans,
               states: Mapping[str, str], decisions: Decisions | None) -> PlanBlock:
    params = graph.params[node]
    label = graph.name(node)
    if isinstance(params, SplitInBatchesParams | ForEachParams):
        label += (f": map over batches of {params.batchSize}, "
                  f"{params.maxConcurrency} at a time")
    plan = loop_plans.get(node)
    state = states.get(graph.name(node))
    if plan is None:
        return PlanBlock("map", label, 0.0, node_type=graph.type_of(node), state=state)
    body = plan_blocks(graph, plan, weights, loop_plans, states, decisions)
    return PlanBlock("map", label, body.seconds, (body,), graph.type_of(node), state)


@dataclass(frozen=True)
class Explanation:
    workflow: str
    nodes: int
    connections: int
    states: int
    plan: PlanBlock
    levels: list[list[str]]
    critical_path: list[str]
    critical_path_seconds: float
    run: RunEstimate
    weighted_nodes: int  # nodes whose seconds were given (the rest take the default)
    history_events: int = 0  # estimated events in one execution's history (compiler.history)
    decisions: Decisions | None = None  # every choice with its reason (compiler.passes.decide)

    @property
    def makespan_ratio(self) -> float:
        cp = self.critical_path_seconds
        return self.run.live.seconds / cp if cp else 1.0

    @property
    def cost_live(self) -> Cost:
        return cost_per_1000(self.run.live)

    @property
    def cost_skipped(self) -> Cost:
        return cost_per_1000(self.run.skipped)

    @property
    def express_too_long(self) -> bool:
        return self.run.live.seconds > EXPRESS_MAX_SECONDS

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "nodes": self.nodes,
            "connections": self.connections,
            "states": self.states,
            "weightedNodes": self.weighted_nodes,
            "defaultSeconds": DEFAULT_SECONDS,
            "plan": self.plan.to_dict(),
            "levels": self.levels,
            "criticalPath": {"nodes": self.critical_path, "seconds": self.critical_path_seconds},
            "makespan": {"seconds": self.run.live.seconds, "ratio": self.makespan_ratio},
            "historyEvents": {"estimate": self.history_events, "limit": HISTORY_LIMIT},
            **({"decisions": self.decisions.to_dict()} if self.decisions else {}),
            "allLive": self.run.live.to_dict(),
            "guardsSkipped": self.run.skipped.to_dict(),
            "costPer1000Executions": {
                "allLive": self.cost_live.to_dict(),
                "guardsSkipped": self.cost_skipped.to_dict(),
                "expressTooLong": self.express_too_long,
                "assumptions": PRICING_ASSUMPTIONS,
            },
        }


def count_states(definition: Mapping[str, Any]) -> int:
    """States of the machine, those inside Parallel branches and Map processors included."""
    total = 0
    pending = [definition]
    while pending:
        scope = pending.pop()
        for state in scope["States"].values():
            total += 1
            pending.extend(state.get("Branches", ()))
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"])
    return total


def explain(compiled: CompiledWorkflow,
            seconds: Mapping[str, object] | None = None) -> Explanation:
    """Everything ``sfnflow plan`` shows; ``seconds`` maps node names to estimated durations."""
    graph = compiled.graph
    weights = node_weights(graph, seconds)
    durations = {graph.name(i): w for i, w in enumerate(weights)}
    cp_seconds, cp_nodes = critical_path(graph, weights)
    return Explanation(
        workflow=compiled.name,
        nodes=len(graph),
        connections=len(graph.edges),
        states=count_states(compiled.definition),
        plan=plan_blocks(graph, compiled.plan, weights, compiled.loop_plans,
                         node_states(compiled.definition), compiled.decisions),
        levels=[[graph.name(n) for n in level] for level in topological_levels(graph)],
        critical_path=[graph.name(n) for n in cp_nodes],
        critical_path_seconds=cp_seconds,
        run=evaluate_definition(compiled.definition, durations),
        weighted_nodes=len(seconds or {}),
        history_events=execution_events(graph, compiled.decisions),
        decisions=compiled.decisions,
    )

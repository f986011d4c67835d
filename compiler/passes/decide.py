"""Pass: every per-node and per-block choice of the compiler, made once, with its reason.

The compiler makes a handful of choices that change the ASL and what a run costs, and each
has one home here:

* **per node — how it is lowered**: native states (no Lambda call), the node runner, a
  native Wait, the variables Task, a sub-workflow execution, a loop (Map or while) or a
  jump; a node whose type lowers natively but that native states cannot reproduce exactly
  runs on the runner, and its decision says why (``compiler.native_check``), as does one
  inside a Distributed Map (its runs are recorded by the runner there);
* **per loop — inline or distributed**: a forEach / splitInBatches runs as an inline Map
  or as a Distributed Map (child executions), by its mode, its concurrency and the history
  estimate (``compiler.history``); an inline one refuses, at run time, more iterations than
  its execution's history holds (``iteration_limit``);
* **per segment — Flow or cut**: a non-series-parallel segment of the plan runs as a
  ``Flow`` (chains meeting at rendezvous) or is cut into a sequence
  (``compiler.passes.structure`` asks ``runs_as_flow``, which answers and records why);
* **runner chains — fused or not**: consecutive node-runner nodes of one sequence of the
  workflow's plan, each the only successor of the one before and fed by it alone, run in
  one Task (one Lambda call, one transition; ``functions/fused.py`` runs the nodes in
  order, each with its own run record) when no member needs a state of its own: no retry
  or timeout (a Retry would run the chain again), onError stopWorkflow (a Catch routes
  one node's error), no trigger, not in a try/catch region, a Flow or a loop body, and
  neither ``settings.fusion: false`` nor a member's ``fuse: false``.

``decide`` returns an immutable ``Decisions`` holding the plans and every answer; emission
(``compiler.passes.emit`` and the lowerings), the history estimate, ``explain``, ``plan``
and ``graph`` read it instead of asking again. Order matters and is explicit: what a node
could be (its capability, wherever it stands) -> the loops, innermost first (the history
estimate counts nodes by capability, inner loops by their decision) -> what each node is
where it stands -> the plans and their segments.

Imports flow one way: model -> graph -> structure -> history -> decide -> emit; this module
asks nothing of the lowerings, which read its answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from compiler.graph import Graph, per_graph
from compiler.history import (
    ASSUMED_ITERATIONS,
    EXECUTION_EVENTS,
    HISTORY_BUDGET,
    iteration_events,
    iteration_limit,
    needs_child_executions,
)
from compiler.native_check import native_refusal
from compiler.nodetypes import (
    INLINE_MAX_CONCURRENCY,
    NODE_TYPES,
    ForEachParams,
    SplitInBatchesParams,
    WhileParams,
)
from compiler.passes.structure import (
    Guard,
    NodeStep,
    Par,
    Seq,
    Step,
    flow_eligible,
    region_plans,
)
from compiler.regions import resolve_regions

# How a node is lowered (``NodeDecision.lowering``), by its type's lowering.
NATIVE, RUNNER = "native", "runner"
_KINDS = {"task": RUNNER, "native": NATIVE, "wait": "wait", "variables": "variables",
          "subworkflow": "sub-workflow", "loop": "loop", "while": "while", "jump": "jump"}
_ON_RUNNER = frozenset({RUNNER, "variables"})  # a node-runner Task (it resolves references)
_TAKE_TIME = frozenset({RUNNER, "variables", "wait", "sub-workflow"})
_WHY = {
    RUNNER: "its type runs on the node runner",
    "wait": "a native Wait state",
    "variables": "the variables Task writes the workflow's variables",
    "sub-workflow": "a child execution of the workflow it runs",
    "loop": "a Map state over its batches",
    "while": "a Choice loop over its body",
    "jump": "a Pass state leaving its while body",
}
IN_DISTRIBUTED = "inside a Distributed Map (its runs are recorded by the runner)"


@dataclass(frozen=True)
class NodeDecision:
    """How one node is lowered (``native``, ``runner``, ``wait``, ``variables``,
    ``sub-workflow``, ``loop``, ``while``, ``jump``) and why."""

    lowering: str
    reason: str
    # The node's type lowers natively but this node cannot be native (why, else None).
    fallback: str | None = None

    @property
    def on_runner(self) -> bool:
        return self.lowering in _ON_RUNNER


@dataclass(frozen=True)
class LoopDecision:
    """A forEach / splitInBatches: an inline or a Distributed Map, and why; an inline one
    refuses more than ``iteration_limit`` iterations (``iteration_events`` each). A while
    loop is always inline (a Choice loop in its own scope)."""

    distributed: bool
    reason: str
    iteration_limit: int | None = None
    iteration_events: int | None = None


@dataclass(frozen=True)
class SegmentDecision:
    """A non-series-parallel segment of a plan: run as a ``Flow``, or cut; and why."""

    members: tuple[int, ...]
    flow: bool
    reason: str


@dataclass(frozen=True)
class FusedChain:
    """Runner nodes run in one Task, in order (the first names the state)."""

    members: tuple[int, ...]
    reason: str


@dataclass(frozen=True)
class Decisions:
    """Every choice for one workflow (see the module docstring). Immutable: built once by
    ``decide``, read by emission and by everything that explains a plan."""

    graph: Graph = field(repr=False, compare=False)
    nodes: tuple[NodeDecision, ...]
    loops: Mapping[int, LoopDecision]
    plans: Mapping[int | None, Step]
    segments: tuple[SegmentDecision, ...]
    flows: str  # the rendezvous setting the plans were made under
    fused: tuple[FusedChain, ...] = ()

    def fused_chain(self, node: int) -> FusedChain | None:
        """The fused chain ``node`` belongs to, if any."""
        for chain in self.fused:
            if node in chain.members:
                return chain
        return None

    @property
    def plan(self) -> Step:
        return self.plans[None]

    def on_runner(self, node: int) -> bool:
        """Whether ``node`` runs in a node-runner Task (which resolves S3 references)."""
        return self.nodes[node].on_runner

    def native(self, node: int) -> bool:
        return self.nodes[node].lowering == NATIVE

    def fallback_reason(self, node: int) -> str | None:
        """Why a node whose type lowers natively runs on the runner (None: it is native,
        or its type never is)."""
        return self.nodes[node].fallback

    def distributed(self, node: int) -> bool:
        loop = self.loops.get(node)
        return loop is not None and loop.distributed

    def events_lowering(self, node: int) -> str:
        """For ``compiler.history``: the node's type's lowering, ``task`` when it could be
        native but cannot, wherever it stands."""
        return _events_lowering(self.graph, node)

    def to_dict(self) -> dict[str, Any]:
        """Every decision with its reason, by node name (``sfnflow plan --json``)."""
        name = self.graph.name
        return {
            "nodes": {name(n): {"lowering": d.lowering, "reason": d.reason}
                      for n, d in enumerate(self.nodes)},
            "loops": {name(n): {"distributed": d.distributed, "reason": d.reason}
                      | ({"iterationLimit": d.iteration_limit}
                         if d.iteration_limit is not None else {})
                      for n, d in sorted(self.loops.items())},
            "segments": [{"nodes": [name(n) for n in d.members],
                          "as": "flow" if d.flow else "cut", "reason": d.reason}
                         for d in self.segments],
            "fused": [{"nodes": [name(n) for n in d.members], "reason": d.reason}
                      for d in self.fused],
        }


def _events_lowering(graph: Graph, node: int) -> str:
    lowering = NODE_TYPES[graph.type_of(node)].lowering
    if lowering == "native" and native_refusal(graph, node) is not None:
        return "task"
    return lowering


class _Capabilities:
    """``compiler.history.Lowered`` while the loops are being decided: nodes by what they
    could be, loops by the decisions made so far (inner loops are decided first)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.decided: dict[int, LoopDecision] = {}

    def events_lowering(self, node: int) -> str:
        return _events_lowering(self.graph, node)

    def distributed(self, node: int) -> bool:
        loop = self.decided.get(node)
        return loop is not None and loop.distributed


def _decide_loops(graph: Graph) -> dict[int, LoopDecision]:
    """Inline or distributed, innermost first: an outer loop's history counts its inner
    loops as they were decided."""
    known = _Capabilities(graph)
    for node in sorted(graph.loops, key=lambda loop: len(graph.loops[loop].body)):
        known.decided[node] = _decide_loop(graph, node, known)
    for node, loop in list(known.decided.items()):
        if not loop.distributed and isinstance(graph.params[node],
                                               ForEachParams | SplitInBatchesParams):
            known.decided[node] = LoopDecision(
                False, loop.reason, iteration_limit(graph, node, known),
                iteration_events(graph, node, known))
    return known.decided


def _decide_loop(graph: Graph, node: int, known: _Capabilities) -> LoopDecision:
    params = graph.params[node]
    if isinstance(params, WhileParams):
        return LoopDecision(False, "a while loop runs in its execution's own history")
    if not isinstance(params, ForEachParams | SplitInBatchesParams):
        return LoopDecision(False, f"{graph.type_of(node)} loop")
    if params.mode == "inline":
        return LoopDecision(False, "mode: inline")
    if params.mode == "distributed":
        return LoopDecision(True, "mode: distributed")
    if params.maxConcurrency > INLINE_MAX_CONCURRENCY:
        return LoopDecision(True, f"maxConcurrency {params.maxConcurrency} is over an inline "
                            f"Map's {INLINE_MAX_CONCURRENCY}")
    if not graph.loops[node].body:
        return LoopDecision(False, "an empty body")
    events = EXECUTION_EVENTS + ASSUMED_ITERATIONS * iteration_events(graph, node, known)
    if needs_child_executions(graph, node, known):
        return LoopDecision(True, f"{ASSUMED_ITERATIONS} iterations would record ~{events:,} "
                            f"history events, over the {HISTORY_BUDGET:,} planned for one "
                            "execution: each iteration runs as a child execution")
    return LoopDecision(False, f"{ASSUMED_ITERATIONS} iterations fit one execution's history "
                        f"(~{events:,} of {HISTORY_BUDGET:,} events)")


def _decide_node(graph: Graph, node: int, distributed: frozenset[int]) -> NodeDecision:
    lowering = NODE_TYPES[graph.type_of(node)].lowering
    kind = _KINDS[lowering]
    if kind != NATIVE:
        return NodeDecision(kind, _WHY[kind])
    refusal = native_refusal(graph, node)
    if refusal is None and node in distributed:
        refusal = IN_DISTRIBUTED
    if refusal is not None:
        return NodeDecision(RUNNER, f"not native: {refusal}", refusal)
    return NodeDecision(NATIVE, "native states compute it exactly (no Lambda call)")


class _Choices:
    """``compiler.passes.structure.Choices``: answers the plan's questions from the node
    decisions, and records every segment's answer with its reason."""

    def __init__(self, graph: Graph, nodes: tuple[NodeDecision, ...]) -> None:
        self.graph = graph
        self.nodes = nodes
        self.segments: list[SegmentDecision] = []
        self._eligible: dict[int, bool] = {}

    def native(self, node: int) -> bool:
        return self.nodes[node].lowering == NATIVE

    def runs_as_flow(self, members: Sequence[int], flows: str) -> bool:
        flow, reason = self._flow(members, flows)
        self.segments.append(SegmentDecision(tuple(members), flow, reason))
        return flow

    def _flow(self, members: Sequence[int], flows: str) -> tuple[bool, str]:
        if flows == "never":
            return False, "cut: rendezvous never here (the setting, a try/catch region, or " \
                "a definition too large with Flows)"
        ineligible = next((n for n in members if not self._flow_eligible(n)), None)
        if ineligible is not None:
            return False, f"cut: {self.graph.name(ineligible)} cannot run in a Flow chain " \
                "(a branch, loop, error output or race, or fed by one)"
        if flows == "always":
            return True, "flow: rendezvous always"
        timed = next((n for n in members if self.nodes[n].lowering in _TAKE_TIME), None)
        if timed is None:
            return False, "cut: no member takes time (waiting for a Pass state costs nothing)"
        return True, f"flow: {self.graph.name(timed)} takes time, and a cut would make " \
            "nodes wait that the DAG does not"

    def _flow_eligible(self, node: int) -> bool:
        """Worked out once per node: a segment is asked again at every level of the
        structure's recursion."""
        eligible = self._eligible.get(node)
        if eligible is None:
            eligible = self._eligible[node] = flow_eligible(self.graph, node)
        return eligible


@per_graph
def node_decisions(graph: Graph) -> tuple[tuple[NodeDecision, ...], Mapping[int, LoopDecision]]:
    """The node and loop decisions (no plan needed), once per graph: ``decide`` and the
    readers that ask about one node (``compiler.lowering.runs_on_runner``) share them."""
    loops = _decide_loops(graph)
    distributed = frozenset(n for loop, decision in loops.items() if decision.distributed
                            for n in graph.loops[loop].body)
    nodes = tuple(_decide_node(graph, node, distributed) for node in range(len(graph)))
    return nodes, MappingProxyType(loops)


def decide(graph: Graph, weights: list[float] | None = None,
           flows: str | None = None) -> Decisions:
    """Every decision for ``graph``, and the plans they shape (``weights``: node duration
    estimates for the structure's cuts; ``flows``: overrides ``settings.rendezvous``)."""
    nodes, loops = node_decisions(graph)
    choices = _Choices(graph, nodes)
    plans = region_plans(graph, weights, flows, choices=choices)
    return Decisions(graph, nodes, loops, MappingProxyType(plans),
                     tuple(choices.segments),
                     flows or graph.workflow.settings.rendezvous,
                     _fuse(graph, nodes, plans[None]))


def _fusible(graph: Graph, node: int, decision: NodeDecision,
             in_regions: frozenset[int]) -> bool:
    spec = graph.nodes[node]
    return (decision.lowering == RUNNER and spec.fuse and not graph.is_trigger(node)
            and spec.retry is None and spec.timeoutSeconds is None
            and spec.onError == "stopWorkflow" and node not in in_regions)


def _fuse(graph: Graph, nodes: tuple[NodeDecision, ...], plan: Step) -> tuple[FusedChain, ...]:
    """Runner chains of the workflow's plan that run in one Task (module docstring)."""
    if not graph.workflow.settings.fusion:
        return ()
    in_regions = frozenset(n for region in resolve_regions(graph) for n in region.members)
    chains: list[FusedChain] = []
    pending = [plan]
    while pending:
        step = pending.pop()
        if isinstance(step, Par):
            pending.extend(step.branches)
        elif isinstance(step, Guard):
            pending.append(step.body)
        elif isinstance(step, Seq):
            pending.extend(step.steps)
            chains += _chains_in(graph, nodes, step, in_regions)
    return tuple(sorted(chains, key=lambda chain: chain.members))


def _chains_in(graph: Graph, nodes: tuple[NodeDecision, ...], seq: Seq,
               in_regions: frozenset[int]) -> list[FusedChain]:
    found: list[FusedChain] = []
    current: list[int] = []
    for step in (*seq.steps, None):
        node = step.node if isinstance(step, NodeStep) else None
        fits = node is not None and _fusible(graph, node, nodes[node], in_regions)
        if fits and current and _linked(graph, current[-1], node):  # type: ignore[arg-type]
            current.append(node)  # type: ignore[arg-type]
            continue
        if len(current) > 1:
            found.append(FusedChain(tuple(current), f"{len(current)} runner nodes in a row: "
                                    "one Lambda call and one transition instead of "
                                    f"{len(current)}"))
        current = [node] if fits and node is not None else []
    return found


def _linked(graph: Graph, before: int, node: int) -> bool:
    """``node`` is the only successor of ``before``, by one connection (``succs`` lists a
    target once per connection), and reads nothing else."""
    return graph.succs[before] == [node] and len(graph.in_edges[node]) == 1


def has_flows(decisions: Decisions) -> bool:
    return any(segment.flow for segment in decisions.segments)

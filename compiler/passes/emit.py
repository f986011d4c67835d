"""Pass 3: structured plan -> ASL (JSONata query language) + manifest.

Data flow: every node's outputs live in one workflow *variable* (``$Fetch``), shaped
``{"ports": [{"count": n, "items": [...]}, ...]}`` — one entry per output port. A node's
Task reads its predecessors' variables; a Parallel branch ends with an ``Output`` holding the
variables that later states need, keyed by the nodes' variable names, and the Parallel
state ``Assign``s them (branch variables are invisible outside the branch). The last
state's ``Output`` is the workflow's result: the outputs of every sink node, keyed by node
name.

Scopes: Step Functions lets a Parallel branch read the variables around it but not assign a
name that another scope assigns (``local.aws_rules``). So a node keeps its plain name
(``$Fetch``) in the machine's own scope only; inside a branch, every variable the branch
assigns gets a name of that branch's own (``$Fetch_b3``, ``Emitter.inner_scope``), and the
Parallel assigns the plain (or its enclosing branch's) name from the branch's output.

Node parameters travel in ``Arguments`` as one JSON-encoded string: Step Functions never
evaluates a user's ``{% ... %}`` expression inside it (only strings that *are* an expression
are evaluated), multi-line code stays one line, and the runner decodes it and evaluates the
expressions per item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from compiler import asl
from compiler.jsonata_text import jsonata, literal
from compiler.lowering import quorum, region, rendezvous, task, variables
from compiler.lowering.dispatch import lower_node
from compiler.lowering.scope import (
    BRANCH_FINISHED,
    ScopeOutput,
    in_flow_order,
)
from compiler.model import NAME_MAX, fit_name
from compiler.naming import RESERVED_NAMES, uses_variables, variable_names
from compiler.passes.decide import Decisions
from compiler.passes.structure import (
    Flow,
    Guard,
    NodeStep,
    Par,
    Seq,
    Step,
    nodes_of,
    race_target,
)
from compiler.regions import Region, resolve_regions

BranchEmitter = Callable[..., str]  # (states, out=ScopeOutput) -> the branch's first state


class Emitter:
    def __init__(self, decisions: Decisions) -> None:
        self.graph = graph = decisions.graph
        self.decisions = decisions  # every choice, made once (compiler.passes.decide)
        self.region_plans = decisions.plans
        self.back_sources = graph.back_edge_sources()
        self.succ_sets = [frozenset(succs) for succs in graph.succs]
        self.loop_batches: list[str] = []  # JSONata iteration numbers of enclosing loops
        # The execution's context object, as JSONata: a Distributed Map's child executions
        # read the parent's, passed in (``compiler.lowering.loop``).
        self.execution = "$states.context.Execution"
        self.variables = "$vars"  # the workflow variables, as JSONata (likewise)
        self.cache: dict[str, Any] = {}  # per-workflow values lowerings compute once
        self.while_exits: dict[int, tuple[str, str]] = {}  # while -> (exit, condition)
        # Flow producers whose runner call also signals (compiler.lowering.rendezvous)
        self.signals: dict[int, dict[str, object]] = {}
        # ``key[n]``: node n's variable name, and its key in a branch's output object;
        # ``var[n]``: the name the state being emitted reads and assigns, which differs from
        # ``key[n]`` inside a Parallel branch (``inner_scope``) and in loops (lowerings swap
        # entries there).
        self.key = variable_names(graph)
        self.var = list(self.key)
        self.taken_vars = set(self.key) | RESERVED_NAMES
        self.scope_count = 0
        self.helper_names: set[str] = set(node.name for node in graph.nodes)
        self.parallel_count = 0
        self._init_regions()

    def _init_regions(self) -> None:
        """try/catch regions (``compiler.lowering.region``): the entry's variable carries
        ``try: {"ports": [error items, finally item]}``, the input of catch and finally."""
        self.regions = {r.entry: r for r in resolve_regions(self.graph)}
        self.region_inputs: dict[int, tuple[str, int, int]] = {}  # node -> (key, entry, port)
        self.current_region: Region | None = None
        for entry, spec in self.regions.items():
            key = f"#region {spec.name}"
            self.region_inputs[spec.catch] = (key, entry, 0)
            if spec.finally_ is not None:
                self.region_inputs[spec.finally_] = (key, entry, 1)

    def region_input(self, node: int) -> tuple[str, str, int] | None:
        """For a region's catch or finally node: its input's key in the runner's ``data``,
        the JSONata of the region outcome (``$Entry.try``, read where the node runs) and
        the outcome's port."""
        if node not in self.region_inputs:
            return None
        key, entry, port = self.region_inputs[node]
        return key, f"${self.var[entry]}.try", port

    # ----------------------------------------------------------------- scopes

    def assigned_in(self, members: Iterable[int]) -> set[int]:
        """The nodes whose variables a scope holding ``members`` assigns: the members and,
        for a region's entry, the whole region (its members are not plan steps)."""
        nodes = set(members)
        pending = [n for n in nodes if n in self.regions]
        while pending:
            region = self.regions[pending.pop()]
            new = region.members - nodes
            nodes |= new
            pending += [n for n in new if n in self.regions]
        return nodes

    @contextmanager
    def inner_scope(self, nodes: Iterable[int]) -> Iterator[None]:
        """Emit a Parallel branch in which ``nodes``' variables are assigned: each gets a
        name no other scope assigns (see the module docstring); restored afterwards."""
        self.scope_count += 1
        saved = {n: self.var[n] for n in nodes}
        for n in saved:
            name, suffix = f"{self.key[n]}_b{self.scope_count}", 2
            while name in self.taken_vars:
                name, suffix = f"{self.key[n]}_b{self.scope_count}_{suffix}", suffix + 1
            self.taken_vars.add(name)
            self.var[n] = name
        try:
            yield
        finally:
            for n, name in saved.items():
                self.var[n] = name

    # ----------------------------------------------------------------- names and values

    def helper(self, prefix: str, label: str) -> str:
        base = fit_name(f"#{prefix} {label}")
        name, suffix = base, 2
        while name in self.helper_names:
            tail = f" ({suffix})"
            name, suffix = fit_name(base, NAME_MAX - len(tail)) + tail, suffix + 1
        self.helper_names.add(name)
        return name

    def empty_ports(self, node: int) -> dict[str, object]:
        ports = [{"count": 0, "items": []} for _ in self.graph.outputs[node]]
        return {"ports": ports}

    def run_index(self) -> str | None:
        """JSONata of the node-run index inside loops (iteration numbers, nested
        loops combined), or None outside any loop."""
        if not self.loop_batches:
            return None
        index = "0"
        for iteration in self.loop_batches:
            index = f"({index}) * 100000 + {iteration}"
        return index

    def exported(self, members: set[int]) -> list[int]:
        """Nodes of ``members`` whose outputs are read outside them (or are results). A
        region's entry stands for the whole region (its members are not plan steps)."""
        handlers: dict[int, set[int]] = {}
        for entry in members & self.regions.keys():
            region = self.regions[entry]
            members = members | region.members
            handlers[entry] = {n for n in (region.catch, region.finally_) if n is not None}
        succs = self.succ_sets
        return [
            node
            for node in sorted(members)
            if not succs[node]
            or node in self.back_sources
            or not succs[node] <= members  # a set test: blocks nest, this runs n x depth
            or (handlers and not handlers.get(node, set()) <= members)
        ]

    def input_items(self, node: int) -> str:
        """JSONata: all items arriving at ``node``, concatenated across its connections."""
        parts = [
            f"${self.var[edge.source]}.ports[{edge.output}].items"
            for edge in self.graph.in_edges[node]
        ]
        region_input = self.region_input(node)
        if region_input is not None:
            parts.append(f"{region_input[1]}.ports[{region_input[2]}].items")
        return "[" + ", ".join(parts) + "]"

    # ----------------------------------------------------------------- lowering

    def emit(self, step: Step, states: dict[str, asl.State], next_name: str | None,
             out: ScopeOutput) -> str:
        if isinstance(step, NodeStep):
            return self.emit_node(step.node, states, next_name, out)
        if isinstance(step, Seq):
            for index in reversed(range(len(step.steps))):
                child = step.steps[index]
                chain = self.decisions.fused_chain(child.node) \
                    if isinstance(child, NodeStep) else None
                if chain is not None:  # one Task, at its first node (compiler.lowering.task)
                    if child.members[0] == chain.members[0]:
                        next_name = task.lower_fused(self, chain.members, states,
                                                     next_name, out)
                    continue
                race = race_target(self.graph, step.steps, index)
                if race is not None and isinstance(child, Par) and next_name is not None:
                    next_name = self.emit_parallel(child, states, next_name, out, race=race)
                else:
                    next_name = self.emit(child, states, next_name, out)
            assert next_name is not None
            return next_name
        if isinstance(step, Par | Flow):
            return self.emit_parallel(step, states, next_name, out)
        return self.emit_guard(step, states, next_name, out)

    def end_output(self, next_name: str | None, out: ScopeOutput,
                    overrides: dict[int, str]) -> str | None:
        return None if next_name is not None else out.expression(self, overrides)

    def emit_node(self, node: int, states: dict[str, asl.State], next_name: str | None,
                  out: ScopeOutput) -> str:
        """Lower one node by its type's lowering (``compiler.lowering``)."""
        if node in self.regions and self.current_region is None:  # a region, by its entry
            return region.lower(self, self.regions[node], states, next_name, out)
        return lower_node(self, node, states, next_name, out)

    def emit_parallel(self, step: Par | Flow, states: dict[str, asl.State],
                      next_name: str | None, out: ScopeOutput, race: int | None = None) -> str:
        """A Parallel state. With ``race`` (the waitFor-any Merge its branches feed) every
        branch that finishes with items ends in a ``#finished`` Fail state carrying its
        outputs; the Parallel's Catch takes the first one, which cancels the others. A
        waitFor-N Merge counts finishes instead (``compiler.lowering.quorum``). A Flow's
        branches are its chains (``compiler.lowering.rendezvous``)."""
        quorate = race is not None and quorum.quorum_of(self.graph, race) is not None
        exported_by: dict[int, int] = {}  # exported node -> its branch index
        self.parallel_count += 1
        plans = self._branch_plans(step)
        firsts = " | ".join(self.graph.name(plan[0][0]) for plan in plans)
        name = self.helper(f"parallel {self.parallel_count}:", firsts)
        branches: list[asl.Branch] = []
        assign: dict[str, object] = {}
        overrides: dict[int, str] = {}
        for index, (nodes, assigned, exports, emit_branch) in enumerate(plans):
            branch_out = ScopeOutput(tuple((self.key[n], n) for n in exports))
            branch_states: dict[str, asl.State] = {}
            with self.inner_scope(assigned):
                start = emit_branch(branch_states, out=branch_out)
                if race is not None and quorate:
                    quorum.finish_branch(self, race, index, self.graph.name(nodes[0]),
                                         branch_states)
                elif race is not None:
                    quorum.finish_race_branch(self, race, index, self.graph.name(nodes[0]),
                                              branch_states)
            branches.append(asl.Branch(start, in_flow_order(start, branch_states)))
            for n in exports:
                source = f"$states.result[{index}].{self.key[n]}"
                assign[self.var[n]] = jsonata(source)
                overrides[n] = source
                exported_by[n] = index
        catch: tuple[asl.Catcher, ...] = ()
        if race is not None and quorate:
            assert next_name is not None
            catch = quorum.catchers(self, race, exported_by, next_name, states)
        elif race is not None:
            assert next_name is not None
            won = {
                self.var[n]: jsonata(
                    f"($w := $parse($states.errorOutput.Cause); $exists($w.{self.key[n]}) ? "
                    f"$w.{self.key[n]} : {literal(self.empty_ports(n))})")
                for n in overrides
            }
            catch = (asl.Catcher((BRANCH_FINISHED,), next_name, assign=won),
                     *quorum.race_catchers(self, race, exported_by, next_name, states))
        states[name] = asl.Parallel(
            comment=rendezvous.FLOW_COMMENT if isinstance(step, Flow) else None,
            branches=tuple(branches),
            assign=assign,
            output=self.end_output(next_name, out, overrides),
            next=next_name,
            catch=catch,
        )
        return name

    def _branch_plans(self, step: Par | Flow) -> list[
            tuple[tuple[int, ...], set[int], list[int], BranchEmitter]]:
        """Per branch of a Parallel: its nodes, the nodes whose variables it assigns, the
        nodes it exports, and how to emit it (a Par's branch is a plan step; a Flow's is a
        chain, whose nodes export what leaves the Flow, not what leaves the chain: the rest
        meets at rendezvous, where an ``#await`` assigns its producers' variables)."""
        if isinstance(step, Flow):
            leaving = set(self.exported(set(step.members)))
            return [(chain,
                     self.assigned_in(
                         {*chain, *(p for n in chain for p in step.producers.get(n, ()))}),
                     [n for n in sorted(chain) if n in leaving],
                     partial(rendezvous.emit_chain, self, step, chain))
                    for chain in step.chains]
        return [(branch.members, self.assigned_in(branch.members),
                 self.exported(set(branch.members)),
                 partial(self.emit, branch, next_name=None)) for branch in step.branches]

    def emit_guard(self, step: Guard, states: dict[str, asl.State], next_name: str | None,
                   out: ScopeOutput) -> str:
        members = nodes_of(step.body)
        name = self.helper("skip", self.graph.name(members[0]))
        condition = " and ".join(
            f"${self.var[node]}.ports[{port}].count = 0" for node, port in step.ports
        )
        exports = self.exported(set(members))
        if next_name is not None:
            skip = asl.ChoiceRule(
                jsonata(condition), next_name,
                assign={self.var[n]: self.empty_ports(n) for n in exports} or None,
            )
        else:
            skipped = self.helper("skipped", self.graph.name(members[0]))
            empties = {n: literal(self.empty_ports(n)) for n in exports}
            states[skipped] = asl.Pass(output=out.expression(self, empties))
            skip = asl.ChoiceRule(jsonata(condition), skipped)
        body = self.emit(step.body, states, next_name, out)
        states[name] = asl.Choice(choices=(skip,), default=body)
        return name


def emit(decisions: Decisions) -> asl.StateMachine:
    """The state machine of the decided plan (``compiler.passes.decide``)."""
    graph, plan = decisions.graph, decisions.plan
    emitter = Emitter(decisions)
    in_bodies = graph.in_loop_body()
    sinks = [n for n in range(len(graph)) if not graph.succs[n] and n not in in_bodies]
    out = ScopeOutput(tuple((graph.name(n), n) for n in sinks))
    states: dict[str, asl.State] = {}
    start = emitter.emit(plan, states, None, out)
    if uses_variables(graph):
        start = variables.initialise(start, states)
    workflow = graph.workflow
    return asl.StateMachine(
        start_at=start,
        states=in_flow_order(start, states),
        comment=f"sfnflow workflow {workflow.name}",
        timeout_seconds=workflow.settings.timeoutSeconds,
    )

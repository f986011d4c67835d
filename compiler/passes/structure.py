"""Pass 2: Graph -> a structured plan of sequences, parallel blocks and guarded blocks.

Step Functions can only express *structured* concurrency (a Parallel state waits for all of
its branches), so an arbitrary DAG must be cut into nested sequences and parallel blocks.

``structure`` recursively decomposes a set of nodes S (always convex in the DAG):

1. **Series cuts.** In any topological order of S, a prefix A is an *exact series cut* when
   every node of A reaches every node of S \\ A. Then Seq[A, rest] loses nothing: every
   path of A can be extended by every path of the rest, so the critical path of S is
   CP(A) + CP(rest). All exact cuts are found in one sweep with bitset reachability.
2. **Parallel split.** A segment between cuts that falls into several weakly connected
   components becomes a Parallel of those components (makespan = the max).
3. **Non-series-parallel segments.** A connected segment with no exact cut (an "N"
   shape) becomes a ``Flow`` when the decisions pass says so (``Choices.runs_as_flow``:
   ``settings.rendezvous`` and the members; its chains meet where the DAG says: exactly the
   critical path, ``compiler.lowering.rendezvous``). Otherwise
   it is split at the prefix A (in earliest-start order) that minimises CP(A) + CP(rest),
   using unit node weights (or the caller's estimates). This adds a synchronisation point
   that the DAG does not need; it is the only place a plan can be slower than the DAG.
   Segments of more than ``LEVEL_CUT_SEGMENT`` nodes are cut at their most balanced level
   boundary instead (as fast a cut under unit weights, found in linear time, and more
   robust to unknown durations).

On series-parallel DAGs only steps 1-2 apply, so the plan's makespan equals the critical
path. Every node appears exactly once, after all of its predecessors.

Finally, blocks whose every external input comes from a *branch port* (an IF/Switch output
or a continueErrorOutput error port) are wrapped in a Guard, which skips the block when
those ports carry no items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from compiler.errors import Problem
from compiler.graph import Graph
from compiler.nodetypes import NODE_TYPES
from compiler.regions import contracted, resolve_regions


@dataclass(frozen=True)
class NodeStep:
    node: int

    @cached_property
    def members(self) -> tuple[int, ...]:
        return (self.node,)


@dataclass(frozen=True)
class Seq:
    steps: tuple[Step, ...]

    @cached_property
    def members(self) -> tuple[int, ...]:
        return tuple(n for step in self.steps for n in step.members)


@dataclass(frozen=True)
class Par:
    branches: tuple[Step, ...]

    @cached_property
    def members(self) -> tuple[int, ...]:
        return tuple(n for step in self.branches for n in step.members)


@dataclass(frozen=True)
class Guard:
    """Run ``body`` only if at least one of ``ports`` (node, output) carries items."""

    ports: tuple[tuple[int, int], ...]
    body: Step

    @cached_property
    def members(self) -> tuple[int, ...]:
        return self.body.members


@dataclass(frozen=True)
class Flow:
    """A non-series-parallel segment run as it is: ``chains`` (paths of the DAG) are the
    branches of one Parallel, and a node whose predecessor runs in another chain waits for
    it (``waits``: node -> those predecessors) through a rendezvous
    (``compiler.lowering.rendezvous``). No synchronisation the DAG does not need: the
    segment takes its critical path."""

    order: tuple[int, ...]  # the members in topological order
    chains: tuple[tuple[int, ...], ...]
    waits: tuple[tuple[int, tuple[int, ...]], ...]

    @property
    def members(self) -> tuple[int, ...]:
        return self.order

    @cached_property
    def producers(self) -> dict[int, tuple[int, ...]]:
        """node -> the nodes of other chains it waits for (``waits`` as a dict)."""
        return dict(self.waits)

    @cached_property
    def consumers(self) -> dict[int, tuple[int, ...]]:
        """node -> the nodes of other chains that wait for it."""
        found: dict[int, list[int]] = {}
        for node, producers in self.waits:
            for producer in producers:
                found.setdefault(producer, []).append(node)
        return {node: tuple(waiting) for node, waiting in found.items()}


Step = NodeStep | Seq | Par | Guard | Flow

BRANCHING_TYPES = frozenset({"if", "switch"})


def nodes_of(step: Step) -> list[int]:
    """The nodes of ``step`` in plan order (cached on the step)."""
    return list(step.members)


FLOW_LOWERINGS = frozenset({"task", "native", "wait", "subworkflow"})


def flow_eligible(graph: Graph, node: int) -> bool:
    """Whether ``node`` may run in a ``Flow`` chain: a node with one state and one way out
    (no loop, no IF/Switch, no error output, no race), fed by no IF/Switch or error output
    (a chain has no guards: every member runs)."""
    kind = graph.type_of(node)
    if NODE_TYPES[kind].lowering not in FLOW_LOWERINGS or kind in BRANCHING_TYPES:
        return False
    if graph.nodes[node].onError == "continueErrorOutput":
        return False
    if kind == "merge" and getattr(graph.params[node], "waitFor", "all") != "all":
        return False
    return not any(_is_branch_port(graph, edge.source, edge.output)
                   for edge in graph.in_edges[node])


class Choices(Protocol):
    """What the plan needs decided about nodes and segments: the decisions pass
    (``compiler.passes.decide``) answers, and records each answer with its reason."""

    def native(self, node: int) -> bool:
        """Whether ``node`` is lowered to native states (no Lambda call)."""
        ...

    def runs_as_flow(self, members: Sequence[int], flows: str) -> bool:
        """Whether the non-series-parallel segment ``members`` runs as a ``Flow`` (else it
        is cut), under ``flows`` (always, never, auto) in force where it stands."""
        ...


class _Decomposer:
    def __init__(self, graph: Graph, weights: list[float], choices: Choices,
                 flows: str = "never") -> None:
        """``graph``: the region to plan (a view)."""
        self.graph = graph
        self.weights = weights
        self.choices = choices
        self.flows = flows
        self.order = graph.topological_order()
        self.position = {node: k for k, node in enumerate(self.order)}
        self.desc = graph.descendants(self.order)
        self.anc = [0] * len(graph)
        for node in self.order:
            for p in graph.preds[node]:
                self.anc[node] |= self.anc[p] | (1 << p)

    def structure(self, members: list[int]) -> Step:
        """``members`` is in topological order."""
        if len(members) == 1:
            return NodeStep(members[0])
        segments = self._series_segments(members)
        if len(segments) > 1:
            return _seq(self._parallel(segment) for segment in segments)
        return self._parallel(members)

    def _series_segments(self, members: list[int]) -> list[list[int]]:
        mask = 0
        for node in members:
            mask |= 1 << node
        segments: list[list[int]] = []
        current: list[int] = []
        reach_all = mask  # nodes reached by every member of the current prefix
        rest = mask
        for node in members[:-1]:
            current.append(node)
            rest ^= 1 << node  # (no negative numbers: ~x makes big-int ops slower)
            reach_all &= self.desc[node]
            if rest & reach_all == rest:
                segments.append(current)
                current = []
        current.append(members[-1])
        segments.append(current)
        return segments

    def _parallel(self, members: list[int]) -> Step:
        if len(members) == 1:
            return NodeStep(members[0])
        components = self._components(members)
        if len(components) > 1:
            return Par(tuple(self.structure(component) for component in components))
        return self._split_non_series_parallel(members)

    def _components(self, members: list[int]) -> list[list[int]]:
        inside = set(members)
        parent = {node: node for node in members}

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for node in members:
            for succ in self.graph.succs[node]:
                if succ in inside:
                    parent[find(node)] = find(succ)
        groups: dict[int, list[int]] = {}
        for node in members:  # keeps topological order inside every component
            groups.setdefault(find(node), []).append(node)
        return list(groups.values())

    def _split_non_series_parallel(self, members: list[int]) -> Step:
        """Cut a connected segment that has no exact series cut at its best prefix.

        Every cut here adds waits the DAG does not need. A cut first costs the makespan
        it forces, CP(head) + CP(rest) under the node weights (unit by default: durations
        are unknown at compile time); among equally fast cuts, the one whose head/rest
        pairs are least often unordered in the DAG (fewest false dependencies per pair)
        wins, then the most balanced. Candidates are the valid prefixes of two
        topological orders: earliest start first, and latest start first.

        (Scoring cuts by their expected forced makespan over sampled durations was tried
        and rejected: the myopic sum favours peeling one short node at a time, which
        serialises the segment — 7x the critical path on 300-node layered DAGs.)
        """
        inside = set(members)
        samples = [self.weights]
        base = self.weights
        start: dict[int, float] = {}
        preds = self.graph.preds
        for node in members:  # members are in topological order
            earliest = 0.0
            for p in preds[node]:
                if p in inside:
                    candidate = start[p] + base[p]
                    if candidate > earliest:
                        earliest = candidate
            start[node] = earliest
        if self._runs_as_flow(members):
            return self._flow(members, inside, start)
        if len(members) > self.LEVEL_CUT_SEGMENT:
            return self._split_at_middle_level(members, start)
        tails = [self._tails(members, inside, weights) for weights in samples]
        length = max(start[n] + tails[0][n] for n in members)
        orders = [
            sorted(members, key=lambda n: (start[n], self.position[n])),
            sorted(members, key=lambda n: (length - tails[0][n], start[n], self.position[n])),
        ]
        best: tuple[float, float, int] | None = None
        best_order: list[int] = []
        best_cut = 1
        for ordered in orders:
            # Large segments prefer balance outright (no false-dependency counts, all 0): it
            # keeps the recursion shallow (n log n instead of n^2 on 10,000-node DAGs).
            valid = self._valid_cuts(ordered, inside, len(ordered) <= self.SMALL_SEGMENT)
            forced = [0.0] * len(ordered)
            for weights, tail in zip(samples, tails, strict=True):
                for k, value in enumerate(self._forced(ordered, inside, weights, tail)):
                    forced[k] += value
            for cut, false_deps in valid.items():
                falseness = false_deps / (cut * (len(ordered) - cut))
                key = (round(forced[cut] / len(samples), 9), falseness,
                       abs(len(ordered) - 2 * cut))
                if best is None or key < best:
                    best, best_order, best_cut = key, ordered, cut
        head = sorted(best_order[:best_cut], key=self.position.__getitem__)
        rest = sorted(best_order[best_cut:], key=self.position.__getitem__)
        return _seq([self.structure(head), self.structure(rest)])

    SMALL_SEGMENT = 400
    # Past this size, under unit weights, the most balanced level cut beats the search's
    # pick on random layered DAGs (makespan / critical path at 300 nodes: 1.48 against
    # 1.87; at 100: 1.39 either way; below it the false-dependency tie-break wins).
    LEVEL_CUT_SEGMENT = 60

    def _runs_as_flow(self, members: list[int]) -> bool:
        return self.choices.runs_as_flow(members, self.flows)

    def _flow(self, members: list[int], inside: set[int], start: dict[int, float]) -> Flow:
        """Cover the segment with paths of the DAG, greedily: in topological order, a node
        extends the chain of the predecessor it would wait for longest (the latest to
        finish) when that chain still ends there, or starts a chain. Every other
        predecessor inside the segment is a rendezvous."""
        chain_of: dict[int, int] = {}
        chains: list[list[int]] = []
        waits: list[tuple[int, tuple[int, ...]]] = []
        weights = self.weights
        outdegree = {n: sum(1 for s in self.graph.succs[n] if s in inside) for n in members}
        for node in members:
            inner = [p for p in self.graph.preds[node] if p in inside]
            free = [p for p in inner if chains[chain_of[p]][-1] == p]
            if free:  # ties: the predecessor with the fewest other successors to extend
                pred = max(free, key=lambda p: (start[p] + weights[p], -outdegree[p],
                                                -self.position[p]))
                chain_of[node] = chain_of[pred]
            else:
                pred = None
                chain_of[node] = len(chains)
                chains.append([])
            chains[chain_of[node]].append(node)
            others = tuple(sorted(set(inner) - {pred}, key=self.position.__getitem__))
            if others:
                waits.append((node, others))
        return Flow(tuple(members), tuple(tuple(c) for c in chains), tuple(waits))

    def _split_at_middle_level(self, members: list[int], start: dict[int, float]) -> Step:
        """Large segments: cut between two levels (earliest starts under the weights).

        Under equal weights every level cut forces exactly the critical path (the head ends
        at level k, and nothing after it needs more than the rest of the path), the best
        any cut can force. Among them the most balanced keeps the recursion shallow and,
        measured on random layered DAGs, copes better with the unknown real durations than
        the general search's false-dependency tie-break (``LEVEL_CUT_SEGMENT``). With
        estimated weights the same balanced cut by start time is used: the search's
        cheapest-looking cut peels one short node at a time, and compounded over a deep
        recursion that made 300-node layered plans 4-13x their critical path (balanced:
        1.4-1.9x; picking the lowest forced makespan among time cuts: 1.2-2.2x, worse on
        average). Linear time."""
        by_level: dict[float, list[int]] = {}
        for node in members:
            by_level.setdefault(start[node], []).append(node)
        levels = sorted(by_level)
        half, count, best_k, best_gap = len(members) / 2, 0, 1, float("inf")
        for k, level in enumerate(levels[:-1], start=1):
            count += len(by_level[level])
            if abs(half - count) < best_gap:
                best_k, best_gap = k, abs(half - count)
        head_levels = set(levels[:best_k])
        head = [n for n in members if start[n] in head_levels]  # topological order kept
        rest = [n for n in members if start[n] not in head_levels]
        return _seq([self.structure(head), self.structure(rest)])

    def _tails(self, members: list[int], inside: set[int],
               weights: list[float]) -> dict[int, float]:
        tail: dict[int, float] = {}
        succs = self.graph.succs
        for node in reversed(members):
            longest = 0.0
            for s in succs[node]:
                if s in inside and tail[s] > longest:
                    longest = tail[s]
            tail[node] = weights[node] + longest
        return tail

    def _forced(self, ordered: list[int], inside: set[int], weights: list[float],
                tail: dict[int, float]) -> list[float]:
        """CP(head) + CP(rest) for every prefix length k (index k; 0 unused)."""
        finish: dict[int, float] = {}
        prefix_cp = [0.0] * (len(ordered) + 1)
        best = 0.0
        preds = self.graph.preds
        for k, node in enumerate(ordered, start=1):
            latest = 0.0
            for p in preds[node]:
                done = finish.get(p)
                if done is not None and done > latest:
                    latest = done
            finish[node] = weights[node] + latest
            if finish[node] > best:
                best = finish[node]
            prefix_cp[k] = best
        out = [0.0] * len(ordered)
        best = 0.0
        for k in range(len(ordered) - 1, 0, -1):
            if tail[ordered[k]] > best:
                best = tail[ordered[k]]
            out[k] = prefix_cp[k] + best
        return out

    def _valid_cuts(self, ordered: list[int], inside: set[int],
                    count_false: bool = True) -> dict[int, int]:
        """Prefix lengths whose head holds all its predecessors -> false dependencies
        (0 for every cut without ``count_false``: the bitset counts are most of the cost)."""
        preds, succs = self.graph.preds, self.graph.succs
        mask = 0
        if count_false:
            for node in ordered:
                mask |= 1 << node
        cuts: dict[int, int] = {}
        head_mask, ordered_pairs, missing_preds = 0, 0, 0
        rest_mask = mask
        for k in range(1, len(ordered)):
            node = ordered[k - 1]
            if count_false:
                # moving `node` from rest to head: lose the pairs (head, node), gain
                # (node, rest)
                ordered_pairs -= (self.anc[node] & head_mask).bit_count()
                rest_mask &= ~(1 << node)
                ordered_pairs += (self.desc[node] & rest_mask).bit_count()
            missing_preds += sum(1 for p in preds[node]
                                 if p in inside and not (head_mask >> p) & 1)
            missing_preds -= sum(1 for c in succs[node] if (head_mask >> c) & 1)
            head_mask |= 1 << node
            if missing_preds == 0:
                cuts[k] = k * (len(ordered) - k) - ordered_pairs if count_false else 0
        return cuts


def _seq(steps: object) -> Step:
    flat: list[Step] = []
    for step in steps:  # type: ignore[attr-defined]
        flat.extend(step.steps if isinstance(step, Seq) else [step])
    return flat[0] if len(flat) == 1 else Seq(tuple(flat))


def _is_branch_port(graph: Graph, node: int, output: int) -> bool:
    if graph.type_of(node) in BRANCHING_TYPES:
        return True
    return graph.nodes[node].onError == "continueErrorOutput"


def _guard_ports(graph: Graph, step: Step) -> frozenset[tuple[int, int]] | None:
    """The branch ports feeding ``step``, or None if any external input is not one.

    Parallel blocks are never guarded themselves: each of their branches is fed by a subset
    of the same ports, so the branches carry the guards.
    """
    if isinstance(step, Par):
        return None
    members = set(nodes_of(step))
    ports = frozenset(
        (edge.source, edge.output)
        for node in members
        for edge in graph.in_edges[node]
        if edge.source not in members
    )
    if ports and all(_is_branch_port(graph, node, output) for node, output in ports):
        return ports
    return None


EMPTY_SAFE_TYPES = frozenset({"set", "if", "switch", "filter", "noOp", "limit", "merge"})
MAX_UNGUARDED_BLOCK = 32


def empty_safe(graph: Graph, node: int, native: bool) -> bool:
    """Whether ``node`` (``native``: lowered to native states, as decided) may simply run
    when its inputs carry no items: a natively lowered
    pure-data node outputs nothing for nothing, and a native run without input items is
    not recorded (``functions.services.native_runs``), exactly as if it had been skipped.
    A guard is one Choice state: one transition to skip the block, one more to run it. A
    block of at most ``MAX_UNGUARDED_BLOCK`` such nodes runs unguarded: k transitions
    whether or not its ports carry items, against k + 1 guarded when they do (the common
    case: IF and Switch split a list of items across their outputs) and 1 when they do
    not. The cap bounds what an untaken branch can cost."""
    return native and graph.type_of(node) in EMPTY_SAFE_TYPES


def add_guards(graph: Graph, step: Step, enclosing: frozenset[tuple[int, int]] = frozenset(),
               guardable: bool = True, unguarded: frozenset[int] = frozenset()) -> Step:
    """Guard every sequence element and parallel branch fed only by branch ports, unless
    every node of it is in ``unguarded`` (empty-safe: see ``empty_safe``).

    A block whose ports equal the enclosing guard's is not guarded again.
    """
    ports = _guard_ports(graph, step) if guardable else None
    if ports is not None and len(step.members) <= MAX_UNGUARDED_BLOCK \
            and all(node in unguarded for node in step.members):
        ports = None
    inner = ports if ports is not None else enclosing
    if isinstance(step, Seq):
        body: Step = Seq(tuple(add_guards(graph, child, inner, unguarded=unguarded)
                               for child in step.steps))
    elif isinstance(step, Par):
        body = Par(tuple(add_guards(graph, branch, inner, unguarded=unguarded)
                         for branch in step.branches))
    else:
        body = step
    if ports is None or ports == enclosing:
        return body
    return Guard(tuple(sorted(ports)), body)


def structure(graph: Graph, weights: list[float] | None = None,
              members: set[int] | None = None, flows: str | None = None, *,
              choices: Choices) -> Step:
    """The structured plan of the workflow, or of the region ``members`` (a loop body, or
    everything outside loop bodies) using only the edges inside it. ``flows``: when
    non-series-parallel segments may become a ``Flow`` (always, never, auto; default: the
    workflow's ``settings.rendezvous``); ``choices`` decides each one."""
    if flows is None:
        flows = graph.workflow.settings.rendezvous
    region = graph if members is None else graph.view(members)
    decomposer = _Decomposer(region, weights or [1.0] * len(graph), choices, flows)
    order = decomposer.order if members is None else [
        n for n in decomposer.order if n in members]
    unguarded = frozenset(n for n in order if empty_safe(graph, n, choices.native(n)))
    return add_guards(region, decomposer.structure(order), guardable=False,
                      unguarded=unguarded)


def region_plans(graph: Graph, weights: list[float] | None = None,
                 flows: str | None = None, *, choices: Choices) -> dict[int | None, Step]:
    """Plans of every region: ``None`` for the top level, and one per loop node's body
    (``flows``, ``choices``: as for ``structure``).

    A loop node is one step of the region that holds it; its body (minus nested bodies) is
    a region of its own, lowered inside the loop's Map state (or, for while, after its
    Choice state).
    """
    in_bodies = graph.in_loop_body()
    top = set(range(len(graph))) - in_bodies
    regions = resolve_regions(graph)
    if regions:  # a try/catch region is one step (its entry); its members are planned apart
        top -= {n for r in regions for n in r.members if n != r.entry}
        view = contracted(graph, regions, top)
        decomposer = _Decomposer(view, weights or [1.0] * len(graph), choices)
        order = [n for n in decomposer.order if n in top]
        plans: dict[int | None, Step] = {
            None: add_guards(view, decomposer.structure(order), guardable=False)}
        plans.update({r.entry: structure(graph, weights, set(r.members), flows="never",
                                         choices=choices)
                      for r in regions})  # a chain cannot route to the region's catch
    else:
        plans = {None: structure(graph, weights, top, flows, choices=choices)}
    for node, loop in graph.loops.items():
        nested = {n for inner, other in graph.loops.items() if inner in loop.body
                  for n in other.body}
        if not loop.body:
            continue
        region = set(loop.body) - nested
        if any(graph.type_of(n) in JUMP_TYPES for n in region):
            plans[node] = sequential(graph, region)
        else:
            plans[node] = structure(graph, weights, region, flows, choices=choices)
    return plans


JUMP_TYPES = frozenset({"break", "continue"})


def sequential(graph: Graph, members: set[int]) -> Step:
    """``members`` one node after another (topological order), each guarded on its own.

    A while body with break/continue is planned this way: a jump leaves the body from the
    body's own scope, which it could not do from inside a Parallel branch."""
    region = graph.view(members)
    order = [n for n in region.topological_order() if n in members]
    return add_guards(region, _seq(NodeStep(n) for n in order), guardable=False)


def _merge_node(graph: Graph, step: Step) -> int | None:
    while isinstance(step, Guard):
        step = step.body
    if isinstance(step, NodeStep) and graph.type_of(step.node) == "merge":
        return step.node
    return None


def race_target(graph: Graph, steps: tuple[Step, ...], index: int) -> int | None:
    """The waitFor-any Merge that the Parallel ``steps[index]`` races into, if any."""
    if not isinstance(steps[index], Par) or index + 1 >= len(steps):
        return None
    merge = _merge_node(graph, steps[index + 1])
    if merge is None or getattr(graph.params[merge], "waitFor", "all") == "all":
        return None
    return merge


def race_problems(graph: Graph, plans: dict[int | None, Step]) -> list[Problem]:
    """A waitFor-any or waitFor-N Merge needs its inputs to be exactly the branches of the
    Parallel right before it, each feeding only the Merge; otherwise cancelling the losing
    branches would cancel work other nodes wait for. waitFor N needs more than N branches."""
    racing: dict[int, int] = {}  # merge -> branches racing into it
    for plan in plans.values():
        for seq in _sequences(plan):
            for index in range(len(seq.steps)):
                merge = race_target(graph, seq.steps, index)
                par = seq.steps[index]
                if merge is None or not isinstance(par, Par):
                    continue
                branch_members = [set(b.members) for b in par.branches]
                feeds_only_merge = all(
                    all(succ in members or succ == merge for succ in graph.succs[n])
                    and graph.succs[n]
                    for members in branch_members for n in members
                )
                every_branch_feeds = all(
                    any(merge in graph.succs[n] for n in members) for members in branch_members
                )
                if feeds_only_merge and every_branch_feeds:
                    racing[merge] = len(branch_members)
    problems: list[Problem] = []
    for node in range(len(graph)):
        wait_for = getattr(graph.params[node], "waitFor", "all")
        if graph.type_of(node) != "merge" or wait_for == "all":
            continue
        if node not in racing:
            problems.append(Problem(
                graph.name(node), "parameters.waitFor",
                f"waitFor: {wait_for} needs every input of the merge to come from its own "
                "parallel branch that leads only to this merge (the losing branches are "
                "cancelled)", "race"))
        elif isinstance(wait_for, int) and wait_for >= racing[node]:
            problems.append(Problem(
                graph.name(node), "parameters.waitFor",
                f"waitFor: {wait_for} needs more than {wait_for} input branches, but "
                f"{racing[node]} branches lead to this merge (waitFor: all waits for every "
                "branch)", "race"))
    return problems


def has_flows(plans: dict[int | None, Step]) -> bool:
    return any(isinstance(step, Flow) for plan in plans.values() for step in _steps(plan))


def _steps(root: Step) -> list[Step]:
    """Every step of the plan tree under ``root`` (itself included)."""
    found: list[Step] = []
    pending = [root]
    while pending:
        step = pending.pop()
        found.append(step)
        if isinstance(step, Seq):
            pending.extend(step.steps)
        elif isinstance(step, Par):
            pending.extend(step.branches)
        elif isinstance(step, Guard):
            pending.append(step.body)
    return found


def _sequences(step: Step) -> list[Seq]:
    return [s for s in _steps(step) if isinstance(s, Seq)]

"""A cyclic part of an n8n workflow, run in n8n's execution order, in one process.

n8n's SplitInBatches v1/v2/v2.1 loops are cycles in the workflow: the loop node hands out
one batch per run, and the loop ends when a node of the body (usually an IF reading
``$node["Loop"].context["noItemsLeft"]``) stops sending items back. What runs next is
decided by n8n's engine, node run by node run: a stack of node executions, where the
children of a node that produced items are added in connection order (legacy order,
``executionOrder`` v0: pushed at the end) or top-left first by canvas position (v1:
put in front). ``run_region`` reproduces that loop for the members of one region
(``compiler.n8n.cycles`` finds them) and leaves running each node to ``run_member``.

* Each member keeps n8n's run index (its runs so far, counting from ``base_runs``), and
  each SplitInBatches member keeps its node context (a ``BatchState``), which the caller
  shows to expressions as ``$node["Loop"].context``.
* A node whose output has no items starts nothing (n8n's rule; ``alwaysOutputData`` is the
  member's own flag, applied by ``run_member``).
* Items on an *exit* (an output connected to a node outside the region) are handed out
  when the region ends, paired with the region's input items they descend from (their
  ``pairedItem`` walked back through the member runs), so lineage from a node after the
  loop to one before it (``$('Before').item``) crosses the region as one node. n8n
  would run the outside node at once, once per firing; here an
  exit that fires twice is an ``ExitFiredTwice`` error naming the node and output, so no
  run of the outside node is silently merged or lost.
* n8n has no bound on a loop that never ends; here ``max_runs`` node runs and the time
  left (``time_left``) bound it with ``RegionRunaway``.

Members have one input each (the compiler refuses others): n8n's multi-input waiting
does not arise.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.errors import NodeError
from functions.n8n.batches import BatchState
from functions.n8n.items import Item

SPLIT_IN_BATCHES = "n8n-nodes-base.splitInBatches"
#: Node runs one region may make before it is stopped as a loop that never ends.
MAX_RUNS = 10_000


class RegionRunaway(NodeError):
    """The region ran ``max_runs`` nodes or out of time: a loop that does not end."""

    error_type = "Sfnflow.LoopRunaway"


class ExitFiredTwice(NodeError):
    """An output leaving the region sent items twice (n8n would run its target twice)."""

    error_type = "Sfnflow.LoopExitRepeated"


@dataclass(frozen=True)
class Member:
    """A node of the region: its name, n8n type, typeVersion and canvas position."""

    name: str
    type: str
    type_version: float
    position: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Link:
    """A connection between two members (n8n's ``{node, index}`` under ``source``)."""

    source: str
    output: int
    target: str
    input: int = 0


@dataclass(frozen=True)
class Region:
    """The members, the links among them (in n8n's connection order), the region's input
    ports (``entries``: member and input per port) and output ports (``exits``: member
    and output per port)."""

    members: Mapping[str, Member]
    links: Sequence[Link]
    entries: Sequence[tuple[str, int]]
    exits: Sequence[tuple[str, int]]
    execution_order: str = "v0"
    max_runs: int = MAX_RUNS

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Region:
        """The region as the compiler sends it (``compiler.n8n.cycles.region_parameters``)."""
        members = {
            node["name"]: Member(node["name"], node["type"], float(node.get("typeVersion") or 1),
                                 tuple(node.get("position") or (0, 0)))  # type: ignore[arg-type]
            for node in data.get("nodes") or []
        }
        return cls(
            members,
            [Link(link["from"], int(link["output"]), link["to"], int(link.get("input") or 0))
             for link in data.get("links") or []],
            [(entry["node"], int(entry.get("input") or 0)) for entry in data.get("entries") or []],
            [(exit_["node"], int(exit_.get("output") or 0)) for exit_ in data.get("exits") or []],
            str(data.get("executionOrder") or "v0"),
            int(data.get("maxRuns") or MAX_RUNS),
        )


@dataclass(frozen=True)
class Step:
    """One node run: the node, its input items, its run index, the node (and output) its
    items came from (None at the region's entry) and, for SplitInBatches, its context."""

    node: str
    inputs: list[list[Item]]
    run_index: int
    source: tuple[str, int] | None
    state: BatchState | None = None


#: One node run: its outputs, or None for n8n's "no data" (SplitInBatches v1 with nothing
#: left returns null: n8n then records no run and starts nothing).
RunMember = Callable[[Step], list[list[Item]] | None]


@dataclass
class RegionRun:
    """What ``run_region`` leaves behind: the items per exit (``[]`` when it never fired)
    and the number of node runs it made."""

    exits: list[list[Item]]
    runs: int = 0
    states: dict[str, BatchState] = field(default_factory=dict)


#: Where an item inside the region comes from: (region input port, item index) pairs.
Origins = list[list[tuple[int, int]]]


@dataclass(frozen=True)
class _Pending:
    node: str
    items: list[Item]
    source: tuple[str, int] | None
    origins: Origins


def run_region(region: Region, inputs: Sequence[Sequence[Item]], run_member: RunMember, *,
               base_runs: Mapping[str, int] | None = None,
               states: dict[str, BatchState] | None = None,
               time_left: Callable[[], float] | None = None) -> RegionRun:
    """Run the region on its input ports' items, as n8n's engine would; ``run_member``
    runs one node (and records it). ``states``: the SplitInBatches contexts (filled in)."""
    states = {} if states is None else states
    for name, member in region.members.items():
        if member.type == SPLIT_IN_BATCHES:
            states.setdefault(name, BatchState())
    counts = dict(base_runs or {})
    stack: deque[_Pending] = deque(
        _Pending(node, list(items), None, [[(port, i)] for i in range(len(items))])
        for port, ((node, _input), items) in enumerate(zip(region.entries, inputs,
                                                          strict=False)) if items)
    outgoing: dict[tuple[str, int], list[Link]] = {}
    for link in region.links:
        outgoing.setdefault((link.source, link.output), []).append(link)
    exits: list[list[Item] | None] = [None] * len(region.exits)
    result = RegionRun([], 0, states)
    lineage = _Lineage(states)
    while stack:
        if result.runs >= region.max_runs:
            raise RegionRunaway(f"the loop through {_names(region)} made {region.max_runs:,} "
                                "node runs without ending; n8n would run it forever")
        if time_left is not None and time_left() <= 0:
            raise RegionRunaway(f"the loop through {_names(region)} did not end before the "
                                f"node runner's time ran out ({result.runs:,} node runs)")
        pending = stack.popleft()
        run_index = counts.get(pending.node, 0)
        counts[pending.node] = run_index + 1
        outputs = run_member(Step(pending.node, [pending.items], run_index, pending.source,
                                  states.get(pending.node)))
        result.runs += 1
        if outputs is None:  # no run: the run index is not used up
            counts[pending.node] = run_index
            continue
        children: list[_Pending] = []
        positions: list[tuple[float, float]] = []
        lineage.ran(pending, outputs, region.members[pending.node].type_version)
        for output, items in enumerate(outputs):
            if not items:
                continue
            origins = lineage.origins(pending, output, items)
            for link in outgoing.get((pending.node, output), []):
                children.append(_Pending(link.target, list(items), (pending.node, output),
                                         origins))
                positions.append(region.members[link.target].position)
            for port, (node, exit_output) in enumerate(region.exits):
                if (node, exit_output) == (pending.node, output):
                    if exits[port] is not None:
                        raise ExitFiredTwice(
                            f"node {node!r} sent items out of its loop (output {output}) a "
                            "second time: n8n would run the nodes after it once per time, "
                            "which sfnflow does not do; end the loop before leaving it")
                    exits[port] = [_traced(item, origin)
                                   for item, origin in zip(items, origins, strict=True)]
        _schedule(stack, children, positions, region.execution_order)
    result.exits = [items or [] for items in exits]
    return result


def _origins(item: Item, inputs: Origins) -> list[tuple[int, int]]:
    """The region inputs an output item descends from (through its ``pairedItem``)."""
    pairing = item.get("pairedItem") if isinstance(item, dict) else None
    entries = pairing if isinstance(pairing, list) else [pairing]
    found: list[tuple[int, int]] = []
    for entry in entries:
        index = entry if isinstance(entry, int) else \
            entry.get("item") if isinstance(entry, dict) else None
        if isinstance(index, int) and 0 <= index < len(inputs):
            found += [origin for origin in inputs[index] if origin not in found]
    return found


class _Lineage:
    """Origins of output items: through ``pairedItem`` for most nodes; a SplitInBatches
    hands out items it kept from the run that (re)started it (their ``pairedItem`` points
    into that run's input) and, on ``done``, every item that came back since, in order."""

    def __init__(self, states: Mapping[str, BatchState]) -> None:
        self.states = states
        self.kept: dict[str, Origins] = {}
        self.back: dict[str, Origins] = {}
        self.done_port: dict[str, int] = {}

    def ran(self, pending: _Pending, outputs: list[list[Item]], version: float) -> None:
        state = self.states.get(pending.node)
        if state is None:
            return
        if version >= 2:
            self.done_port[pending.node] = 0 if version >= 3 else 1
        if state.current_run_index == 0:  # started (or reset) on these items
            self.kept[pending.node], self.back[pending.node] = pending.origins, []
        elif version >= 2:
            self.back[pending.node] = self.back.get(pending.node, []) + pending.origins

    def origins(self, pending: _Pending, output: int, items: list[Item]) -> Origins:
        node = pending.node
        if node not in self.states:
            return [_origins(item, pending.origins) for item in items]
        if self.done_port.get(node) == output:
            back = self.back.get(node, [])
            return [back[i] if i < len(back) else [] for i in range(len(items))]
        return [_origins(item, self.kept.get(node, [])) for item in items]


def _traced(item: Item, origins: list[tuple[int, int]]) -> Item:
    """An item leaving the region, paired with the region's input items it descends from
    (the rest of the workflow sees the region as one node: ``$('Before').item`` walks it)."""
    if not origins:
        return item
    pairs = [{"item": index} if port == 0 else {"item": index, "input": port}
             for port, index in origins]
    return {**item, "pairedItem": pairs[0] if len(pairs) == 1 else pairs}


def _schedule(stack: deque[_Pending], children: list[_Pending],
              positions: list[tuple[float, float]], order: str) -> None:
    """n8n's ``addNodeToBeExecuted`` for single-input nodes: v0 appends in connection
    order; v1 sorts by position (lowest y, then lowest x, runs first) and puts in front."""
    if order != "v1":
        stack.extend(children)
        return
    ranked = sorted(zip(positions, children, strict=True),
                    key=lambda pair: (-pair[0][1], -pair[0][0]))
    for _position, child in ranked:  # unshift, bottom-right first: top-left ends in front
        stack.appendleft(child)


def _names(region: Region) -> str:
    loops = [name for name, m in region.members.items() if m.type == SPLIT_IN_BATCHES]
    return ", ".join(repr(name) for name in loops or list(region.members))

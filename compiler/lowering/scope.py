"""What a scope's last state outputs, and a scope's states in reading order.

A scope is the state machine itself, a Parallel branch or a Map's item processor. Emission
(``compiler.passes.emit``) and the lowerings that open scopes of their own (regions,
loops, while bodies) share these; they live below both, so no lowering imports emit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler import asl
from compiler.jsonata_text import jsonata, literal

if TYPE_CHECKING:
    from compiler.passes.emit import Emitter

BRANCH_FINISHED = "Sfnflow.BranchFinished"  # a waitFor-any branch won the race




@dataclass(frozen=True)
class ScopeOutput:
    """What the last state of a scope (the machine, or a Parallel branch) must output:
    an object of node outputs. ``overrides`` replace a node's variable by an expression
    (e.g. ``$states.result`` in the node's own state, before its Assign applies)."""

    entries: tuple[tuple[str, int], ...]  # (output key, node)

    def expression(self, emitter: Emitter, overrides: dict[int, str]) -> str:
        fields = ",".join(
            f"{literal(key)}:{overrides.get(node, '$' + emitter.var[node])}"
            for key, node in self.entries
        )
        return jsonata("{" + fields + "}")


@dataclass(frozen=True)
class LoopBodyOutput(ScopeOutput):
    """A loop iteration outputs the items its back edges return to the loop node (with
    ``as_ports``, the port objects instead, which may hold S3 references for the runner to
    resolve: ``compiler.lowering.loop``'s ``#collect``)."""

    back_edges: tuple[tuple[int, int], ...] = ()  # (source node, output port)
    as_ports: bool = False
    # A Distributed Map's iteration outputs ``{"index": <index>, "ports": [...]}``: its
    # results are read back from ResultWriter's files, whose order is not the items'.
    index: str | None = None

    def expression(self, emitter: Emitter, overrides: dict[int, str]) -> str:
        field = "" if self.as_ports else ".items"
        parts = [
            f"({overrides.get(node, '$' + emitter.var[node])}).ports[{port}]{field}"
            for node, port in self.back_edges
        ]
        returned = "[" + ", ".join(parts) + "]"
        if self.index is not None:
            returned = f'{{"index":{self.index},"ports":{returned}}}'
        return jsonata(returned)


def in_flow_order(start: str, states: dict[str, asl.State]) -> dict[str, asl.State]:
    """Order a scope's states as a reader follows them from StartAt (depth first)."""
    ordered: dict[str, asl.State] = {}
    pending = [start]
    while pending:
        name = pending.pop()
        if name in ordered or name not in states:
            continue
        state = states[name]
        ordered[name] = state
        targets = [state.next] if state.next else []
        if isinstance(state, asl.Choice):
            targets = [state.default, *(rule.next for rule in state.choices)]
        if isinstance(state, asl.Task | asl.Parallel):
            targets += [catcher.next for catcher in state.catch]
        pending.extend(reversed([t for t in targets if t]))
    return ordered

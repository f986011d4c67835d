"""n8n's legacy execution order: what sfnflow honours and what it refuses, by node and field.

An n8n document without ``settings.executionOrder: "v1"`` runs in n8n's legacy order
("v0"). sfnflow runs every n8n document as a graph of states (parallel branches, a Merge as
their join), which computes what n8n's v1 order computes. On a DAG the two orders give the
same items except in these cases (each recorded on n8n 1.123's engine in
``tests/compiler/n8n/peer_order.json``):

1. **A multi-input node whose input 0 gets no items** while another input has some: v0
   does not run it at all (n8n's legacy engine reads a node's items from input 0 only), so
   nothing after it runs; with ``alwaysOutputData`` it outputs one empty item. v1 runs it on
   the items it has. Conversely a chooseBranch Merge whose input 2 got nothing runs in v0
   (on input 1) and not in v1 (it requires both inputs). *Honoured*: the node runner skips
   such a node when the document's order is v0 (``functions.nodes.n8n_run``), and
   ``alwaysOutputData`` still applies; the Merge runs on the node runner.
2. **A multi-input node one of whose inputs comes from a node that may not have run** (its
   branch got no items, or it has no input connection at all) when another input receives
   data: v0 runs that node -- or the first node before it that did not run -- on one empty
   item, and its output reaches the Merge as extra items. v1 runs nothing there. *Refused*
   (the node, ``settings.executionOrder``): sfnflow would have to invent that item on a
   branch that never started.
3. **An expression or Code that reads a node on a parallel branch** (neither before nor
   after it: ``$('X')``, ``$node["X"]``, ``$items("X")``): whether X has run yet is the
   execution order. v0 runs breadth-first (nearer the trigger first), v1 one branch after
   the other by position, sfnflow parallel branches at the same time. *Refused* (the node,
   the parameter): connect X before the node that reads it.

Everything else runs unchanged: a branch that gets no items and reaches no multi-input
node, branches of any length that always carry items into a Merge, an empty output into
input 2 of a Merge (v0 passes the empty list; v1 waits and runs with what it has: the same
items), a node fed twice on one input.

How case 2 is decided without running anything: each node has the set of output ports
("gates") that, all being non-empty, make it run (``need``) and the set that is non-empty
whenever it runs (``known``); a port is a gate when its node type can emit no items on it
(IF, Filter, Switch, Code...; not Set, No Operation, Sort...; ``alwaysOutputData`` makes
output 0 never empty). When data reaches input i of a multi-input node, the source S of
another input j has surely run -- so v0 forces nothing -- when ``need(S)`` is inside what
the arrival on i implies. Otherwise the document is refused, naming the node and S.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from compiler.errors import Problem
from compiler.n8n.catalogue import N8N_TYPES

FIELD = "settings.executionOrder"
BASE = "n8n-nodes-base."

#: node types that output at least one item on output 0 whenever they run (on >= 1 item)
NEVER_EMPTY = frozenset(BASE + name for name in (
    "manualTrigger", "set", "noOp", "sort", "renameKeys", "crypto", "aggregate", "summarize",
    "removeDuplicates", "limit"))

#: parameters that hold code (Code, Sort's code mode, the legacy Function nodes)
CODE_PARAMETERS = frozenset({"jsCode", "pythonCode", "code", "functionCode"})

#: how an expression or code names another node
_NODE_REFERENCE = re.compile(
    r"""\$\(\s*(['"`])(?P<a>.+?)\1\s*\)"""
    r"""|\$node\[\s*(['"`])(?P<b>.+?)\3\s*\]"""
    r"""|\$node\.(?P<c>[A-Za-z_$][\w$]*)"""
    r"""|\$items\(\s*(['"`])(?P<d>.+?)\6""")

Gate = tuple[str, int] | str  # (node, output) that may be empty, or a node that may not run


@dataclass(frozen=True)
class _Edge:
    source: str
    output: int
    target: str
    input: int


def is_legacy(document: Mapping[str, Any]) -> bool:
    settings = document.get("settings")
    return not (isinstance(settings, Mapping) and settings.get("executionOrder") == "v1")


def legacy_order_problems(document: Mapping[str, Any]) -> list[Problem]:
    """What of an n8n document sfnflow cannot run as n8n's legacy order does (none when the
    document says ``executionOrder: "v1"``), each naming the node and the field."""
    if not is_legacy(document):
        return []
    graph = _Graph(document)
    return [*graph.forced_parent_problems(), *graph.parallel_reference_problems()]


class _Graph:
    def __init__(self, document: Mapping[str, Any]) -> None:
        nodes = document.get("nodes")
        self.nodes: dict[str, Mapping[str, Any]] = {
            str(node["name"]): node for node in (nodes if isinstance(nodes, list) else [])
            if isinstance(node, Mapping) and isinstance(node.get("name"), str)}
        self.edges = list(_edges(document.get("connections"), self.nodes))
        self.triggers = [name for name, node in self.nodes.items() if _is_trigger(node)]
        self.into: dict[str, list[_Edge]] = {name: [] for name in self.nodes}
        self.out: dict[str, list[_Edge]] = {name: [] for name in self.nodes}
        for edge in self.edges:
            self.into[edge.target].append(edge)
            self.out[edge.source].append(edge)
        self.back = _back_edges(self.nodes, self.out)
        self.forward = {name: [edge for edge in edges if edge not in self.back]
                        for name, edges in self.into.items()}
        self._need: dict[str, frozenset[Gate]] = {}
        self._known: dict[str, frozenset[Gate]] = {}
        self._compute_gates()

    # ---------------------------------------------------------------- which ports gate a node

    def forward_into(self, name: str) -> list[_Edge]:
        return self.forward[name]

    def multi_input(self, name: str) -> bool:
        return len({edge.input for edge in self.forward_into(name)}) > 1 or any(
            edge.input > 0 for edge in self.forward_into(name))

    def may_be_empty(self, name: str, output: int) -> bool:
        node = self.nodes[name]
        if node.get("onError") == "continueErrorOutput":
            return True
        if output == 0 and (node.get("alwaysOutputData") or node.get("disabled")):
            return False
        if node.get("type") == BASE + "merge":  # appending: it runs only on items (v0)
            return output != 0 or (node.get("parameters") or {}).get("mode", "append") \
                != "append"
        if node.get("type") == "n8n-nodes-testing.testData":
            data = (node.get("parameters") or {}).get("data")
            return output != 0 or not (isinstance(data, list) and data)
        return not (output == 0 and node.get("type") in NEVER_EMPTY)

    def arrival(self, edge: _Edge, known: bool) -> frozenset[Gate]:
        """What items arriving along ``edge`` imply (``known``) or need: its source ran, and,
        on input 0 (v0 passes an empty output on only to inputs 1+), its port had items."""
        source = self.known(edge.source) if known else self.need(edge.source)
        port: set[Gate] = {(edge.source, edge.output)} \
            if edge.input == 0 and self.may_be_empty(edge.source, edge.output) else set()
        return source | port

    def need(self, name: str) -> frozenset[Gate]:
        """Gates that, all non-empty, make ``name`` run (in v0: items on its input 0)."""
        return self._need[name]

    def known(self, name: str) -> frozenset[Gate]:
        """Gates that are non-empty whenever ``name`` runs."""
        return self._known[name]

    def _compute_gates(self) -> None:
        """Both gate sets of every node, parents first (Kahn's order on the forward edges)."""
        waiting = {name: len(self.forward_into(name)) for name in self.nodes}
        ready = [name for name, count in waiting.items() if count == 0]
        while ready:
            name = ready.pop()
            self._need[name] = self._gates(name, known=False)
            self._known[name] = self._gates(name, known=True)
            for edge in self.out[name]:
                if edge not in self.back:
                    waiting[edge.target] -= 1
                    if waiting[edge.target] == 0:
                        ready.append(edge.target)

    def _gates(self, name: str, known: bool) -> frozenset[Gate]:
        if name in self.triggers:
            return frozenset() if len(self.triggers) == 1 else frozenset({name})
        feeding = [edge for edge in self.forward_into(name) if edge.input == 0]
        if not feeding:  # no input connection (or none on input 0): never runs by itself
            return frozenset({name})
        arrivals = [self.arrival(edge, known) for edge in feeding]
        if known:  # fed several times: only what every arrival implies
            return frozenset.intersection(*arrivals)
        return frozenset().union(*arrivals)

    # ------------------------------------------------------------------------ the two checks

    def forced_parent_problems(self) -> Iterator[Problem]:
        """Case 2: a source of a multi-input node that may not have run when another input
        receives data."""
        for name in self.nodes:
            if not self.multi_input(name):
                continue
            feeding = self.forward_into(name)
            reported: set[str] = set()
            for arriving in feeding:
                implied = self.arrival(arriving, known=True)
                for other in feeding:
                    if other.input == arriving.input or other.source == arriving.source or \
                            other.source in reported or self.need(other.source) <= implied:
                        continue
                    reported.add(other.source)
                    why = "trigger" if other.source in self.triggers else \
                        "empty" if self.forward_into(other.source) else "orphan"
                    yield Problem(name, FIELD, _forced_message(name, other, arriving, why),
                                  "execution_order")

    def parallel_reference_problems(self) -> Iterator[Problem]:
        """Case 3: a node reading a node that is neither before nor after it."""
        for name, node in self.nodes.items():
            related: set[str] | None = None  # before or after it: found on first use
            for path, text in _expressions(node.get("parameters"), "parameters"):
                for match in _NODE_REFERENCE.finditer(text):
                    other = next(group for group in match.group("a", "b", "c", "d") if group)
                    if other not in self.nodes or other == name:
                        continue
                    if related is None:
                        related = self.reach(name, self.into, "source") | \
                            self.reach(name, self.out, "target")
                    if other not in related:
                        yield Problem(name, path, _parallel_message(name, other),
                                      "execution_order")

    def reach(self, name: str, links: Mapping[str, list[_Edge]], end: str) -> set[str]:
        seen: set[str] = set()
        frontier = [name]
        while frontier:
            for edge in links[frontier.pop()]:
                step = str(getattr(edge, end))
                if step not in seen:
                    seen.add(step)
                    frontier.append(step)
        return seen


def _forced_message(name: str, other: _Edge, arriving: _Edge, why: str) -> str:
    """``why``: ``orphan`` (no input connection), ``trigger`` (another trigger) or
    ``empty`` (its branch may get no items)."""
    source = other.source
    legacy = (f"in n8n's legacy execution order (the document has no "
              f"settings.executionOrder \"v1\"), when input {arriving.input + 1} of {name!r} "
              f"(from {arriving.source!r}) gets items")
    forced = f"{name!r} gets its output on input {other.input + 1}"
    if why == "orphan":
        return (f"{source!r} has no input connection: {legacy}, n8n runs {source!r} on one "
                f"empty item and {forced}; in v1 order n8n never runs it, and sfnflow runs "
                f"only what a trigger reaches. Connect {source!r} after the trigger or "
                f"delete it")
    set_v1 = ("Set Settings > Execution Order to \"v1\" in n8n (settings.executionOrder: "
              "\"v1\"): then")
    if why == "trigger":
        return (f"{source!r} is another trigger: {legacy} and {source!r} did not start the "
                f"execution, n8n runs {source!r} on one empty item and {forced}; sfnflow "
                f"does not invent that item. {set_v1} only the branch of the trigger that "
                f"started the execution runs, and {name!r} runs on the items it received")
    return (f"{source!r} may get no items: {legacy} and {source!r} got none, n8n runs "
            f"{source!r} (or the first node before it that did not run) on one empty item "
            f"and {forced}; sfnflow does not invent that item. {set_v1} a branch that gets "
            f"no items does not run, and {name!r} runs on the items its inputs received")


def _parallel_message(name: str, other: str) -> str:
    return (f"reads {other!r}, which is on a parallel branch (neither before nor after "
            f"{name!r}): whether {other!r} has run by then is the execution order -- n8n's "
            f"legacy order (no settings.executionOrder \"v1\") runs nodes nearer the trigger "
            f"first, v1 one branch after another by position, sfnflow parallel branches at "
            f"the same time. Connect {other!r} before {name!r} so it has always run")


def _edges(connections: Any, nodes: Mapping[str, Any]) -> Iterator[_Edge]:
    if not isinstance(connections, Mapping):
        return
    for source, kinds in connections.items():
        ports = kinds.get("main") if isinstance(kinds, Mapping) else None
        if source not in nodes or not isinstance(ports, list):
            continue
        for output, targets in enumerate(ports):
            for target in targets if isinstance(targets, list) else []:
                if isinstance(target, Mapping) and target.get("node") in nodes:
                    index = target.get("index")
                    yield _Edge(source, output, str(target["node"]),
                                index if isinstance(index, int) and index >= 0 else 0)


def _is_trigger(node: Mapping[str, Any]) -> bool:
    spec = N8N_TYPES.get(str(node.get("type")))
    if spec is not None:
        return spec.trigger
    return str(node.get("type", "")).lower().endswith(("trigger", "webhook"))


def _back_edges(nodes: Mapping[str, Any], out: Mapping[str, list[_Edge]]) -> set[_Edge]:
    """Edges that close a cycle (a Loop Over Items body back into its node), found by a
    depth-first walk: the gates are computed on what is left, a DAG."""
    back: set[_Edge] = set()
    state: dict[str, int] = {}  # 1 on the walk's path, 2 done
    for root in nodes:
        if root in state:
            continue
        stack: list[tuple[str, Iterator[_Edge]]] = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            name, edges = stack[-1]
            edge = next(edges, None)
            if edge is None:
                state[name] = 2
                stack.pop()
            elif state.get(edge.target) == 1:
                back.add(edge)
            elif edge.target not in state:
                state[edge.target] = 1
                stack.append((edge.target, iter(out[edge.target])))
    return back


def _expressions(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Each expression (``=...``) or code of a parameter tree, with its dotted path (walked
    with a stack: a parameter tree may be deeper than Python's recursion limit)."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if item.startswith("=") or where.rsplit(".", 1)[-1] in CODE_PARAMETERS:
                yield where, item
        elif isinstance(item, Mapping):
            stack.extend((f"{where}.{key}", child) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child)
                         for index, child in reversed(list(enumerate(item))))

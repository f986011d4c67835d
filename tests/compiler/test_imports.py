"""The compiler's module graph: imports flow one way.

Measured with ``ast`` over ``compiler/`` (every ``import`` statement, deferred ones inside
functions included; ``if TYPE_CHECKING:`` blocks excluded, they run only for the type
checker). The layering (DESIGN.md): model -> graph -> structure -> history -> decide ->
emit (with the lowerings), and ``explain`` / ``render`` / ``pipeline`` reading the
decisions: the choices are made once, in ``compiler.passes.decide``, and nothing below it
asks the lowerings or emission again.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

COMPILER = Path(__file__).resolve().parents[2] / "compiler"

# The node-type registry: ``compiler.nodetypes`` builds NODE_TYPES from families of node
# types whose modules subclass its base classes. The one cycle left; it must not grow.
REGISTRY = frozenset({
    "compiler.nodetypes", "compiler.n8n.catalogue", "compiler.n8n.wait",
    "compiler.n8n.wait_params", "compiler.ai_params", "compiler.database_nodes",
})


def _module_name(path: Path) -> str:
    parts = path.relative_to(COMPILER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, modules: set[str]) -> Iterator[str]:
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                if child in modules:
                    yield child
                elif node.module in modules:
                    yield node.module
        pending.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """module -> the compiler modules it imports."""
    paths = {_module_name(path): path for path in COMPILER.rglob("*.py")}
    modules = set(paths)
    return {name: set(_imports(ast.parse(path.read_text()), modules)) - {name}
            for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def test_the_compiler_has_no_import_cycle_but_the_registry() -> None:
    found = cycles(import_graph())
    assert [c for c in found if not c <= REGISTRY] == []


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        for module in graph[pending.pop()] - seen:
            seen.add(module)
            pending.append(module)
    return seen


DECIDE = "compiler.passes.decide"
ABOVE_DECIDE = ("compiler.passes.emit", "compiler.lowering.", "compiler.explain",
                "compiler.render", "compiler.pipeline")


@pytest.mark.parametrize("module", ["compiler.model", "compiler.graph",
                                    "compiler.passes.structure", "compiler.history",
                                    "compiler.native_check", DECIDE])
def test_what_the_decisions_rest_on_asks_nothing_above_them(module: str) -> None:
    """Below emission nothing reaches a lowering, emit or a reader of the decisions; below
    the decisions nothing reaches them."""
    graph = import_graph()
    reached = _reachable(graph, module)
    above = [m for m in reached if m.startswith(ABOVE_DECIDE) or m == "compiler.lowering"]
    assert above == []
    if module != DECIDE:
        assert DECIDE not in reached


def test_the_readers_of_the_decisions_read_them() -> None:
    graph = import_graph()
    for reader in ("compiler.passes.emit", "compiler.explain", "compiler.pipeline",
                   "compiler.lowering.dispatch"):
        assert DECIDE in _reachable(graph, reader), reader


def test_cycles_are_found() -> None:
    """The checker itself: a cycle of three and a self-contained pair."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}, "f": {"a"}}
    assert sorted(map(sorted, cycles(graph))) == [["a", "b", "c"], ["d", "e"]]

"""Pin data through the API: versioned pins of deployed workflows, and starting an execution
that uses them.

**Which nodes can be pinned.** The node runner applies pins: a node's Task tells it
whether the execution pinned the node (``"Name" in Execution.Input.pinned``). A node
lowered to a native state (a pure-data ``set``, ``if``, ... with no Lambda call) has no
such check, so pinning it would silently do nothing: ``NodeNotPinnable`` (400) names it
and the fix (``retry: {maxAttempts: 1}`` or ``cache`` moves it to the runner; so does
listing it in the document's ``pinData``, which is compiled in). The check reads the
compiled state machine of the workflow's current version, so whatever the compiler
decides is what counts.

**Which executions use pins.** Only those whose starter asks: ``sfnflow run`` (the
document's ``pinData`` plus ``--pin``) and ``POST /workflows/{id}/executions`` with
``usePins: true`` (default false: an API start is a production start). Webhooks,
schedules, events, error workflows, retries and sub-workflows never apply pins. An
execution records the pin versions it started with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler import compile_workflow
from functions.services.admission import policy_of
from functions.services.execution_control import (
    ExecutionControl,
    ExecutionNotFound,
    idempotent_name,
)
from functions.services.workflows import WorkflowNotFound
from functions.store.pins import PinVersion
from functions.store.repository import Execution, RunRepository
from functions.store.workflows import WorkflowRecord, WorkflowRepository

Item = dict[str, Any]


class PinNotFound(LookupError):
    """No such node, pin, pin version or recorded output (404)."""


class NodeNotPinnable(ValueError):
    """The node would ignore a pin: it does not run on the node runner (400)."""

    def __init__(self, workflow_id: str, node: str) -> None:
        super().__init__(
            f"node {node!r} of workflow {workflow_id!r} cannot be pinned: it compiles to a "
            "native Step Functions state, and pins are applied by the node runner. Give it "
            "`retry: {maxAttempts: 1}` (or list it in the document's pinData) to run it on "
            "the runner, then pin it.")
        self.node = node


def _states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state of a definition, nested Parallel branches and Map processors included."""
    for state in states.values():
        yield state
        for branch in state.get("Branches") or []:
            yield from _states(branch.get("States") or {})
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _states(processor.get("States") or {})


def pinnable_nodes(definition: dict[str, Any]) -> frozenset[str]:
    """Nodes whose runner Task checks the execution's pinned list."""
    names = set()
    for state in _states(definition.get("States") or {}):
        arguments = state.get("Arguments")
        if state.get("Type") == "Task" and isinstance(arguments, dict) \
                and "pinned" in arguments and isinstance(arguments.get("node"), dict):
            names.add(str(arguments["node"].get("name")))
    return frozenset(names)


class PinService:
    def __init__(self, runs: RunRepository, workflows: WorkflowRepository,
                 control: ExecutionControl) -> None:
        self.runs = runs
        self.pins = runs.pins
        self.workflows = workflows
        self.control = control
        self._compiled: dict[tuple[str, int], tuple[frozenset[str], frozenset[str]]] = {}

    # ------------------------------------------------------------------ nodes

    def _record(self, workflow_id: str) -> WorkflowRecord:
        record = self.workflows.get(workflow_id)
        if record is None:
            raise WorkflowNotFound(f"workflow {workflow_id!r} does not exist")
        return record

    def _nodes(self, record: WorkflowRecord) -> tuple[frozenset[str], frozenset[str]]:
        """(every node, the pinnable ones) of the workflow's current version."""
        key = (record.workflow_id, record.version)
        if key not in self._compiled:
            compiled = compile_workflow(record.document)
            self._compiled[key] = (frozenset(compiled.manifest["nodes"]),
                                   pinnable_nodes(compiled.definition))
        return self._compiled[key]

    def _node(self, workflow_id: str, node: str, *, pinnable: bool = False) -> None:
        record = self._record(workflow_id)
        nodes, can_pin = self._nodes(record)
        if node not in nodes:
            raise PinNotFound(f"workflow {workflow_id!r} has no node {node!r}")
        if pinnable and node not in can_pin:
            raise NodeNotPinnable(workflow_id, node)

    # ------------------------------------------------------------------ pins

    def get(self, workflow_id: str, node: str) -> PinVersion:
        self._node(workflow_id, node)
        pin = self.pins.current(workflow_id, node)
        if pin is None:
            raise PinNotFound(f"node {node!r} of workflow {workflow_id!r} is not pinned")
        return pin

    def put(self, workflow_id: str, node: str, items: list[Item],
            source: dict[str, Any] | None = None) -> tuple[PinVersion, bool]:
        """Pin ``items``; returns the current version and whether it is new."""
        self._node(workflow_id, node, pinnable=True)
        before = self.pins.current_versions(workflow_id).get(node)
        pin = self.pins.put(workflow_id, node, items, source or {"kind": "api"})
        return pin, pin.version != before

    def delete(self, workflow_id: str, node: str) -> None:
        self._node(workflow_id, node)
        if not self.pins.delete(workflow_id, node):
            raise PinNotFound(f"node {node!r} of workflow {workflow_id!r} is not pinned")

    def versions(self, workflow_id: str, node: str) -> dict[str, Any]:
        self._node(workflow_id, node)
        current = self.pins.current_versions(workflow_id).get(node)
        return {"current": current,
                "items": [pin.summary() for pin in self.pins.versions(workflow_id, node)]}

    def rollback(self, workflow_id: str, node: str, version: int) -> PinVersion:
        self._node(workflow_id, node, pinnable=True)
        pin = self.pins.rollback(workflow_id, node, version)
        if pin is None:
            raise PinNotFound(f"node {node!r} of workflow {workflow_id!r} has no pin "
                              f"version {version}")
        return pin

    def pin_from_execution(self, execution_id: str, node: str,
                           run_index: int | None = None) -> PinVersion:
        """Pin the main output a past execution recorded for ``node``."""
        execution = self.runs.get_execution(execution_id)
        if execution is None:
            raise ExecutionNotFound(f"execution {execution_id!r} does not exist")
        self._node(execution.workflow_id, node, pinnable=True)
        outputs = self.runs.node_output(execution_id, node, run_index)
        if outputs is None:
            raise PinNotFound(f"node {node!r} has no successful run in execution "
                              f"{execution_id!r}")
        source: dict[str, Any] = {"kind": "execution", "executionId": execution_id}
        if run_index is not None:
            source["runIndex"] = run_index
        return self.pins.put(execution.workflow_id, node, outputs[0] if outputs else [],
                             source)

    # ------------------------------------------------------------------ executions

    def pinned_versions(self, workflow_id: str) -> dict[str, int]:
        """The current pins that apply to the workflow's current version (a pin of a node
        that was removed, or that became native, is left out)."""
        _nodes, can_pin = self._nodes(self._record(workflow_id))
        return {node: version for node, version in
                self.pins.current_versions(workflow_id).items() if node in can_pin}

    def start(self, workflow_id: str, user_input: Any, *,
              idempotency_key: str | None = None, priority: str | None = None) -> Execution:
        """Start an API execution that uses the workflow's current pins (``usePins``),
        admitted like any start (its maxConcurrency; ``priority`` over its own)."""
        record = self.workflows.get(workflow_id)
        if record is None:
            raise ExecutionNotFound(f"workflow {workflow_id!r} does not exist")
        name = idempotent_name(workflow_id, idempotency_key) if idempotency_key else None
        return self.control.executions.start(
            workflow_id, record.state_machine_arn, user_input, mode="api",
            version=str(record.version), name=name, pins=self.pinned_versions(workflow_id),
            admission=policy_of(record.document, priority))

"""The observer of ended executions that records what each one cost.

Told by ``functions.services.finished`` once the final status and the native runs are
recorded; idempotent (``CostStore.record`` adds an execution once). It reads the history
(as the native runs did) and the node runs without stored outputs, both as ``Finished``
carries them, read once by the status-change handler. The children of a
Distributed Map run in executions of their own, whose histories are not read: their
transitions are estimated (``MapRunCounter``) and the breakdown says so under
``estimated``.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from functions.costs.bill import price
from functions.costs.store import CostStore
from functions.costs.usage import MapRunUsage, measure
from functions.services.finished import Finished, Observer
from functions.store.repository import NodeRun, RunRepository

logger = logging.getLogger(__name__)


def _day(detail: Mapping[str, Any]) -> str:
    """The UTC day the execution ended (epoch milliseconds, as EventBridge sends it)."""
    stop = detail.get("stopDate")
    if isinstance(stop, int | float):
        return datetime.fromtimestamp(stop / 1000, UTC).date().isoformat()
    if isinstance(stop, datetime):
        return stop.astimezone(UTC).date().isoformat()
    if isinstance(stop, str) and len(stop) >= 10:
        return stop[:10]
    return datetime.now(UTC).date().isoformat()


def _find_state(scope: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    pending = [scope]
    while pending:
        current = pending.pop()
        for state_name, state in current.get("States", {}).items():
            if state_name == name:
                return state  # type: ignore[no-any-return]
            pending.extend(state.get("Branches", ()))
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"])
    return None


def _processor_states(processor: Mapping[str, Any]) -> set[str]:
    names: set[str] = set()
    pending = [processor]
    while pending:
        scope = pending.pop()
        for name, state in scope.get("States", {}).items():
            names.add(name)
            pending.extend(state.get("Branches", ()))
            if "ItemProcessor" in state:
                pending.append(state["ItemProcessor"])
    return names


class MapRunCounter:
    """State transitions of the children of a Distributed Map, from the run data.

    Every node inside a Distributed Map runs on the node runner (the compiler keeps them
    off native states so their runs are recorded), once per child execution: the node
    with the most runs there tells how many children ran. Each child is charged the item
    processor's transitions on its usual path (``compiler.explain``). Counting the
    children's own histories instead would need ``states:ListExecutions`` and
    ``states:DescribeMapRun`` on map runs, which the status-change handler is not granted.
    """

    def __init__(self, sfn: Any, execution_arn: str, runs: Sequence[NodeRun]) -> None:
        self.sfn = sfn
        self.execution_arn = execution_arn
        self.runs = runs
        self._definition: dict[str, Any] | None = None

    def __call__(self, state: str) -> MapRunUsage:
        from compiler.explain import evaluate_definition

        if self._definition is None:
            self._definition = json.loads(self.sfn.describe_state_machine_for_execution(
                executionArn=self.execution_arn)["definition"])
        found = _find_state(self._definition, state)
        processor = (found or {}).get("ItemProcessor")
        if not processor:
            return MapRunUsage(state, 0, 0, estimated=True)
        members = _processor_states(processor)
        runs_per_node = Counter(run.node for run in self.runs if run.node in members)
        children = max(runs_per_node.values(), default=0)
        per_child = evaluate_definition(processor, {}).live.transitions
        return MapRunUsage(state, children * per_child, children, estimated=True)


def execution_cost(sfn: Any, repository: RunRepository, finished: Finished) -> dict[str, Any]:
    """The cost breakdown of one ended execution (``functions.costs.bill``)."""
    arn = str(finished.detail.get("executionArn") or "")
    events = finished.history  # read once by the status-change handler
    runs = finished.runs  # read once by the status-change handler, natives included
    native = {(run.node, run.run_index) for run in finished.native_runs}
    usage, map_runs = measure(events, runs, native)
    counter = MapRunCounter(sfn, arn, runs)
    for state, _map_run_arn in map_runs:
        run = counter(state)
        usage.node(run.state).transitions += run.transitions
        usage.estimated.append(
            f"{run.state}: the transitions of its {run.children} Distributed Map child "
            "executions are estimated: the item processor's, once per child counted in "
            "the run data")
    cost = price(usage, repository.config.region)
    cost["executionId"] = finished.execution_id
    cost["workflowId"] = finished.workflow_id
    cost["status"] = finished.status
    cost["children"] = sorted({run.child_execution_id for run in runs
                               if run.child_execution_id})
    return cost


def cost_observer(repository: RunRepository,
                  sfn_factory: Callable[[], Any] | None = None) -> Observer:
    """The observer that records each ended execution's cost (once)."""
    store = CostStore()
    clients: list[Any] = []

    def sfn() -> Any:
        if not clients:
            if sfn_factory is not None:
                clients.append(sfn_factory())
            else:
                import boto3

                clients.append(boto3.client("stepfunctions",
                                            region_name=repository.config.region))
        return clients[0]

    def record_cost(finished: Finished) -> None:
        if finished.workflow_id is None or store.execution_cost(
                finished.execution_id) is not None:
            return
        cost = execution_cost(sfn(), repository, finished)
        store.record(finished.execution_id, finished.workflow_id, _day(finished.detail),
                     cost)

    return record_cost

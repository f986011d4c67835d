"""The observer of ended executions that records what each one cost.

Told by ``functions.services.finished`` once the final status and the native runs are
recorded; idempotent (``CostStore.record`` adds an execution once). It reads the history
(as the native runs did), the node runs without stored outputs, and for every Distributed
Map run its child executions' histories. Where those cannot be listed (the local cloud's
interpreter keeps no child histories; a role without ``states:ListExecutions`` on map
runs), the children's transitions are estimated: the map run's child count times the
item processor's transitions on its usual path (``compiler.explain``), and the breakdown
says so under ``estimated``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from functions.costs.bill import price
from functions.costs.store import CostStore
from functions.costs.usage import MapRunUsage, Usage, count_history, measure
from functions.services import native_runs
from functions.services.finished import Finished, Observer
from functions.store.repository import RunRepository

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


class MapRunCounter:
    """State transitions of the children of one Distributed Map run."""

    def __init__(self, sfn: Any, execution_arn: str) -> None:
        self.sfn = sfn
        self.execution_arn = execution_arn
        self._definition: dict[str, Any] | None = None

    def __call__(self, state: str, map_run_arn: str) -> MapRunUsage:
        try:
            return self._counted(state, map_run_arn)
        except Exception:  # noqa: BLE001 - no child histories: estimate instead
            logger.info("children of %s not listed; estimating", map_run_arn)
        return self._estimated(state, map_run_arn)

    def _counted(self, state: str, map_run_arn: str) -> MapRunUsage:
        usage = Usage()
        children = 0
        pages = self.sfn.get_paginator("list_executions").paginate(mapRunArn=map_run_arn)
        for page in pages:
            for child in page["executions"]:
                children += 1
                count_history(list(native_runs.history(self.sfn, child["executionArn"])),
                              usage)
        return MapRunUsage(state, usage.transitions, children, estimated=False)

    def _estimated(self, state: str, map_run_arn: str) -> MapRunUsage:
        from compiler.explain import evaluate_definition

        described = self.sfn.describe_map_run(mapRunArn=map_run_arn)
        counts = described.get("executionCounts") or described.get("itemCounts") or {}
        children = int(counts.get("total", 0))
        if self._definition is None:
            self._definition = json.loads(self.sfn.describe_state_machine_for_execution(
                executionArn=self.execution_arn)["definition"])
        found = _find_state(self._definition, state)
        processor = (found or {}).get("ItemProcessor")
        per_child = evaluate_definition(processor, {}).live.transitions if processor else 0
        return MapRunUsage(state, children * per_child, children, estimated=True)


def execution_cost(sfn: Any, repository: RunRepository, finished: Finished) -> dict[str, Any]:
    """The cost breakdown of one ended execution (``functions.costs.bill``)."""
    arn = str(finished.detail.get("executionArn") or "")
    events = list(native_runs.history(sfn, arn)) if arn else []
    runs = repository.node_runs(finished.execution_id, stored_outputs=False)
    native = {(run.node, run.run_index) for run in finished.native_runs}
    usage, map_runs = measure(events, runs, native)
    counter = MapRunCounter(sfn, arn)
    for state, map_run_arn in map_runs:
        run = counter(state, map_run_arn)
        usage.node(run.state).transitions += run.transitions
        if run.estimated:
            usage.estimated.append(
                f"{run.state}: the transitions of its {run.children} Distributed Map "
                "child executions are estimated from the item processor (their "
                "histories could not be listed)")
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

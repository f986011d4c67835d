"""``sfnflow plan``'s estimate and the cost recorded when the example ran agree.

What "agree" means, precisely (the plan is ``compiler.explain``: it walks the emitted ASL,
every Task succeeding first time, a Choice either entering its guarded block — "live" — or
skipping it, every Map running ``map_iterations`` times):

* **Loop-free examples without races**: the recorded state transitions lie between the
  plan's "skipped" and "live" counts, and equal the count of the path the run took (both,
  where the example has no guard); so the recorded Step Functions cost equals the plan's
  to the last digit (same transitions, same price). Node-runner requests equal the plan's
  Lambda invocations on that path (a ``code`` node's extra code-runner call aside).
* **Retries**: the plan counts none; the recorded transitions are the plan's plus one per
  retry, and each retry is an attempt the node run recorded.
* **Loops** whose item count the plan is told (``map_iterations``: ceil(items / batch
  size), from the items the loop received): equal transitions.
* **Distributed Maps**: the children's histories are not kept by the local interpreter, so
  their transitions are estimated from the item processor and the breakdown says so; the
  parent's own states are counted from its history. The estimate is the plan's own walk,
  so equality there would prove nothing: the test checks the estimate is flagged and the
  recorded count is at least the one-iteration plan's.

Races (first answer wins, quorums) cancel branches the plan counts in full: they record
fewer transitions and are left out here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from compiler import CompiledWorkflow, compile_workflow, load_file
from compiler.explain import evaluate_definition, explain
from compiler.nodetypes import SplitInBatchesParams
from functions.costs.store import CostStore
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE, HttpApi

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
STRAIGHT = ["orders.yaml", "non-series-parallel.yaml", "continue-error-output.yaml",
            "approval-flow.yaml"]
INPUTS: dict[str, Any] = {"continue-error-output.yaml": {"amount": "12.5"},
                          "approval-flow.yaml": [{"amount": 40}, {"amount": 60}]}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def run(cloud: LocalCloud, name: str, user_input: Any = None
        ) -> tuple[CompiledWorkflow, str, dict[str, Any]]:
    compiled = compile_workflow(load_file(EXAMPLES / name))
    cloud.deploy_project({compiled.name: compiled})
    execution_id = cloud.start(compiled, user_input)
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    cost = CostStore().execution_cost(execution_id)
    assert cost is not None
    return compiled, execution_id, cost


def runner_requests(cloud: LocalCloud, execution_id: str, cost: dict[str, Any]) -> int:
    code_calls = sum(run.attempts for run in cloud.repository.node_runs(
        execution_id, with_output=False) if run.node_type == "code")
    return int(cost["usage"]["lambdaRequests"]) - code_calls


@pytest.mark.parametrize("name", STRAIGHT)
def test_loop_free_examples_record_the_plans_transitions(cloud: LocalCloud, name: str) -> None:
    compiled, execution_id, cost = run(cloud, name, INPUTS.get(name))
    plan = explain(compiled)
    recorded = cost["usage"]["stateTransitions"]
    assert plan.run.skipped.transitions <= recorded <= plan.run.live.transitions
    path = plan.run.live if recorded == plan.run.live.transitions else plan.run.skipped
    assert recorded == path.transitions
    assert cost["components"]["stepFunctions"] == pytest.approx(
        (plan.cost_live if path is plan.run.live else plan.cost_skipped).standard / 1000)
    assert runner_requests(cloud, execution_id, cost) == path.lambda_calls
    assert cost["estimated"] == []


def test_each_retry_is_one_transition_more_than_the_plan(cloud: LocalCloud,
                                                         http_api: HttpApi) -> None:
    compiled, execution_id, cost = run(cloud, "retry-then-succeed.yaml",
                                       {"baseUrl": http_api.url})
    retries = sum(run.attempts - 1 for run in cloud.repository.node_runs(
        execution_id, with_output=False))
    assert retries == 2
    assert cost["usage"]["stateTransitions"] == explain(compiled).run.live.transitions + 2


def test_a_loop_told_its_item_count_records_the_plans_transitions(cloud: LocalCloud) -> None:
    compiled, execution_id, cost = run(cloud, "loop-over-items.yaml")
    graph = compiled.graph
    [loop] = [n for n in range(len(graph)) if isinstance(graph.params[n], SplitInBatchesParams)]
    batch = graph.params[loop].batchSize  # type: ignore[union-attr]
    [orders] = [run for run in cloud.repository.node_runs(execution_id, with_output=False)
                if run.node == "Orders"]
    iterations = math.ceil(sum(orders.output_counts) / batch)
    assert iterations == 3
    planned = evaluate_definition(compiled.definition, {}, map_iterations=iterations)
    assert cost["usage"]["stateTransitions"] == planned.live.transitions


# distributed-for-each.yaml's shape with 3 leads instead of 120 (the example takes ~20 s)
DISTRIBUTED = {
    "name": "distributed-three",
    "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Leads", "type": "code",
         "parameters": {"code": "return [{'lead': i} for i in range(3)]"}},
        {"name": "Each lead", "type": "forEach", "parameters": {"maxConcurrency": 100}},
        {"name": "Score", "type": "set", "parameters": {"values": {"score": 1}}},
        {"name": "Count", "type": "aggregate",
         "parameters": {"fields": ["lead"], "mode": "individualFields"}},
    ],
    "connections": [
        {"from": "Start", "to": "Leads"}, {"from": "Leads", "to": "Each lead"},
        {"from": "Each lead", "output": "loop", "to": "Score"},
        {"from": "Score", "to": "Each lead"},
        {"from": "Each lead", "output": "done", "to": "Count"},
    ],
}


def test_distributed_map_children_are_estimated_and_said_to_be(cloud: LocalCloud) -> None:
    compiled = compile_workflow(DISTRIBUTED)
    cloud.deploy_project({compiled.name: compiled})
    execution_id = cloud.start(compiled)
    assert cloud.wait(execution_id).status == "SUCCEEDED"
    cost = CostStore().execution_cost(execution_id)
    assert cost is not None
    assert cost["usage"]["stateTransitions"] > explain(compiled).run.live.transitions
    [note] = cost["estimated"]
    assert "Each lead" in note and "3 Distributed Map child executions" in note
    runs = cloud.repository.node_runs(execution_id, with_output=False)
    assert cost["nodes"]["Score"]["lambdaRequests"] == sum(
        run.attempts for run in runs if run.node == "Score") == 3


def test_a_status_change_delivered_again_adds_nothing(cloud: LocalCloud) -> None:
    compiled, execution_id, cost = run(cloud, "orders.yaml")
    store = CostStore()
    before = sum(d.executions for d in store.days(compiled.name, *_span(cloud, execution_id)))
    cloud.wait(execution_id)  # delivers the final status-change event again
    after = sum(d.executions for d in store.days(compiled.name, *_span(cloud, execution_id)))
    assert after == before >= 1
    assert store.execution_cost(execution_id) == cost


def _span(cloud: LocalCloud, execution_id: str) -> tuple[date, date]:
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None and execution.stopped_at is not None
    stopped = date.fromisoformat(execution.stopped_at[:10])
    return stopped - timedelta(days=1), stopped + timedelta(days=1)

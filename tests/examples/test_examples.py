"""Every example workflow runs end to end on moto: real ASL interpreter, in-process Lambda,
run data in DynamoDB. Each test asserts what the example is for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler import (
    CompiledWorkflow,
    compile_project,
    compile_workflow,
    load_file,
    load_project,
)
from local.cloud import LocalCloud
from local.report import build_report

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(cloud: LocalCloud, name: str, user_input: Any = None) -> dict[str, Any]:
    compiled = compile_workflow(load_file(EXAMPLES / name))
    return run_compiled(cloud, compiled, user_input)


def run_compiled(cloud: LocalCloud, compiled: CompiledWorkflow, user_input: Any = None,
                 pin_data: dict[str, Any] | None = None) -> dict[str, Any]:
    execution_id = cloud.start(compiled, user_input, pin_data=pin_data)
    finished = cloud.wait(execution_id)
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None
    return build_report(compiled, execution, cloud.repository.node_runs(execution_id),
                        finished.history, finished.output)


def test_every_example_is_covered() -> None:
    covered = {"orders.yaml", "http-pipeline.yaml", "fan-out-merge.yaml",
               "retry-then-succeed.yaml", "continue-error-output.yaml",
               "non-series-parallel.yaml", "loop-over-items.yaml", "for-each-nested.yaml",
               "first-answer-wins.yaml",
               "subworkflow-parent.yaml", "subworkflow-child.yaml",
               "try-catch-finally.yaml", "while-retry-until-ready.yaml"}
    assert {path.name for path in EXAMPLES.glob("*.yaml")} == covered


def test_orders_if_with_both_branches_live(cloud: LocalCloud) -> None:
    report = run_example(cloud, "orders.yaml")
    assert report["status"] == "SUCCEEDED"
    nodes = report["nodes"]
    assert nodes["Big?"]["output"] == [
        [{"id": 2, "total": 250}, {"id": 4, "total": 180}],
        [{"id": 1, "total": 40}, {"id": 3, "total": 99}, {"id": 5, "total": 12}],
    ]
    assert nodes["Priority"]["items"] == 2 and nodes["Standard"]["items"] == 3
    assert [item["total"] for item in report["output"]["Sort"]] == [250, 180, 99, 40, 12]
    assert report["output"]["Sort"][0]["note"] == "order 2 ships today"


def test_http_pipeline(cloud: LocalCloud, http_api: Any) -> None:
    report = run_example(cloud, "http-pipeline.yaml", {"baseUrl": http_api.url})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Top two"] == [
        {"id": 3, "total": 250.0, "paid": True, "gross": 300.0},
        {"id": 1, "total": 100.0, "paid": True, "gross": 120.0},
    ]
    assert report["nodes"]["One item per order"]["items"] == 4
    assert report["nodes"]["Paid only"]["items"] == 3
    assert http_api.hits["/orders"] == 1


def test_fan_out_merge_waits_for_all_branches(cloud: LocalCloud) -> None:
    report = run_example(cloud, "fan-out-merge.yaml")
    assert report["status"] == "SUCCEEDED"
    (item,) = report["output"]["Report"]
    assert sorted(part["source"] for part in item["parts"]) == [
        "inventory", "inventory", "pricing", "shipping"]
    assert report["nodes"]["Cool down"]["status"] == "success"  # native Wait state


def test_retry_then_succeed(cloud: LocalCloud, http_api: Any) -> None:
    report = run_example(cloud, "retry-then-succeed.yaml", {"baseUrl": http_api.url})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert http_api.hits["/flaky"] == 3
    assert report["nodes"]["Flaky API"]["attempts"] == 3
    assert report["output"]["Done"] == [{"ok": True, "attempt": 3, "fetched": True}]


def test_continue_error_output_routes_the_error(cloud: LocalCloud) -> None:
    report = run_example(cloud, "continue-error-output.yaml", {"amount": "twelve"})
    assert report["status"] == "SUCCEEDED"
    nodes = report["nodes"]
    assert nodes["Parse amounts"]["status"] == "error"
    assert nodes["Parse amounts"]["error"]["type"] == "Sfnflow.CodeError"
    assert nodes["Book"]["status"] == "not run"
    (handled,) = report["output"]["Report problem"]
    assert handled["handled"] is True
    assert "twelve" in handled["reason"]
    assert handled["error"]["node"] == "Parse amounts"
    assert handled["error"]["type"] == "Sfnflow.CodeError"


def test_continue_error_output_happy_path_skips_the_handler(cloud: LocalCloud) -> None:
    report = run_example(cloud, "continue-error-output.yaml", {"amount": "12.5"})
    assert report["status"] == "SUCCEEDED"
    assert report["output"]["Book"] == [{"amount": 12.5}]
    assert report["nodes"]["Report problem"]["status"] == "not run"


def test_non_series_parallel_dag_runs_every_node_once(cloud: LocalCloud) -> None:
    report = run_example(cloud, "non-series-parallel.yaml")
    assert report["status"] == "SUCCEEDED"
    assert all(node["runs"] == 1 for node in report["nodes"].values())
    combined = report["output"]["Combine"]
    assert {"customer": "ada", "tier": "gold", "total": 120} in combined
    assert {"total": [120, 30]} in combined


def test_http_failure_fails_the_execution_and_keeps_run_data(
    cloud: LocalCloud, http_api: Any
) -> None:
    report = run_example(cloud, "http-pipeline.yaml", {"baseUrl": http_api.url + "/nope"})
    assert report["status"] == "FAILED"
    assert report["error"]["node"] == "Fetch orders"
    assert report["error"]["type"] == "Sfnflow.HttpClientError"
    assert report["nodes"]["Start"]["status"] == "success"  # recorded before the failure
    assert report["nodes"]["Fetch orders"]["attempts"] == 1  # 4xx is not retried


def test_loop_over_items_runs_one_iteration_per_batch(cloud: LocalCloud) -> None:
    report = run_example(cloud, "loop-over-items.yaml")
    assert report["status"] == "SUCCEEDED", report["error"]
    nodes = report["nodes"]
    assert nodes["Add tax"]["runs"] == 3  # 7 orders in batches of 3
    assert nodes["Flag"]["runs"] == 2  # the first batch has no large order
    (summary,) = report["output"]["Summary"]
    assert summary["id"] == [1, 2, 3, 4, 5, 6, 7]
    assert summary["gross"] == [42, 84, 126, 168, 210, 252, 294]


def test_nested_for_each(cloud: LocalCloud) -> None:
    report = run_example(cloud, "for-each-nested.yaml")
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["nodes"]["Greet"]["runs"] == 6
    (count,) = report["output"]["Count"]
    assert sorted(count["greeting"]) == sorted([
        "hello ada of red", "hello bob of red", "hello cy of blue",
        "hello di of green", "hello ed of green", "hello flo of green"])


def test_first_answer_wins_and_cancels_the_others(cloud: LocalCloud) -> None:
    report = run_example(cloud, "first-answer-wins.yaml")
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Quote"] == [{"source": "cache", "price": 10, "quoted": True}]
    assert report["nodes"]["From partner"]["runs"] == 0
    assert report["nodes"]["From batch"]["runs"] == 0
    assert report["nodes"]["Slow batch job"]["status"] == "not run"  # cancelled mid-wait


def test_loop_with_no_items_skips_the_body(cloud: LocalCloud) -> None:
    compiled = compile_workflow({
        "name": "empty-loop",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Nothing", "type": "code", "parameters": {"code": "return []"}},
                  {"name": "L", "type": "forEach"},
                  {"name": "Body", "type": "noOp"},
                  {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Nothing"}, {"from": "Nothing", "to": "L"},
                        {"from": "L", "output": "loop", "to": "Body"},
                        {"from": "Body", "to": "L"},
                        {"from": "L", "output": "done", "to": "After"}],
    })
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["nodes"]["Body"]["runs"] == 0
    assert report["nodes"]["After"]["status"] == "not run"


def test_subworkflow_parent_continues_with_the_child_items(cloud: LocalCloud) -> None:
    project = compile_project(load_project(EXAMPLES / "subworkflow-parent.yaml"))
    assert list(project) == ["subworkflow-parent", "subworkflow-child"]
    cloud.deploy_project(project)
    report = run_compiled(cloud, project["subworkflow-parent"])
    assert report["status"] == "SUCCEEDED", report["error"]
    assert [item["label"] for item in report["output"]["Label"]] == [
        "order 1: 20", "order 2: 40", "order 3: 60"]
    node = report["nodes"]["Double in child"]
    assert node["status"] == "success" and node["items"] == 3
    child = cloud.repository.get_execution(node["childExecutionId"])
    assert child is not None and child.status == "SUCCEEDED"
    assert child.workflow_id == "subworkflow-child" and child.mode == "subworkflow"
    assert (child.parent_execution_id, child.parent_node) == (report["executionId"],
                                                              "Double in child")
    assert child.input["items"] == [{"id": i, "amount": 10 * i} for i in (1, 2, 3)]
    assert child.execution_id.startswith(report["executionId"] + "-")
    assert len(child.execution_id) <= 80


def test_subworkflow_child_runs_on_its_own(cloud: LocalCloud) -> None:
    report = run_example(cloud, "subworkflow-child.yaml", [{"amount": 2}])
    assert report["output"]["Double"] == [{"amount": 4, "doubledBy": "subworkflow-child"}]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_examples_compile_to_valid_asl(example: str) -> None:
    from tests.support.asl_validator import assert_valid_asl

    assert_valid_asl(compile_workflow(load_file(EXAMPLES / example)))


def test_try_catch_finally_routes_a_failure_to_catch_then_finally(cloud: LocalCloud) -> None:
    report = run_example(cloud, "try-catch-finally.yaml", {"amount": "twelve"})
    assert report["status"] == "SUCCEEDED", report["error"]
    nodes = report["nodes"]
    assert nodes["Prepare"]["status"] == "success"
    assert nodes["Charge"]["status"] == "error"
    assert nodes["Book"]["status"] == "not run"
    (refund,) = report["output"]["Refund"]
    assert refund["refunded"] is True and "twelve" in refund["reason"]
    assert refund["error"]["node"] == "Charge"
    assert refund["error"]["type"] == "Sfnflow.CodeError"
    (closed,) = report["output"]["Close order"]
    assert closed["closed"] == "failed" and closed["region"] == "payment"
    assert closed["error"]["node"] == "Charge"


def test_try_catch_finally_success_skips_catch_and_runs_finally(cloud: LocalCloud) -> None:
    report = run_example(cloud, "try-catch-finally.yaml", {"amount": "12.5"})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Book"] == [{"charged": 12.5}]
    assert report["output"]["Refund"] == []
    assert report["nodes"]["Refund"]["status"] == "not run"
    assert report["output"]["Close order"] == [
        {"region": "payment", "status": "succeeded", "closed": "succeeded"}]


def test_while_repeats_until_ready(cloud: LocalCloud) -> None:
    report = run_example(cloud, "while-retry-until-ready.yaml")
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["nodes"]["Poll"]["runs"] == 5  # one run per iteration, own run index
    assert report["nodes"]["Give up"]["runs"] == 0
    (job,) = report["output"]["Report"]
    assert job["polls"] == 5 and job["ready"] is True and job["status"] == "ready"


def test_while_break_ends_the_loop_early(cloud: LocalCloud) -> None:
    report = run_example(cloud, "while-retry-until-ready.yaml", {"giveUpAfter": 2})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["nodes"]["Poll"]["runs"] == 2
    assert report["nodes"]["Give up"]["runs"] == 1
    (job,) = report["output"]["Report"]
    assert job["polls"] == 2 and job["status"] == "gave up"


def test_endless_while_stops_at_its_cap(cloud: LocalCloud) -> None:
    compiled = compile_workflow({
        "name": "endless",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Forever", "type": "while",
                   "parameters": {"condition": True, "maxIterations": 3}},
                  {"name": "Skip", "type": "continue"},
                  {"name": "Spin", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Forever"},
                        {"from": "Forever", "output": "loop", "to": "Spin"},
                        {"from": "Spin", "to": "Skip"},
                        {"from": "Spin", "to": "Forever"}],
    })
    report = run_compiled(cloud, compiled)
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "Sfnflow.LoopLimitExceeded"
    assert "maxIterations" in report["error"]["message"]
    assert report["nodes"]["Spin"]["runs"] == 3

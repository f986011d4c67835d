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
    """Every workflow under examples/ (subfolders included) is run by a test here: its
    file name appears in one of tests/examples' modules."""
    tests = "\n".join(path.read_text(encoding="utf-8")
                      for path in Path(__file__).parent.glob("test_*.py"))
    examples = [path for path in EXAMPLES.rglob("*")
                if path.suffix in {".yaml", ".yml", ".json"} and path.is_file()]
    assert len(examples) > 16  # the top-level ones and the subfolders'
    assert [path.relative_to(EXAMPLES).as_posix() for path in examples
            if f'"{path.name}"' not in tests] == []


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
    entered = [e["stateEnteredEventDetails"]["name"] for e in report_history(cloud, report)
               if "stateEnteredEventDetails" in e]
    assert entered.count("#await Enrich") == 1  # Enrich met Orders at a rendezvous


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


def test_two_of_three_quotes_wins_with_the_first_two(cloud: LocalCloud) -> None:
    report = run_example(cloud, "two-of-three-quotes.yaml")
    assert report["status"] == "SUCCEEDED", report["error"]
    nodes = report["nodes"]
    assert sorted(item["carrier"] for item in nodes["First two quotes"]["output"][0]) == [
        "A", "B"]
    assert report["output"]["Pick"] == [{"carrier": "B", "price": 9}]
    assert nodes["Ask carrier C"]["status"] == "not run"  # cancelled mid-wait
    assert nodes["Quote C"]["runs"] == 0
    (quorum,) = _quorum_items(cloud)
    assert sorted(entry["S"] for entry in quorum["finishers"]["L"]) == ["0", "1"]


def _quorum_items(cloud: LocalCloud) -> list[dict[str, Any]]:
    import boto3

    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    table = f"{cloud.config.table_prefix}-merge-quorums"
    return list(dynamodb.scan(TableName=table)["Items"])


def _quorum_workflow(branch: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Three branches racing into a waitFor-2 merge; ``branch`` is the node of each (its
    name gets the branch number), after a wait of 1, 2 and 6,000 s (the last is cancelled)."""
    nodes: list[dict[str, Any]] = [{"name": "Start", "type": "manualTrigger"}]
    connections: list[dict[str, Any]] = []
    for index, seconds in enumerate((1, 2, 6000)):
        nodes += [{"name": f"Wait {index}", "type": "wait", "parameters": {"seconds": seconds}},
                  {**branch, "name": f"{branch['name']} {index}"}]
        connections += [{"from": "Start", "to": f"Wait {index}"},
                        {"from": f"Wait {index}", "to": f"{branch['name']} {index}"},
                        {"from": f"{branch['name']} {index}", "to": "M", "input": index}]
    nodes.append({"name": "M", "type": "merge",
                  "parameters": {"numberInputs": 3, "waitFor": 2, **extra}})
    return {"name": "quorum", "nodes": nodes, "connections": connections}


def test_quorum_winners_too_big_for_the_cause_are_read_back(cloud: LocalCloud) -> None:
    """Two winners of ~20 KB each exceed the 32,768-character error cause: the Catch goes
    to a getItem of the quorum item instead."""
    compiled = compile_workflow(_quorum_workflow(
        {"name": "Big", "type": "code",
         "parameters": {"code": "return [{'blob': 'x' * 20000, 'n': len(items)}]"}}))
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    merged = report["output"]["M"]
    assert len(merged) == 2 and all(len(item["blob"]) == 20000 for item in merged)
    assert report["nodes"]["Big 2"]["runs"] == 0
    entered = [e["stateEnteredEventDetails"]["name"] for e in report_history(cloud, report)
               if "stateEnteredEventDetails" in e]
    assert "#winners M" in entered


def report_history(cloud: LocalCloud, report: dict[str, Any]) -> list[dict[str, Any]]:
    arns = getattr(cloud, "_arns", {})
    return cloud.history(arns[report["executionId"]])


def test_quorum_in_a_loop_counts_each_iteration_apart(cloud: LocalCloud) -> None:
    race = _quorum_workflow({"name": "Tag", "type": "set",
                             "parameters": {"values": {"branch": "{% $json.id %}"}}})
    body = [c for c in race["connections"] if c["from"] != "Start"]
    entries = [{"from": "Each", "output": "loop", "to": c["to"]}
               for c in race["connections"] if c["from"] == "Start"]
    compiled = compile_workflow({
        "name": "quorum-loop",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Two", "type": "code",
                   "parameters": {"code": "return [{'id': 1}, {'id': 2}]"}},
                  {"name": "Each", "type": "forEach", "parameters": {"maxConcurrency": 2}},
                  *race["nodes"][1:], {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Two"}, {"from": "Two", "to": "Each"},
                        *entries, *body, {"from": "M", "to": "Each"},
                        {"from": "Each", "output": "done", "to": "After"}],
    })
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert sorted(item["branch"] for item in report["output"]["After"]) == [1, 1, 2, 2]
    assert len(_quorum_items(cloud)) == 2  # one quorum per iteration


def test_distributed_for_each_records_every_run(cloud: LocalCloud) -> None:
    report = run_example(cloud, "distributed-for-each.yaml")
    assert report["status"] == "SUCCEEDED", report["error"]
    nodes = report["nodes"]
    assert nodes["Score"]["runs"] == 120 and nodes["Grade"]["runs"] == 120
    runs = cloud.repository.node_runs(report["executionId"])
    assert sorted(r.run_index for r in runs if r.node == "Score") == list(range(120))
    (count,) = report["output"]["Count"]
    assert count["lead"] == [i for i in range(120) if i % 7 >= 5]


def _distributed_workflow(code: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "distributed",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Vars", "type": "setVariable",
                   "parameters": {"values": {"factor": 3}}},
                  {"name": "Make", "type": "code",
                   "parameters": {"code": "return [{'id': i} for i in range(8)]"}},
                  {"name": "Outer", "type": "splitInBatches",
                   "parameters": {"batchSize": 4, **extra}},
                  {"name": "Each", "type": "forEach",
                   "parameters": {"mode": "distributed", "maxConcurrency": 4}},
                  {"name": "Times", "type": "set",
                   "parameters": {"values": {"x": "{% $json.id * $vars.factor %}"}}},
                  {"name": "Check", "type": "code", "parameters": {"code": code}},
                  {"name": "After", "type": "noOp"}],
        "connections": [{"from": "Start", "to": "Vars"}, {"from": "Vars", "to": "Make"},
                        {"from": "Make", "to": "Outer"},
                        {"from": "Outer", "output": "loop", "to": "Each"},
                        {"from": "Each", "output": "loop", "to": "Times"},
                        {"from": "Times", "to": "Check"}, {"from": "Check", "to": "Each"},
                        {"from": "Each", "output": "done", "to": "Outer"},
                        {"from": "Outer", "output": "done", "to": "After"}],
    }


def test_distributed_map_children_read_the_parents_context(cloud: LocalCloud) -> None:
    """Nested in an inline loop, reading $vars: the child executions get the parent's
    execution, run index and variables through the ItemSelector."""
    report = run_compiled(cloud, compile_workflow(_distributed_workflow("return items")))
    assert report["status"] == "SUCCEEDED", report["error"]
    assert [item["x"] for item in report["output"]["After"]] == [3 * i for i in range(8)]
    runs = cloud.repository.node_runs(report["executionId"])
    indexes = sorted(r.run_index for r in runs if r.node == "Times")
    assert indexes == sorted(outer * 100000 + inner for outer in (0, 1) for inner in range(4))


def test_a_failed_distributed_iteration_fails_the_map(cloud: LocalCloud) -> None:
    code = "if items[0]['id'] == 5:\n    raise ValueError('five')\nreturn items"
    report = run_compiled(cloud, compile_workflow(_distributed_workflow(code)))
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "States.ExceedToleratedFailureThreshold"
    assert report["nodes"]["After"]["status"] == "not run"
    check = [r for r in cloud.repository.node_runs(report["executionId"]) if r.node == "Check"]
    assert any(r.status == "error" for r in check)


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


def _decide_approval(cloud: LocalCloud, decision: str, payload: Any = None) -> dict[str, Any]:
    """Run approval-flow.yaml, deciding its paused wait as a person would (the API's
    service, called directly), and report the execution."""
    import time

    from functions.services.waits import WaitService
    from functions.store.waits import WaitRepository

    compiled = compile_workflow(load_file(EXAMPLES / "approval-flow.yaml"))
    execution_id = cloud.start(compiled, [{"id": 1, "amount": 40}, {"id": 2, "amount": 250}])
    waits = WaitService(cloud.sfn, cloud.repository, WaitRepository(), cloud.config)
    deadline = time.monotonic() + 20
    while not (paused := [w for w in waits.views(execution_id) if w["status"] == "waiting"]):
        assert time.monotonic() < deadline, "the expense never paused for approval"
        time.sleep(0.01)
    paused_execution = cloud.repository.get_execution(execution_id)
    assert paused_execution is not None and paused_execution.status == "WAITING"
    waits.decide(execution_id, paused[0]["waitId"], decision, payload)
    finished = cloud.wait(execution_id)
    execution = cloud.repository.get_execution(execution_id)
    assert execution is not None
    return build_report(compiled, execution, cloud.repository.node_runs(execution_id),
                        finished.history, finished.output)


def test_approval_flow_books_an_approved_expense(cloud: LocalCloud) -> None:
    report = _decide_approval(cloud, "approve")
    assert report["status"] == "SUCCEEDED", report["error"]
    assert sorted(report["output"]["Book"], key=lambda item: item["id"]) == [
        {"id": 1, "amount": 40, "status": "booked"},
        {"id": 2, "amount": 250, "status": "booked"}]
    assert report["nodes"]["Approve expense"]["status"] == "success"
    assert report["nodes"]["Tell submitter"]["status"] == "not run"


def test_approval_flow_reports_a_rejection_with_its_reason(cloud: LocalCloud) -> None:
    report = _decide_approval(cloud, "reject", {"reason": "no receipt"})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["output"]["Book"] == [{"id": 1, "amount": 40, "status": "booked"}]
    (told,) = report["output"]["Tell submitter"]
    assert told["status"] == "rejected" and told["reason"] == "no receipt"
    assert told["error"]["type"] == "Sfnflow.Rejected"

"""Runner-chain fusion: which chains fuse, their one Task, and runs on the embedded cloud.

A chain of runner nodes (each the only successor of the one before, no retry, timeout or
onError routing) runs in one Task, one Lambda invocation (``functions.fused``); every node
keeps its own run record, and an error is its node's, routed as if unfused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.lowering.task import NODE_RUNNER
from local.cloud import LocalCloud
from tests.examples.test_examples import report_history, run_compiled


def chain(*nodes: dict[str, Any], fusion: bool = True) -> dict[str, Any]:
    """Start -> nodes, in a row, with ``settings.fusion`` (opt-in for now)."""
    names = [node["name"] for node in nodes]
    return {"name": "chain", "nodes": [{"name": "Start", "type": "manualTrigger"}, *nodes],
            "connections": [{"from": a, "to": b}
                            for a, b in zip(["Start", *names], names, strict=False)],
            "settings": {"fusion": fusion}}


def code(name: str, source: str = "return [dict(i, n=i.get('n', 0) + 1) for i in items]",
         **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": "code", "parameters": {"code": source}, **extra}


FIVE = [code(f"c{i}") for i in range(1, 6)]


def runner_tasks(definition: dict[str, Any]) -> list[str]:
    return [name for name, state in definition["States"].items()
            if state.get("Resource") == NODE_RUNNER]


# --------------------------------------------------------------------------- the decision


def test_five_runner_nodes_in_a_row_are_one_task() -> None:
    compiled = compile_workflow(chain(*FIVE))
    assert [c.members for c in compiled.decisions.fused] == [(1, 2, 3, 4, 5)]
    assert runner_tasks(compiled.definition) == ["Start", "c1"]
    task = compiled.definition["States"]["c1"]
    assert [e["node"]["name"] for e in task["Arguments"]["fused"]] == ["c2", "c3", "c4", "c5"]
    assert "c1" not in task["Arguments"]["fused"][0]["data"]  # handed over by the runner


@pytest.mark.parametrize(("change", "fused"), [
    ({"retry": {"maxAttempts": 3}}, [(1, 2), (4, 5)]),
    ({"timeoutSeconds": 30}, [(1, 2), (4, 5)]),
    ({"onError": "continueRegularOutput"}, [(1, 2), (4, 5)]),
    ({"fuse": False}, [(1, 2), (4, 5)]),
])
def test_a_node_that_needs_its_own_state_breaks_the_chain(change: dict[str, Any],
                                                          fused: list[tuple[int, ...]]) -> None:
    nodes = [dict(node) for node in FIVE]
    nodes[2].update(change)
    assert [c.members for c in compile_workflow(chain(*nodes)).decisions.fused] == fused


def test_fan_out_and_the_workflow_setting_keep_tasks_apart() -> None:
    assert compile_workflow(chain(*FIVE, fusion=False)).decisions.fused == ()
    unset = chain(*FIVE)
    del unset["settings"]
    assert compile_workflow(unset).decisions.fused == ()  # opt-in, for now
    document = chain(*FIVE)
    document["connections"].append({"from": "c2", "to": "c4"})  # c2 fans out, c4 fans in
    assert [c.members for c in compile_workflow(document).decisions.fused] == [(1, 2), (4, 5)]


def test_plan_shows_the_fused_chain() -> None:
    shown = compile_workflow(chain(*FIVE)).decisions.to_dict()["fused"]
    assert shown == [{"nodes": ["c1", "c2", "c3", "c4", "c5"],
                      "reason": "5 runner nodes in a row: one Lambda call and one transition "
                      "instead of 5"}]


# --------------------------------------------------------------------------- on the cloud


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=0.01) as local_cloud:
        yield local_cloud


def lambda_calls(cloud: LocalCloud, report: dict[str, Any]) -> int:
    return sum(1 for event in report_history(cloud, report)
               if event["type"] in ("TaskScheduled", "LambdaFunctionScheduled"))


def test_a_fused_chain_runs_in_one_invocation_with_a_run_record_per_node(
        cloud: LocalCloud) -> None:
    document = chain(code("c1", "return [{'n': 0}]"), *FIVE[1:])
    fused = run_compiled(cloud, compile_workflow(document))
    apart = run_compiled(cloud, compile_workflow({**document, "settings": {"fusion": False}}))
    for report in (fused, apart):
        assert report["status"] == "SUCCEEDED", report["error"]
        assert [report["nodes"][f"c{i}"]["status"] for i in range(1, 6)] == ["success"] * 5
        assert report["output"]["c5"] == [{"n": 4}]
    assert (lambda_calls(cloud, fused), lambda_calls(cloud, apart)) == (2, 6)  # + the trigger


def test_an_error_in_the_third_node_is_that_node_s_as_unfused(cloud: LocalCloud) -> None:
    nodes = [dict(node) for node in FIVE]
    nodes[2] = code("c3", "raise ValueError('third one fails')")
    reports = [run_compiled(cloud, compile_workflow(chain(*nodes, fusion=fusion)))
               for fusion in (True, False)]
    for report in reports:
        assert report["status"] == "FAILED"
        assert [report["nodes"][f"c{i}"]["status"] for i in range(1, 6)] == \
            ["success", "success", "error", "not run", "not run"]
        assert "third one fails" in json.dumps(report["nodes"]["c3"]["error"])
    assert reports[0]["error"] == reports[1]["error"]


def test_a_retried_node_keeps_its_own_task_and_retries_alone(cloud: LocalCloud) -> None:
    """c3 has a retry: it is not fused (its Retry would run c1 and c2 again); c1-c2 and
    c4-c5 are. c3 fails every attempt: three attempts of c3 alone, c1 and c2 ran once."""
    nodes = [dict(node) for node in FIVE]
    nodes[2] = code("c3", "raise ValueError('still failing')",
                    retry={"maxAttempts": 3, "intervalSeconds": 1,
                           "errors": ["Sfnflow.CodeError"]})
    compiled = compile_workflow(chain(*nodes))
    assert runner_tasks(compiled.definition) == ["Start", "c1", "c3", "c4"]
    report = run_compiled(cloud, compiled)
    assert report["status"] == "FAILED"
    assert report["nodes"]["c3"]["attempts"] == 3
    assert [report["nodes"][f"c{i}"]["runs"] for i in range(1, 6)] == [1, 1, 1, 0, 0]


def test_plan_and_manifest_name_the_chain_s_task() -> None:
    from compiler.explain import explain

    compiled = compile_workflow(chain(*FIVE))
    assert {compiled.manifest["nodes"][f"c{i}"]["state"] for i in range(1, 6)} == {"c1"}
    blocks = explain(compiled).to_dict()["plan"]["children"]
    c3 = next(block for block in blocks if block["label"] == "c3")
    assert (c3["state"], c3["why"]) == ("Lambda", "fused: runs in c1's Task")
    run = explain(compiled).run.live
    apart = explain(compile_workflow(chain(*FIVE, fusion=False))).run.live
    assert (run.lambda_calls, run.transitions) == (apart.lambda_calls - 4,
                                                   apart.transitions - 4)

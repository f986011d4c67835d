"""The node runner on its own: events in, outputs out, run data in DynamoDB (moto)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.errors import CodeError, ParameterError
from functions.runner import NodeRunner
from local.cloud import LocalCloud


def event(node_type: str, name: str = "N", *, params: dict[str, Any] | None = None,
          items: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    outputs = extra.pop("outputs", ["main"])
    return {
        "workflow": "wf",
        "execution": {"id": "exec-1", "startTime": "2026-01-01T00:00:00Z"},
        "node": {"name": name, "type": node_type, "parameters": json.dumps(params or {}),
                 "onError": extra.pop("onError", "stopWorkflow"),
                 "disabled": extra.pop("disabled", False), "outputs": outputs},
        "inputs": [[{"from": "Up", "output": 0}]],
        "data": {"Up": {"ports": [{"count": len(items or []), "items": items or []}]}},
        "attempt": extra.pop("attempt", 1),
        "pinned": extra.pop("pinned", False),
        **extra,
    }


@pytest.fixture
def runner(cloud: LocalCloud) -> NodeRunner:
    return NodeRunner(cloud.repository)


def test_runs_the_node_and_records_the_run(runner: NodeRunner, cloud: LocalCloud) -> None:
    result = runner.run(event("set", params={"values": {"b": "{% $json.a * 2 %}"}},
                              items=[{"a": 1}, {"a": 2}]))
    assert result == {"ports": [{"count": 2, "items": [{"a": 1, "b": 2}, {"a": 2, "b": 4}]}]}
    (run,) = cloud.repository.node_runs("exec-1")
    assert (run.node, run.status, run.input_counts, run.output_counts) == ("N", "success", [2],
                                                                           [2])
    assert run.output == [[{"a": 1, "b": 2}, {"a": 2, "b": 4}]]


def test_node_without_input_items_does_not_run(runner: NodeRunner, cloud: LocalCloud) -> None:
    result = runner.run(event("if", params={"condition": True}, items=[],
                              outputs=["true", "false"]))
    assert result == {"ports": [{"count": 0, "items": []}, {"count": 0, "items": []}]}
    assert cloud.repository.node_runs("exec-1") == []


def test_pinned_node_returns_its_pin_without_running(runner: NodeRunner,
                                                     cloud: LocalCloud) -> None:
    cloud.repository.put_pin("wf", "N", [{"pinned": True}])
    result = runner.run(event("code", params={"code": "raise ValueError('never')"},
                              items=[{"a": 1}], pinned=True))
    assert result["ports"][0]["items"] == [{"pinned": True}]
    assert cloud.repository.node_runs("exec-1")[0].status == "pinned"


def test_disabled_node_passes_items_through(runner: NodeRunner) -> None:
    result = runner.run(event("code", params={"code": "return []"}, items=[{"a": 1}],
                              disabled=True))
    assert result["ports"][0]["items"] == [{"a": 1}]


def test_failure_is_recorded_before_the_error_is_raised(runner: NodeRunner,
                                                        cloud: LocalCloud) -> None:
    with pytest.raises(CodeError):
        runner.run(event("code", params={"code": "raise ValueError('bad')"}, items=[{}],
                         attempt=3))
    (run,) = cloud.repository.node_runs("exec-1")
    assert run.status == "error" and run.attempts == 3
    assert run.error is not None and run.error["type"] == "Sfnflow.CodeError"
    assert "bad" in run.error["message"]


def test_continue_error_output_adds_the_error_port(runner: NodeRunner) -> None:
    result = runner.run(event("noOp", items=[{"a": 1}], onError="continueErrorOutput",
                              outputs=["main", "error"]))
    assert [port["count"] for port in result["ports"]] == [1, 0]


def test_node_expression_reads_other_nodes_run_data(runner: NodeRunner) -> None:
    runner.run(event("set", name="First", params={"values": {"x": 7}}, items=[{}]))
    result = runner.run(event("set", name="Second",
                              params={"values": {"y": "{% $node('First')[0].x + 1 %}"}},
                              items=[{}]))
    assert result["ports"][0]["items"] == [{"y": 8}]


def test_large_outputs_are_offloaded_to_s3(cloud: LocalCloud) -> None:
    from dataclasses import replace

    small = replace(cloud.config, inline_output_limit=100)
    from functions.store.repository import RunRepository

    runner = NodeRunner(RunRepository(small, s3_client=cloud.s3))
    items = [{"blob": "x" * 50, "i": i} for i in range(20)]
    runner.run(event("noOp", items=items))
    (run,) = cloud.repository.node_runs("exec-1")
    assert run.output == [items]  # read back through the S3 reference


def test_malformed_event_is_a_parameter_error(runner: NodeRunner) -> None:
    with pytest.raises(ParameterError, match="malformed"):
        runner.run({"node": {}})


def test_set_variable_returns_the_merged_variables(runner: NodeRunner) -> None:
    result = runner.run(event("setVariable", params={"values": {"y": "{% $json.a + $vars.x %}"}},
                              items=[{"a": 1}, {"a": 5}], vars={"x": 10, "z": 0}))
    assert result["ports"] == [{"count": 2, "items": [{"a": 1}, {"a": 5}]}]
    assert result["vars"] == {"x": 10, "z": 0, "y": 11}  # against the first item


class _Printing:
    """An executor that prints (hands lines over in ``ctx.extras["logs"]``, as the n8n Code
    node does), then answers or fails."""

    def __init__(self, lines: list[str], fail: bool = False) -> None:
        self.lines, self.fail = lines, fail

    def run(self, inputs: Any, ctx: Any) -> Any:
        if self.lines:
            ctx.extras["logs"] = self.lines
        if self.fail:
            raise CodeError("boom")
        return [[{"ok": True}]]


@pytest.mark.parametrize(("lines", "fail"), [(["one", "two", "three"], False),
                                             (["before the failure"], True), ([], False)])
def test_the_executors_console_output_is_recorded_with_the_run(
        runner: NodeRunner, cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch,
        lines: list[str], fail: bool) -> None:
    monkeypatch.setattr("functions.runner.get_executor", lambda _type: _Printing(lines, fail))
    if fail:
        with pytest.raises(CodeError):
            runner.run(event("noOp", items=[{"a": 1}]))
    else:
        runner.run(event("noOp", items=[{"a": 1}]))
    (recorded,) = cloud.repository.node_runs("exec-1")
    assert recorded.status == ("error" if fail else "success")
    assert recorded.logs == (lines or None)

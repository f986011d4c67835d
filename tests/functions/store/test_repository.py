"""The run-data repository on moto's DynamoDB through pynamodb."""

from __future__ import annotations

from typing import Any

from functions.store.models import NodeRunModel
from functions.store.repository import Execution, NodeRun
from local.cloud import LocalCloud


def execution(execution_id: str, started_at: str, workflow: str = "wf",
              status: str = "RUNNING") -> Execution:
    return Execution(execution_id=execution_id, workflow_id=workflow, status=status,
                     started_at=started_at)


def test_executions_of_a_workflow_newest_first_via_the_gsi(cloud: LocalCloud) -> None:
    repo = cloud.repository
    for i in range(5):
        repo.create_execution(execution(f"e{i}", f"2026-01-0{i + 1}T00:00:00.000Z"))
    repo.create_execution(execution("other", "2026-01-09T00:00:00.000Z", workflow="other"))
    found = repo.executions_of("wf", limit=3)
    assert [e.execution_id for e in found] == ["e4", "e3", "e2"]


def test_terminal_status_is_final(cloud: LocalCloud) -> None:
    repo = cloud.repository
    repo.create_execution(execution("e1", "2026-01-01T00:00:00.000Z"))
    repo.record_execution_status("e1", "FAILED", error={"type": "X", "message": "m"})
    repo.record_execution_status("e1", "SUCCEEDED")  # a late, duplicated or reordered event
    stored = repo.get_execution("e1")
    assert stored is not None
    assert stored.status == "FAILED" and stored.error == {"type": "X", "message": "m"}


def test_output_keyed_like_a_dynamodb_type_tag(cloud: LocalCloud) -> None:
    """The output of a workflow whose only sink is named "N" (or "S", "L", "M"...)."""
    repo = cloud.repository
    repo.create_execution(execution("e1", "2026-01-01T00:00:00.000Z"))
    output = {"N": {"ports": [{"count": 1, "items": [{"a": 1}]}]}}
    repo.record_execution_status("e1", "SUCCEEDED", output=output)
    stored = repo.get_execution("e1")
    assert stored is not None and stored.output == output


def test_node_runs_round_trip_and_latest_output(cloud: LocalCloud) -> None:
    repo = cloud.repository
    run = NodeRun(execution_id="e1", node="A#1", node_type="set", status="success",
                  started_at="t0", finished_at="t1", duration_ms=3, input_counts=[1],
                  output_counts=[1], output=[[{"x": 1}]])
    repo.record_node_run(run)
    assert repo.node_runs("e1") == [run]
    assert repo.node_output("e1", "A#1") == [[{"x": 1}]]
    assert repo.node_output("e1", "A") is None  # prefix of another node's key


def test_pins(cloud: LocalCloud) -> None:
    repo = cloud.repository
    assert repo.get_pin("wf", "Fetch") is None
    repo.put_pin("wf", "Fetch", [{"a": 1}])
    repo.put_pin("wf", "Fetch", [{"a": 2}])
    assert repo.get_pin("wf", "Fetch") == [{"a": 2}]


def test_node_run_logs_round_trip_bounded_and_absent_when_empty(cloud: LocalCloud) -> None:
    repo = cloud.repository
    base = dict(execution_id="e1", node_type="code", status="success", started_at="t0",
                finished_at="t1", duration_ms=3)
    repo.record_node_run(NodeRun(node="Said", logs=["a", "b c", "é"], **base))
    repo.record_node_run(NodeRun(node="Flood", logs=[f"l{i}" for i in range(500)], **base))
    repo.record_node_run(NodeRun(node="Quiet", logs=[], **base))
    runs = {run.node: run for run in repo.node_runs("e1")}
    assert runs["Said"].logs == ["a", "b c", "é"]
    flood = runs["Flood"].logs
    assert flood is not None and flood[:100] == [f"l{i}" for i in range(100)]
    assert flood[100:] == ["[sfnflow: 400 more log lines truncated]"]
    assert runs["Quiet"].logs is None
    assert "logs" not in NodeRunModel.get("e1", "Quiet#0000").attribute_values


def test_a_node_run_and_its_finished_event_are_one_write_request(
        cloud: LocalCloud, monkeypatch: Any) -> None:
    """The run record and its ``nodeFinished`` progress event were two PutItems on the
    node's critical path; they are one request, and both are there."""
    from functions.store.models import NodeRunModel, ProgressEventModel

    sent: list[str] = []
    client = NodeRunModel._get_connection().connection.client
    original = client._make_api_call

    def counted(operation: str, params: dict[str, Any]) -> Any:
        sent.append(operation)
        return original(operation, params)

    monkeypatch.setattr(client, "_make_api_call", counted)
    repo = cloud.repository
    repo.record_node_run(NodeRun(
        execution_id="e1", node="Fetch", node_type="httpRequest", status="success",
        started_at="2026-01-01T00:00:00.000Z", finished_at="2026-01-01T00:00:01.000Z",
        duration_ms=1000, output=[[{"a": 1}]], output_counts=[1]))
    assert sent == ["TransactWriteItems"]
    assert [run.node for run in repo.node_runs("e1")] == ["Fetch"]
    assert [(e["type"], e["node"], e["at"]) for e in repo.progress_events("e1")] == [
        ("nodeFinished", "Fetch", "2026-01-01T00:00:01.000Z")]
    assert ProgressEventModel.count("e1") == 1

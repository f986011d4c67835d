"""The CLI as a user drives it: exit codes, messages, JSON output. No tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler.project import WORKFLOW_SUFFIXES
from local.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_validate_good_workflows_exits_0() -> None:
    """A folder stands for every workflow document under it, subfolders included."""
    result = runner.invoke(app, ["validate", str(ROOT / "examples")])
    assert result.exit_code == 0, result.output
    documents = [p for p in (ROOT / "examples").rglob("*") if p.suffix in WORKFLOW_SUFFIXES]
    assert len(documents) > len(list((ROOT / "examples").glob("*.yaml")))  # subfolders too
    assert result.output.count("✓") == len(documents)


def test_validate_bad_workflow_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\n"
        "nodes:\n"
        "  - {name: A, type: nope}\n"
        "  - {name: B, type: if, parameters: {}}\n"
        "connections:\n"
        "  - {from: A, to: Ghost}\n"
    )
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "unknown node type 'nope'" in result.output
    assert "parameters.condition" in result.output
    assert "unknown node 'Ghost'" in result.output
    assert "no trigger node" in result.output


def test_compile_prints_asl(tmp_path: Path) -> None:
    result = runner.invoke(app, ["compile", str(ROOT / "examples/orders.yaml")])
    assert result.exit_code == 0
    definition = json.loads(result.output)
    assert definition["QueryLanguage"] == "JSONata"
    assert "Big?" in json.dumps(definition)
    out = tmp_path / "orders.asl.json"
    assert runner.invoke(app, ["compile", str(ROOT / "examples/orders.yaml"), "-o",
                               str(out)]).exit_code == 0
    assert json.loads(out.read_text()) == definition


def test_schema_is_json_schema_covering_node_types() -> None:
    result = runner.invoke(app, ["schema"])
    schema = json.loads(result.output)
    assert "httpRequestParameters" in schema["$defs"]
    assert "manualTrigger" in schema["$defs"]["Node"]["properties"]["type"]["enum"]


def test_run_json_reports_status_output_and_nodes() -> None:
    result = runner.invoke(app, ["run", str(ROOT / "examples/orders.yaml"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "SUCCEEDED"
    assert set(report) >= {"executionId", "status", "error", "output", "nodes"}
    assert {"status", "runs", "items", "durationMs", "attempts"} <= set(report["nodes"]["Sort"])
    assert len(report["output"]["Sort"]) == 5


def test_run_failure_exits_1(tmp_path: Path) -> None:
    wf = tmp_path / "fails.yaml"
    wf.write_text(
        "name: fails\n"
        "nodes:\n"
        "  - {name: Start, type: manualTrigger}\n"
        "  - {name: Stop, type: stopAndError, parameters: {message: halt, errorType: Ops.Halt}}\n"
        "connections: [{from: Start, to: Stop}]\n"
    )
    result = runner.invoke(app, ["run", str(wf), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["status"] == "FAILED"
    assert report["error"] == {"type": "Ops.Halt", "message": "halt", "node": "Stop"}


def test_run_with_pinned_node_and_input_file(tmp_path: Path) -> None:
    wf = tmp_path / "pinned.yaml"
    wf.write_text(
        "name: pinned\n"
        "nodes:\n"
        "  - {name: Start, type: manualTrigger}\n"
        "  - {name: Fetch, type: httpRequest, parameters: {url: 'http://127.0.0.1:9/x'}}\n"
        "  - {name: Tag, type: set, parameters: {values: {who: '{% $json.name %}'}}}\n"
        "connections: [{from: Start, to: Fetch}, {from: Fetch, to: Tag}]\n"
        "pinData: {Fetch: [{name: ada}]}\n"
    )
    data = tmp_path / "input.json"
    data.write_text('{"items": [{"q": 1}]}')
    result = runner.invoke(app, ["run", str(wf), "--json", "--input", f"@{data}"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["nodes"]["Fetch"]["status"] == "pinned"
    assert report["output"]["Tag"] == [{"name": "ada", "who": "ada"}]


def test_run_bad_input_json_exits_2() -> None:
    result = runner.invoke(app, ["run", str(ROOT / "examples/orders.yaml"), "--input", "{nope"])
    assert result.exit_code == 2
    assert "not valid JSON" in result.output


def test_nodes_named_true_false_null_on_parallel_branches_run(tmp_path: Path) -> None:
    """Issue 11: they validated, then failed with States.QueryEvaluationError (the branch
    outputs were read as ``$states.result[0].true``, the JSONata keyword)."""
    wf = tmp_path / "keywords.yaml"
    wf.write_text(
        "name: keywords\n"
        "nodes:\n"
        "  - {name: Start, type: manualTrigger}\n"
        "  - {name: 'true', type: set, parameters: {values: {n: 1}}}\n"
        "  - {name: 'false', type: set, parameters: {values: {n: 2}}}\n"
        "  - {name: 'null', type: set, parameters: {values: {n: 3}}}\n"
        "connections: [{from: Start, to: 'true'}, {from: Start, to: 'false'},\n"
        "              {from: Start, to: 'null'}]\n"
    )
    result = runner.invoke(app, ["run", str(wf), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert {name: items[0]["n"] for name, items in report["output"].items()} == {
        "true": 1, "false": 2, "null": 3}


def _bomb() -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("content", "message"), [
    ("name: caf\u00e9\n".encode("latin-1"), "not UTF-8"),
    (b"name: x\nn: " + b"9" * 5000 + b"\n", "4,300 digits"),
    (b"[" * 10_000 + b"]" * 10_000, "nested more than"),
    (b"&r {k: *r}\n", "recursive alias"),
    (_bomb().encode(), "alias bomb"),
    (b"name: x\nnodes:\n  - {name: S, type: manualTrigger}\n"
     b"  - {name: A, type: set, parameters: {values: {d: 2024-01-31}}}\n"
     b"connections: [{from: S, to: A}]\n", "a date or timestamp"),
])
def test_validate_refuses_hostile_files_with_exit_2_and_no_traceback(
        tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_bytes(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert message in " ".join(result.output.split())  # (rich wraps long lines)


def test_run_refuses_an_alias_bomb_in_pin_data(tmp_path: Path) -> None:
    """``validate`` accepted it in 0.7 s while ``sfnflow run`` grew to 5.6 GB and died."""
    wf = tmp_path / "bomb.yaml"
    wf.write_text(
        _bomb()
        + "name: bomb\n"
        "nodes:\n"
        "  - {name: Start, type: manualTrigger}\n"
        "  - {name: Tag, type: set, parameters: {values: {a: 1}}}\n"
        "connections: [{from: Start, to: Tag}]\n"
        "pinData: {Tag: [{laughs: *l8}]}\n"
    )
    result = runner.invoke(app, ["run", str(wf), "--json"])
    assert result.exit_code == 2, result.output
    assert "alias bomb" in " ".join(result.output.split())


@pytest.mark.parametrize(("value", "message"), [
    ("[" * 10_000 + "]" * 10_000, "nested too deep"),
    ("[" + "9" * 5000 + "]", "4300"),
])
def test_run_refuses_hostile_input_json_with_exit_2(value: str, message: str) -> None:
    result = runner.invoke(app, ["run", str(ROOT / "examples/orders.yaml"), "--input", value])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in " ".join(result.output.split())


def test_run_refuses_an_input_file_that_is_not_utf8(tmp_path: Path) -> None:
    data = tmp_path / "input.json"
    data.write_bytes(b'{"name": "caf\xe9"}')
    result = runner.invoke(app, ["run", str(ROOT / "examples/orders.yaml"), "-i", f"@{data}"])
    assert result.exit_code == 2, result.output
    assert "not UTF-8" in " ".join(result.output.split())

"""``sfnflow plan`` and ``sfnflow graph`` as a user drives them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from compiler import compile_workflow, load_file
from local.cli import app
from local.cloud import LocalCloud
from tests.compiler.lowering.test_fused import FIVE, chain
from tests.compiler.test_explain import runner_tasks

ROOT = Path(__file__).resolve().parents[2]
ORDERS = str(ROOT / "examples/orders.yaml")
runner = CliRunner()


def test_plan_prints_tree_levels_critical_path_and_costs() -> None:
    result = runner.invoke(app, ["plan", ORDERS])
    assert result.exit_code == 0, result.output
    for text in ("parallel, 2 branches", "Priority set", "topological levels",
                 "critical path (6 nodes, 6 s)", "state transitions", "Lambda invocations",
                 "Standard $ / 1,000 runs", "Express $ / 1,000 runs", "us-east-1"):
        assert text in result.output, text


def test_plan_json_with_weights_from_a_file(tmp_path: Path) -> None:
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"Load orders": 4, "Standard": 10}))
    result = runner.invoke(app, ["plan", ORDERS, "--json", "--weights", f"@{weights}"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["criticalPath"] == {
        "nodes": ["Start", "Load orders", "Big?", "Standard", "Merge", "Sort"], "seconds": 18.0}
    assert data["makespan"] == {"seconds": 18.0, "ratio": 1.0}
    definition = compile_workflow(load_file(ORDERS)).definition
    assert data["allLive"] == {"seconds": 18.0, "transitions": 8,
                               "lambdaInvocations": runner_tasks(definition)}
    # the IF's branches are native set nodes: unguarded, they run (on no items) either way
    assert data["guardsSkipped"]["transitions"] == 8
    assert data["costPer1000Executions"]["allLive"]["standard"] == 0.2


def test_plan_rejects_unknown_nodes_in_weights() -> None:
    result = runner.invoke(app, ["plan", ORDERS, "--weights", '{"Nope": 1}'])
    assert result.exit_code == 2
    assert "unknown node 'Nope'" in result.output
    assert "Traceback" not in result.output


def test_graph_prints_mermaid() -> None:
    result = runner.invoke(app, ["graph", ORDERS])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("flowchart LR")
    assert '-->|"true"|' in result.output and '-->|"in 1"|' in result.output


def test_graph_html_writes_an_svg_page(tmp_path: Path) -> None:
    page = tmp_path / "orders.html"
    result = runner.invoke(app, ["graph", ORDERS, "--html", str(page)])
    assert result.exit_code == 0, result.output
    text = page.read_text(encoding="utf-8")
    assert "<svg" in text and "Load orders" in text and "<script" not in text


def test_plan_estimate_matches_a_real_run(cloud: LocalCloud) -> None:
    """Both branches live (the IF sends its one item both ways... by a true condition on one
    side and a second path on the other): the all-live estimate is exact."""
    from compiler.explain import explain

    code = {"type": "code", "parameters": {"code": "return items"}}
    document = {
        "name": "estimate",
        "nodes": [{"name": "T", "type": "manualTrigger"},
                  {"name": "I", "type": "if", "parameters": {"condition": True}},
                  {"name": "A", **code}, {"name": "B", **code},
                  {"name": "W", "type": "wait", "parameters": {"seconds": 1}}],
        "connections": [{"from": "T", "to": "I"}, {"from": "I", "to": "A", "output": "true"},
                        {"from": "T", "to": "W"}, {"from": "W", "to": "B"}],
    }
    compiled = compile_workflow(document)
    finished = cloud.wait(cloud.start(compiled, {"x": 1}))
    assert finished.status == "SUCCEEDED"
    live = explain(compiled).run.live
    kinds = [event["type"] for event in finished.history]
    assert sum(kind.endswith("StateEntered") for kind in kinds) == live.transitions
    assert kinds.count("LambdaFunctionScheduled") == live.lambda_calls == 3


def test_plan_says_why_a_native_capable_node_runs_on_lambda(tmp_path: Path) -> None:
    document = load_file(ORDERS)
    for node in document["nodes"]:
        if node["name"] == "Standard":
            node["retry"] = {"maxAttempts": 2}  # the documented way to force the runner
    path = tmp_path / "orders.json"
    path.write_text(json.dumps(document))
    result = runner.invoke(app, ["plan", str(path), "--json"])
    assert result.exit_code == 0, result.output

    def nodes(block: dict[str, object]) -> list[dict[str, object]]:
        found = [block] if block["kind"] == "node" else []
        for child in block.get("children", []):  # type: ignore[attr-defined]
            found += nodes(child)
        return found

    by_name = {block["label"]: block for block in nodes(json.loads(result.output)["plan"])}
    assert by_name["Standard"]["state"] == "Lambda" and "retry" in str(by_name["Standard"]["why"])
    assert by_name["Priority"]["state"] == "Pass" and "why" not in by_name["Priority"]
    assert "why" not in by_name["Load orders"]  # a code node always runs on Lambda
    text = runner.invoke(app, ["plan", str(path)]).output
    assert "Standard set · Lambda (" in text


def test_plan_shows_every_decision_with_its_reason() -> None:
    """``--json`` carries the decisions pass's record (compiler.passes.decide): how every
    node is lowered and why, each loop inline or distributed, each segment Flow or cut."""
    example = str(ROOT / "examples/non-series-parallel.yaml")
    result = runner.invoke(app, ["plan", example, "--json"])
    assert result.exit_code == 0, result.output
    decisions = json.loads(result.output)["decisions"]
    document = load_file(example)
    assert set(decisions["nodes"]) == {node["name"] for node in document["nodes"]}
    assert all(d["lowering"] and d["reason"] for d in decisions["nodes"].values())
    (segment,) = decisions["segments"]
    assert segment["as"] == "flow" and segment["reason"].startswith("flow: ")
    text = runner.invoke(app, ["plan", example])
    assert "segment " in text.output and "flow — flow: " in text.output
    loops = json.loads(runner.invoke(app, ["plan", str(ROOT / "examples/distributed-for-each"
                                                         ".yaml"), "--json"]).output)
    assert [d["distributed"] for d in loops["decisions"]["loops"].values()] == [True]


def test_plan_shows_fused_runner_chains(tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(chain(*FIVE)))
    result = runner.invoke(app, ["plan", str(path)])
    assert result.exit_code == 0, result.output
    assert "fused c1, c2, c3, c4, c5 — 5 runner nodes in a row" in result.output

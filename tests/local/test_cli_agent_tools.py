"""``sfnflow run`` of an agent with a sub-workflow tool: the tool's workflow is found by
name (``--workflows``) and deployed with it, with no hand deploy; without it, the run
stops before starting, naming the missing workflow."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from local.cli import app
from tests.conftest import TIME_SCALE
from tests.support.fake_model import fake_model, text, tool_calls

ROOT = Path(__file__).resolve().parents[2]
AGENT_TOOLS = ROOT / "examples" / "ai" / "agent-tools.yaml"
runner = CliRunner()


def test_run_deploys_the_sub_workflow_tool_found_by_name() -> None:
    with fake_model(tool_calls(("double", {"amount": 21})), text("42")) as server:
        result = runner.invoke(app, [
            "run", str(AGENT_TOOLS), "--workflows", str(ROOT / "examples"), "--json",
            "--time-scale", str(TIME_SCALE), "--input", json.dumps({
                "question": "Twice 21?", "modelUrl": server.base_url,
                "toolsUrl": server.url})])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (item,) = report["nodes"]["Assistant"]["output"][0]
    assert item["turns"][0]["toolResults"][0]["result"] == \
        {"amount": 42, "doubledBy": "subworkflow-child"}


def test_run_names_a_tool_workflow_it_cannot_find() -> None:
    result = runner.invoke(app, ["run", str(AGENT_TOOLS), "--json"])
    assert result.exit_code == 2, result.output
    assert "subworkflow-child" in result.output

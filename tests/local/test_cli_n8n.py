"""``sfnflow import`` / ``export --n8n``, and n8n's JSON read by the other commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from compiler import load_file
from local.cli import app

runner = CliRunner()
BASE = "n8n-nodes-base."


def n8n_workflow(*extra_nodes: dict[str, Any]) -> dict[str, Any]:
    nodes = [
        {"id": "a", "name": "Start", "type": BASE + "manualTrigger", "typeVersion": 1,
         "position": [0, 0], "parameters": {}},
        {"id": "b", "name": "Keep one", "type": BASE + "limit", "typeVersion": 1,
         "position": [200, 0], "parameters": {"maxItems": 1}},
        *extra_nodes,
    ]
    return {"name": "Limit demo", "nodes": nodes, "settings": {"executionOrder": "v1"},
            "connections": {"Start": {"main": [[{"node": "Keep one", "type": "main",
                                                 "index": 0}]]}}}


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_import_writes_sfnflow_yaml_and_export_gives_n8n_back(tmp_path: Path) -> None:
    source = write(tmp_path, n8n_workflow())
    imported = tmp_path / "flow.yaml"
    result = runner.invoke(app, ["import", str(source), "-o", str(imported)])
    assert result.exit_code == 0, result.output
    document = load_file(imported)
    assert document["connections"] == [{"from": "Start", "to": "Keep one"}]
    assert document["nodes"][1]["typeVersion"] == 1
    exported = tmp_path / "back.json"
    result = runner.invoke(app, ["export", str(imported), "--n8n", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    assert json.loads(exported.read_text()) == n8n_workflow() | {"pinData": {}}


def test_import_lists_what_is_not_supported(tmp_path: Path) -> None:
    debug = {"id": "c", "name": "Debug", "type": BASE + "debugHelper", "typeVersion": 1,
             "position": [0, 0], "parameters": {}}
    result = runner.invoke(app, ["import", str(write(tmp_path, n8n_workflow(debug)))])
    assert result.exit_code == 0
    assert "not supported node 'Debug' type: unknown n8n node type" in \
        " ".join(result.output.split())


def test_validate_and_run_read_n8n_json(tmp_path: Path) -> None:
    source = write(tmp_path, n8n_workflow())
    assert runner.invoke(app, ["validate", str(source)]).exit_code == 0
    result = runner.invoke(app, ["compile", str(source)])
    assert result.exit_code == 0
    assert "Keep one" in json.loads(result.stdout)["States"]

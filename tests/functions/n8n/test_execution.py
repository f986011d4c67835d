"""n8n's execution mode of an sfnflow execution (functions.n8n.execution), as ``$mode`` and
``$execution.mode`` read it in a node run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.n8n.execution import N8N_MODES, execution_mode
from functions.nodes.n8n_run import run_node
from tests.functions.nodes.support import context

CODE = "n8n-nodes-base.code"
JS = "return [{json: {mode: $mode, execution: $execution.mode}}]"


@pytest.mark.parametrize(("started", "mode"), [
    ("manual", "manual"), ("webhook", "webhook"), ("trigger", "trigger"),
    ("subworkflow", "integrated"), ("error", "error"), ("retry", "retry"),
    (None, "manual"), ("something new", "manual"),
])
def test_sfnflow_start_kinds_as_n8n_modes(started: Any, mode: str) -> None:
    assert execution_mode(started) == mode


def test_every_mode_is_one_n8n_knows() -> None:
    known = {"cli", "error", "integrated", "internal", "manual", "retry", "trigger", "webhook",
             "evaluation"}
    assert set(N8N_MODES.values()) <= known


def modes(extras: dict[str, Any]) -> dict[str, Any]:
    """``$mode`` and ``$execution.mode`` in a Code node run with the runner's ``extras``."""
    node = {"name": "Node", "type": CODE, "typeVersion": 2, "outputs": ["main"],
            "n8n": json.dumps({"connections": {}, "timezone": "UTC"})}
    extras["n8n"] = {"node": node, **extras.get("n8n", {})}
    ctx = context(CODE, {"jsCode": JS}, [{}], extras=extras)
    result: dict[str, Any] = run_node(CODE, [[{"json": {}}]], ctx)[0][0]["json"]
    return result


def test_the_runner_given_mode_reaches_the_code() -> None:
    assert modes({"n8n": {"executionMode": "webhook"}}) == {"mode": "webhook",
                                                            "execution": "production"}
    assert modes({"n8n": {"executionMode": "manual"}}) == {"mode": "manual",
                                                           "execution": "test"}


def test_a_trigger_node_reads_it_from_the_execution_input() -> None:
    assert modes({"trigger": {"items": [{}], "mode": "subworkflow"}})["mode"] == "integrated"


def test_without_one_it_is_a_manual_run() -> None:
    assert modes({}) == {"mode": "manual", "execution": "test"}

"""Per-node timeouts and waits until a moment, end to end on moto (scaled clock)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from compiler import WorkflowInvalid, compile_workflow
from local import moto_patches
from local.cloud import LocalCloud
from tests.examples.test_examples import run_compiled


def chain(*nodes: dict[str, Any], **settings: Any) -> dict[str, Any]:
    all_nodes = [{"name": "Start", "type": "manualTrigger"}, *nodes]
    return {
        "name": "timing",
        "settings": settings,
        "nodes": all_nodes,
        "connections": [{"from": a["name"], "to": b["name"]}
                        for a, b in zip(all_nodes, all_nodes[1:], strict=False)],
    }


def test_node_timeout_fails_with_states_timeout(cloud: LocalCloud, http_api: Any) -> None:
    slow = {"name": "Slow", "type": "code", "timeoutSeconds": 2,
            "parameters": {"code": "import time\ntime.sleep(0.5)\nreturn items"}}
    compiled = compile_workflow(chain(slow))
    assert compiled.definition["States"]["Slow"]["TimeoutSeconds"] == 2
    moto_patches.set_time_scale(0.05)  # the 2 s timeout fires after 100 ms
    report = run_compiled(cloud, compiled)
    assert report["status"] == "FAILED"
    assert report["error"]["type"] == "States.Timeout"


def test_node_timeout_can_be_caught(cloud: LocalCloud) -> None:
    slow = {"name": "Slow", "type": "code", "timeoutSeconds": 2,
            "onError": "continueErrorOutput",
            "parameters": {"code": "import time\ntime.sleep(0.5)\nreturn items"}}
    moto_patches.set_time_scale(0.05)
    report = run_compiled(cloud, compile_workflow(chain(slow)))
    assert report["status"] == "SUCCEEDED"
    (item,) = report["output"]["Slow"]["error"]
    assert item["error"]["type"] == "States.Timeout"


def test_workflow_timeout(cloud: LocalCloud) -> None:
    moto_patches.set_time_scale(1.0)
    slow = {"name": "Slow", "type": "code",
            "parameters": {"code": "import time\ntime.sleep(2)\nreturn items"}}
    report = run_compiled(cloud, compile_workflow(chain(slow, timeoutSeconds=1)))
    assert report["status"] == "TIMED_OUT"


@pytest.mark.parametrize("offset", ["+02:00", "-05:30", "Z"])
def test_wait_until_a_timestamp_with_timezone(cloud: LocalCloud, offset: str) -> None:
    moto_patches.set_time_scale(1.0)
    now = datetime.now(UTC) + timedelta(seconds=1)
    hours, minutes = (0, 0) if offset == "Z" else (int(offset[:3]), int(offset[0] + offset[4:]))
    local = now.astimezone(__import__("datetime").timezone(timedelta(hours=hours,
                                                                       minutes=minutes)))
    until = local.replace(tzinfo=None).isoformat(timespec="seconds") + offset
    compiled = compile_workflow(chain({"name": "Until", "type": "wait",
                                       "parameters": {"until": until}}))
    started = time.monotonic()
    report = run_compiled(cloud, compiled)
    assert report["status"] == "SUCCEEDED", report["error"]
    assert time.monotonic() - started < 60  # a misread offset would wait hours


def test_wait_until_an_expression(cloud: LocalCloud) -> None:
    moto_patches.set_time_scale(1.0)
    compiled = compile_workflow(chain({"name": "Until", "type": "wait", "parameters": {
        "until": "{% $fromMillis($toMillis($json.due)) %}"}}))
    due = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    execution_id = cloud.start(compiled, {"due": due})
    finished = cloud.wait(execution_id)
    assert finished.status == "SUCCEEDED"
    waits = [e for e in finished.history if e["type"] == "WaitStateExited"]
    assert waits


def test_wait_until_needs_a_timezone() -> None:
    with pytest.raises(WorkflowInvalid, match="timezone"):
        compile_workflow(chain({"name": "Until", "type": "wait",
                                "parameters": {"until": "2026-12-01T09:00:00"}}))

"""SplitInBatches v1/v2 loops on the embedded cloud, run by run against n8n's engine.

``peer_region.json`` was recorded with n8n 1.123 (``record_peer_region.py``): a v2 loop
nested in a v2 loop that resets through its own context (with ``$runIndex``, both
contexts and a Code after the loop reading every run of the body), and a v1 loop whose IF
sends both branches back to it, in v1 order and in legacy order. Each document is compiled
and run as a user's would be; every node must have run as often as in n8n, each run with
n8n's items on every output.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

RECORDED = json.loads(Path(__file__).with_name("peer_region.json").read_text())


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def _runs(cloud: LocalCloud, execution_id: str) -> dict[str, list[list[list[Any]]]]:
    runs: dict[str, list[Any]] = defaultdict(list)
    for run in sorted(cloud.repository.node_runs(execution_id), key=lambda r: r.run_index):
        runs[run.node].append([[item["json"] if isinstance(item, dict) and "json" in item
                                else item for item in port] for port in run.output or []])
    return runs


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_every_node_runs_as_in_n8n(cloud: LocalCloud, case: str) -> None:
    recorded = RECORDED[case]
    compiled = compile_workflow(recorded["workflow"])
    execution_id = cloud.start(compiled, None, mode="manual")
    finished = cloud.wait(execution_id, timeout_seconds=60)
    assert finished.status == "SUCCEEDED", finished.cause
    runs = _runs(cloud, execution_id)
    for node, expected in recorded["runs"].items():
        assert runs.get(node) == expected, node
    regions = {name for name, spec in compiled.manifest["nodes"].items()
               if spec["type"] == "sfnflow.n8nLoop"}
    assert set(runs) - regions - {n for n in runs if n.startswith("#")} == \
        set(recorded["runs"])  # no node ran that n8n did not run


def test_a_node_failing_inside_a_loop_fails_the_execution_and_keeps_the_runs_before(
        cloud: LocalCloud) -> None:
    workflow = json.loads(json.dumps(RECORDED["nested"]["workflow"]))
    body = next(node for node in workflow["nodes"] if node["name"] == "Make")
    body["parameters"]["jsCode"] = ("if ($runIndex === 1) throw new Error('second parent');"
                                    "\n" + body["parameters"]["jsCode"])
    execution_id = cloud.start(compile_workflow(workflow), None, mode="manual")
    finished = cloud.wait(execution_id, timeout_seconds=60)
    assert finished.status == "FAILED" and "second parent" in (finished.cause or "")
    runs = [(run.node, run.run_index, run.status)
            for run in cloud.repository.node_runs(execution_id)]
    assert ("Make", 1, "error") in runs
    assert {("Make", 0, "success"), ("Body", 1, "success"), ("Outer", 1, "success")} <= \
        set(runs)  # the first parent's whole inner loop, and the outer loop's second run

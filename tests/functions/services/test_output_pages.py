"""Outputs within the response budget (``functions.services.output_pages``) on moto: runs
stored in DynamoDB page, runs stored in S3 become pre-signed URLs, a finished execution's
items become per-port URLs. The budget is lowered so that small outputs exercise it; the
loopback test with a real 7 MB output is ``tests/local/test_api_limits.py``.

AWS rule: a Lambda response is at most 6 MB, so a response never inlines more than the
budget (5 MB by default) of items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.services.execution_control import ExecutionControl
from functions.services.output_pages import URL_SECONDS, result_items
from functions.store.repository import Execution, NodeRun, RunRepository, utc_now
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE

BUDGET = 250_000


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module; each test uses an execution of its own."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


def _run(execution_id: str, index: int, pad: int) -> NodeRun:
    now = utc_now()
    return NodeRun(execution_id=execution_id, node="Loop body", node_type="code", status="success",
                   started_at=now, finished_at=now, duration_ms=1, run_index=index,
                   output_counts=[1], output=[[{"i": index, "pad": "p" * pad}]])


def _control(cloud: LocalCloud, execution_id: str) -> tuple[ExecutionControl, RunRepository]:
    config = replace(cloud.config, response_inline_limit=BUDGET)
    runs = RunRepository(config, s3_client=cloud.s3)
    runs.create_execution(Execution(execution_id=execution_id, workflow_id="w",
                                    status="SUCCEEDED", started_at=utc_now()))
    return ExecutionControl(cloud.sfn, runs, None, None, config), runs  # type: ignore[arg-type]


def test_runs_page_by_budget_and_stored_outputs_become_urls(cloud: LocalCloud) -> None:
    control, runs = _control(cloud, "e1")
    for index in range(4):  # ~100 KB each, kept in the run record
        runs.record_node_run(_run("e1", index, 100_000))
    runs.record_node_run(_run("e1", 4, 350_000))  # over the record's inline limit: S3

    first = control.node("e1", "Loop body")
    assert [run["runIndex"] for run in first["items"]] == [0, 1]
    assert all(run["output"][0][0]["i"] == run["runIndex"] for run in first["items"])
    assert first["nextOffset"] == 2
    assert len(json.dumps(first)) < BUDGET + 10_000

    second = control.node("e1", "Loop body", offset=2)
    assert [run["runIndex"] for run in second["items"]] == [2, 3, 4]
    stored = second["items"][2]
    assert "output" not in stored and stored["outputBytes"] > 350_000
    query = parse_qs(urlsplit(stored["outputUrl"]).query)
    assert query["X-Amz-Expires"] == [str(URL_SECONDS)]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SigV4: SigV2 is deprecated
    assert second["nextOffset"] is None

    by_count = control.node("e1", "Loop body", offset=0, limit=1)
    assert [run["runIndex"] for run in by_count["items"]] == [0]
    assert by_count["nextOffset"] == 1


def test_a_stored_output_that_fits_is_inlined(cloud: LocalCloud) -> None:
    control, runs = _control(cloud, "e2")
    runs.record_node_run(_run("e2", 0, 1_000), offload=True)  # in S3, small
    [run] = control.node("e2", "Loop body")["items"]
    assert run["output"][0][0]["i"] == 0 and "outputUrl" not in run


def test_execution_items_inline_or_as_urls(cloud: LocalCloud) -> None:
    _, runs = _control(cloud, "e3")
    ref = runs.record_node_run(_run("e3", 0, 300_000), offload=True)
    assert ref is not None
    output = {"Small": {"ports": [{"count": 1, "items": [{"a": 1}]}]},
              "Big": {"ports": [{"count": 1, "ref": ref}]}}

    assert result_items(runs, output, 10_000_000)["items"][0] == {"a": 1}
    assert result_items(runs, output, 10_000_000)["items"][1]["i"] == 0

    too_large = result_items(runs, output, BUDGET)
    assert "items" not in too_large and too_large["itemsTooLarge"] is True
    small, big = too_large["outputs"]
    assert small == {"node": "Small", "output": 0, "count": 1, "items": [{"a": 1}]}
    assert big["node"] == "Big" and big["bytes"] > 300_000 and big["url"].startswith("https://")

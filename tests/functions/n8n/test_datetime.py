"""Date & Time v1 and v2 (functions.n8n.datetime): outputs recorded on n8n 1.123's engine
(``peer_datetime.json``, ``record_peer_datetime.py``), moment tokens refused by parameter,
continueOnFail item shapes, and one run through the node runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.n8n import NodeCall, NodeParameterError, run_node
from functions.n8n.datetime import run
from functions.n8n.errors import NodeOperationError
from functions.runner import NodeRunner
from local.cloud import LocalCloud
from tests.functions.nodes.test_n8n import event

DATE_TIME = "n8n-nodes-base.dateTime"
CASES: dict[str, Any] = json.loads((Path(__file__).parent / "peer_datetime.json")
                                   .read_text("utf-8"))


def call(case: dict[str, Any], **extra: Any) -> NodeCall:
    items = case["items"]

    def evaluate(expression: str, index: int) -> Any:
        """The only expression the recorded cases use: ``$json.d``."""
        assert expression == "={{ $json.d }}"
        return items[index]["d"]

    return NodeCall(node="DT", type_version=case["typeVersion"],
                    parameters=case["parameters"], inputs=[[{"json": i} for i in items]],
                    evaluate=evaluate, **extra)


@pytest.mark.parametrize("name", list(CASES))
def test_outputs_are_n8ns(name: str) -> None:
    case = CASES[name]
    timezone = case["timezone"] or "UTC"
    if case["error"] is not None:
        with pytest.raises(NodeOperationError) as failed:
            run(call(case), timezone)
        assert failed.value.message == case["error"]["message"]
        return
    items = run(call(case), timezone)[0]
    assert [item["json"] for item in items] == case["output"][0]
    assert [item["pairedItem"] for item in items] == [{"item": i} for i in range(len(items))]


def test_getcurrentdate_reads_the_frozen_clock_in_the_zone() -> None:
    case = {"typeVersion": 2, "items": [{}], "parameters": {"options": {
        "timezone": "Asia/Kolkata"}}}
    items = run(call(case), "UTC", now_millis=1_700_000_000_000)[0]
    assert items[0]["json"] == {"currentDate": "2023-11-15T03:43:20.000+05:30"}
    case["parameters"] = {"includeTime": False}
    items = run(call(case), "Europe/Berlin", now_millis=1_700_000_000_000)[0]
    assert items[0]["json"] == {"currentDate": "2023-11-14T00:00:00.000+01:00"}


def test_an_unknown_zone_is_n8ns_error() -> None:
    case = {"typeVersion": 2, "items": [{}], "parameters": {"options": {"timezone": "Mars/X"}}}
    with pytest.raises(NodeOperationError, match="The timezone Mars/X is not valid"):
        run(call(case), "UTC")


@pytest.mark.parametrize(("parameters", "field", "token"), [
    ({"toFormat": "Do MMMM"}, "toFormat", "'Do'"),
    ({"toFormat": "h:mm a"}, "toFormat", "'a'"),
    ({"options": {"fromFormat": "LL"}}, "options.fromFormat", "'LL'"),
])
def test_moment_tokens_without_a_luxon_twin_name_the_parameter(
        parameters: dict[str, Any], field: str, token: str) -> None:
    case = {"typeVersion": 1, "items": [{"d": "2024-01-01"}],
            "parameters": {"value": "={{ $json.d }}", **parameters}}
    with pytest.raises(NodeParameterError) as refused:
        run(call(case), "UTC")
    assert refused.value.parameter == field and token in refused.value.reason


def test_continue_on_fail_items_are_n8ns_per_version() -> None:
    bad = [{"d": "2024-01-01"}, {"d": "never"}]
    v2 = {"typeVersion": 2, "items": bad, "parameters": {"operation": "addToDate",
                                                       "magnitude": "={{ $json.d }}"}}
    items = run(call(v2, continue_on_fail=True), "UTC")[0]
    assert items[1] == {"json": {"error": "Invalid date format"}}
    v1 = {"typeVersion": 1, "items": bad, "parameters": {"value": "={{ $json.d }}"}}
    items = run(call(v1, continue_on_fail=True), "UTC")[0]
    assert items[1]["pairedItem"] == {"item": 1} and "could not be recognized" in \
        items[1]["json"]["error"]


def test_registered_and_run_by_the_node_runner(cloud: LocalCloud) -> None:
    assert run_node(DATE_TIME, call(CASES["extract_week"]))[0][0]["json"] == {"datePart": 5}
    parameters = {"operation": "formatDate", "date": "={{ $json.d }}", "format": "yyyy"}
    result = NodeRunner(cloud.repository).run(
        event(DATE_TIME, "DT", parameters, [{"d": "2024-06-01T00:00:00Z"}], version=2))
    assert result["ports"][0]["items"][0]["json"] == {"formattedDate": "2024"}

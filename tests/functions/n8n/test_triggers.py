"""n8n's trigger items (functions/n8n/triggers.py): Execute Workflow Trigger recorded on
n8n's engine (peer_triggers.json), Schedule Trigger formatted as moment-timezone does,
Error Trigger with n8n's keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.n8n import NodeCall, run_node
from functions.n8n.triggers import called_items, error_item, schedule_item

PEER = json.loads((Path(__file__).parent / "peer_triggers.json").read_text())


@pytest.mark.parametrize("case", sorted(PEER))
def test_execute_workflow_trigger_items_match_n8n(case: str) -> None:
    recorded = PEER[case]
    items = called_items(recorded["input"], recorded["version"], recorded["parameters"])
    assert [[item["json"] for item in items]] == recorded["trigger"]
    call = NodeCall("R", 1, {"respondWith": "allIncomingItems"}, [items])
    assert [[item["json"] for item in run_node("n8n-nodes-base.respondToWebhook", call)[0]]] \
        == recorded["respond"]


@pytest.mark.parametrize(("scheduled", "timezone", "expected"), [
    ("2026-06-01T09:00:00Z", "Europe/Berlin", {
        "timestamp": "2026-06-01T11:00:00.000+02:00",
        "Readable date": "June 1st 2026, 11:00:00 am", "Readable time": "11:00:00 am",
        "Day of week": "Monday", "Year": "2026", "Month": "June", "Day of month": "01",
        "Hour": "11", "Minute": "00", "Second": "00",
        "Timezone": "Europe/Berlin (UTC+02:00)"}),
    ("2026-12-22T17:05:09Z", "America/New_York", {
        "timestamp": "2026-12-22T12:05:09.000-05:00",
        "Readable date": "December 22nd 2026, 12:05:09 pm", "Readable time": "12:05:09 pm",
        "Day of week": "Tuesday", "Year": "2026", "Month": "December", "Day of month": "22",
        "Hour": "12", "Minute": "05", "Second": "09",
        "Timezone": "America/New_York (UTC-05:00)"}),
    ("2026-03-13T00:30:00Z", "UTC", {
        "timestamp": "2026-03-13T00:30:00.000+00:00",
        "Readable date": "March 13th 2026, 12:30:00 am", "Readable time": "12:30:00 am",
        "Day of week": "Friday", "Year": "2026", "Month": "March", "Day of month": "13",
        "Hour": "00", "Minute": "30", "Second": "00", "Timezone": "UTC (UTC+00:00)"}),
], ids=["summer time", "afternoon, west", "midnight hour, 13th"])
def test_schedule_item_formats_the_scheduled_moment(scheduled: str, timezone: str,
                                                    expected: dict[str, Any]) -> None:
    item = schedule_item(scheduled, timezone)
    assert item == expected
    assert list(item) == list(expected)


def test_error_item_keeps_n8ns_keys_only() -> None:
    routed = {"execution": {"id": "e1", "url": "http://x/executions/e1",
                            "error": {"message": "boom", "type": "Sfnflow.CodeError",
                                      "node": "Code"},
                            "lastNodeExecuted": "Code", "mode": "manual",
                            "startedAt": "t0", "input": {}, "partialResults": {}},
              "workflow": {"id": "w", "name": "w"}}
    assert error_item(routed) == {
        "execution": {"id": "e1", "url": "http://x/executions/e1",
                      "error": {"message": "boom"}, "lastNodeExecuted": "Code",
                      "mode": "manual"},
        "workflow": {"id": "w", "name": "w"}}
    routed["execution"]["retryOf"] = "e0"
    assert list(error_item(routed)["execution"]) == \
        ["id", "url", "retryOf", "error", "lastNodeExecuted", "mode"]

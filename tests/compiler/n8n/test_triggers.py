"""n8n's trigger nodes mapped onto sfnflow's triggers (compiler/n8n/triggers.py): Scheduler
expressions per interval, the webhook route's fields, refusals naming node and field."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from compiler.n8n.triggers import NotExpressible, schedule_expression, webhook_fields

BASE = "n8n-nodes-base."

EXPRESSIONS = [
    ("every 5 minutes (n8n's default)", {"field": "minutes"}, "cron(*/5 * * * ? *)"),
    ("every 2 hours at :15", {"field": "hours", "hoursInterval": 2, "triggerAtMinute": 15},
     "cron(15 */2 * * ? *)"),
    ("daily at midnight (n8n's default)", {"field": "days"}, "cron(0 0 * * ? *)"),
    ("daily at 9:30", {"field": "days", "triggerAtHour": 9, "triggerAtMinute": 30},
     "cron(30 9 * * ? *)"),
    ("weekly on Sunday (n8n's default)", {"field": "weeks"}, "cron(0 0 ? * 1 *)"),
    ("Mondays and Fridays at 8", {"field": "weeks", "triggerAtDay": [5, 1],
                                  "triggerAtHour": 8}, "cron(0 8 ? * 2,6 *)"),
    ("monthly on the 15th", {"field": "months", "triggerAtDayOfMonth": 15},
     "cron(0 0 15 * ? *)"),
    ("cron, 5 fields, weekdays", {"field": "cronExpression", "expression": "0 9 * * 1-5"},
     "cron(0 9 ? * 2-6 *)"),
    ("cron, Sunday as 7 and 0", {"field": "cronExpression", "expression": "0 9 * * 0,7"},
     "cron(0 9 ? * 1,1 *)"),
    ("cron, 6 fields with second 0", {"field": "cronExpression",
                                      "expression": "0 */10 * * * *"},
     "cron(*/10 * * * ? *)"),
    ("cron, day of month", {"field": "cronExpression", "expression": "30 6 1 * *"},
     "cron(30 6 1 * ? *)"),
    ("cron, weekday names", {"field": "cronExpression", "expression": "0 7 * * MON-FRI"},
     "cron(0 7 ? * MON-FRI *)"),
]

NOT_EXPRESSIBLE = [
    ("every 7 seconds", {"field": "seconds", "secondsInterval": 7}, "once a minute"),
    ("6-field cron with seconds", {"field": "cronExpression", "expression": "30 * * * * *"},
     "second 30"),
    ("day of month and of week", {"field": "cronExpression", "expression": "0 9 1 * 1"},
     "either"),
    ("every 3 days", {"field": "days", "daysInterval": 3}, "first fire"),
    ("every 2 weeks", {"field": "weeks", "weeksInterval": 2}, "first fire"),
    ("a step in the day of week", {"field": "cronExpression", "expression": "0 9 * * */2"},
     "step"),
    ("an expression for the hour", {"field": "days", "triggerAtHour": "={{ 3 }}"},
     "whole number"),
]


@pytest.mark.parametrize(("interval", "expected"), [(i, e) for _, i, e in EXPRESSIONS],
                         ids=[title for title, _, _ in EXPRESSIONS])
def test_intervals_become_scheduler_expressions(interval: dict[str, Any],
                                                expected: str) -> None:
    assert schedule_expression(interval) == expected


@pytest.mark.parametrize(("interval", "why"), [(i, w) for _, i, w in NOT_EXPRESSIBLE],
                         ids=[title for title, _, _ in NOT_EXPRESSIBLE])
def test_what_scheduler_cannot_say_is_refused(interval: dict[str, Any], why: str) -> None:
    with pytest.raises(NotExpressible, match=why):
        schedule_expression(interval)


def workflow(trigger: dict[str, Any], **settings: Any) -> dict[str, Any]:
    trigger = {"position": [0, 0], "typeVersion": 1, **trigger}
    return {"name": "w", "nodes": [trigger, {"name": "Next", "type": BASE + "noOp",
                                             "typeVersion": 1, "position": [0, 0],
                                             "parameters": {}}],
            "connections": {trigger["name"]: {"main": [[{"node": "Next", "type": "main",
                                                         "index": 0}]]}},
            "settings": settings}


def problems_of(document: dict[str, Any]) -> set[tuple[str | None, str]]:
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(document)
    return {(problem.node, problem.field) for problem in caught.value.problems}


def test_a_schedule_is_one_manifest_trigger_in_the_workflows_timezone() -> None:
    rule = {"interval": [{"field": "weeks", "triggerAtDay": [1], "triggerAtHour": 7}]}
    compiled = compile_workflow(workflow(
        {"name": "Tick", "type": BASE + "scheduleTrigger", "typeVersion": 1.2,
         "parameters": {"rule": rule}}, timezone="America/New_York"))
    assert compiled.manifest["triggers"] == [{
        "node": "Tick", "type": "scheduleTrigger", "n8nType": BASE + "scheduleTrigger",
        "parameters": {"expression": "cron(0 7 ? * 2 *)", "timezone": "America/New_York"}}]


def test_schedule_refusals_name_the_interval() -> None:
    rule = {"interval": [{"field": "seconds", "secondsInterval": 30}]}
    assert problems_of(workflow({"name": "Tick", "type": BASE + "scheduleTrigger",
                                 "parameters": {"rule": rule}})) == \
        {("Tick", "parameters.rule.interval[0]")}
    two = {"interval": [{"field": "days"}, {"field": "weeks"}]}
    assert problems_of(workflow({"name": "Tick", "type": BASE + "scheduleTrigger",
                                 "parameters": {"rule": two}})) == \
        {("Tick", "parameters.rule.interval")}


def test_a_webhook_is_a_route_with_n8ns_answer_fields() -> None:
    compiled = compile_workflow(workflow(
        {"name": "Hook", "type": BASE + "webhook", "typeVersion": 2,
         "parameters": {"path": "orders/new", "httpMethod": "POST", "responseMode": "lastNode",
                        "options": {"responseCode": {"values": {"responseCode": 201}}}}}))
    (trigger,) = compiled.manifest["triggers"]
    assert trigger["type"] == "webhook" and trigger["n8nType"] == BASE + "webhook"
    assert trigger["parameters"] == {
        "path": "orders/new", "method": "POST", "secret": None, "responseMode": "lastNode",
        "n8n": {"responseMode": "lastNode", "responseCode": 201,
                "responseData": "firstEntryJson", "responsePropertyName": None}}


@pytest.mark.parametrize(("version", "parameters", "expected"), [
    (1, {"responseCode": 204}, {"responseCode": 204, "responseData": ""}),
    (2, {"options": {"responseCode": {"values": {"responseCode": "customCode",
                                                 "customCode": 299}}}},
     {"responseCode": 299, "responseData": ""}),
    (2, {"options": {"responseData": "thanks"}}, {"responseCode": 200,
                                                  "responseData": "thanks"}),
    (2, {"options": {"noResponseBody": True}}, {"responseCode": 200, "responseData": "noData"}),
    (1.1, {"responseMode": "lastNode", "responseData": "allEntries"},
     {"responseCode": 200, "responseData": "allEntries"}),
], ids=["v1 code", "v2 custom code", "onReceived text", "no body", "lastNode all entries"])
def test_webhook_answer_fields_per_version(version: float, parameters: dict[str, Any],
                                           expected: dict[str, Any]) -> None:
    fields = webhook_fields(version, parameters)
    assert {key: fields[key] for key in expected} == expected


@pytest.mark.parametrize(("parameters", "field"), [
    ({"path": "p", "authentication": "basicAuth"}, "parameters.authentication"),
    ({"path": "users/:id"}, "parameters.path"),
    ({"path": "p", "httpMethod": "HEAD"}, "parameters.httpMethod"),
    ({"path": "p", "multipleMethods": True}, "parameters.multipleMethods"),
    ({"path": "p", "responseMode": "streaming"}, "parameters.responseMode"),
    ({"path": "p", "responseMode": "lastNode", "responseData": "firstEntryBinary"},
     "parameters.responseData"),
    ({"path": "p", "options": {"rawBody": True}}, "parameters.options.rawBody"),
    ({"path": "p", "options": {"ipWhitelist": "1.2.3.4"}}, "parameters.options.ipWhitelist"),
])
def test_webhook_refusals_name_the_field(parameters: dict[str, Any], field: str) -> None:
    assert problems_of(workflow({"name": "Hook", "type": BASE + "webhook", "typeVersion": 2,
                                 "parameters": parameters})) == {("Hook", field)}


def test_respond_to_webhook_refuses_binary_and_redirects() -> None:
    document = workflow({"name": "Hook", "type": BASE + "webhook", "typeVersion": 2,
                         "parameters": {"path": "p", "responseMode": "responseNode"}})
    document["nodes"][1] = {"name": "Next", "type": BASE + "respondToWebhook",
                            "typeVersion": 1.1, "position": [0, 0],
                            "parameters": {"respondWith": "redirect"}}
    assert problems_of(document) == {("Next", "parameters.respondWith")}


def test_an_n8n_error_trigger_handles_its_own_workflows_failures() -> None:
    compiled = compile_workflow(workflow({"name": "Failed", "type": BASE + "errorTrigger",
                                          "parameters": {}}))
    assert compiled.manifest["tags"]["sfnflow:errorWorkflow"] == "w"
    assert compiled.manifest["triggers"][0]["type"] == "errorTrigger"


def test_execute_workflow_trigger_needs_nothing_of_the_platform() -> None:
    compiled = compile_workflow(workflow({"name": "Called",
                                          "type": BASE + "executeWorkflowTrigger",
                                          "parameters": {}}))
    assert compiled.manifest["triggers"] == []
    assert problems_of(workflow({"name": "Called", "type": BASE + "executeWorkflowTrigger",
                                 "typeVersion": 1.1,
                                 "parameters": {"inputSource": "jsonExample"}})) == \
        {("Called", "parameters.inputSource")}


@pytest.mark.parametrize(("mode", "respond", "problem"), [
    ("responseNode", False, "No Respond to Webhook node"),
    ("lastNode", True, "Unused Respond to Webhook node"),
    ("responseNode", True, None),
], ids=["responseNode without one", "one unused", "as meant"])
def test_webhook_v2_and_respond_to_webhook_go_together(mode: str, respond: bool,
                                                       problem: str | None) -> None:
    document = workflow({"name": "Hook", "type": BASE + "webhook", "typeVersion": 2,
                         "parameters": {"path": "p", "responseMode": mode}})
    if respond:
        document["nodes"][1] = {"name": "Next", "type": BASE + "respondToWebhook",
                                "typeVersion": 1.1, "position": [0, 0], "parameters": {}}
    if problem is None:
        compile_workflow(document)
        return
    with pytest.raises(WorkflowInvalid) as caught:
        compile_workflow(document)
    (found,) = caught.value.problems
    assert (found.node, found.field) == ("Hook", "parameters.responseMode")
    assert problem in found.message

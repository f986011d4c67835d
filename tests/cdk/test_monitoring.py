"""The alarms, the topic they notify and the dashboard, on the session's synthesized
template (``conftest.built``); cdk-nag and cfn-lint run on the same template in
``test_nag_and_lint.py``."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from .conftest import Built


def _alarms(built: Built) -> dict[str, dict[str, Any]]:
    return {key: value["Properties"]
            for key, value in built.resources("AWS::CloudWatch::Alarm").items()}


def _topic_id(built: Built) -> str:
    return built.stack.get_logical_id(built.stack.monitoring.topic.node.default_child)


def _id(built: Built, construct: Any) -> str:
    return built.stack.get_logical_id(construct.node.default_child)


def _by_metric(built: Built, namespace: str, name: str) -> list[dict[str, Any]]:
    return [alarm for alarm in _alarms(built).values()
            if alarm.get("Namespace") == namespace and alarm.get("MetricName") == name]


def _function_ref(alarm: dict[str, Any]) -> Any:
    (dimension,) = alarm["Dimensions"]
    assert dimension["Name"] == "FunctionName"
    return dimension["Value"]


def test_there_is_one_topic_and_every_alarm_notifies_it(built: Built) -> None:
    assert list(built.resources("AWS::SNS::Topic")) == [_topic_id(built)]
    alarms = _alarms(built)
    assert len(alarms) >= 6
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": _topic_id(built)}], alarm["AlarmName"]
        assert alarm["OKActions"] == [{"Ref": _topic_id(built)}], alarm["AlarmName"]
        assert alarm["AlarmName"].startswith("sfnflow-dev-")
        assert alarm["TreatMissingData"] == "notBreaching"


def test_the_topic_is_a_stack_output(template: Any) -> None:
    outputs = template.to_json()["Outputs"]
    topic = next(iter(template.find_resources("AWS::SNS::Topic")))
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic}
    assert outputs["DashboardName"]["Value"] == "sfnflow-dev"


def test_the_topic_is_encrypted_with_a_key_cloudwatch_may_use_and_refuses_plain_http(
        built: Built) -> None:
    """CloudWatch cannot publish to a topic under the AWS-managed ``aws/sns`` key: the
    topic has its own key, whose policy lets CloudWatch (this account's alarms) use it."""
    topic = built.resources("AWS::SNS::Topic")[_topic_id(built)]["Properties"]
    key_id = topic["KmsMasterKeyId"]["Fn::GetAtt"][0]
    key = built.resources("AWS::KMS::Key")[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    (for_cloudwatch,) = [s for s in key["KeyPolicy"]["Statement"]
                         if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
    assert set(for_cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert for_cloudwatch["Condition"]["StringEquals"]["aws:SourceAccount"] == \
        {"Ref": "AWS::AccountId"}
    (policy,) = [p["Properties"]["PolicyDocument"]["Statement"]
                 for p in built.resources("AWS::SNS::TopicPolicy").values()
                 if {"Ref": _topic_id(built)} in p["Properties"]["Topics"]]
    deny = [s for s in policy if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    publish = [s for s in policy if s["Effect"] == "Allow"]
    assert publish[0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def test_failure_rate_alarm_divides_failed_and_timed_out_by_every_ended_execution(
        built: Built) -> None:
    from sfnflow_cdk.monitoring import AlarmThresholds

    from functions.metrics import EXECUTION_ENDS

    (alarm,) = [a for a in _alarms(built).values()
                if a["AlarmName"] == "sfnflow-dev-failure-rate"]
    queries = {m["Id"]: m for m in alarm["Metrics"]}
    (rate,) = [m for m in alarm["Metrics"] if m.get("ReturnData", True) is True]
    by_metric = {m["Expression"]: key for key, m in queries.items() if m is not rate}
    ids = {name: by_metric[f'SELECT SUM({name}) FROM "sfnflow"']
           for name in EXECUTION_ENDS.values()}
    ended = " + ".join(ids[name] for name in EXECUTION_ENDS.values())
    failing = f"{ids['ExecutionsFailed']} + {ids['ExecutionsTimedOut']}"
    defaults = AlarmThresholds()
    assert rate["Expression"] == (
        f"IF(({ended}) >= {defaults.failure_rate_min_executions}, "
        f"100 * ({failing}) / ({ended}), 0)")
    assert all(m["Period"] == 60 * defaults.period_minutes
               for m in queries.values() if m is not rate)
    assert alarm["Threshold"] == defaults.failure_rate_percent


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(built: Built, metric: str) -> None:
    functions = {json.dumps({"Ref": _id(built, f)})
                 for f in built.stack.functions.functions.values()}
    alarmed = {json.dumps(_function_ref(a)) for a in _by_metric(built, "AWS/Lambda", metric)}
    assert alarmed == functions


def test_runners_fail_by_design_so_their_error_threshold_is_their_own(built: Built) -> None:
    from sfnflow_cdk import functions as fns
    from sfnflow_cdk.monitoring import AlarmThresholds

    defaults = AlarmThresholds()
    runners = {_id(built, built.stack.functions.functions[s.role]) for s in fns.RUNNERS}
    for alarm in _by_metric(built, "AWS/Lambda", "Errors"):
        runner = _function_ref(alarm)["Ref"] in runners
        assert alarm["Threshold"] == (defaults.runner_errors if runner
                                      else defaults.lambda_errors), alarm["AlarmName"]


def test_api_server_errors_alarm_watches_the_rest_api(built: Built) -> None:
    (alarm,) = _by_metric(built, "AWS/ApiGateway", "5XXError")
    assert alarm["Dimensions"] == [{"Name": "ApiName", "Value": "sfnflow-dev"}]
    assert alarm["Statistic"] == "Sum"


def _dead_letter_queue_ids(built: Built) -> set[str]:
    """Every queue the template uses as a dead-letter queue or failure destination."""
    found: set[str] = set()

    def queue_of(value: Any) -> None:
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])

    for rule in built.resources("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            queue_of(target.get("DeadLetterConfig", {}).get("Arn"))
    for config in built.resources("AWS::Lambda::EventInvokeConfig").values():
        destination = config["Properties"].get("DestinationConfig", {})
        queue_of(destination.get("OnFailure", {}).get("Destination"))
    for function in built.resources("AWS::Lambda::Function").values():
        queue_of(function["Properties"].get("DeadLetterConfig", {}).get("TargetArn"))
    for queue in built.resources("AWS::SQS::Queue").values():
        queue_of(queue["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn"))
    queues = built.resources("AWS::SQS::Queue")
    return {queue for queue in found if queue in queues}


def test_every_dead_letter_queue_has_a_depth_alarm(built: Built) -> None:
    dead_letters = _dead_letter_queue_ids(built)
    assert dead_letters  # the events' queue, at least
    alarmed = {alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
               for alarm in _by_metric(built, "AWS/SQS", "ApproximateNumberOfMessagesVisible")}
    assert alarmed == dead_letters


def test_stuck_executions_are_counted_from_the_reconciler_log(built: Built) -> None:
    from sfnflow_cdk import functions as fns
    from sfnflow_cdk.monitoring import NAMESPACE, RECONCILED_MESSAGE, STUCK_METRIC

    reconciler_logs = built.stack.functions.functions[fns.RECONCILER.role].log_group
    (metric_filter,) = [f["Properties"] for f in
                        built.resources("AWS::Logs::MetricFilter").values()
                        if f["Properties"]["MetricTransformations"][0]["MetricName"] ==
                        STUCK_METRIC]
    assert metric_filter["LogGroupName"] == {"Ref": _id(built, reconciler_logs)}
    assert metric_filter["FilterPattern"] == f'{{ $.message = "{RECONCILED_MESSAGE}" }}'
    assert metric_filter["MetricTransformations"][0]["MetricNamespace"] == NAMESPACE
    (alarm,) = _by_metric(built, NAMESPACE, STUCK_METRIC)
    assert alarm["AlarmName"] == "sfnflow-dev-stuck-executions"


def test_the_reconciler_logs_the_line_the_stuck_filter_counts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter matches the reconciler's JSON log line by its message: a reworded
    message would leave the alarm silent, so the real handler's line is checked."""
    from sfnflow_cdk.monitoring import RECONCILED_MESSAGE

    from functions.handlers import reconciler as handler
    from functions.services.reconciler import ReconcileResult

    class Reconciler:
        def run(self, now: Any, *, time_left: Any) -> ReconcileResult:
            return ReconcileResult(checked=2, completed=["e1:FAILED"], not_started=["e2"])

    class Context:
        function_name = "sfnflow-dev-reconciler"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:reconciler"
        aws_request_id = "request"

        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    monkeypatch.setattr(handler, "_reconciler", Reconciler)
    # The lines as the deployed function writes them (its JSON formatter, at INFO), kept
    # by a handler of our own: the logger's stream and level were fixed when it was made,
    # perhaps under an earlier test's embedded cloud (POWERTOOLS_LOG_LEVEL=ERROR).
    written: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            written.append(self.format(record))

    keep = Keep()
    keep.setFormatter(handler.logger.registered_formatter)
    level = handler.logger.log_level
    handler.logger.setLevel("INFO")
    handler.logger.addHandler(keep)
    try:
        handler.lambda_handler({"time": "2026-01-01T00:00:00Z"}, Context())
    finally:
        handler.logger.removeHandler(keep)
        handler.logger.setLevel(level)
    lines = [json.loads(line) for line in written]
    assert [line["message"] for line in lines if line.get("completed")] == [RECONCILED_MESSAGE]


def _dashboard_body(built: Built) -> dict[str, Any]:
    (dashboard,) = built.resources("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(p if isinstance(p, str) else "TOKEN" for p in parts)
    return json.loads(text)


def test_the_dashboard_shows_what_an_operator_watches(built: Built) -> None:
    from sfnflow_cdk.monitoring import AlarmThresholds

    widgets = {w["properties"]["title"]: w for w in _dashboard_body(built)["widgets"]}
    assert {"Executions", "Failure rate (%)", "Execution duration", "Lambda errors",
            "Lambda throttles", "API 5xx", "API latency (ms)", "Dead-letter queue depth",
            "Stuck executions", "Alarms"} <= set(widgets)
    for title, widget in widgets.items():
        if title == "Alarms":
            assert len(widget["properties"]["alarms"]) == len(_alarms(built))
        else:
            assert widget["properties"]["metrics"], title
            # the alarms' period, so a graph shows the counts an alarm judges
            assert widget["properties"]["period"] == 60 * AlarmThresholds().period_minutes
    executions = json.dumps(widgets["Executions"]["properties"]["metrics"])
    for name in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed",
                 "ExecutionsAborted", "ExecutionsTimedOut"):
        assert f"SUM({name})" in executions
    functions = built.stack.functions.functions
    for title in ("Lambda errors", "Lambda throttles"):
        assert len(widgets[title]["properties"]["metrics"]) == len(functions)


def test_thresholds_come_from_the_alarms_context() -> None:
    from aws_cdk import App
    from sfnflow_cdk.monitoring import AlarmThresholds
    from sfnflow_cdk.stack import Settings

    assert Settings.from_context(App()).alarms == AlarmThresholds()
    given = {"failureRatePercent": 2.5, "lambdaErrors": 3, "periodMinutes": 1}
    for context in (given, json.dumps(given)):  # cdk.json, or -c alarms='{...}'
        alarms = Settings.from_context(App(context={"alarms": context})).alarms
        assert (alarms.failure_rate_percent, alarms.lambda_errors, alarms.period_minutes) == \
            (2.5, 3, 1)
        assert alarms.runner_errors == AlarmThresholds().runner_errors


@pytest.mark.parametrize("context", [
    {"failureRate": 5},  # unknown key
    {"lambdaErrors": -1},
    {"periodMinutes": 0},
    {"deadLetters": True},
    {"lambdaErrors": 2.5},
    {"lambdaErrors": "many"},
    ["lambdaErrors"],
    "{lambdaErrors: 1}",  # -c alarms=... that is not JSON
])
def test_a_bad_threshold_is_refused_naming_it(context: Any) -> None:
    from sfnflow_cdk.monitoring import AlarmThresholds

    with pytest.raises(ValueError, match="alarms"):
        AlarmThresholds.from_context(context)

"""Alarms and a dashboard: what an operator watches, and the one topic that tells them.

Every alarm publishes to one SNS topic (``SfnflowStack`` outputs its ARN as
``AlarmTopicArn``: subscribe an address, a chat hook or a pager to it). The topic is
encrypted with its own KMS key, which CloudWatch may use (AWS-managed ``aws/sns`` keys do
not let CloudWatch publish), and refuses requests that are not TLS (cdk-nag SNS2, SNS3).

Execution metrics come from the ``sfnflow`` namespace, which the platform's functions
write as EMF (``functions.metrics`` names them): the API creates state machines at run
time, so the stack cannot list their ``AWS/States`` metrics, and a Metrics Insights query
(``SELECT SUM(name) FROM "sfnflow"``) adds a metric up over every workflow, whichever
machines exist. Alarms may watch such a query and do math on it; CloudWatch evaluates it
over the last 3 hours only, enough for periods of minutes.

The alarms (thresholds: ``AlarmThresholds``, the stack's ``alarms`` context):
- failure rate: failed and timed-out executions per ended execution, in percent, once a
  period has enough ended executions to mean something;
- Lambda errors and throttles, one alarm per function and kind, so the alarm names the
  function. The node and code runners fail by design when a node fails (Step Functions'
  Retry and Catch match on those errors), so their error threshold is separate and higher:
  a workflow's own failures show in the failure rate;
- API 5xx: server errors of the REST API (management routes and webhooks);
- dead letters: messages visible in each dead-letter queue (deliveries that failed every
  retry: status changes, triggers);
- stuck executions: see ``PlatformMonitoring._stuck_executions``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from aws_cdk import ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions import metrics as catalogue
from sfnflow_cdk.functions import METRICS_NAMESPACE
from sfnflow_cdk.naming import Naming

NAMESPACE = METRICS_NAMESPACE  # what the functions write to (POWERTOOLS_METRICS_NAMESPACE)
CONTEXT_KEY = "alarms"
FAILING = ("FAILED", "TIMED_OUT")  # ended statuses the failure rate counts
# Stuck executions: the reconciler's log line when it completed any (_stuck_executions).
RECONCILED_MESSAGE = "completed executions whose status change was lost"
STUCK_METRIC = "StuckExecutionsFound"


@dataclass(frozen=True)
class AlarmThresholds:
    """When each alarm fires; every field can be set in the stack's ``alarms`` context
    (camelCase keys, e.g. ``-c alarms='{"failureRatePercent": 5}'`` or in ``cdk.json``).
    Counts are per period; an alarm fires on ``evaluationPeriods`` such periods in a row."""

    period_minutes: int = 5
    evaluation_periods: int = 1
    failure_rate_percent: float = 10.0  # failed + timed out, of the ended executions
    failure_rate_min_executions: int = 5  # fewer ended executions: no rate to judge
    lambda_errors: int = 1  # platform functions (API, webhooks, event handlers...)
    runner_errors: int = 25  # node and code runners: a failing node is a Lambda error
    lambda_throttles: int = 1
    api_server_errors: int = 5  # REST API 5xx responses
    dead_letters: int = 1  # messages visible in a dead-letter queue
    stuck_executions: int = 1

    @classmethod
    def from_context(cls, value: Any) -> AlarmThresholds:
        """``value`` is the context entry: a mapping (``cdk.json``), a JSON object as text
        (``-c``) or None (the defaults). Unknown keys and negative numbers are refused."""
        if value is None or value == "":
            return cls()
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"context {CONTEXT_KEY!r} is not a JSON object: {exc}") \
                    from exc
        if not isinstance(value, Mapping):
            raise ValueError(f"context {CONTEXT_KEY!r} must be an object, got {value!r}")
        known = {_camel(f.name): f for f in fields(cls)}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"context {CONTEXT_KEY!r}: unknown thresholds {unknown}; "
                             f"known: {sorted(known)}")
        settings: dict[str, Any] = {}
        for key, raw in value.items():
            name = known[key].name
            number = _number(raw)
            minimum = 1 if name in ("period_minutes", "evaluation_periods") else 0
            if number is None or number < minimum or (
                    known[key].type != "float" and number != int(number)):
                kind = "a number" if known[key].type == "float" else "a whole number"
                raise ValueError(f"context {CONTEXT_KEY!r}: {key} must be {kind} of at "
                                 f"least {minimum}, got {raw!r}")
            settings[name] = number if known[key].type == "float" else int(number)
        return cls(**settings)

    @property
    def period(self) -> Duration:
        return Duration.minutes(self.period_minutes)


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.capitalize() for part in rest)


def insights_sum(metric: str, period: Duration, label: str | None = None) -> cw.MathExpression:
    """``metric`` of the ``sfnflow`` namespace added up over all its dimensions (every
    workflow, node type, function), per period: a Metrics Insights query."""
    return cw.MathExpression(expression=f'SELECT SUM({metric}) FROM "{NAMESPACE}"',
                             using_metrics={}, period=period, label=label or metric)


def insights(statistic: str, metric: str, period: Duration,
             label: str | None = None) -> cw.MathExpression:
    return cw.MathExpression(expression=f'SELECT {statistic}({metric}) FROM "{NAMESPACE}"',
                             using_metrics={}, period=period, label=label or metric)


def failure_rate(period: Duration, min_executions: int) -> cw.MathExpression:
    """Percent of the executions that ended in a period that failed or timed out; 0 while
    fewer than ``min_executions`` ended (one failure of two is no trend)."""
    ends = catalogue.EXECUTION_ENDS  # status -> counter
    parts = {f"{status.lower().replace('_', '')}": insights_sum(name, period)
             for status, name in ends.items()}
    failing = " + ".join(status.lower().replace("_", "") for status in FAILING)
    ended = " + ".join(parts)
    return cw.MathExpression(
        expression=f"IF(({ended}) >= {min_executions}, 100 * ({failing}) / ({ended}), 0)",
        using_metrics=parts, period=period, label="failure rate (%)")


def known(name: str) -> str:
    """``name`` as ``functions.metrics`` declares it: a metric renamed or dropped there
    fails the synth here instead of leaving a widget or an alarm without data."""
    return catalogue.CATALOGUE[name].name


class PlatformMonitoring(Construct):
    """``topic`` (every alarm's action), ``alarms`` (by construct id) and ``dashboard``."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 thresholds: AlarmThresholds, functions: Mapping[str, lambda_.IFunction],
                 runners: Sequence[str], api: apigw.RestApi,
                 dead_letter_queues: Sequence[sqs.IQueue],
                 reconciler_logs: logs.ILogGroup, removal_policy: RemovalPolicy) -> None:
        """``functions``: role -> function (alarms and widgets per function); ``runners``:
        the roles whose errors include nodes failing by design; ``reconciler_logs``: the
        reconciler's log group (stuck executions); ``removal_policy``: the topic's key."""
        super().__init__(scope, id)
        self.naming = naming
        self.removal_policy = removal_policy
        self.thresholds = thresholds
        self.alarms: dict[str, cw.Alarm] = {}
        self.topic = self._topic()
        period = thresholds.period
        self._action = cw_actions.SnsAction(self.topic)

        rate = failure_rate(period, thresholds.failure_rate_min_executions)
        self._alarm("FailureRate", rate, thresholds.failure_rate_percent,
                    "Share of ended executions that failed or timed out (%)")
        for role, function in functions.items():
            errors = thresholds.runner_errors if role in runners else thresholds.lambda_errors
            self._alarm(f"{_pascal(role)}Errors", function.metric_errors(
                period=period, statistic="Sum"), errors, f"Lambda {role}: errors")
            self._alarm(f"{_pascal(role)}Throttles", function.metric_throttles(
                period=period, statistic="Sum"), thresholds.lambda_throttles,
                f"Lambda {role}: throttled invocations")
        self._alarm("ApiServerErrors", api.metric_server_error(
            period=period, statistic="Sum"), thresholds.api_server_errors,
            "REST API: 5xx responses")
        for index, queue in enumerate(dead_letter_queues):
            self._alarm(f"DeadLetters{index}" if index else "DeadLetters",
                        queue.metric_approximate_number_of_messages_visible(
                            period=period, statistic="Maximum"),
                        thresholds.dead_letters, "Dead-letter queue: undelivered messages")
        stuck = self._stuck_executions(reconciler_logs, period)
        self._alarm("StuckExecutions", stuck, thresholds.stuck_executions,
                    "reconciler runs that found stuck executions")
        self.dashboard = self._dashboard(rate, stuck, functions, api, dead_letter_queues)

    def _topic(self) -> sns.Topic:
        """Encrypted with a key CloudWatch may use for this stage's alarms only; TLS only."""
        stack = Stack.of(self)
        alarms = stack.format_arn(service="cloudwatch", resource="alarm",
                                  resource_name=f"{self.naming.prefix}-*",
                                  arn_format=ArnFormat.COLON_RESOURCE_NAME)
        key = kms.Key(self, "AlarmTopicKey", enable_key_rotation=True,
                      removal_policy=self.removal_policy,
                      description=f"{self.naming.prefix}: the alarm topic's messages")
        key.add_to_resource_policy(iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"], resources=["*"],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": alarms}}))
        topic = sns.Topic(self, "AlarmTopic", topic_name=f"{self.naming.prefix}-alarms",
                          display_name=f"sfnflow {self.naming.stage} alarms",
                          master_key=key, enforce_ssl=True)
        topic.add_to_resource_policy(iam.PolicyStatement(
            actions=["sns:Publish"], resources=[topic.topic_arn],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": alarms}}))
        return topic

    def _alarm(self, id: str, metric: cw.IMetric, threshold: float, what: str) -> cw.Alarm:
        alarm = cw.Alarm(
            self, id, metric=metric, threshold=threshold,
            alarm_name=f"{self.naming.prefix}-{_kebab(id)}",
            alarm_description=f"sfnflow {self.naming.stage}: {what} >= {threshold:g} "
                              f"per {self.thresholds.period_minutes} min",
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=self.thresholds.evaluation_periods,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[id] = alarm
        return alarm

    def _stuck_executions(self, reconciler_logs: logs.ILogGroup,
                          period: Duration) -> cw.IMetric:
        """Stuck: an execution the run data still shows RUNNING although Step Functions
        ended it (its status-change event was lost) or never started it. Step Functions
        itself ends an execution past its workflow's ``timeoutSeconds``; a long one
        without a timeout (a wait for approval) is not stuck. The reconciler
        (``functions.services.reconciler``, every few minutes) finds exactly these
        executions, completes them and logs ``RECONCILED_MESSAGE``: a metric filter on its
        log group counts those runs, so the alarm says that executions were stuck (and
        their error workflows started late), and its logs name them."""
        metric_filter = logs.MetricFilter(
            self, "StuckExecutionsFilter", log_group=reconciler_logs,
            filter_pattern=logs.FilterPattern.string_value(
                "$.message", "=", RECONCILED_MESSAGE),
            metric_namespace=NAMESPACE, metric_name=STUCK_METRIC, metric_value="1")
        return metric_filter.metric(period=period, statistic="Sum")

    def _dashboard(self, rate: cw.IMetric, stuck: cw.IMetric,
                   functions: Mapping[str, lambda_.IFunction], api: apigw.RestApi,
                   queues: Sequence[sqs.IQueue]) -> cw.Dashboard:
        period = self.thresholds.period
        executions = [insights_sum(name, period) for name in
                      (known("ExecutionsStarted"), *catalogue.EXECUTION_ENDS.values())]
        duration = [insights(stat, known("ExecutionDuration"), period,
                             f"ExecutionDuration ({stat.lower()}, s)")
                    for stat in ("AVG", "MAX")]
        nodes = [insights_sum(known(name), period)
                 for name in ("NodeRuns", "NodeFailures", "Retries")]
        latency = [api.metric_latency(period=period, statistic=stat, label=f"latency {stat}")
                   for stat in ("p50", "p95", "p99")]
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=self.naming.prefix,
                                 default_interval=Duration.hours(3))
        width = 8

        def graph(**props: Any) -> cw.GraphWidget:
            """Counts per alarm period, as the alarms see them (not the console's auto)."""
            return cw.GraphWidget(period=period, **props)

        dashboard.add_widgets(
            graph(title="Executions", left=executions, width=width),
            graph(title="Failure rate (%)", left=[rate], width=width,
                           left_annotations=[cw.HorizontalAnnotation(
                               value=self.thresholds.failure_rate_percent, label="alarm")]),
            graph(title="Execution duration", left=duration, width=width))
        dashboard.add_widgets(
            graph(title="Node runs and failures", left=nodes, width=width),
            graph(title="Lambda errors", width=width, left=[
                f.metric_errors(period=period, statistic="Sum", label=role)
                for role, f in functions.items()]),
            graph(title="Lambda throttles", width=width, left=[
                f.metric_throttles(period=period, statistic="Sum", label=role)
                for role, f in functions.items()]))
        dashboard.add_widgets(
            graph(title="API 5xx", width=width, left=[
                api.metric_server_error(period=period, statistic="Sum", label="5xx")]),
            graph(title="API latency (ms)", left=latency, width=width),
            graph(title="Dead-letter queue depth", width=width, left=[
                q.metric_approximate_number_of_messages_visible(
                    period=period, statistic="Maximum", label=q.node.id) for q in queues]))
        dashboard.add_widgets(
            graph(title="Stuck executions", left=[stuck], width=width),
            cw.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()),
                                 width=2 * width))
        return dashboard

    def outputs(self, stack: Stack) -> None:
        CfnOutput(stack, "AlarmTopicArn", value=self.topic.topic_arn,
                  description="Every sfnflow alarm notifies this SNS topic: subscribe to it")
        CfnOutput(stack, "DashboardName", value=self.naming.prefix,
                  description="The CloudWatch dashboard of this stage")


def _pascal(role: str) -> str:
    return "".join(part.capitalize() for part in role.split("-"))


def _kebab(id: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() and i else c.lower()
                   for i, c in enumerate(id))

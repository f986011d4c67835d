"""The metric catalogue and its sinks: names, units, dimensions, and EMF's shape."""

from __future__ import annotations

import json
import re

import pytest

from functions import metrics
from functions.metrics import CATALOGUE, EmfSink, NullSink, UnknownMetric

ISSUE_13 = {"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed",
            "ExecutionsAborted", "ExecutionsTimedOut", "ExecutionDuration", "NodeRuns",
            "NodeFailures", "NodeDuration", "Retries", "CacheHits", "PayloadOffloads",
            "QueueWaits"}




def test_the_catalogue_has_every_metric_of_issue_13_with_few_bounded_dimensions():
    assert set(CATALOGUE) == ISSUE_13
    for metric in CATALOGUE.values():
        assert metric.dimensions in (("workflow",), ("nodeType",)), metric.name
        assert (metric.unit == "Seconds") == (metric.kind == "histogram"), metric.name
        assert re.fullmatch(r"sfnflow_[a-z_]+", metric.prometheus_name)
        assert metric.help


def test_prometheus_names_are_snake_case_with_their_unit():
    assert CATALOGUE["ExecutionDuration"].prometheus_name == \
        "sfnflow_execution_duration_seconds"
    assert CATALOGUE["NodeRuns"].prometheus_name == "sfnflow_node_runs"
    assert len({m.prometheus_name for m in CATALOGUE.values()}) == len(CATALOGUE)


def test_record_sends_the_metric_with_its_declared_dimensions(collected):
    metrics.record("NodeDuration", 0.25, nodeType="http")
    metrics.record("ExecutionsStarted", workflow=None)
    assert collected.values == [("NodeDuration", 0.25, {"nodeType": "http"}),
                                ("ExecutionsStarted", 1.0, {"workflow": "unknown"})]


def test_an_undeclared_name_or_dimension_is_refused(collected):
    with pytest.raises(UnknownMetric, match="NodeRun"):
        metrics.record("NodeRun", nodeType="x")
    with pytest.raises(UnknownMetric, match="execution"):
        metrics.record("NodeRuns", nodeType="x", execution="e1")
    assert collected.values == []


def test_a_failing_sink_does_not_fail_the_caller():
    class Broken:
        def emit(self, metric, value, dimensions):
            raise RuntimeError("down")

    previous = metrics.use_sink(Broken())
    try:
        metrics.record("NodeRuns", nodeType="set")  # no exception
    finally:
        metrics.use_sink(previous)


def test_emf_documents_are_cloudwatch_embedded_metric_format(capsys):
    EmfSink("sfnflow").emit(CATALOGUE["NodeDuration"], 0.5, {"nodeType": "code"})
    document = json.loads(capsys.readouterr().out.strip())
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int)
    assert meta["CloudWatchMetrics"] == [{
        "Namespace": "sfnflow", "Dimensions": [["nodeType"]],
        "Metrics": [{"Name": "NodeDuration", "Unit": "Seconds"}]}]
    assert document["nodeType"] == "code" and document["NodeDuration"] == [0.5]


def test_the_configured_sink_is_emf_only_where_powertools_metrics_are_set(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    assert isinstance(metrics.configured_sink(), NullSink)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "sfnflow")
    assert isinstance(metrics.configured_sink(), EmfSink)
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    assert isinstance(metrics.configured_sink(), NullSink)

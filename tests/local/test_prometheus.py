"""The Prometheus sink: every catalogued metric, counters and histograms from the same
values the EMF sink would print."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from functions.metrics import CATALOGUE
from local.prometheus import PrometheusSink


def samples(sink: PrometheusSink) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(sink.exposition().decode())
            for s in family.samples}


def test_counters_add_and_histograms_observe_per_label():
    sink = PrometheusSink()
    sink.emit(CATALOGUE["NodeRuns"], 1, {"nodeType": "set"})
    sink.emit(CATALOGUE["NodeRuns"], 1, {"nodeType": "set"})
    sink.emit(CATALOGUE["NodeRuns"], 1, {"nodeType": "http"})
    sink.emit(CATALOGUE["ExecutionDuration"], 2.0, {"workflow": "w"})
    got = samples(sink)
    assert got[("sfnflow_node_runs_total", (("nodeType", "set"),))] == 2
    assert got[("sfnflow_node_runs_total", (("nodeType", "http"),))] == 1
    assert got[("sfnflow_execution_duration_seconds_count", (("workflow", "w"),))] == 1
    assert got[("sfnflow_execution_duration_seconds_sum", (("workflow", "w"),))] == 2.0


def test_every_catalogued_metric_is_described_and_registries_are_apart():
    first, second = PrometheusSink(), PrometheusSink()
    first.emit(CATALOGUE["Retries"], 1, {"nodeType": "http"})
    text = second.exposition().decode()
    for metric in CATALOGUE.values():
        assert f"# HELP {metric.prometheus_name}" in text
    assert 'sfnflow_retries_total{nodeType="http"}' not in text

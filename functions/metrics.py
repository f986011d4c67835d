"""The metrics sfnflow emits: one catalogue of names, units and dimensions, and the sink
they go to.

Every metric is declared once in ``CATALOGUE``; code records it with ``record(name, value,
**dimensions)`` and never names a unit or a backend. The sink decides where it goes:

* ``EmfSink`` (AWS): CloudWatch Embedded Metric Format through Powertools, one JSON
  document per value on stdout, in namespace ``NAMESPACE``. It is on where Powertools'
  own configuration says metrics are wanted: ``POWERTOOLS_METRICS_NAMESPACE`` set (the
  stack sets it on every function) and ``POWERTOOLS_METRICS_DISABLED`` not true. Anywhere
  else (tests, ``sfnflow run``) the default sink drops values, so no stray JSON lands in
  a command's output.
* the local runtime installs its own sink (``local.prometheus``: Prometheus counters and
  histograms built from this same catalogue) with ``use_sink``.

Dimensions are few and bounded (a workflow, a node type), never an execution or a node
name: every distinct set of dimension values is one CloudWatch custom metric, billed per
month, and one Prometheus time series. Durations are in seconds everywhere (Prometheus'
base unit; CloudWatch takes ``Seconds`` too), so both backends show the same numbers.

Recording never fails its caller: a metric is worth less than the node run or status
change it describes, so a sink error is logged and dropped. A name or dimension not in
the catalogue is a programming error and raises ``UnknownMetric``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from functions.errors import SfnflowError

NAMESPACE = "sfnflow"
NAMESPACE_ENV = "POWERTOOLS_METRICS_NAMESPACE"  # Powertools' own setting; the stack sets it

WORKFLOW = "workflow"
NODE_TYPE = "nodeType"

Kind = Literal["counter", "histogram"]
Unit = Literal["Count", "Seconds"]

logger = logging.getLogger(__name__)


class UnknownMetric(SfnflowError):
    """A metric name or dimension that the catalogue does not declare."""


@dataclass(frozen=True)
class Metric:
    """One metric: its CloudWatch name and unit, how Prometheus shows it, its dimensions."""

    name: str  # CloudWatch metric name (PascalCase)
    unit: Unit
    kind: Kind  # counter: each value adds to a total; histogram: a distribution
    dimensions: tuple[str, ...]
    help: str

    @property
    def prometheus_name(self) -> str:
        """``ExecutionDuration`` -> ``sfnflow_execution_duration_seconds``; a counter's
        samples add ``_total`` (prometheus-client appends it)."""
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in self.name).lstrip("_")
        suffix = "_seconds" if self.unit == "Seconds" else ""
        return f"{NAMESPACE}_{snake}{suffix}"


def _catalogue(*metrics: Metric) -> dict[str, Metric]:
    return {metric.name: metric for metric in metrics}


CATALOGUE: dict[str, Metric] = _catalogue(
    Metric("ExecutionsStarted", "Count", "counter", (WORKFLOW,),
           "Executions started through sfnflow (API, webhooks, triggers, retries, replays)"),
    Metric("ExecutionsSucceeded", "Count", "counter", (WORKFLOW,),
           "Executions that ended SUCCEEDED"),
    Metric("ExecutionsFailed", "Count", "counter", (WORKFLOW,),
           "Executions that ended FAILED"),
    Metric("ExecutionsAborted", "Count", "counter", (WORKFLOW,),
           "Executions that ended ABORTED (stopped)"),
    Metric("ExecutionsTimedOut", "Count", "counter", (WORKFLOW,),
           "Executions that ended TIMED_OUT"),
    Metric("ExecutionDuration", "Seconds", "histogram", (WORKFLOW,),
           "Seconds from an execution's start to its end, whatever the status"),
    Metric("NodeRuns", "Count", "counter", (NODE_TYPE,),
           "Node runs recorded (runner and native nodes; cached and pinned runs included)"),
    Metric("NodeFailures", "Count", "counter", (NODE_TYPE,),
           "Node runs that ended in an error"),
    Metric("NodeDuration", "Seconds", "histogram", (NODE_TYPE,),
           "Seconds one node run took"),
    Metric("Retries", "Count", "counter", (NODE_TYPE,),
           "Node runs that were a retry (attempt 2 or later of a Retry policy)"),
    Metric("CacheHits", "Count", "counter", (NODE_TYPE,),
           "Node runs answered from the node result cache instead of running"),
    Metric("PayloadOffloads", "Count", "counter", (NODE_TYPE,),
           "Node outputs that travelled as an S3 reference instead of inline"),
    Metric("QueueWaits", "Seconds", "histogram", (WORKFLOW,),
           "Seconds an execution waited in an admission queue before it started"),
)

EXECUTION_ENDS = {  # an ended execution's status -> the counter it adds to
    "SUCCEEDED": "ExecutionsSucceeded",
    "FAILED": "ExecutionsFailed",
    "ABORTED": "ExecutionsAborted",
    "TIMED_OUT": "ExecutionsTimedOut",
}


class Sink(Protocol):
    """Where recorded values go. ``dimensions`` are exactly the metric's, in its order."""

    def emit(self, metric: Metric, value: float, dimensions: Mapping[str, str]) -> None: ...


class NullSink:
    """Drops every value: the default where no backend is configured."""

    def emit(self, metric: Metric, value: float, dimensions: Mapping[str, str]) -> None:
        return None


class EmfSink:
    """CloudWatch EMF through Powertools: one document per value, printed at once (a
    Lambda's stdout goes to its log group, where CloudWatch extracts the metric). One
    document each keeps every metric with its own dimensions and needs no flush at the
    end of an invocation that may fail. Powertools' default ``service`` dimension (the
    function's name) is left out: the same metric comes from several functions (a start
    from the API, a webhook or a trigger) and must be one series."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        self.namespace = namespace

    def emit(self, metric: Metric, value: float, dimensions: Mapping[str, str]) -> None:
        from aws_lambda_powertools.metrics import MetricUnit
        from aws_lambda_powertools.metrics.base import SingleMetric

        document = SingleMetric(namespace=self.namespace)
        document.service = None
        document.add_metric(name=metric.name, unit=MetricUnit(metric.unit), value=value)
        for name, label in dimensions.items():
            document.add_dimension(name=name, value=label)
        print(json.dumps(document.serialize_metric_set(), separators=(",", ":")), flush=True)


def configured_sink() -> Sink:
    """EMF where Powertools metrics are configured (the stack's functions), else nothing."""
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    namespace = os.environ.get(NAMESPACE_ENV)
    if not namespace or is_metrics_disabled():
        return NullSink()
    return EmfSink(namespace)


_lock = threading.Lock()
_sink: Sink | None = None


def use_sink(sink: Sink | None) -> Sink | None:
    """Send every value to ``sink`` from now on (None: back to ``configured_sink()``);
    returns the sink it replaces, so a caller can put it back."""
    global _sink
    with _lock:
        previous, _sink = _sink, sink
    return previous


def current_sink() -> Sink:
    global _sink
    with _lock:
        if _sink is None:
            _sink = configured_sink()
        return _sink


def dimensions_of(metric: Metric, given: Mapping[str, str | None]) -> dict[str, str]:
    """The metric's dimensions from ``given``; one it does not declare is an error, one
    missing (or None) is ``unknown`` so a series is never split by absence."""
    extra = set(given) - set(metric.dimensions)
    if extra:
        raise UnknownMetric(f"metric {metric.name} has no dimension {sorted(extra)[0]!r} "
                            f"(it has {', '.join(metric.dimensions) or 'none'})")
    return {name: str(given.get(name) or "unknown") for name in metric.dimensions}


def record(name: str, value: float = 1, **dimensions: str | None) -> None:
    """Record ``value`` of metric ``name`` (a counter's increment, a histogram's sample)."""
    metric = CATALOGUE.get(name)
    if metric is None:
        raise UnknownMetric(f"no metric {name!r} in functions.metrics.CATALOGUE")
    labels = dimensions_of(metric, dimensions)
    try:
        current_sink().emit(metric, float(value), labels)
    except Exception:  # noqa: BLE001 - a metric must never fail what it measures
        logger.warning("metric %s was not recorded", name, exc_info=True)

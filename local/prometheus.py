"""``sfnflow serve``'s metrics: the catalogue of ``functions.metrics`` as Prometheus
counters and histograms, served at ``GET /metrics`` in the text exposition format.

The local cloud runs the same handlers as AWS; where they would print EMF for
CloudWatch, ``PrometheusSink`` (installed with ``functions.metrics.use_sink``) counts the
same values in a registry of its own, one per platform, so two clouds in one process
(tests) never share counts. A counter is ``<name>_total``; a histogram's samples are
``_bucket``/``_sum``/``_count`` over ``BUCKETS`` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from functions.metrics import CATALOGUE, Metric

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Seconds: node runs from milliseconds to a Lambda's 15 minutes; executions up to hours.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
           3600, float("inf"))


class PrometheusSink:
    """A ``functions.metrics.Sink`` keeping every catalogued metric in ``registry``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._collectors: dict[str, Counter | Histogram] = {}
        for metric in CATALOGUE.values():
            if metric.kind == "counter":
                self._collectors[metric.name] = Counter(
                    metric.prometheus_name, metric.help, list(metric.dimensions),
                    registry=self.registry)
            else:
                self._collectors[metric.name] = Histogram(
                    metric.prometheus_name, metric.help, list(metric.dimensions),
                    buckets=BUCKETS, registry=self.registry)

    def emit(self, metric: Metric, value: float, dimensions: Mapping[str, str]) -> None:
        collector = self._collectors[metric.name]
        labelled = collector.labels(**dimensions) if metric.dimensions else collector
        if isinstance(labelled, Counter):
            labelled.inc(value)
        else:
            labelled.observe(value)

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (``CONTENT_TYPE``)."""
        return generate_latest(self.registry)

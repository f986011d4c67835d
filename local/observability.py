"""What ``sfnflow serve`` observes while it serves: the metrics the handlers record
(``local.prometheus``, served at ``GET /metrics``) and their log lines per execution
(``local.log_capture``, read by ``GET /executions/{id}/logs``).

``GET /metrics`` is a route of the local server only (API Gateway has none in AWS, where
the same values are EMF in CloudWatch). It needs no API key: Prometheus' scrape
configuration sends no ``x-api-key`` header, the server listens on loopback only, and the
page holds counts per workflow and node type, no run data.
"""

from __future__ import annotations

from typing import Any

from functions import metrics
from local.log_capture import CapturedLogs, capture
from local.prometheus import CONTENT_TYPE, PrometheusSink

METRICS_PATH = "/metrics"


class Observability:
    """Use as a context manager: the handlers' metrics and lines go here inside it."""

    def __init__(self) -> None:
        self.metrics = PrometheusSink()
        self.logs = CapturedLogs()
        self._capturing: Any = None
        self._previous: metrics.Sink | None = None

    def __enter__(self) -> Observability:
        self._previous = metrics.use_sink(self.metrics)
        self._capturing = capture(self.logs)
        self._capturing.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._capturing is not None:
            self._capturing.__exit__(None, None, None)
            self._capturing = None
        metrics.use_sink(self._previous)

    def metrics_response(self, method: str) -> dict[str, Any]:
        """``GET /metrics`` as a proxy response (Prometheus' text exposition format)."""
        if method not in ("GET", "HEAD"):
            return {"statusCode": 405, "headers": {"Allow": "GET, HEAD",
                                                   "Content-Type": "application/json"},
                    "body": '{"error": {"type": "MethodNotAllowed", '
                            '"message": "/metrics takes GET, HEAD", "details": null}}'}
        body = self.metrics.exposition().decode() if method == "GET" else ""
        return {"statusCode": 200, "headers": {"Content-Type": CONTENT_TYPE}, "body": body}

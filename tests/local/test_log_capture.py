"""The local stand-in for CloudWatch Logs: the handlers' JSON lines kept per execution,
bounded, with stdout's level and the loggers put back afterwards."""

from __future__ import annotations

import logging

from functions.handlers import node_runner
from functions.services import execution_logs
from functions.services.execution_logs import TimeRange
from functions.tracing import correlated
from local.log_capture import CapturedLogs, capture

SPAN = TimeRange("2026-01-01T00:00:00Z")


def test_lines_with_an_execution_key_are_kept_as_lambda_would_write_them() -> None:
    logger = node_runner.logger
    store = CapturedLogs()
    with capture(store):
        assert execution_logs.current_source("us-east-1") is store
        with correlated(logger, {"execution": "e1", "node": "A", "runIndex": 2}):
            logger.info("inside", extra={"items": 3})
        logger.info("no execution: not kept")
        with correlated(logger, {"execution": "e2"}):
            logger.debug("below INFO: not kept")
    (line,) = store.page("e1", SPAN, None, 10).lines
    assert (line["message"], line["node"], line["runIndex"], line["level"]) == \
        ("inside", "A", 2, "INFO")
    assert line["fields"]["items"] == 3
    assert store.page("e2", SPAN, None, 10).lines == []


def test_capture_puts_levels_and_the_log_source_back() -> None:
    logger = logging.getLogger(node_runner.logger.name)
    stdout = logger.powertools_handler  # type: ignore[attr-defined]
    before = (logger.level, stdout.level, list(logger.handlers))
    source = execution_logs.use_source(None)
    try:
        with capture(CapturedLogs()):
            assert logger.level <= logging.INFO
        assert (logger.level, stdout.level, list(logger.handlers)) == before
        assert execution_logs._source is None
    finally:
        execution_logs.use_source(source)


def test_the_store_is_bounded_and_paged_in_order() -> None:
    store = CapturedLogs(max_executions=2, max_lines=3)
    for n in range(5):
        store.add({"execution": "e1", "message": str(n)})
    store.add({"execution": "e2", "message": "x"})
    store.add({"execution": "e3", "message": "y"})
    first = store.page("e1", SPAN, None, 2)
    assert first.lines == []  # e1 was the oldest of three executions: dropped
    store = CapturedLogs(max_lines=3)
    for n in range(5):
        store.add({"execution": "e1", "message": str(n)})
    first = store.page("e1", SPAN, None, 2)
    rest = store.page("e1", SPAN, first.cursor, 2)
    assert [line["message"] for line in first.lines + rest.lines] == ["2", "3", "4"]
    assert rest.cursor is None

"""Correlation keys of a node run, and the tracer's no-op without an X-Ray daemon."""

from __future__ import annotations

from functions import tracing
from functions.handlers import node_runner


def test_the_keys_of_a_node_runner_event() -> None:
    event = {"workflow": "wf", "execution": {"id": "e1"}, "node": {"name": "A"},
             "runIndex": 3, "attempt": 2}
    assert tracing.node_run_keys(event) == {"workflow": "wf", "execution": "e1", "node": "A",
                                            "runIndex": 3, "attempt": 2}
    assert tracing.node_run_keys({"node": "not a mapping", "execution": 7}) == {}
    assert tracing.node_run_keys({"stage": {}}) == {}


def test_keys_inside_a_run_are_gone_after_it_and_the_callers_come_back() -> None:
    logger = node_runner.logger
    with tracing.correlated(logger, {"execution": "outer"}):
        with tracing.correlated(logger, {"execution": "inner", "node": "A"}):
            assert logger.thread_safe_get_current_keys() == {"execution": "inner",
                                                             "node": "A"}
        assert logger.thread_safe_get_current_keys() == {"execution": "outer"}
    assert logger.thread_safe_get_current_keys() == {}


def test_the_tracer_is_off_outside_lambda_and_a_node_run_segment_still_works() -> None:
    assert tracing.tracer.disabled
    with tracing.node_run_segment({"workflow": "wf", "node": {"name": "A", "type": "set"}}):
        tracing.annotate_run("success", [1], [1])

"""The reconciler's Lambda answers and logs what admission's pass recovered (slots given
back, admissions started again, queued executions admitted), not only the executions it
completed."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from functions.handlers import reconciler as handler
from functions.services.reconciler import ReconcileResult

RECOVERED = {"released": ["e1"], "restarted": [], "admitted": ["e2"]}


class Reconciler:
    def __init__(self, admission: dict[str, list[str]]) -> None:
        self.admission = admission

    def run(self, now: Any, *, time_left: Any) -> ReconcileResult:
        return ReconcileResult(checked=1, admission=self.admission)


class Context:
    function_name = "sfnflow-dev-reconciler"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:reconciler"
    aws_request_id = "request"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _run(monkeypatch: pytest.MonkeyPatch,
         admission: dict[str, list[str]]) -> tuple[dict[str, Any], list[logging.LogRecord]]:
    monkeypatch.setattr(handler, "_reconciler", lambda: Reconciler(admission))
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep, level = Keep(), handler.logger.log_level
    handler.logger.setLevel("INFO")
    handler.logger.addHandler(keep)
    try:
        answer = handler.lambda_handler({"time": "2026-01-01T00:00:00Z"}, Context())
    finally:
        handler.logger.removeHandler(keep)
        handler.logger.setLevel(level)
    return answer, records


def test_what_admission_recovered_is_answered_and_logged(
        monkeypatch: pytest.MonkeyPatch) -> None:
    answer, records = _run(monkeypatch, RECOVERED)
    assert answer["admission"] == RECOVERED
    logged = [r for r in records if getattr(r, "admission", None) is not None]
    assert [r.admission for r in logged] == [RECOVERED]  # type: ignore[attr-defined]
    assert logged[0].levelno == logging.WARNING


def test_a_pass_that_recovered_nothing_logs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    nothing = {"released": [], "restarted": [], "admitted": []}
    answer, records = _run(monkeypatch, nothing)
    assert answer["admission"] == nothing
    assert not [r for r in records if getattr(r, "admission", None) is not None]

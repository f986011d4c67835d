"""Undoing a multi-resource write (``functions.services.rollback``)."""

from __future__ import annotations

import pytest

from functions.services.rollback import Rollback


def test_undos_run_newest_first_and_the_steps_error_propagates() -> None:
    done: list[str] = []
    with pytest.raises(KeyError), Rollback() as rollback:
        rollback.add("machine", lambda: done.append("machine"))
        rollback.add("record", lambda: done.append("record"))
        raise KeyError("step failed")
    assert done == ["record", "machine"]


def test_a_failing_undo_is_logged_and_the_rest_still_run(
        caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    def broken() -> None:
        raise RuntimeError("throttled")

    with pytest.raises(ValueError), Rollback() as rollback:
        rollback.add("machine", lambda: done.append("machine"))
        rollback.add("rule", broken)
        raise ValueError("step failed")
    assert done == ["machine"]
    assert "rule is left behind" in caplog.text


def test_success_keeps_everything_and_dropped_undos_never_run() -> None:
    done: list[str] = []
    with Rollback() as rollback:
        rollback.add("machine", lambda: done.append("machine"))
    assert done == []
    with pytest.raises(ValueError), Rollback() as rollback:
        rollback.add("machine", lambda: done.append("machine"))
        rollback.drop("machine")
        raise ValueError("not ours")
    assert done == []

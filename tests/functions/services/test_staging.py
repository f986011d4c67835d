"""Staging start inputs (``functions.services.staging``): a large input travels as an S3
reference; one that can neither travel inline nor be staged is ``InputTooLarge`` (413)
before anything is recorded or started — it was a 500 from StartExecution or DynamoDB."""

from __future__ import annotations

import pytest

from functions.services.staging import (
    START_INPUT_MAX_BYTES,
    InputTooLarge,
    input_bytes,
    stage_large_input,
)
from local.cloud import LocalCloud


def test_a_large_input_is_staged_and_referenced(cloud: LocalCloud) -> None:
    envelope = {"items": [{"x": "a" * 450_000}], "mode": "api"}
    staged = stage_large_input(cloud.repository, "e1", envelope)
    assert staged["mode"] == "api" and staged["items"]["count"] == 1
    assert staged["items"]["ref"].endswith("/inputs/e1.json")
    assert input_bytes(staged) < cloud.repository.config.inline_state_limit


def test_without_a_bucket_an_input_over_start_executions_limit_is_refused(
        cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cloud.repository, "s3", None)
    fits = {"items": [{"x": "a" * 100_000}], "mode": "api"}
    assert stage_large_input(cloud.repository, "e2", fits) == fits  # inline, as before
    with pytest.raises(InputTooLarge) as raised:
        stage_large_input(cloud.repository, "e3", {"items": [{"x": "a" * 450_000}]})
    assert raised.value.limit == START_INPUT_MAX_BYTES and raised.value.size > 450_000
    assert "SFNFLOW_PAYLOAD_BUCKET" in str(raised.value)


def test_envelope_keys_too_large_to_stay_inline_are_refused(cloud: LocalCloud) -> None:
    """Only the items are staged; sfnflow's keys stay inline (set by sfnflow itself, so
    this guards a bug, not a caller: the caller's input cannot set them)."""
    with pytest.raises(InputTooLarge, match="skip"):
        stage_large_input(cloud.repository, "e4", {"items": [], "skip": ["n" * 40_000]})

"""``sfnflow run`` of a workflow naming a credential the embedded cloud lacks: the deploy's
problems are printed (node and field) and the run exits 2, as ``validate`` does — no
traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from functions import credentials
from local.cli import app
from local.credentials import ENV

runner = CliRunner()


def test_run_with_a_missing_credential_lists_it_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    document = tmp_path / "caller.yaml"
    document.write_text(
        "name: caller\n"
        "nodes:\n"
        "  - {name: Start, type: manualTrigger}\n"
        "  - {name: Call, type: httpRequest, credentials: {name: nowhere},\n"
        "     parameters: {url: 'http://127.0.0.1:9/'}}\n"
        "connections:\n"
        "  - {from: Start, to: Call}\n", encoding="utf-8")
    try:
        result = runner.invoke(app, ["run", str(document), "--json"])
    finally:
        credentials.reset()
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit, not WorkflowInvalid
    assert "Call" in result.output
    assert "credentials.name" in result.output
    assert "'nowhere' does not exist" in result.output

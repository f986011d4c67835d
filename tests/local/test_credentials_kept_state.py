"""Credentials under ``sfnflow serve``'s kept state (``local.persistence``): the embedded
cloud seeds ``SFNFLOW_CREDENTIALS_FILE`` after restoring the journal, so a name both hold is
rotated to the file's value, not refused. (Its own module: it opens two clouds in turn,
which cannot be while another module-scoped cloud is open.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions import credentials
from functions.credentials import HttpBearerAuth
from local.cloud import LocalCloud
from local.credentials import ENV
from tests.conftest import TIME_SCALE

FILE = {"partner-api": {"type": "httpBearerAuth", "token": "tok-41b0c9e2"}}


def test_the_file_wins_over_a_kept_state(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    with LocalCloud(time_scale=TIME_SCALE, state_dir=tmp_path / "state") as first:
        store = credentials.store_for(first.config)
        store.create("partner-api", HttpBearerAuth(token="tok-journaled"))
        store.rotate("partner-api", HttpBearerAuth(token="tok-rotated-in-serve"))
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"partner-api": FILE["partner-api"]}), encoding="utf-8")
    monkeypatch.setenv(ENV, str(path))
    with LocalCloud(time_scale=TIME_SCALE, state_dir=tmp_path / "state") as second:
        assert credentials.store_for(second.config).read("partner-api") == \
            HttpBearerAuth(token="tok-41b0c9e2")
    credentials.reset()

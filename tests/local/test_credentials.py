"""The embedded cloud's credentials: seeded from ``SFNFLOW_CREDENTIALS_FILE`` at every start
(moto's Secrets Manager starts empty), and checked when a workflow is deployed — every
missing credential listed at once, each naming its node and field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions import credentials
from functions.credentials import CredentialInvalid, HttpBearerAuth
from local.cloud import LocalCloud
from local.credentials import ENV, seed
from tests.conftest import TIME_SCALE

FILE = {"partner-api": {"type": "httpBearerAuth", "token": "tok-41b0c9e2"},
        "warehouse": {"type": "postgres", "host": "db", "database": "app", "user": "app",
                      "password": "pw-7a61d0c3"}}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    path = tmp_path_factory.mktemp("creds") / "credentials.json"
    path.write_text(json.dumps(FILE), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV, str(path))
        with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
            yield local_cloud
    credentials.reset()


def calling(*refs: dict[str, Any]) -> dict[str, Any]:
    nodes = [{"name": "Start", "type": "manualTrigger"}] + [
        {"name": f"Call {i}", "type": "httpRequest", "credentials": ref,
         "parameters": {"url": "http://127.0.0.1:9/"}} for i, ref in enumerate(refs)]
    names = [node["name"] for node in nodes]
    return {"name": "caller", "nodes": nodes,
            "connections": [{"from": a, "to": b} for a, b in zip(names, names[1:],
                                                                  strict=False)]}


def test_the_file_is_the_clouds_credentials(cloud: LocalCloud) -> None:
    store = credentials.store_for(cloud.config)
    assert [(c["name"], c["type"]) for c in store.list()] == [
        ("partner-api", "httpBearerAuth"), ("warehouse", "postgres")]
    assert store.read("partner-api") == HttpBearerAuth(token="tok-41b0c9e2")


def test_a_second_seed_rotates(cloud: LocalCloud, tmp_path: Path) -> None:
    path = tmp_path / "again.json"
    path.write_text(json.dumps({"partner-api": {"type": "httpBearerAuth",
                                                "token": "tok-rotated-1"}}))
    store = credentials.store_for(cloud.config)
    assert seed(store, path) == ["partner-api"]
    assert store.read("partner-api") == HttpBearerAuth(token="tok-rotated-1")
    path.write_text("[1, 2]")
    with pytest.raises(CredentialInvalid, match="expected"):
        seed(store, path)


def test_deploying_lists_every_missing_or_mistyped_credential(cloud: LocalCloud) -> None:
    with pytest.raises(WorkflowInvalid) as invalid:
        cloud.deploy(compile_workflow(calling({"name": "nowhere"}, {"name": "warehouse"},
                                              {"name": "gone"}, {"name": "nowhere"})))
    assert [(p.node, p.field, p.code) for p in invalid.value.problems] == [
        ("Call 0", "credentials.name", "credential_missing"),
        ("Call 1", "credentials", "credential_type"),
        ("Call 2", "credentials.name", "credential_missing"),
        ("Call 3", "credentials.name", "credential_missing")]
    assert "'warehouse' is postgres" in str(invalid.value)
    assert "caller" not in cloud._state_machines  # nothing was created


def test_a_workflow_whose_credentials_exist_deploys(cloud: LocalCloud) -> None:
    assert cloud.deploy(compile_workflow(calling({"name": "partner-api"})))


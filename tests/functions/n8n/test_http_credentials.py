"""n8n's HTTP Request with a generic HTTP auth credential (issue 16), against a server on
127.0.0.1 that records what arrived: the credential's header, bearer token, basic pair or
query parameter is on the request, over the node's own of the same name, as n8n's
HttpRequestV3 puts them; on the embedded cloud an imported n8n document reads the
credential from (moto's) Secrets Manager and its value never shows in the run."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from compiler import compile_workflow
from functions import credentials
from functions.credentials import HttpBasicAuth, HttpBearerAuth, HttpHeaderAuth, HttpQueryAuth
from functions.credentials.http_auth import request_auth
from functions.n8n import NodeCall, NodeParameterError
from functions.n8n.http import run as run_http
from local.cloud import LocalCloud
from local.credentials import ENV
from tests.conftest import TIME_SCALE
from tests.support.loopback import JsonHandler, serving

HTTP = "n8n-nodes-base.httpRequest"
SECRET = "hdr-4e1f0b9a77"
ARRIVED: list[dict[str, Any]] = []


class Recorder(JsonHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        ARRIVED.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                        "query": {k: v for k, v in parse_qs(urlsplit(self.path).query).items()}})
        self.reply(200, {"ok": True})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serving(Recorder) as base:
        yield base + '/hook'


def generic(auth_type: str, url: str, **parameters: Any) -> dict[str, Any]:
    return {"url": url, "authentication": "genericCredentialType",
            "genericAuthType": auth_type, **parameters}


def arrived(parameters: dict[str, Any], credential: Any) -> dict[str, Any]:
    ARRIVED.clear()
    out = run_http(NodeCall("Call", 4.2, parameters, [[{"json": {}}]]),
                   auth=request_auth(credential) if credential is not None else None)
    assert [item["json"] for item in out[0]] == [{"ok": True}]
    (request,) = ARRIVED
    return request


def test_header_auth_wins_over_the_nodes_header_of_that_name(url: str) -> None:
    request = arrived(generic("httpHeaderAuth", url, sendHeaders=True, headerParameters={
        "parameters": [{"name": "X-Api-Key", "value": "from-node"},
                       {"name": "X-Other", "value": "kept"}]}),
        HttpHeaderAuth(name="X-Api-Key", value=SECRET))
    assert request["headers"]["x-api-key"] == SECRET
    assert request["headers"]["x-other"] == "kept"


def test_bearer_basic_and_query_auth(url: str) -> None:
    bearer = arrived(generic("httpBearerAuth", url), HttpBearerAuth(token=SECRET))
    assert bearer["headers"]["authorization"] == f"Bearer {SECRET}"
    basic = arrived(generic("httpBasicAuth", url),
                    HttpBasicAuth(user="ada", password=SECRET))
    assert basic["headers"]["authorization"] == \
        "Basic " + base64.b64encode(f"ada:{SECRET}".encode()).decode()
    query = arrived(generic("httpQueryAuth", url, sendQuery=True, queryParameters={
        "parameters": [{"name": "key", "value": "from-node"}, {"name": "page", "value": "2"}]}),
        HttpQueryAuth(name="key", value=SECRET))
    assert query["query"] == {"key": [SECRET], "page": ["2"]}


def test_without_generic_authentication_a_credential_is_not_sent(url: str) -> None:
    request = arrived({"url": url}, HttpHeaderAuth(name="X-Api-Key", value=SECRET))
    assert "x-api-key" not in request["headers"]
    with pytest.raises(NodeParameterError, match="credential"):
        run_http(NodeCall("Call", 4.2, generic("httpHeaderAuth", url), [[{"json": {}}]]))


def n8n_document(url: str) -> dict[str, Any]:
    return {"name": "keyed", "nodes": [
        {"name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1,
         "id": "1", "position": [0, 0], "parameters": {}},
        {"name": "Call", "type": HTTP, "typeVersion": 4.2, "id": "2", "position": [200, 0],
         "parameters": generic("httpHeaderAuth", url),
         "credentials": {"httpHeaderAuth": {"id": "Qx1", "name": "partner-api"}}}],
        "connections": {"Start": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}},
        "settings": {"executionOrder": "v1"}}


def test_an_imported_n8n_workflow_sends_its_credential_on_the_embedded_cloud(
        url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"partner-api": {"type": "httpHeaderAuth",
                                                "name": "X-Api-Key", "value": SECRET}}))
    monkeypatch.setenv(ENV, str(path))
    compiled = compile_workflow(n8n_document(url))
    ARRIVED.clear()
    try:
        with LocalCloud(time_scale=TIME_SCALE) as cloud:
            cloud.deploy(compiled)
            finished = cloud.wait(cloud.start(compiled, {}))
            runs = cloud.repository.node_runs(finished.execution_id)
    finally:
        credentials.reset()
    assert finished.status == "SUCCEEDED", finished
    assert [request["headers"].get("x-api-key") for request in ARRIVED] == [SECRET]
    assert SECRET not in json.dumps(finished.output, default=str)
    assert SECRET not in json.dumps(runs, default=str)

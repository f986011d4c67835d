"""Routes matched as API Gateway matches them (``local.server_routes``; issue 11): the path
is decoded once, then split, so an encoded slash separates segments and can never carry
a keyed route into the public resume route; static segments beat parameters, parameters
beat ``{proxy+}``. Pure matching first, then the gateway's decisions over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.server import ApiGateway, LocalServer
from local.server_routes import API_FUNCTION, RESOURCES, WEBHOOKS_FUNCTION, match

KEY = "the-key"
RESUME = "/executions/{execution_id}/resume/{wait_id}"
PROXY = "/executions/{execution_id}/{proxy+}"


def test_the_resources_are_the_stacks() -> None:
    """The (path, method) pairs ``tests/cdk/test_api.py`` asserts the stack declares
    (``local/`` cannot import ``cdk/``), plus the local live-progress route."""
    declared = {(r.path, method) for r in RESOURCES for method in r.methods}
    assert declared == {
        ("/workflows", "ANY"), ("/workflows/{proxy+}", "ANY"), ("/executions", "ANY"),
        ("/executions/{execution_id}", "ANY"), (PROXY, "ANY"), ("/openapi.json", "GET"),
        ("/admin", "ANY"), ("/admin/{proxy+}", "ANY"), ("/stream-tokens", "ANY"),
        ("/stream-tokens/{proxy+}", "ANY"), ("/costs", "ANY"), ("/costs/{proxy+}", "ANY"),
        ("/credentials", "ANY"), ("/credentials/{proxy+}", "ANY"),
        ("/stats", "ANY"), ("/stats/{proxy+}", "ANY"), ("/webhook/{proxy+}", "ANY"),
        (RESUME, "POST"),
        ("/executions/{execution_id}/stream", "GET"), ("/viewer", "GET"),
        ("/viewer/{proxy+}", "GET")}
    public = {r.path for r in RESOURCES if not any(r.methods.values())}
    assert public == {RESUME, "/webhook/{proxy+}", "/viewer", "/viewer/{proxy+}"}
    assert {r.function for r in RESOURCES if r.path.startswith("/webhook")} == \
        {WEBHOOKS_FUNCTION}


@pytest.mark.parametrize(("path", "resource", "parameters"), [
    ("/executions/e1/resume/w1", RESUME, {"execution_id": "e1", "wait_id": "w1"}),
    ("/executions/e1/resume/w1/", RESUME, {"execution_id": "e1", "wait_id": "w1"}),
    # %2F decoded before matching: five segments, not the four of the public route.
    ("/executions/X/nodes/resume/pin", PROXY, {"execution_id": "X",
                                                "proxy": "nodes/resume/pin"}),
    ("/executions/e1/resume", PROXY, {"execution_id": "e1", "proxy": "resume"}),
    ("/executions/e1/resume/w1/more", PROXY, {"execution_id": "e1",
                                               "proxy": "resume/w1/more"}),
    ("/executions/e 1", "/executions/{execution_id}", {"execution_id": "e 1"}),
    ("/executions", "/executions", {}),
    ("/webhook/a/b/c", "/webhook/{proxy+}", {"proxy": "a/b/c"}),
    ("/workflows/w/versions", "/workflows/{proxy+}", {"proxy": "w/versions"}),
])
def test_a_decoded_path_reaches_one_resource(path: str, resource: str,
                                             parameters: dict[str, str]) -> None:
    matched = match(path)
    assert matched is not None
    assert (matched.resource.path, matched.parameters) == (resource, parameters)


@pytest.mark.parametrize("path", ["/", "", "/nothing-here", "/webhook", "/webhook/",
                                  "/openapi.json/x", "/workflows//x", "relative"])
def test_a_path_outside_the_tree_reaches_nothing(path: str) -> None:
    assert match(path) is None


def test_keys_follow_the_resource_and_method() -> None:
    resume = match("/executions/e/resume/w")
    proxy = match("/executions/e/nodes/n/pin")
    assert resume is not None and proxy is not None
    assert resume.resource.method("POST") is False  # public: the handler checks the sig
    assert resume.resource.method("GET") is None  # not defined: 405
    assert resume.resource.method("OPTIONS") is False  # preflights never need the key
    assert proxy.resource.method("POST") is True and proxy.resource.method("HEAD") is True
    assert proxy.resource.method("PROPFIND") is None
    assert proxy.resource.function == API_FUNCTION


# ------------------------------------------------------------------ over loopback


class Recorder:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": "{}"}


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def url(recorder: Recorder) -> Iterator[str]:
    with LocalServer(ApiGateway(recorder, recorder, KEY)) as server:
        yield server.url


def test_an_encoded_slash_cannot_reach_a_keyed_route_without_the_key(
        url: str, recorder: Recorder) -> None:
    """The issue's reproducer: this wrote a pin with no API key."""
    target = url + "/executions/X%2Fnodes/resume/pin?sig=x"
    refused = requests.post(target, json={"items": []}, timeout=5)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["type"] == "Unauthorized"
    assert recorder.events == []
    # With the key it is the keyed route it always was, after decoding.
    assert requests.post(target, json={}, headers={"x-api-key": KEY},
                         timeout=5).status_code == 200
    (event,) = recorder.events
    assert event["path"] == "/executions/X/nodes/resume/pin"
    assert event["resource"] == PROXY
    assert event["pathParameters"] == {"execution_id": "X", "proxy": "nodes/resume/pin"}


def test_the_public_resume_route_gets_its_decoded_parameters(url: str,
                                                             recorder: Recorder) -> None:
    response = requests.post(url + "/executions/e%20one/resume/w-1?sig=s", json={},
                             timeout=5)
    assert response.status_code == 200
    (event,) = recorder.events
    assert event["resource"] == RESUME
    assert event["pathParameters"] == {"execution_id": "e one", "wait_id": "w-1"}
    assert event["queryStringParameters"] == {"sig": "s"}


def test_no_route_is_a_json_404_before_the_key(url: str, recorder: Recorder) -> None:
    for path in ("/nothing-here", "/webhook", "/"):
        response = requests.get(url + path, timeout=5)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"] == "application/json"
        assert response.json()["error"]["type"] == "RouteNotFound"
    assert recorder.events == []

"""The node runner with a node's circuitBreaker and rateLimit, on the embedded cloud (its
DynamoDB holds the shared state) against an HTTP dependency on loopback; and the breaker
routes over real HTTP.

The runner is given the events the compiled Task sends (``Invocation``): the node settings
travel in ``node`` as ``cache`` does."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from functions.errors import NodeError, RateLimited
from functions.runner import NodeRunner
from functions.services.breakers import BreakerPolicy, CircuitBreakers, CircuitOpen
from functions.services.rate_limits import RateLimiter, RatePolicy
from functions.store.breakers import DynamoGuardStore
from local.serve import LocalPlatform
from tests.conftest import TIME_SCALE
from tests.local.test_serve import KEY, Client


class Dependency:
    """An HTTP server on loopback answering ``status``; ``hits`` counts its requests."""

    def __init__(self) -> None:
        self.status, self.hits = 503, 0
        dependency = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                dependency.hits += 1
                body = b'{"ok": true}'
                self.send_response(dependency.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/x"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform(api_key=KEY, time_scale=TIME_SCALE) as local_platform:
        yield local_platform


@pytest.fixture(scope="module")
def dependency() -> Iterator[Dependency]:
    server = Dependency()
    yield server
    server.server.shutdown()


def event(node: dict[str, Any], execution: str, items: int = 1) -> dict[str, Any]:
    return {"workflow": "guarded", "execution": {"id": execution},
            "node": {"type": "httpRequest"} | node,
            "inputs": [[{"from": "Start"}]],
            "data": {"Start": {"ports": [{"count": items, "items": [{"n": n}
                                                                    for n in range(items)]}]}}}


def test_a_failing_dependency_opens_the_breaker_and_a_probe_closes_it(
        platform: LocalPlatform, dependency: Dependency) -> None:
    runner = NodeRunner(platform.cloud.repository)
    node = {"name": "Call", "parameters": {"url": dependency.url},
            "circuitBreaker": {"failureThreshold": 2, "windowSeconds": 60,
                               "cooldownSeconds": 0.3}}
    for n in range(2):
        with pytest.raises(NodeError) as raised:
            runner.run(event(node, f"e{n}"))
        assert raised.value.error_type == "Sfnflow.HttpServerError"
    assert dependency.hits == 2
    with pytest.raises(CircuitOpen):  # a later execution fails fast, the server not called
        runner.run(event(node, "e2"))
    assert dependency.hits == 2
    recorded = platform.cloud.repository.node_runs("e2")
    assert recorded[0].error is not None
    assert recorded[0].error["type"] == "Sfnflow.CircuitOpen"

    dependency.status = 200
    time.sleep(0.35)  # the cooldown (a third of a second)
    assert runner.run(event(node, "e3"))["ports"][0]["count"] == 1  # the one probe
    assert dependency.hits == 3
    assert runner.run(event(node, "e4"))["ports"][0]["count"] == 1

    api = Client(platform.url)
    listed = api("GET", "/admin/breakers").json()["breakers"]
    mine = api("GET", "/workflows/guarded/breakers/Call").json()
    assert [breaker["key"] for breaker in listed] == ["node#guarded#Call"] == [mine["key"]]
    assert mine["state"] == "closed"
    assert [(t["from"], t["to"]) for t in mine["transitions"]] == [
        ("closed", "open"), ("open", "half-open"), ("half-open", "closed")]
    assert mine["transitions"][0]["why"].startswith("2 failures within 60 s, the last "
                                                    "Sfnflow.HttpServerError")
    assert api("GET", "/workflows/guarded/breakers").json()["breakers"] == [mine]
    assert api("GET", "/workflows/guarded/breakers/Other").status_code == 404


def test_a_rate_limited_node_paces_its_requests(platform: LocalPlatform,
                                                dependency: Dependency) -> None:
    """10 items, 20 requests/s, burst 2: the requests span at least 8 / 20 = 0.4 s (the
    node runs' recorded start and end bound them)."""
    dependency.status = 200
    runner = NodeRunner(platform.cloud.repository)
    node = {"name": "Paced", "parameters": {"url": dependency.url},
            "rateLimit": {"perSecond": 20, "burst": 2, "onLimit": "wait",
                          "maxWaitSeconds": 5}}
    before = dependency.hits
    assert runner.run(event(node, "r1", items=10))["ports"][0]["count"] == 10
    assert dependency.hits - before == 10
    run = platform.cloud.repository.node_runs("r1")[0]
    took = (datetime.fromisoformat(run.finished_at) - datetime.fromisoformat(run.started_at))
    assert took.total_seconds() >= 0.38
    failing = node | {"name": "Strict", "rateLimit": {"perSecond": 0.5, "burst": 1,
                                                      "onLimit": "fail"}}
    runner.run(event(failing, "r2"))
    with pytest.raises(RateLimited):
        runner.run(event(failing, "r3"))


def test_the_tables_conditional_writes_admit_one_probe_and_keep_the_rate(
        platform: LocalPlatform) -> None:
    """The DynamoDB store under threads: one probe of eight; 24 takers of a 10/s bucket
    (burst 4) hold distinct slots 0.1 s apart."""
    store, now = DynamoGuardStore(), time.time()
    breakers = CircuitBreakers(store, now=lambda: now)
    policy = BreakerPolicy(failure_threshold=1, window_seconds=60, cooldown_seconds=1)
    breakers.failed(breakers.admit("breaker#node#wf#Many", policy), policy,
                    RuntimeError("down"))
    later = CircuitBreakers(store, now=lambda: now + 2)
    rates = RateLimiter(store, now=lambda: now, sleep=lambda _: None)
    bucket = RatePolicy(per_second=10, burst=4, on_limit="wait", max_wait_seconds=60)
    outcomes: list[Any] = []
    waits: list[float] = []
    start = threading.Barrier(8)

    def race() -> None:
        start.wait()
        try:
            outcomes.append(later.admit("breaker#node#wf#Many", policy).probe)
        except CircuitOpen:
            outcomes.append("refused")
        waits.extend(rates.take("rate#wf#Many", bucket) for _ in range(3))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 1 and outcomes.count("refused") == 7
    assert sorted(waits) == pytest.approx([0.0] * 4 + [0.1 * n for n in range(1, 21)])


def test_a_compiled_workflow_carries_its_breaker_to_the_runner(
        platform: LocalPlatform, dependency: Dependency) -> None:
    """Through the state machine: the Task's arguments carry ``circuitBreaker``, so after
    two failed executions the third fails with Sfnflow.CircuitOpen without a request."""
    from compiler import compile_workflow

    cloud = platform.cloud
    dependency.status, dependency.hits = 503, 0
    compiled = compile_workflow({"name": "breaking", "nodes": [
        {"name": "Start", "type": "manualTrigger"},
        {"name": "Call", "type": "httpRequest", "parameters": {"url": dependency.url},
         "circuitBreaker": {"failureThreshold": 2, "windowSeconds": 60,
                            "cooldownSeconds": 600}}],
        "connections": [{"from": "Start", "to": "Call"}]})
    errors = []
    for _ in range(3):
        finished = cloud.wait(cloud.start(compiled, None))
        errors.append(finished.error)
    assert errors == ["Sfnflow.HttpServerError", "Sfnflow.HttpServerError",
                      "Sfnflow.CircuitOpen"]
    assert dependency.hits == 2  # the open breaker called nothing

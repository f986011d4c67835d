"""Node result caching (``cache: {ttlSeconds}``): a hit skips the node, a miss runs it."""

from __future__ import annotations

from typing import Any

import pytest

from compiler import compile_workflow
from compiler.errors import WorkflowInvalid
from functions.services.cache import NodeResultCache, cache_key, node_version
from functions.store.cache import NodeCacheStore
from local.cloud import LocalCloud
from tests.conftest import HttpApi
from tests.examples.test_examples import run_compiled


def cached_fetch(url: str, ttl: int = 600, **extra: Any) -> dict[str, Any]:
    return {
        "name": "cached-fetch",
        "nodes": [
            {"name": "Start", "type": "manualTrigger"},
            {"name": "Fetch", "type": "httpRequest", "parameters": {"url": url},
             "cache": {"ttlSeconds": ttl}},
            {"name": "Count", "type": "code",
             "parameters": {"code": "return [{'orders': len(items[0]['orders'])}]"}},
        ],
        "connections": [{"from": "Start", "to": "Fetch"}, {"from": "Fetch", "to": "Count"}],
        **extra,
    }


def test_a_hit_skips_the_node_and_a_new_input_misses(cloud: LocalCloud,
                                                     http_api: HttpApi) -> None:
    compiled = compile_workflow(cached_fetch(f"{http_api.url}/orders"))
    first = run_compiled(cloud, compiled, {"customer": 1})
    assert first["status"] == "SUCCEEDED", first["error"]
    assert first["nodes"]["Fetch"]["status"] == "success"
    assert http_api.hits["/orders"] == 1

    hit = run_compiled(cloud, compiled, {"customer": 1})
    assert hit["status"] == "SUCCEEDED", hit["error"]
    assert hit["nodes"]["Fetch"]["status"] == "cached"  # recorded as cached in the run data
    assert hit["nodes"]["Fetch"]["output"] == first["nodes"]["Fetch"]["output"]
    assert hit["output"] == first["output"] == {"Count": [{"orders": 4}]}
    assert http_api.hits["/orders"] == 1  # the node did not run again

    miss = run_compiled(cloud, compiled, {"customer": 2})  # other input items
    assert miss["nodes"]["Fetch"]["status"] == "success"
    assert http_api.hits["/orders"] == 2


def test_a_changed_node_is_a_new_version(cloud: LocalCloud, http_api: HttpApi) -> None:
    run_compiled(cloud, compile_workflow(cached_fetch(f"{http_api.url}/orders")))
    edited = cached_fetch(f"{http_api.url}/orders")
    edited["nodes"][1]["parameters"]["timeoutSeconds"] = 7
    report = run_compiled(cloud, compile_workflow(edited))
    assert report["nodes"]["Fetch"]["status"] == "success"
    assert http_api.hits["/orders"] == 2


def test_failed_runs_are_not_cached(cloud: LocalCloud, http_api: HttpApi) -> None:
    compiled = compile_workflow(cached_fetch(f"{http_api.url}/fails-once"))
    assert run_compiled(cloud, compiled)["status"] == "FAILED"
    assert run_compiled(cloud, compiled)["nodes"]["Fetch"]["status"] == "success"
    assert run_compiled(cloud, compiled)["nodes"]["Fetch"]["status"] == "cached"
    assert http_api.hits["/fails-once"] == 2


def test_entries_expire_after_the_ttl(cloud: LocalCloud) -> None:
    clock = [1_000.0]
    cache = NodeResultCache(NodeCacheStore(), now=lambda: clock[0])
    key = cache_key("wf", "N", node_version("code", {"code": "x"}, "stopWorkflow", ["main"]),
                    [[{"a": 1}]])
    assert cache.store.put(key, workflow_id="wf", node="N", execution_id="e1",
                           outputs=[[{"b": 2}]], expires_at=1_010)
    assert cache.lookup(key) == [[{"b": 2}]]
    clock[0] = 1_010.0  # moto never deletes TTL items: the read checks the time itself
    assert cache.lookup(key) is None


def test_keys_depend_on_version_input_and_context() -> None:
    version = node_version("code", {"code": "x"}, "stopWorkflow", ["main"])
    key = cache_key("wf", "N", version, [[{"a": 1}]])
    assert key == cache_key("wf", "N", version, [[{"a": 1}]])
    assert key != cache_key("wf", "N", version, [[{"a": 2}]])
    assert key != cache_key("wf", "N", version, [[{"a": 1}]], {"vars": {"x": 1}})
    assert key != cache_key("other", "N", version, [[{"a": 1}]])
    assert version != node_version("code", {"code": "y"}, "stopWorkflow", ["main"])


def test_a_cached_native_node_runs_on_the_runner_with_its_settings() -> None:
    document = {
        "name": "cached-set",
        "nodes": [{"name": "Start", "type": "manualTrigger"},
                  {"name": "Tag", "type": "set", "parameters": {"values": {"a": 1}},
                   "cache": {"ttlSeconds": 30}},
                  {"name": "Plain", "type": "set", "parameters": {"values": {"b": 2}}}],
        "connections": [{"from": "Start", "to": "Tag"}, {"from": "Tag", "to": "Plain"}],
    }
    states = compile_workflow(document).definition["States"]
    assert states["Tag"]["Type"] == "Task"
    assert states["Tag"]["Arguments"]["node"]["cache"] == {"ttlSeconds": 30}
    assert states["Plain"]["Type"] == "Pass"  # no cache: still native


@pytest.mark.parametrize(("node", "message"), [
    ({"name": "Nap", "type": "wait", "parameters": {"seconds": 1},
      "cache": {"ttlSeconds": 5}}, "a wait node cannot be cached"),
    ({"name": "Nap", "type": "noOp", "cache": {"ttlSeconds": 0}},
     "greater than or equal to 1"),
    ({"name": "Nap", "type": "noOp", "cache": {"ttlSeconds": 10 ** 9}},
     "less than or equal to 31536000"),
])
def test_cache_settings_are_validated(node: dict[str, Any], message: str) -> None:
    document = {"name": "bad-cache", "nodes": [{"name": "Start", "type": "manualTrigger"}, node],
                "connections": [{"from": "Start", "to": "Nap"}]}
    with pytest.raises(WorkflowInvalid) as raised:
        compile_workflow(document)
    (problem,) = raised.value.problems
    assert problem.node == "Nap" and problem.field.startswith("cache")
    assert message in problem.message

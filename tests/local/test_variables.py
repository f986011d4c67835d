"""Workflow variables end to end on moto: a later node reads $vars set earlier."""

from __future__ import annotations

from compiler import compile_workflow
from local.cloud import LocalCloud
from tests.compiler.test_variables import variables_workflow
from tests.examples.test_examples import run_compiled


def test_a_later_node_reads_vars_set_earlier(cloud: LocalCloud) -> None:
    document = variables_workflow(
        {"name": "Again", "type": "setVariable",
         "parameters": {"values": {"x": "{% $vars.x + 1 %}"}}},
        {"name": "Last", "type": "code",
         "parameters": {"code": "return [{'n': len(items)}]"}},
        {"name": "Read", "type": "set",
         "parameters": {"values": {"x": "{% $vars.x %}", "tag": "{% $vars.tag %}"}}},
        extra_connections=({"from": "Use", "to": "Again"}, {"from": "Again", "to": "Last"},
                           {"from": "Last", "to": "Read"}))
    report = run_compiled(cloud, compile_workflow(document), {"a": 5})
    assert report["status"] == "SUCCEEDED", report["error"]
    assert report["nodes"]["Use"]["output"] == [[{"a": 5, "x": 10}]]
    assert report["nodes"]["Remember"]["output"] == [[{"a": 5}]]  # items pass through
    assert report["output"]["Read"] == [{"n": 1, "x": 11, "tag": "fixed"}]

"""A Code node that fails keeps what it logged in its node run: JavaScript ``console.log``
before a throw, and Python ``print`` (n8n's Python Code node), failing or not."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from functions.errors import CodeError
from functions.runner import NodeRunner
from local.cloud import LocalCloud
from tests.conftest import TIME_SCALE
from tests.functions.nodes.test_n8n import BASE, event


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    """One embedded cloud for the module: each case records under its own execution id."""
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


@pytest.fixture
def runner(cloud: LocalCloud) -> NodeRunner:
    return NodeRunner(cloud.repository)


def code_run(runner: NodeRunner, cloud: LocalCloud, parameters: dict[str, Any],
             execution: str) -> Any:
    """The recorded run of a Code node with ``parameters`` over two items."""
    run_event = event(BASE + "code", "Code", parameters, [{"a": 1}, {"a": 2}], version=2)
    run_event["execution"]["id"] = execution
    with contextlib.suppress(CodeError):
        runner.run(run_event)
    (recorded,) = cloud.repository.node_runs(execution)
    return recorded


def test_javascript_that_logs_then_throws_keeps_its_lines(runner: NodeRunner,
                                                          cloud: LocalCloud) -> None:
    recorded = code_run(runner, cloud, {"jsCode": "console.log('checking', $input.all().length);"
                                        "\nthrow new Error('bad input')"}, "exec-js")
    assert recorded.status == "error" and "bad input" in recorded.error["message"]
    assert recorded.logs == ["checking 2"]


def test_python_prints_are_recorded(runner: NodeRunner, cloud: LocalCloud) -> None:
    code = "print('seen', len(_input.all()))\nprint({'a': 1}, end='!')\nreturn _input.all()"
    recorded = code_run(runner, cloud, {"language": "python", "pythonCode": code}, "exec-py")
    assert recorded.status == "success"
    assert recorded.logs == ["seen 2", "{'a': 1}!"]


def test_python_that_prints_then_raises_keeps_its_lines(runner: NodeRunner,
                                                        cloud: LocalCloud) -> None:
    code = "for item in _input.all():\n    print('item', item.json.a)\nraise ValueError('stop')"
    recorded = code_run(runner, cloud, {"language": "python", "pythonCode": code}, "exec-pye")
    assert recorded.status == "error" and "stop" in recorded.error["message"]
    assert recorded.logs == ["item 1", "item 2"]

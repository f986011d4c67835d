"""Faulty and hostile code nodes, end to end on the local cloud (issue 11): whatever the
code does, the execution ends (FAILED, or on along the node's ``onError``), a node run with
a typed error is recorded, no thread, process or file descriptor is left behind, and the
cloud runs the next execution.

Most cases first escape the restricted builtins (``ESCAPE`` reaches the real ``os``
module's globals through ``object.__subclasses__``), so what they show is that the process
boundary and the runtime around it hold, not that the builtins do.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compiler import compile_workflow
from functions.nodes.code import Code
from local import moto_patches
from local.cloud import Finished, LocalCloud, state_machine_arn

TIME_SCALE = 0.01  # a node's timeoutSeconds: 5 fires after 50 ms
ESCAPE = ("os = [c for c in ().__class__.__base__.__subclasses__()\n"
          "      if c.__name__ == '_wrap_close'][0].__init__.__globals__\n"
          "sys = os['sys']\n"
          "real = os['__builtins__']\n")
BASE_EXCEPTION = "[c for c in Exception.__base__.__subclasses__() if c.__name__ == {!r}][0]"
SECRET = "sekrit-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as local_cloud:
        yield local_cloud


@pytest.fixture(autouse=True)
def scaled_clock(cloud: LocalCloud) -> None:
    moto_patches.set_time_scale(TIME_SCALE)  # other modules' tests may have changed it


def workflow(code: str, *, on_error: str = "stopWorkflow",
             timeout_seconds: int | None = None) -> dict[str, Any]:
    faulty: dict[str, Any] = {"name": "Faulty", "type": "code", "onError": on_error,
                              "parameters": {"code": code}}
    if timeout_seconds is not None:
        faulty["timeoutSeconds"] = timeout_seconds
    nodes = [{"name": "Start", "type": "manualTrigger"}, faulty,
             {"name": "After", "type": "noOp"}]
    return {"name": f"faulty-{uuid.uuid4().hex[:8]}", "nodes": nodes,
            "connections": [{"from": "Start", "to": "Faulty"},
                            {"from": "Faulty", "to": "After"}]}


def child_processes() -> set[int]:
    """Live processes whose parent is this one (the code processes it started)."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            if int(text[text.rindex(")") + 2:].split()[1]) == me:
                found.add(int(entry.name))
    return found


def open_pipes() -> int:
    """Open pipes and sockets of this process: what a code process's plumbing leaks (moto's
    S3 keeps large objects in temporary files, so regular files are not counted)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith(("pipe:", "socket:"))
        except OSError:  # closed meanwhile (the listing's own descriptor)
            continue
    return count


class Resources:
    """Threads, child processes and pipes of this process, to compare after a run."""

    def __init__(self) -> None:
        self.threads, self.children, self.fds = (threading.active_count(), child_processes(),
                                                 open_pipes())

    def assert_released(self, within_seconds: float = 5.0) -> None:
        """Counts come back to what they were (a timed-out Task's thread ends once its code
        process is killed, so give it a moment)."""
        deadline = time.monotonic() + within_seconds
        while True:
            now = (threading.active_count(), child_processes() - self.children, open_pipes())
            if now[0] <= self.threads and not now[1] and now[2] <= self.fds:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"left behind: threads {self.threads} -> {now[0]}, "
                                     f"child processes {sorted(now[1])}, "
                                     f"pipes {self.fds} -> {now[2]}")
            time.sleep(0.02)


def run(cloud: LocalCloud, document: dict[str, Any],
        wait_seconds: float = 60) -> tuple[Finished, dict[str, Any], float]:
    """Run the workflow; returns the end, the Faulty node's run (waited for: a run that
    outlived its Task's timeout is recorded after the execution ended) and the seconds the
    execution took."""
    compiled = compile_workflow(document)
    cloud.deploy(compiled)
    started = time.monotonic()
    execution_id = cloud.start(compiled)
    finished = cloud.wait(execution_id, timeout_seconds=wait_seconds)
    took = time.monotonic() - started
    deadline = time.monotonic() + wait_seconds
    while True:
        runs = {run.node: run for run in cloud.repository.node_runs(execution_id)}
        if "Faulty" in runs or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert "Faulty" in runs, f"no run of the faulty node recorded ({finished.status})"
    faulty = runs["Faulty"]
    return finished, {"status": faulty.status, "error": faulty.error,
                      "output": faulty.output, "after": "After" in runs}, took


def assert_the_next_execution_runs(cloud: LocalCloud) -> None:
    finished, faulty, _ = run(cloud, workflow("return [{'ok': 1}]"))
    assert finished.status == "SUCCEEDED", (finished.error, finished.cause)
    assert faulty["output"] == [[{"ok": 1}]]


@pytest.fixture(scope="module")
def warmed_up(cloud: LocalCloud) -> None:
    """One execution first: clients, caches and tables are made once, not leaked."""
    assert_the_next_execution_runs(cloud)


@pytest.fixture
def warm(warmed_up: None) -> Resources:
    """What this process holds before the test's execution."""
    return Resources()


def check_fails_typed(cloud: LocalCloud, warm: Resources, code: str, message: str = "",
                      *, then_run: bool = False, **options: Any) -> dict[str, Any]:
    """The execution fails at the faulty node with a recorded, typed error and leaves
    nothing behind (``then_run``: and the next execution runs; every test's first execution
    shows that too, on the same cloud)."""
    finished, faulty, took = run(cloud, workflow(code, **options))
    assert finished.status == "FAILED", finished.output
    assert faulty["status"] == "error"
    assert faulty["error"]["type"] == "Sfnflow.CodeError", faulty["error"]
    assert message in faulty["error"]["message"]
    assert not faulty["after"]
    warm.assert_released()
    if then_run:
        assert_the_next_execution_runs(cloud)
    return faulty | {"seconds": took}


# --------------------------------------------------------------------------- exceptions


@pytest.mark.parametrize("raised", ["BaseException", "SystemExit", "KeyboardInterrupt",
                                    "GeneratorExit"])
def test_a_base_exception_is_a_code_error(cloud: LocalCloud, warm: Resources,
                                          raised: str) -> None:
    cls = "Exception.__base__" if raised == "BaseException" else BASE_EXCEPTION.format(raised)
    code = f"raise {cls}('out of here')"
    check_fails_typed(cloud, warm, code, raised, then_run=True)


def test_a_subclass_of_base_exception_is_a_code_error(cloud: LocalCloud,
                                                      warm: Resources) -> None:
    code = "class Escape(Exception.__base__):\n    pass\nraise Escape('out of here')"
    check_fails_typed(cloud, warm, code, "Escape: out of here")


@pytest.mark.parametrize("code", [
    "exit(3)",  # no such builtin: a NameError
    ESCAPE + "sys.exit(3)",
    ESCAPE + "getattr(sys.modules['os'], '_exit')(0)",
    ESCAPE + "os['_exit'](7)",
    ESCAPE + "os['kill'](os['getpid'](), 9)",
])
def test_exit_in_any_form_is_a_code_error(cloud: LocalCloud, warm: Resources,
                                          code: str) -> None:
    check_fails_typed(cloud, warm, code, then_run=True)


def test_a_caught_error_continues_on_the_error_output(cloud: LocalCloud,
                                                      warm: Resources) -> None:
    document = workflow(ESCAPE + "os['_exit'](0)", on_error="continueRegularOutput")
    finished, faulty, _ = run(cloud, document)
    assert finished.status == "SUCCEEDED", finished.error
    assert faulty["error"]["type"] == "Sfnflow.CodeError"
    assert faulty["after"]
    warm.assert_released()


# --------------------------------------------------------------------------- resources


def test_an_endless_loop_is_killed_at_the_nodes_timeout(cloud: LocalCloud,
                                                        warm: Resources) -> None:
    finished, faulty, took = run(cloud, workflow("while True:\n    pass", timeout_seconds=5))
    assert finished.status == "FAILED"
    assert finished.error == "States.Timeout"
    assert faulty["status"] == "error" and faulty["error"]["type"] == "Sfnflow.CodeError"
    assert re.search("timed out|time ran out", faulty["error"]["message"])
    assert took < 5  # 5 s scaled is 50 ms; the default limit would be 300 s
    warm.assert_released()  # the code process is gone: no core left spinning
    assert_the_next_execution_runs(cloud)


def test_stopping_the_execution_kills_its_running_code(cloud: LocalCloud,
                                                      warm: Resources) -> None:
    """No timeoutSeconds: the code would run for its 300 s limit after the execution was
    stopped, keeping a core busy."""
    compiled = compile_workflow(workflow("while True:\n    pass"))
    execution_id = cloud.start(compiled)
    deadline = time.monotonic() + 30
    while not child_processes() - warm.children:
        assert time.monotonic() < deadline, "the code process never started"
        time.sleep(0.02)
    [arn] = [listed["executionArn"] for listed in cloud.sfn.list_executions(
        stateMachineArn=state_machine_arn(compiled.name))["executions"]
        if listed["name"] == execution_id]
    stopped = time.monotonic()
    cloud.sfn.stop_execution(executionArn=arn, error="Test.Stop", cause="enough")
    assert cloud.wait(execution_id, timeout_seconds=30).status == "ABORTED"
    while "Faulty" not in {run.node for run in cloud.repository.node_runs(execution_id)}:
        assert time.monotonic() < deadline, "no run of the stopped node recorded"
        time.sleep(0.02)
    [faulty] = [run for run in cloud.repository.node_runs(execution_id)
                if run.node == "Faulty"]
    assert faulty.error is not None and faulty.error["type"] == "Sfnflow.CodeError"
    assert "its time ran out" in faulty.error["message"]
    warm.assert_released()
    assert time.monotonic() - stopped < 10
    assert_the_next_execution_runs(cloud)


@pytest.mark.parametrize("code", [
    "x = 'x' * 10**10",
    "grow = []\nwhile True:\n    grow.append('x' * 10**6)",
])
def test_a_memory_blow_up_is_a_code_error(cloud: LocalCloud, warm: Resources,
                                          code: str) -> None:
    check_fails_typed(cloud, warm, code)


def test_a_recursion_bomb_is_a_code_error(cloud: LocalCloud, warm: Resources) -> None:
    check_fails_typed(cloud, warm, "def bomb(n):\n    return bomb(n + 1)\nbomb(0)",
                      "RecursionError")


def test_a_fork_bomb_starts_nothing(cloud: LocalCloud, warm: Resources) -> None:
    check_fails_typed(cloud, warm, ESCAPE + "while True:\n    os['fork']()")


def test_a_shell_command_starts_nothing(cloud: LocalCloud, warm: Resources) -> None:
    faulty = check_fails_typed(
        cloud, warm, ESCAPE + "status = os['system']('sleep 60')\n"
                              "raise ValueError(f'system answered {status}')")
    assert "ValueError: system answered" in faulty["error"]["message"]


# --------------------------------------------------------------------------- output


def test_an_output_too_large_for_a_state_fails_typed(cloud: LocalCloud,
                                                     warm: Resources) -> None:
    document = workflow("return [{'x': 'y' * 10**5} for _ in range(10)]")  # 1 MB
    finished, faulty, _ = run(cloud, document)
    assert finished.status == "FAILED"
    assert faulty["error"]["type"] == "Sfnflow.PayloadTooLarge"
    warm.assert_released()
    assert_the_next_execution_runs(cloud)


def test_an_answer_larger_than_a_lambda_response_is_a_code_error(cloud: LocalCloud,
                                                                 warm: Resources) -> None:
    faulty = check_fails_typed(cloud, warm, "return [{'x': 'y' * 10**6} for _ in range(8)]",
                               "larger than 6 MB")
    assert faulty["seconds"] < 30


@pytest.mark.parametrize("code", [
    "return [{'x': float('nan')}]",
    "return [{'x': object()}]",
    "return [{1: 'key is not a string'}, 'not a dict']",
    "return None",
])
def test_output_that_is_not_json_items_is_a_code_error(cloud: LocalCloud, warm: Resources,
                                                       code: str) -> None:
    check_fails_typed(cloud, warm, code, "code node 'Faulty'")


def test_a_forged_answer_on_stdout_is_not_taken(cloud: LocalCloud, warm: Resources) -> None:
    # The answer channel is a descriptor the code never gets; fd 1 is stderr.
    code = ESCAPE + ("os['write'](1, b'{\"items\": [{\"forged\": true}]}')\n"
                     "os['_exit'](0)")
    check_fails_typed(cloud, warm, code, "without an answer")


@pytest.mark.parametrize("code", [
    "print('x' * 10**7)\nreturn [{'printed': True}]",
    ESCAPE + "sys.stderr.write('y' * 10**7)\nreturn [{'printed': True}]",
])
def test_printing_megabytes_does_not_disturb_the_answer(cloud: LocalCloud,
                                                        capfd: pytest.CaptureFixture[str],
                                                        warm: Resources, code: str) -> None:
    finished, faulty, _ = run(cloud, workflow(code))
    capfd.readouterr()  # what was printed went to the runner's stderr (logs)
    assert finished.status == "SUCCEEDED", finished.cause
    assert faulty["output"] == [[{"printed": True}]]
    warm.assert_released()


# --------------------------------------------------------------------------- secrets


def test_the_code_cannot_read_the_runners_environment_or_api_key(
        cloud: LocalCloud, warm: Resources, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SFNFLOW_API_KEY", SECRET)
    code = ESCAPE + """
def read(path):
    try:
        with real['open'](path, 'rb') as file:
            return file.read().decode('latin-1')
    except Exception as exc:
        return type(exc).__name__
return [{'own': read('/proc/self/environ'),
         'parent': read(f"/proc/{os['getppid']()}/environ"),
         'parent_memory': read(f"/proc/{os['getppid']()}/cmdline"),
         'environ': dict(os['environ'])}]
"""
    finished, faulty, _ = run(cloud, workflow(code))
    assert finished.status == "SUCCEEDED", finished.cause
    [[seen]] = faulty["output"]
    assert "PATH" in seen["environ"]  # the escape worked
    assert SECRET not in json.dumps(seen)
    assert not [key for key in seen["environ"] if key.startswith(("AWS_", "SFNFLOW_"))]
    assert seen["parent"] in ("PermissionError", "FileNotFoundError")
    warm.assert_released()


def test_the_code_cannot_read_files_only_the_runners_user_may_read(
        cloud: LocalCloud, warm: Resources) -> None:
    with tempfile.NamedTemporaryFile("w", prefix="sfnflow-key-", delete=False) as file:
        file.write(SECRET)
    os.chmod(file.name, stat.S_IRUSR | stat.S_IWUSR)  # as a credentials file is kept
    try:
        code = ESCAPE + f"""
found = {{}}
for path in ({file.name!r}, os['path'].expanduser('~root/.bash_history')):
    try:
        with real['open'](path) as opened:
            found[path] = opened.read()
    except Exception as exc:
        found[path] = type(exc).__name__
return [found]
"""
        finished, faulty, _ = run(cloud, workflow(code))
    finally:
        os.unlink(file.name)
    assert finished.status == "SUCCEEDED", finished.cause
    [[found]] = faulty["output"]
    assert SECRET not in json.dumps(found)
    assert found[file.name] == "PermissionError"
    warm.assert_released()


def test_a_call_cannot_read_the_files_another_call_wrote(cloud: LocalCloud,
                                                        warm: Resources) -> None:
    marker = "/tmp/sfnflow-left-" + uuid.uuid4().hex
    write = ESCAPE + f"""
with real['open']('left.txt', 'w') as file:
    file.write({SECRET!r})
with real['open']({marker!r}, 'w') as file:
    file.write({SECRET!r})
return [{{'cwd': os['getcwd']()}}]
"""
    finished, first, _ = run(cloud, workflow(write))
    assert finished.status == "SUCCEEDED", finished.cause
    cwd = first["output"][0][0]["cwd"]
    read = ESCAPE + f"""
found = {{}}
for path in ({cwd + '/left.txt'!r}, {marker!r}):
    try:
        with real['open'](path) as file:
            found[path] = file.read()
    except Exception as exc:
        found[path] = type(exc).__name__
return [found]
"""
    try:
        finished, second, _ = run(cloud, workflow(read))
    finally:
        Path(marker).unlink(missing_ok=True)
    assert finished.status == "SUCCEEDED", finished.cause
    assert SECRET not in json.dumps(second["output"])
    warm.assert_released()


# --------------------------------------------------------------------------- the runtime


@pytest.mark.parametrize("raised", [SystemExit(3), KeyboardInterrupt(), GeneratorExit(),
                                    type("Escape", (BaseException,), {})("out")])
def test_any_exception_escaping_an_executor_is_a_recorded_node_error(
        cloud: LocalCloud, warm: Resources, monkeypatch: pytest.MonkeyPatch,
        raised: BaseException) -> None:
    def broken(self: Code, inputs: Any, ctx: Any) -> Any:
        raise raised

    monkeypatch.setattr(Code, "run", broken)
    finished, faulty, _ = run(cloud, workflow("return items"), wait_seconds=20)
    monkeypatch.undo()
    assert finished.status == "FAILED"
    assert faulty["status"] == "error"
    assert faulty["error"]["type"] == "Sfnflow.NodeError"
    assert type(raised).__name__ in faulty["error"]["message"]
    warm.assert_released()
    assert_the_next_execution_runs(cloud)

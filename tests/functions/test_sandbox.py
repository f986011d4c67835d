"""Code-node isolation (``functions.sandbox``): each call runs in a fresh process that holds
only its own items and nothing of the runner's (issue 10 item 13).

Every test escapes the restricted builtins first (``ESCAPE`` reaches the real ``os`` module
through ``object.__subclasses__``), so what it shows is that the process boundary holds,
not that the builtins do. Each also checks that the escape itself worked, so a test cannot
pass because the attack silently failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from functions import sandbox
from functions.errors import CodeError
from functions.nodes.code import run_code

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sekrit-" + uuid.uuid4().hex
# The real os module's globals (os.environ, os.open, os.getppid, the real builtins...).
ESCAPE = ("os = [c for c in ().__class__.__base__.__subclasses__()\n"
          "      if c.__name__ == '_wrap_close'][0].__init__.__globals__\n"
          "real = os['__builtins__']\n")


def run(source: str, items: list[dict] | None = None, **limits: float) -> list[dict]:
    return run_code(ESCAPE + textwrap.dedent(source), items or [{}], "Escape",
                    sandbox.Limits(**limits) if limits else None)


def test_the_escape_reaches_the_real_os_module() -> None:
    [out] = run("return {'open': 'open' in real, 'environ': 'environ' in os}")
    assert out == {"open": True, "environ": True}


def test_the_environment_holds_no_credentials_or_configuration(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "AKIA" + SECRET, "AWS_SECRET_ACCESS_KEY": SECRET,
                       "AWS_SESSION_TOKEN": SECRET, "SFNFLOW_TABLE_PREFIX": SECRET,
                       "SFNFLOW_PAYLOAD_BUCKET": SECRET}.items():
        monkeypatch.setenv(key, value)
    [out] = run("return dict(os['environ'])")
    assert "PATH" in out  # the escape worked
    assert not [key for key in out if key.startswith(("AWS_", "SFNFLOW_"))]
    assert SECRET not in json.dumps(out)


def test_a_call_sees_nothing_another_call_left_in_module_state() -> None:
    stash = """
        import json
        json.stash = items  # a module shared by every call of one interpreter
        real['stash'] = items  # the builtins module
        os['sys'].modules['stash'] = items  # the module cache
        return []
    """
    run(stash, [{"order": "workflow A's secret order"}])
    [seen] = run("""
        import json
        return {'module': repr(getattr(json, 'stash', None)),
                'builtins': repr(real.get('stash')),
                'modules': repr(os['sys'].modules.get('stash'))}
    """)
    assert seen == {"module": "None", "builtins": "None", "modules": "None"}


def test_a_call_cannot_read_files_another_call_left() -> None:
    leak = Path(tempfile.gettempdir()) / f"sfnflow-leak-{uuid.uuid4().hex}"
    write = f"""
        for path in ('leak.json', {str(leak)!r}):
            fd = os['open'](path, os['O_WRONLY'] | os['O_CREAT'], 0o644)
            os['write'](fd, repr(items).encode())
            os['close'](fd)
        return {{'cwd': os['getcwd']()}}
    """
    read = f"""
        out = {{}}
        for path in ('leak.json', {str(leak)!r}, cwd + '/leak.json'):
            try:
                out[path] = real['open'](path).read()
            except Exception as exc:
                out[path] = type(exc).__name__
        return out
    """
    try:
        [where] = run(write, [{"order": SECRET}])
        assert leak.exists()  # the write escaped its directory
        [seen] = run(f"cwd = {where['cwd']!r}\n" + textwrap.dedent(read))
    finally:
        leak.unlink(missing_ok=True)
    assert SECRET not in json.dumps(seen)
    assert not Path(where["cwd"]).exists()  # the working directory went with the call


def test_a_call_cannot_start_processes() -> None:
    [out] = run("""
        try:
            pid = os['fork']()
        except Exception as exc:
            return {'fork': type(exc).__name__}
        if pid == 0:
            os['_exit'](0)
        return {'fork': 'forked'}
    """)
    assert out == {"fork": "BlockingIOError"}


def test_a_call_over_its_time_is_killed_and_is_a_code_error() -> None:
    started = time.monotonic()
    with pytest.raises(CodeError, match=r"code node 'Escape': timed out after 0.3 s"):
        run("while True:\n    pass", timeout_seconds=0.3)
    assert time.monotonic() - started < 5


def test_a_call_over_its_memory_fails_as_a_code_error() -> None:
    with pytest.raises(CodeError, match="code node 'Escape': MemoryError"):
        run("return [{'big': 'x' * (512 * 1024 * 1024)}]", memory_mb=128)


def test_prints_do_not_corrupt_the_answer() -> None:
    assert run("print('hello')\nreturn [{'ok': 1}]") == [{"ok": 1}]


# ------------------------------------------------- the runner's /proc, as on Lambda or root

RUNNER = """
import json, sys
from functions.sandbox import run_isolated
code = sys.stdin.read()
print(json.dumps(run_isolated(code, [{}], "Escape")))
"""
READ_PARENT = ESCAPE + """
out = {}
for name in ('environ', 'cmdline', 'mem'):
    try:
        with real['open'](f"/proc/{os['getppid']()}/{name}", 'rb') as f:
            out[name] = f.read(100000).decode('latin-1')
    except Exception as exc:
        out[name] = type(exc).__name__
return out
"""


def _runner(python: str, **user: int) -> dict[str, str]:
    """Start a runner process whose own environment holds the secret (as a Lambda's holds
    its credentials), and let the code read the runner's /proc files."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_SECRET_ACCESS_KEY": SECRET}
    done = subprocess.run([python, "-c", RUNNER], input=READ_PARENT, capture_output=True,
                          text=True, env=env, cwd="/", timeout=60, check=False, **user)
    assert done.returncode == 0, done.stderr
    [out] = json.loads(done.stdout)
    return out


@pytest.mark.skipif(os.getuid() != 0, reason="the runner runs as root here")
def test_a_root_runner_runs_code_as_a_user_of_its_own() -> None:
    out = _runner(sys.executable)
    assert SECRET not in json.dumps(out)
    assert out["environ"] == "PermissionError"


SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin")


@pytest.mark.skipif(os.getuid() != 0 or SYSTEM_PYTHON is None,
                    reason="needs root to start a runner as another user")
def test_a_runner_and_its_code_as_one_user_like_lambda() -> None:
    """On Lambda the runner and the code run as the same (unprivileged) user: the runner
    makes itself non-dumpable, which closes its /proc files to same-user processes."""
    assert SYSTEM_PYTHON is not None
    out = _runner(SYSTEM_PYTHON, user=65534, group=65534)
    assert SECRET not in json.dumps(out)
    assert out["environ"] == "PermissionError"

"""Code-node isolation (``functions.sandbox``): each call runs in a fresh process that holds
only its own items and nothing of the runner's (issue 10 item 13).

Every test escapes the restricted builtins first (``ESCAPE`` reaches the real ``os`` module
through ``object.__subclasses__``), so what it shows is that the process boundary holds,
not that the builtins do. Each also checks that the escape itself worked, so a test cannot
pass because the attack silently failed.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import pytest

from functions import sandbox
from functions.errors import CodeError
from functions.nodes.code import run_code
from functions.sandbox import child

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


def test_an_answer_larger_than_a_lambda_response_is_not_read_and_is_a_code_error() -> None:
    assert sandbox.Limits().answer_bytes == 6 * 1024 * 1024  # Invoke's synchronous limit
    started = time.monotonic()
    with pytest.raises(CodeError, match="code node 'Escape': its answer is larger than "
                                        "100 bytes"):
        run("return [{'x': 'y' * 10**6}]", answer_bytes=100)
    assert time.monotonic() - started < 5


def test_an_answer_just_within_the_limit_and_a_large_request_pass_whole() -> None:
    items = [{"n": n, "pad": "p" * 1000} for n in range(3000)]  # 3 MB: many pipe buffers
    out = run("return [{'n': len(items), 'last': items[-1]['n'], 'pad': 'q' * 2_000_000}]",
              items)
    assert out == [{"n": 3000, "last": 2999, "pad": "q" * 2_000_000}]


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
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": _readable_root(), "AWS_SECRET_ACCESS_KEY": SECRET}
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


@cache
def _readable_root() -> str:
    """A copy of the packages a runner imports that user ``nobody`` can read: the checkout
    itself may sit in a directory only its owner can enter (``mktemp -d`` makes those)."""
    root = Path(tempfile.mkdtemp(prefix="sfnflow-sandbox-code-"))
    atexit.register(shutil.rmtree, root, True)
    for package in ("functions", "compiler"):
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return str(root)


@pytest.mark.skipif(os.getuid() != 0 or SYSTEM_PYTHON is None,
                    reason="needs root to start a runner as another user")
def test_a_runner_and_its_code_as_one_user_like_lambda() -> None:
    """On Lambda the runner and the code run as the same (unprivileged) user: the runner
    makes itself non-dumpable, which closes its /proc files to same-user processes."""
    assert SYSTEM_PYTHON is not None
    out = _runner(SYSTEM_PYTHON, user=65534, group=65534)
    assert SECRET not in json.dumps(out)
    assert out["environ"] == "PermissionError"


# ------------------------------------------- what a call leaves where only calls write

LEAVE = ESCAPE + """
base = {scratch!r}
os['mkdir'](base + '/locked')
for path in (base + '/leak', base + '/locked/leak'):
    fd = os['open'](path, os['O_WRONLY'] | os['O_CREAT'], 0o600)
    os['write'](fd, repr(items).encode())
    os['close'](fd)
os['chmod'](base + '/locked', 0)
os['symlink']('/', base + '/root')
return []
"""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the call's own user (or, below, ``nobody``) can reach and write."""
    path = Path(tempfile.mkdtemp(prefix="sfnflow-test-scratch-"))
    path.chmod(0o777)
    yield path
    if path.exists():
        sandbox.empty_directory(str(path))
        path.rmdir()


def test_an_exclusive_directory_is_emptied_after_each_call(scratch: Path) -> None:
    run_code(LEAVE.format(scratch=str(scratch)), [{"order": SECRET}], "Leave",
             exclusive_dir=str(scratch))
    assert list(scratch.iterdir()) == []
    assert Path("/").is_dir()  # the symlink went, not its target


def test_the_code_runner_empties_lambdas_tmp_only_on_lambda(
        scratch: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from functions import config
    from functions.handlers import code_runner

    for key in ("AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT"):
        monkeypatch.delenv(key, raising=False)
    assert config.lambda_scratch_dir() is None
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "sfnflow-dev-code-runner")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    assert config.lambda_scratch_dir() == "/tmp"
    monkeypatch.setattr(code_runner, "lambda_scratch_dir", lambda: str(scratch))
    event = {"code": LEAVE.format(scratch=str(scratch)), "items": [{"n": 1}], "node": "Leave"}
    context = SimpleNamespace(function_name="code-runner", memory_limit_in_mb=512,
                              invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:"
                              "function:code-runner", aws_request_id="req-1",
                              get_remaining_time_in_millis=lambda: 30_000)
    assert code_runner.lambda_handler(event, context) == {"items": []}
    assert list(scratch.iterdir()) == []


LAMBDA_LIKE = """
import json, sys
from functions.sandbox import run_isolated
scratch, leave, read = json.loads(sys.stdin.read())
run_isolated(leave, [{"order": sys.argv[1]}], "Leave", exclusive_dir=scratch)
print(json.dumps(run_isolated(read, [{}], "Read", exclusive_dir=scratch)))
"""


@pytest.mark.skipif(os.getuid() != 0 or SYSTEM_PYTHON is None,
                    reason="needs root to start a runner as another user")
def test_as_one_user_like_lambda_the_next_call_finds_nothing_left(scratch: Path) -> None:
    """Same user for runner and code, a directory left unreadable on purpose: the runner
    still empties it before the next call."""
    assert SYSTEM_PYTHON is not None
    os.chown(scratch, 65534, 65534)
    scratch.chmod(0o700)
    read = ESCAPE + textwrap.dedent(f"""
        out = {{}}
        for path in ('leak', 'locked/leak'):
            try:
                out[path] = real['open']({str(scratch)!r} + '/' + path).read()
            except Exception as exc:
                out[path] = type(exc).__name__
        out['left'] = sorted(os['listdir']({str(scratch)!r}))
        return out
    """)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": _readable_root()}
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", LAMBDA_LIKE, SECRET], capture_output=True, text=True, env=env,
        input=json.dumps([str(scratch), LEAVE.format(scratch=str(scratch)), read]), cwd="/",
        timeout=60, check=False, user=65534, group=65534)
    assert done.returncode == 0, done.stderr
    [seen] = json.loads(done.stdout)
    assert SECRET not in json.dumps(seen)
    assert seen == {"leak": "FileNotFoundError", "locked/leak": "FileNotFoundError", "left": []}


# ------------------------------------------------------------------------ the network

INTERFACES = ESCAPE + """
lines = real['open']('/proc/self/net/dev').read().splitlines()[2:]
return {'interfaces': sorted(line.split(':')[0].strip() for line in lines)}
"""


def test_a_call_has_no_network_interface_but_a_loopback() -> None:
    assert run_code(INTERFACES, [{}], "Net") == [{"interfaces": ["lo"]}]


CONNECT = ESCAPE + """
socket = real['__import__']('socket')
try:
    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()
    return {{'connect': 'connected'}}
except Exception as exc:
    return {{'connect': type(exc).__name__}}
"""


@pytest.mark.skipif(os.getuid() != 0 or SYSTEM_PYTHON is None,
                    reason="needs root to start a runner as another user")
def test_as_an_unprivileged_user_a_call_cannot_connect_even_to_this_host() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        runner = ("import json, sys\nfrom functions.sandbox import run_isolated\n"
                  "print(json.dumps(run_isolated(sys.stdin.read(), [{}], 'Net')))")
        done = subprocess.run([SYSTEM_PYTHON, "-c", runner], input=CONNECT.format(port=port),
                              capture_output=True, text=True, cwd="/", timeout=60,
                              check=False, user=65534, group=65534,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": _readable_root()})
    assert done.returncode == 0, done.stderr
    [out] = json.loads(done.stdout)
    assert out["connect"] in ("OSError", "ConnectionRefusedError")  # ENETUNREACH / lo down


# ------------------------------------------- a call running beside another (local runner)

HOLD = ESCAPE + """
secret = items[0]['order'] * 1  # in this process's memory while it waits
real['open']({done!r} + '.started', 'w').close()  # the reader may look now
for _ in range(500):  # until the reader is done, at most ~5 s
    if os['path'].exists({done!r}):
        break
    real['__import__']('time').sleep(0.01)
return []
"""
PEEK = ESCAPE + """
me, found = os['getpid'](), []
for pid in [p for p in os['listdir']('/proc') if p.isdigit() and int(p) != me]:
    try:
        cmdline = real['open'](f'/proc/{{pid}}/cmdline', 'rb').read()
        if b'child.main()' not in cmdline:
            continue
        maps = real['open'](f'/proc/{{pid}}/maps').read().splitlines()
        with real['open'](f'/proc/{{pid}}/mem', 'rb') as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if 'r' not in perms:
                    continue
                start, end = (int(x, 16) for x in span.split('-'))
                try:
                    mem.seek(start)
                    if {secret!r}.encode() in mem.read(min(end - start, 1 << 24)):
                        found.append(pid)
                except Exception:
                    continue
        found.append('read ' + pid)
    except Exception as exc:
        found.append(type(exc).__name__)
real['open']({done!r}, 'w').close()
return {{'found': found}}
"""
BESIDE = """
import json, sys, threading
from functions.sandbox import Limits, run_isolated
hold, peek, started = json.loads(sys.stdin.read())
# as where Linux refuses namespaces (Lambda): the process boundary alone must hold
limits = Limits(own_network=False)
holder = threading.Thread(target=run_isolated,
                          args=(hold, [{"order": sys.argv[1]}], "Hold", limits))
holder.start()
import os, time
deadline = time.monotonic() + 30
while not os.path.exists(started) and time.monotonic() < deadline:
    time.sleep(0.01)  # until the holder's secret is in its memory
print(json.dumps(run_isolated(peek, [{}], "Peek", limits)))
holder.join()
"""


@pytest.mark.skipif(os.getuid() != 0 or SYSTEM_PYTHON is None,
                    reason="needs root to start a runner as another user")
def test_as_one_user_a_call_cannot_read_the_memory_of_a_call_beside_it(scratch: Path) -> None:
    assert SYSTEM_PYTHON is not None
    done_marker = str(scratch / "done")
    secret = SECRET[::-1]  # not in the runner's stdin as is
    codes = [HOLD.format(done=done_marker), PEEK.format(done=done_marker, secret=secret)]
    codes.append(done_marker + ".started")
    done = subprocess.run([SYSTEM_PYTHON, "-c", BESIDE, secret], input=json.dumps(codes),
                          capture_output=True, text=True, cwd="/", timeout=60, check=False,
                          user=65534, group=65534,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": _readable_root()})
    assert done.returncode == 0, done.stderr
    [out] = json.loads(done.stdout)
    assert out["found"] and not [f for f in out["found"] if f.isdigit() or f.startswith("read")]


def test_a_call_that_answers_and_then_keeps_running_is_killed_at_its_time() -> None:
    """The answer is complete when its pipe closes; the process must still end in time."""
    started = time.monotonic()
    with pytest.raises(CodeError, match="timed out after 0.5 s"):
        run("os['closerange'](0, 2)\nos['closerange'](3, 64)  # every pipe to the runner\n"
            "while True:\n    pass", timeout_seconds=0.5)
    assert time.monotonic() - started < 5


def test_a_call_no_longer_waited_for_is_killed_at_once() -> None:
    started = time.monotonic()
    stop_at = started + 0.3
    with pytest.raises(CodeError, match="stopped after .* its time ran out"):
        run_code("while True:\n    pass", [{}], "Escape",
                 time_left=lambda: stop_at - time.monotonic())
    assert time.monotonic() - started < 5


# ------------------------------------------------ n8n's Python Code node (opt-in globals)

N8N_ITEMS = [{"json": {"x": 1, "tags": {"a": 1}}, "pairedItem": {"item": 0}},
             {"json": {"x": 2, "tags": {"a": 2}}, "pairedItem": {"item": 1}}]


def run_n8n(code: str, mode: str = child.N8N_ALL) -> list[dict]:
    return run_code(child.n8n_source(textwrap.dedent(code), mode), N8N_ITEMS, "Py")


def test_n8n_all_items_mode_modifies_and_returns_input_items_by_attribute_and_key() -> None:
    out = run_n8n("""
        for item in _input.all():
            item.json.double = item["json"]["x"] * 2
            item["json"]["first"] = _input.first().json.tags.a
        return _input.all()
        """)
    assert out == [{"json": {"x": 1, "tags": {"a": 1}, "double": 2, "first": 1},
                    "pairedItem": {"item": 0}},
                   {"json": {"x": 2, "tags": {"a": 2}, "double": 4, "first": 1},
                    "pairedItem": {"item": 1}}]


def test_n8n_all_items_mode_wraps_plain_dicts_as_n8n_does() -> None:
    out = run_n8n("return [{'n': len(_items), 'last': _input.last().json.x}]")
    assert out == [{"json": {"n": 2, "last": 2}}]


def test_n8n_each_item_mode_runs_once_per_item_paired_to_it() -> None:
    out = run_n8n("""
        _json.y = _input.item.json.x + 10
        return {"y": _json["y"], "same": _item is _input.item}
        """, child.N8N_EACH)
    assert out == [{"json": {"y": 11, "same": True}, "pairedItem": {"item": 0}},
                   {"json": {"y": 12, "same": True}, "pairedItem": {"item": 1}}]


def test_n8n_each_item_mode_must_return_one_item() -> None:
    with pytest.raises(CodeError, match="code node 'Py': TypeError: in runOnceForEachItem "
                                        "mode the code must return one item"):
        run_n8n("return [_input.item]", child.N8N_EACH)


def test_n8n_syntax_error_is_a_code_error_naming_the_node_and_the_users_line() -> None:
    with pytest.raises(CodeError, match=r"code node 'Py': SyntaxError: .* \(line 2\)"):
        run_n8n("x = 1\nreturn _input.all(\n")


def test_n8n_globals_are_opt_in_and_n8n_code_runs_in_the_same_sandbox() -> None:
    with pytest.raises(CodeError, match="NameError: name '_input' is not defined"):
        run_code("return _input.all()", [{}], "Plain")
    with pytest.raises(CodeError, match="code node 'Py': ImportError: module 'os'"):
        run_n8n("import os\nreturn _input.all()")

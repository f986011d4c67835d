"""Run one code-node call in a fresh, locked-down process (``functions.sandbox.child``).

Why a process per call: the restricted builtins of a code node can be escaped (any object's
``__subclasses__`` leads back to ``os``), and a warm Lambda container or a long-lived local
runner serves many workflows one after another. In one interpreter, one workflow's code
could stash or read another's items in module globals, ``sys.modules`` or files, and read
the runner's credentials from ``os.environ``. So each call gets:

- a new interpreter (``python -I -S``: exec, not fork, so nothing of this process's memory;
  no site-packages, no user paths, ``PYTHON*`` variables ignored) that receives only its
  own request on stdin and answers on stdout;
- an environment with nothing of ours: no ``AWS_*`` credentials, no ``SFNFLOW_*``
  configuration, only a path, a locale and its own scratch directory;
- limits on memory, CPU time, file size, open files and process count (no forks), and a
  wall-clock timeout after which its whole process group is killed;
- a private working directory, removed afterwards; where this process owns a directory
  alone (Lambda's ``/tmp``, which outlives invocations), everything the call left there;
- when this process is root, a user id of its own (files it leaves are unreadable to the
  next call, ``/proc`` of other processes is closed to it); otherwise this process becomes
  non-dumpable (``prctl(PR_SET_DUMPABLE, 0)``), so a child running as the same user cannot
  read its ``/proc/<pid>/environ`` or memory; each child makes itself non-dumpable too, so
  calls running side by side cannot read each other's.

- no network: it moves into a network namespace of its own (nothing but a loopback that
  is down) where Linux allows it (root, or unprivileged user namespaces). Lambda refuses
  that, so there the stack puts the code runner in a VPC without any egress by default
  (``codeRunnerNetwork``, ``cdk/sfnflow_cdk/code_network.py``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from functions.errors import CodeError
from functions.sandbox import child

# The child is imported rather than run as a script, so its bytecode comes from
# __pycache__ (the asset ships it) instead of being compiled again on every call.
CHILD_COMMAND = ("import sys; sys.path.insert(0, sys.argv[1]); import child; child.main()",
                 str(Path(__file__).parent))
# Started as root, each call runs as a user id from this range that no account owns.
_UID_BASE, _UID_SPAN = 0x40000000, 0x10000000
# The code runner answers through Lambda, whose synchronous response is at most 6 MB: a
# larger answer could never arrive on AWS, and reading it whole would let the code make
# this process (a local ``sfnflow serve``) hold hundreds of megabytes.
ANSWER_BYTES_MAX = 6 * 1024 * 1024
_CHUNK = 64 * 1024
# How often a running call asks its caller's ``time_left()`` whether it is still wanted.
RECHECK_SECONDS = 0.1


class _NotWanted(Exception):
    """The caller's time ran out (its invocation ended) before the code answered."""


@dataclass(frozen=True)
class Limits:
    timeout_seconds: float = 300.0  # wall clock; then the process group is killed
    memory_mb: int = 384  # address space of the child
    file_size_mb: int = 64  # largest file it may write
    open_files: int = 64
    # Enter a network namespace of its own where Linux allows (False: as where it cannot,
    # e.g. on Lambda).
    own_network: bool = True
    answer_bytes: int = ANSWER_BYTES_MAX  # the longest answer read; then it is killed

    def for_child(self, uid: int | None) -> dict[str, int]:
        return {"memory_mb": self.memory_mb, "file_size_mb": self.file_size_mb,
                "open_files": self.open_files,
                "cpu_seconds": math.ceil(self.timeout_seconds) + 1, "uid": uid or 0,
                "own_network": int(self.own_network)}


def child_environment(scratch: str) -> dict[str, str]:
    """Everything the child's environment holds: nothing from ours."""
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "HOME": scratch, "TMPDIR": scratch}


@cache
def hide_this_process() -> bool:
    """Make this process non-dumpable, so same-user processes (the children) cannot read
    its ``/proc`` environment or memory. True when it took effect."""
    return child.hide_this_process()


def run_isolated(source: str, items: list[Any], node_name: str,
                 limits: Limits | None = None, *, exclusive_dir: str | None = None,
                 time_left: Callable[[], float] | None = None,
                 logs: list[str] | None = None) -> list[Any]:
    """Run ``source`` over ``items`` in a fresh process; raises ``CodeError`` naming the
    node for anything the code did wrong, including running out of time or memory.

    ``time_left()``: seconds the caller still waits for the answer, asked while the code
    runs; at zero the process is killed (its Task timed out, or its execution ended).

    ``exclusive_dir``: a directory no one but these calls writes to (the code runner's
    ``/tmp`` on Lambda), emptied after the call: a child running as this process's user
    can write anywhere this user can, and the next call must find nothing there.

    ``logs``: receives what the code printed (``child.Prints``), also when it failed."""
    limits = limits or Limits()
    try:
        return _run(source, items, node_name, limits, time_left, logs)
    finally:
        if exclusive_dir is not None:
            empty_directory(exclusive_dir)


def empty_directory(path: str) -> None:
    """Remove everything in ``path``, also what its owner made unreadable or unwritable."""
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            if sys.version_info >= (3, 12):
                shutil.rmtree(entry.path, onexc=_allow_and_retry)
            else:
                shutil.rmtree(entry.path, onerror=_allow_and_retry)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)


def _allow_and_retry(function: Any, path: str, _exc: Any) -> None:
    """rmtree's error handler (``onexc``/``onerror``): give the owner back access to
    ``path`` and its parent, then remove it."""
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path), 0o700)
        os.chmod(path, 0o700)
        if function in (os.rmdir, os.unlink):
            function(path)
        else:  # scandir/open of a directory it could not read: start it again
            shutil.rmtree(path, ignore_errors=True)


def _run(source: str, items: list[Any], node_name: str, limits: Limits,
         time_left: Callable[[], float] | None = None,
         logs: list[str] | None = None) -> list[Any]:
    as_root = os.getuid() == 0
    uid = _UID_BASE + secrets.randbelow(_UID_SPAN) if as_root else None
    if not as_root:
        hide_this_process()
    scratch = tempfile.mkdtemp(prefix="sfnflow-code-")
    try:
        if uid is not None:
            os.chown(scratch, uid, uid)
        request = json.dumps({"code": source, "items": items, "node": node_name,
                              "limits": limits.for_child(uid)})
        out = _communicate(request.encode(), scratch, limits, node_name, time_left)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    answer = _answer(out, node_name)
    if logs is not None:
        logs.extend(printed(answer))
    if "error" in answer:
        raise CodeError(str(answer["error"]))
    return list(answer["items"])


def _communicate(request: bytes, scratch: str, limits: Limits, node_name: str,
                 time_left: Callable[[], float] | None = None) -> bytes:
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", "-B", "-c", *CHILD_COMMAND], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=None, cwd=scratch, env=child_environment(scratch),
        start_new_session=True)  # its own process group: killed whole, whatever it started
    timeout, started = limits.timeout_seconds, time.monotonic()
    try:
        out = _exchange(process, request, started + timeout, limits.answer_bytes, time_left)
    except subprocess.TimeoutExpired:
        raise CodeError(f"code node {node_name!r}: timed out after {timeout:g} s") from None
    except _NotWanted:
        raise CodeError(f"code node {node_name!r}: stopped after "
                        f"{time.monotonic() - started:.3g} s: its time ran out (the node "
                        f"timed out or its execution ended)") from None
    finally:
        _kill_group(process)
    if out is None:
        limit = limits.answer_bytes
        size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit:,} bytes"
        raise CodeError(f"code node {node_name!r}: its answer is larger than {size} (a "
                        f"Lambda response's limit); return fewer or smaller items")
    if process.returncode < 0:
        name = signal.Signals(-process.returncode).name
        raise CodeError(f"code node {node_name!r}: the code process was killed ({name}); "
                        f"it may have run out of memory or CPU time")
    return out


def _exchange(process: subprocess.Popen[bytes], request: bytes, deadline: float,
              limit: int, time_left: Callable[[], float] | None = None) -> bytes | None:
    """Write ``request`` to the process's stdin and read its stdout until it ends, by
    ``deadline`` (``time.monotonic()``; else ``TimeoutExpired``) and while ``time_left()``
    is above zero (else ``_NotWanted``). None as soon as the answer passes ``limit`` bytes:
    unlike ``communicate``, never holds more than that."""
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    pending, chunks, size = memoryview(request), [], 0
    with selectors.DefaultSelector() as selector:
        os.set_blocking(stdin.fileno(), False)
        selector.register(stdin, selectors.EVENT_WRITE)
        selector.register(stdout, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select(_next_wait(deadline, time_left)):
                if key.fileobj is stdin:
                    try:
                        pending = pending[os.write(stdin.fileno(), pending[:_CHUNK]):]
                    except BrokenPipeError:  # it ended without reading: its exit tells
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(stdin)
                        stdin.close()
                    continue
                data = os.read(stdout.fileno(), _CHUNK)
                if not data:
                    selector.unregister(stdout)
                    continue
                size += len(data)
                if size > limit:
                    return None
                chunks.append(data)
    while True:  # the answer is complete; the process ends by itself, or is killed after
        wait = _next_wait(deadline, time_left)  # raises when the time is up
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return b"".join(chunks)


def _next_wait(deadline: float, time_left: Callable[[], float] | None) -> float:
    """Seconds to wait for the process before looking again; raises ``TimeoutExpired``
    past ``deadline`` and ``_NotWanted`` once ``time_left()`` is zero."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise subprocess.TimeoutExpired("code process", 0)
    if time_left is None:
        return left
    if time_left() <= 0:
        raise _NotWanted
    return min(left, RECHECK_SECONDS)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


def printed(answer: dict[str, Any]) -> list[str]:
    """The lines an answer says the code printed, and a last one counting those the child
    left out (past ``child.PRINT_LINES_MAX`` / ``PRINT_BYTES_MAX``)."""
    lines = answer.get("logs")
    lines = [str(line) for line in lines] if isinstance(lines, list) else []
    dropped = answer.get("logsDropped")
    if isinstance(dropped, int) and dropped > 0:
        lines.append(f"[sfnflow: {dropped} more printed line{'s' if dropped != 1 else ''} "
                     "not kept]")
    return lines


def _answer(out: bytes, node_name: str) -> dict[str, Any]:
    try:
        answer = json.loads(out)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or not ("items" in answer or "error" in answer):
        raise CodeError(f"code node {node_name!r}: the code process ended without an answer")
    return answer

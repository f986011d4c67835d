"""The process one code-node call runs in: ``python -I -S child.py``, a fresh interpreter.

It reads one request from stdin (``{"code", "items", "node", "limits"}``), locks itself
down (resource limits, another user when started as root, no new processes), runs the code
over the items and writes one answer to its original stdout: ``{"items": [...]}`` or
``{"error": "<message naming the node>"}``, either with the ``logs`` the code printed
(``Prints``). The user's ``print`` also goes to stderr.

The restricted builtins and the import allow-list below are NOT the boundary: they keep
honest code away from files, processes and the network and make mistakes show early. The
boundary is the process (``functions.sandbox``): it holds only this call's items, its
environment holds no credentials or configuration, and it ends with the call.

This file imports the standard library only: the interpreter runs without site-packages
and without the project on its path. It imports as little as it can (``_ast``, not ``ast``;
no ``typing`` at run time): every call pays this process's start.
"""

from __future__ import annotations

import _ast
import builtins
import json
import os
import resource
import sys

TYPE_CHECKING = False  # typing's own costs ~10 ms of import per call
if TYPE_CHECKING:
    from types import CodeType, TracebackType
    from typing import Any

FUNCTION_NAME = "__sfnflow_code__"

ALLOWED_MODULES = frozenset({
    "base64", "bisect", "collections", "copy", "datetime", "decimal", "fractions",
    "functools", "hashlib", "heapq", "itertools", "json", "math", "operator", "random",
    "re", "statistics", "string", "textwrap", "time", "unicodedata", "uuid", "zoneinfo",
})  # fmt: skip

_SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "getattr", "hasattr",
    "hash", "hex", "id", "int", "isinstance", "issubclass", "iter", "len", "list", "map",
    "max", "min", "next", "object", "oct", "ord", "pow", "print", "range", "repr",
    "reversed", "round", "set", "setattr", "slice", "sorted", "str", "sum", "super", "tuple",
    "type", "zip", "__build_class__",
    "ArithmeticError", "AssertionError", "AttributeError", "Exception", "IndexError",
    "KeyError", "LookupError", "NotImplementedError", "OverflowError", "RuntimeError",
    "StopIteration", "TypeError", "ValueError", "ZeroDivisionError",
)  # fmt: skip


def _import(name: str, *args: Any, **kwargs: Any) -> Any:
    if name.split(".")[0] not in ALLOWED_MODULES:
        raise ImportError(f"module {name!r} is not available in code nodes")
    return builtins.__import__(name, *args, **kwargs)


SAFE_BUILTINS: dict[str, Any] = {
    **{name: getattr(builtins, name) for name in _SAFE_BUILTIN_NAMES},
    "__import__": _import,
}


def filename(node_name: str) -> str:
    return f"<code node {node_name!r}>"


def compile_code(source: str, file: str) -> CodeType:
    """Compile ``source`` as the body of ``def __sfnflow_code__(items): ...``: through the
    AST rather than by indenting its text, so multi-line strings keep their content and
    every line number the user sees is the line they wrote."""
    body = _parse(source, file).body
    # Parse the wrapper too rather than build it, so every node has its fields and location.
    wrapper = _parse(f"def {FUNCTION_NAME}(items): pass", file)
    function = wrapper.body[0]
    assert isinstance(function, _ast.FunctionDef)
    if body:
        function.body = body
    return compile(wrapper, file, "exec")


def _parse(source: str, file: str) -> Any:
    return compile(source, file, "exec", _ast.PyCF_ONLY_AST)


def user_line(traceback: TracebackType | None, file: str) -> int | None:
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == file:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def failure(node_name: str, exc: BaseException, line: int | None) -> str:
    message = exc.msg if isinstance(exc, SyntaxError) else str(exc)  # msg: without location
    where = f" (line {line})" if line is not None else ""
    return f"code node {node_name!r}: {type(exc).__name__}: {message}{where}"


def items_problem(node_name: str, result: Any) -> tuple[list[Any] | None, str | None]:
    """``(items, None)`` when ``result`` is a list of dicts (or one dict) of JSON values,
    passed through JSON so only JSON leaves the node; else ``(None, message)``."""
    if isinstance(result, dict):
        result = [result]
    if result is None:
        got = "None (is `return` missing?)"
    elif not isinstance(result, list):
        got = type(result).__name__
    elif not all(isinstance(item, dict) for item in result):
        got = "a list holding " + ", ".join(sorted({type(i).__name__ for i in result}))
    else:
        got = ""
    if got:
        return None, f"code node {node_name!r} must return a list of dicts (or one dict), " \
                     f"not {got}"
    try:
        return json.loads(json.dumps(result, allow_nan=False)), None
    except (TypeError, ValueError) as exc:
        return None, f"code node {node_name!r} returned items that are not JSON: {exc}"


# --------------------------------------------------------------------------- n8n flavour
# n8n's Code node in Python runs here too, with n8n's globals. It opts in by the source's
# last line (a comment, so line numbers stay the user's): the request keeps one shape, and
# both the local path and the code-runner Lambda carry it without knowing about n8n.
N8N_MARKER = "# sfnflow: n8n Code node, mode "
N8N_ALL, N8N_EACH = "runOnceForAllItems", "runOnceForEachItem"
_N8N_ITEM_KEYS = frozenset({"json", "pairedItem", "binary"})


def n8n_source(code: str, mode: str) -> str:
    """``code`` of an n8n Python Code node, marked to run with n8n's globals in ``mode``."""
    if mode not in (N8N_ALL, N8N_EACH):
        raise ValueError(f"unknown n8n Code node mode {mode!r}")
    return f"{code}\n{N8N_MARKER}{mode}"


def n8n_mode(source: str) -> str | None:
    """The n8n mode ``source`` is marked with (``n8n_source``), or None for plain code."""
    last = source.rsplit("\n", 1)[-1]
    mode = last[len(N8N_MARKER):] if last.startswith(N8N_MARKER) else None
    return mode if mode in (N8N_ALL, N8N_EACH) else None


class N8nObject(dict):  # type: ignore[type-arg]
    """A dict that also reads and writes its keys as attributes: n8n runs Python on Pyodide,
    where items are JavaScript objects, so code writes ``item.json.x`` as often as
    ``item["json"]["x"]``. Dict methods win over keys of the same name (``.keys``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


def n8n_value(value: Any) -> Any:
    """``value`` with every dict in it an ``N8nObject``."""
    if isinstance(value, dict):
        return N8nObject({key: n8n_value(item) for key, item in value.items()})
    if isinstance(value, list):
        return [n8n_value(item) for item in value]
    return value


class N8nInput:
    """n8n's ``_input``: ``all()``, ``first()``, ``last()``, and ``item`` per item."""

    def __init__(self, items: list[Any], item: Any = None) -> None:
        self._all, self._item = items, item

    def all(self) -> list[Any]:
        return self._all

    def first(self) -> Any:
        return self._all[0] if self._all else None

    def last(self) -> Any:
        return self._all[-1] if self._all else None

    @property
    def item(self) -> Any:
        if self._item is None:
            raise AttributeError("_input.item exists only in runOnceForEachItem mode")
        return self._item


def n8n_item(value: Any) -> Any:
    """An item as n8n normalises what code returns: kept when it is ``{"json": {...}}``
    (with ``pairedItem``/``binary``), else the dict is the item's ``json``."""
    if isinstance(value, dict) and isinstance(value.get("json"), dict) \
            and set(value) <= _N8N_ITEM_KEYS:
        return value
    return {"json": value} if isinstance(value, dict) else value


def run_n8n(function: Any, namespace: dict[str, Any], items: list[Any], mode: str) -> Any:
    """Call the code as n8n does: once with ``_input``/``_items``, or once per item with
    ``_input.item``/``_item``/``_json`` (each result paired to its item)."""
    wrapped = n8n_value(items)
    if mode == N8N_ALL:
        namespace.update(_input=N8nInput(wrapped), _items=wrapped)
        result = function(items)
        if isinstance(result, dict):
            result = [result]
        return [n8n_item(item) for item in result] if isinstance(result, list) else result
    out = []
    for index, item in enumerate(wrapped):
        namespace.update(_input=N8nInput(wrapped, item), _item=item, _json=item.get("json"))
        result = function(items)
        if result is None:  # n8n: no item for this one
            continue
        if not isinstance(result, dict):
            raise TypeError(f"in runOnceForEachItem mode the code must return one item (a "
                            f"dict), not {type(result).__name__}")
        result = n8n_item(result)
        result.setdefault("pairedItem", {"item": index})
        out.append(result)
    return out


# What a call's answer carries of its prints: enough for the node run's bound
# (``functions.store.node_logs``: 100 lines, 16 KiB) to choose from, never a flood.
PRINT_LINES_MAX = 1000
PRINT_BYTES_MAX = 64 * 1024


class Prints:
    """The code's ``print``: each call is one line of the answer's ``logs`` (as n8n shows
    one message per print) and still goes to stderr, the process's log. Beyond the
    bounds above lines are only counted (``dropped``). ``print(..., file=f)`` writes to
    ``f`` only."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.size = 0
        self.dropped = 0

    def print(self, *values: Any, sep: Any = " ", end: Any = "\n", file: Any = None,
              flush: bool = False) -> None:
        builtins.print(*values, sep=sep, end=end, file=file, flush=flush)
        if file is not None:
            return
        text = (" " if sep is None else str(sep)).join(str(value) for value in values)
        if end is not None and str(end) != "\n":
            text += str(end)
        size = len(text.encode("utf-8", "surrogatepass"))
        if len(self.lines) < PRINT_LINES_MAX and self.size + size <= PRINT_BYTES_MAX:
            self.lines.append(text)
            self.size += size
        else:
            self.dropped += 1

    def answer(self, answer: dict[str, Any]) -> dict[str, Any]:
        """``answer`` with the printed lines (and how many were left out), if any."""
        if self.lines:
            answer["logs"] = self.lines
        if self.dropped:
            answer["logsDropped"] = self.dropped
        return answer


def run(source: str, items: list[Any], node_name: str) -> dict[str, Any]:
    """Run ``source`` over ``items``: the answer this process writes."""
    prints = Prints()
    return prints.answer(_run(source, items, node_name, prints))


def _run(source: str, items: list[Any], node_name: str, prints: Prints) -> dict[str, Any]:
    file = filename(node_name)
    try:
        code = compile_code(source, file)
    except SyntaxError as exc:
        return {"error": failure(node_name, exc, exc.lineno)}
    namespace: dict[str, Any] = {"__builtins__": {**SAFE_BUILTINS, "print": prints.print},
                                 "__name__": "sfnflow_code"}
    mode = n8n_mode(source)
    try:
        exec(code, namespace)
        function = namespace[FUNCTION_NAME]
        result = function(items) if mode is None else run_n8n(function, namespace, items,
                                                              mode)
    except BaseException as exc:  # noqa: BLE001 (every failure of the user's code is its answer)
        # BaseException too: SystemExit, KeyboardInterrupt, GeneratorExit or a class of the
        # code's own deriving from it are reachable despite the builtins, and uncaught they
        # would end this process without an answer (KeyboardInterrupt: killed by SIGINT).
        return {"error": failure(node_name, exc, user_line(sys.exc_info()[2], file))}
    checked, problem = items_problem(node_name, result)
    return {"error": problem} if problem else {"items": checked}


# Modules the allowed ones import lazily, inside functions (``datetime.strptime``).
_LAZY_IMPORTS = {"datetime": ("_strptime",), "time": ("_strptime",)}


def preload(source: str) -> None:
    """Import the allowed modules the code imports, while this process can still read every
    file of the standard library (a user id of its own may not: an interpreter installed
    under root's home is closed to others). A module imported by a computed name later may
    not load then; its ImportError is the code's answer."""
    try:
        pending = [_parse(source, "<preload>")]
    except SyntaxError:
        return
    names: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, _ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, _ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
        for field in node._fields:
            value = getattr(node, field, None)
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, _ast.AST):
                    pending.append(child)
    for name in sorted(names):
        top = name.split(".")[0]
        if top in ALLOWED_MODULES:
            for module in (name, *_LAZY_IMPORTS.get(top, ())):
                try:
                    __import__(module)
                except ImportError:  # noqa: PERF203 (the code's own import reports it)
                    continue


def lock_down(limits: dict[str, int]) -> None:
    """Limit this process before any user code runs. Started as root (a container, a
    laptop's CI), it becomes ``limits["uid"]`` — a user no other call runs as — so it can
    read no other process's ``/proc`` files nor another call's files; otherwise it keeps the
    runner's user, whose memory and environment the runner hides (``PR_SET_DUMPABLE``)."""
    mb = 1024 * 1024
    for name, value in (("RLIMIT_AS", limits["memory_mb"] * mb),
                        ("RLIMIT_CPU", limits["cpu_seconds"]),
                        ("RLIMIT_FSIZE", limits["file_size_mb"] * mb),
                        ("RLIMIT_NOFILE", limits["open_files"]),
                        ("RLIMIT_CORE", 0)):
        _limit(name, value)
    os.umask(0o077)
    if limits.get("own_network", 1):
        leave_the_network()
    if os.getuid() == 0 and limits.get("uid"):
        os.setgroups([])
        os.setgid(limits["uid"])
        os.setuid(limits["uid"])
    # No new processes or threads: counted per user, so checked after becoming one.
    _limit("RLIMIT_NPROC", 0)
    # Calls running side by side as one user (a local runner's parallel branches) must not
    # read each other's /proc/<pid>/mem: after the uid_map writes, which need it dumpable.
    hide_this_process()


def hide_this_process() -> bool:
    """``prctl(PR_SET_DUMPABLE, 0)``: same-user processes can no longer read this one's
    memory or environment through /proc, nor ptrace it. True when it took effect."""
    try:
        import ctypes

        return bool(ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _limit(name: str, value: int) -> None:
    """Set a hard limit. Linux (Lambda, CI) must accept every one; another system (a
    developer's macOS refuses RLIMIT_AS) runs with those it accepts."""
    try:
        resource.setrlimit(getattr(resource, name), (value, value))
    except (ValueError, OSError):
        if sys.platform.startswith("linux"):
            raise


_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


def leave_the_network() -> bool:
    """Move into a network namespace of its own (only a loopback interface, down): no
    connection anywhere, not even to this host. Linux allows it to root, and to other users
    where unprivileged user namespaces are enabled; where it is refused (Lambda), the code
    runner's network is the stack's isolated VPC. True when it took effect."""
    uid, gid = os.getuid(), os.getgid()
    flags = _CLONE_NEWNET if uid == 0 else _CLONE_NEWUSER | _CLONE_NEWNET
    unshare = getattr(os, "unshare", None)  # Python 3.12+
    try:
        if unshare is not None:
            unshare(flags)
        else:
            import ctypes  # before 3.12

            if ctypes.CDLL(None, use_errno=True).unshare(flags) != 0:
                return False
    except (OSError, AttributeError):
        return False
    if uid != 0:  # keep being the same user inside (files it creates need a mapped owner)
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                               ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as file:
                    file.write(text)
        except OSError:
            pass  # still off the network; only creating files fails
    return True


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    sys.stdin.close()
    answer_to = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the user's prints (and anything else on fd 1) go to stderr
    sys.stdout = sys.stderr
    preload(request["code"])
    lock_down(request["limits"])
    answer = run(request["code"], request["items"], str(request["node"]))
    del request
    try:
        text = json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as exc:  # cannot happen: run answers JSON only
        text = json.dumps({"error": f"the code process could not answer: {exc}"})
    answer_to.write(text)
    answer_to.flush()


if __name__ == "__main__":
    main()

"""Cold start: a Lambda handler imports only what serving an event needs.

The node runner and the event handlers use a few small compiler modules (node types,
expressions, errors); the compiler's passes and lowerings (``compiler.pipeline``,
``compiler.passes``, ``compiler.lowering``) load only where a workflow is compiled (the
management API, partial runs). Each check runs in a fresh interpreter, as a cold start does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPILING = ("compiler.pipeline", "compiler.passes", "compiler.lowering")


def modules_after_import(*modules: str) -> set[str]:
    code = ("import json, sys\n" + "".join(f"import {m}\n" for m in modules)
            + "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True, timeout=120)
    return set(json.loads(done.stdout.splitlines()[-1]))


def compiling(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith(COMPILING)}


@pytest.mark.parametrize("handler", ["node_runner", "code_runner"])
def test_the_runners_do_not_load_the_compiler(handler: str) -> None:
    assert compiling(modules_after_import(f"functions.handlers.{handler}")) == set()


def test_the_event_handlers_do_not_load_the_compiler() -> None:
    loaded = modules_after_import(*(f"functions.handlers.{h}" for h in (
        "webhooks", "execution_events", "error_router", "stream")))
    assert compiling(loaded) == set()


def test_node_errors_need_only_the_root_error() -> None:
    loaded = modules_after_import("functions.errors")
    assert {m for m in loaded if m.startswith("compiler")} <= {"compiler", "compiler.errors"}


def test_the_compiler_package_still_exports_its_api() -> None:
    import compiler

    for name in compiler.__all__:
        assert getattr(compiler, name) is not None
    with pytest.raises(AttributeError):
        compiler.not_a_name  # noqa: B018

"""sfnflow's compiler: workflow documents to Amazon States Language. Pure: no AWS calls.

The names below load on first use (PEP 562): the Lambda handlers import small modules of
this package (``compiler.errors``, ``compiler.expressions``) and must not pay for the whole
compiler at every cold start (``benchmarks/cold_start.py``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compiler.errors import CompileError, Problem, SfnflowError, WorkflowInvalid
    from compiler.loader import load_bytes, load_file, load_text
    from compiler.pipeline import CompiledWorkflow, compile_workflow
    from compiler.project import compile_project, load_project

_HOMES = {
    "CompileError": "compiler.errors",
    "Problem": "compiler.errors",
    "SfnflowError": "compiler.errors",
    "WorkflowInvalid": "compiler.errors",
    "load_bytes": "compiler.loader",
    "load_file": "compiler.loader",
    "load_text": "compiler.loader",
    "CompiledWorkflow": "compiler.pipeline",
    "compile_workflow": "compiler.pipeline",
    "compile_project": "compiler.project",
    "load_project": "compiler.project",
}

__all__ = [
    "CompileError",
    "CompiledWorkflow",
    "Problem",
    "SfnflowError",
    "WorkflowInvalid",
    "compile_project",
    "compile_workflow",
    "load_bytes",
    "load_file",
    "load_project",
    "load_text",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'compiler' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # later look-ups skip this function
    return value
